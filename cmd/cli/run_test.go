package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tiny is a fast experiment for CLI tests.
const tiny = `name: tiny
duration: 1s
seeds: 2
nodes: ["n{1..3}"]
network: {latency: {dist: constant, value: 1ms}}
protocol: {name: echo, timeout: 50ms}
workload: {rate: 100/s}
sweep:
  network.loss: [0, 0.2]
checks:
  - {metric: success_ratio, min: 0.9}
`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunCommands covers the commands' exit codes: 0 for success, 1 for
// a failed check, 2 for every kind of bad input.
func TestRunCommands(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "tiny.yaml", tiny)
	bad := writeFile(t, dir, "bad.yaml", "name: bad\nduraton: 1s\nprotocol: {name: echo}\nnodes: [a]\n")
	malformed := writeFile(t, dir, "malformed.yaml", "name: [bad\n")
	wrongType := writeFile(t, dir, "type.yaml", "name: t\nseeds: lots\nprotocol: {name: echo}\nnodes: [a]\n")
	unknownProto := writeFile(t, dir, "proto.yaml", "name: t\nprotocol: {name: gossip9}\nnodes: [a]\n")
	emptySweep := writeFile(t, dir, "sweep.yaml", "name: t\nprotocol: {name: echo}\nnodes: [a]\nsweep: {network.loss: []}\n")
	outOfRange := writeFile(t, dir, "range.yaml", "name: t\nprotocol: {name: echo}\nnodes: [a]\nnetwork: {loss: 7}\n")
	file := writeFile(t, dir, "afile", "x")
	out := filepath.Join(dir, "out")

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"run", []string{"run", good, "--out", out, "--quiet"}, exitOK, "results in " + out, ""},
		{"exists", []string{"run", good, "--out", out}, exitUsage, "", "--force"},
		{"force", []string{"run", good, "--out", out, "--force", "--quiet", "--parallel", "1"}, exitOK, "", ""},
		{"resume done", []string{"run", good, "--out", out, "--resume"}, exitOK, "", "4 resumed"},
		{"check fails", []string{"check", good, "--quiet"}, exitFail, "replay: dsim check " + good + " --seed ", "1 of 2 checks failed"},
		{"check passes", []string{"check", good, "--quiet", "--set", "network.loss=0"}, exitOK, "all 1 checks passed", ""},
		{"check with --out", []string{"check", good, "--quiet", "--out", out + "-check"}, exitFail, "replay: dsim check " + good + " --seed ", "1 of 2 checks failed"},
		{"check verify", []string{"check", good, "--quiet", "--seeds", "1", "--verify-determinism", "--set", "network.loss=0"}, exitOK, "ok", ""},
		{"validate", []string{"validate", good, "echo-regions"}, exitOK, "2 sweep points × 2 seeds = 4 runs", ""},
		{"validate bad", []string{"validate", bad}, exitUsage, "", `bad.yaml:2:1: duraton: unknown field "duraton" (did you mean "duration"?)`},
		{"malformed", []string{"run", malformed, "--out", filepath.Join(dir, "o1")}, exitUsage, "", "malformed.yaml:1:"},
		{"wrong type", []string{"run", wrongType, "--out", filepath.Join(dir, "o2")}, exitUsage, "", `type.yaml:2:8: seeds: want a count`},
		{"unknown protocol", []string{"check", unknownProto}, exitUsage, "", `unknown protocol "gossip9"`},
		{"empty sweep", []string{"run", emptySweep}, exitUsage, "", "empty list"},
		{"out of range", []string{"run", outOfRange}, exitUsage, "", "range.yaml:4:17: network.loss: must be a probability"},
		{"missing file", []string{"run", filepath.Join(dir, "nope.yaml")}, exitUsage, "", "no such file"},
		{"bad set", []string{"run", good, "--set", "protocol.timout=1s"}, exitUsage, "", `did you mean "timeout"`},
		{"unwritable out", []string{"run", good, "--out", filepath.Join(file, "sub"), "--quiet"}, exitUsage, "", "output folder"},
		{"bad shard", []string{"run", good, "--shard", "3/3"}, exitUsage, "", "--shard"},
		{"run fails", []string{"run", good, "--set", "limits.max_events=100", "--out", filepath.Join(dir, "o3"), "--quiet"}, exitRuntime, "", "event limit exceeded (max 100)"},
		{"seed and seeds", []string{"run", good, "--seed", "1", "--seeds", "2"}, exitUsage, "", "exclude"},
		{"no file", []string{"run"}, exitUsage, "", "want exactly one"},
		{"bad flag", []string{"run", good, "--frob"}, exitUsage, "", "unknown flag --frob"},
		{"help", []string{"run", "--help"}, exitOK, "--verify-determinism", ""},
		{"examples", []string{"examples"}, exitOK, "echo-regions", ""},
		{"example yaml", []string{"examples", "echo-regions"}, exitOK, "protocol:", ""},
		{"no example", []string{"examples", "nope"}, exitUsage, "", "no bundled experiment"},
		{"merge no out", []string{"merge", out}, exitUsage, "", "--out is required"},
		{"merge not runs", []string{"merge", dir, "--out", filepath.Join(dir, "m")}, exitUsage, "", "not a dsim run folder"},
		{"plot", []string{"plot", out}, exitOK, "re-rendered", ""},
		{"plot not results", []string{"plot", dir}, exitUsage, "", "no manifest.json"},
		{"plot missing", []string{"plot", filepath.Join(dir, "nope")}, exitUsage, "", "not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.inStdout) || !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("dsim %v: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout, stderr)
			}
		})
	}
	// Bad input left the earlier results untouched.
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("results gone: %v", err)
	}
}

// TestDefaultOutAndPlainProgress: without --out results go to
// out/<name>/; a non-terminal stderr gets plain progress lines.
func TestDefaultOutAndPlainProgress(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := runCLI("run", "echo-regions", "--seeds", "1", "--set", "duration=2s", "--set", "faults.schedule[0].at=1s")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "echo-regions", "report.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stderr, "runs 2/2 (100%)") || !strings.Contains(stdout, "out/echo-regions") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	// The write phase reports itself too: when it starts and when it is
	// done.
	if !strings.Contains(stderr, "writing results (") || !strings.Contains(stderr, "wrote results in ") {
		t.Errorf("no write-phase progress in stderr %q", stderr)
	}
	code, _, stderr = runCLI("run", "echo-regions", "--seeds", "1", "--set", "duration=2s", "--set", "faults.schedule[0].at=1s", "--shard", "1/2", "--quiet")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, quiet stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "echo-regions-shard-1-of-2", "runs", "run-000001.gob.gz")); err != nil {
		t.Error(err)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// TestMain removes the binary built for the process tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildDsim compiles the dsim binary (once per test process) for tests
// that run it as separate processes.
func buildDsim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "dsim-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "dsim")
		out, err := exec.Command("go", "build", "-o", binPath, "../dsim").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func dsimCmd(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dsim %v: %v\n%s", args, err, stderr.String())
	}
}

// TestShardProcessesMerge runs three shards as separate processes, merges
// them, and compares the merged folder byte for byte with one run.
func TestShardProcessesMerge(t *testing.T) {
	bin := buildDsim(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", strings.Replace(tiny, "seeds: 2", "seeds: 4", 1))
	full := filepath.Join(dir, "full")
	dsimCmd(t, bin, "run", cfg, "--out", full, "--quiet")
	var shards []string
	for i := 0; i < 3; i++ {
		d := filepath.Join(dir, "shard"+string(rune('0'+i)))
		dsimCmd(t, bin, "run", cfg, "--shard", string(rune('0'+i))+"/3", "--out", d, "--quiet")
		shards = append(shards, d)
	}
	merged := filepath.Join(dir, "merged")
	dsimCmd(t, bin, append(append([]string{"merge"}, shards...), "--out", merged)...)
	compareTrees(t, full, merged)
}

// TestInterruptResumeProcess interrupts a sweep with SIGINT, resumes it,
// and compares the result byte for byte with an uninterrupted run.
func TestInterruptResumeProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGINT")
	}
	bin := buildDsim(t)
	dir := t.TempDir()
	src := strings.NewReplacer("seeds: 2", "seeds: 30", "duration: 1s", "duration: 20s", "rate: 100/s", "rate: 400/s").Replace(tiny)
	cfg := writeFile(t, dir, "tiny.yaml", src)
	out := filepath.Join(dir, "out")
	cmd := exec.Command(bin, "run", cfg, "--out", out, "--parallel", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until a few runs are on disk, then press Ctrl-C.
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, _ := os.ReadDir(filepath.Join(out, "runs"))
		if len(entries) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no runs written: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if err == nil {
		t.Skipf("the sweep finished before the interrupt: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "--resume") {
		t.Errorf("interrupt message: %s", stderr.String())
	}
	entries, _ := os.ReadDir(filepath.Join(out, "runs"))
	kept := len(entries) - 1 // plan.json
	if kept >= 60 {
		t.Skip("every run finished before the interrupt")
	}
	dsimCmd(t, bin, "run", cfg, "--out", out, "--resume", "--quiet")
	full := filepath.Join(dir, "full")
	dsimCmd(t, bin, "run", cfg, "--out", full, "--quiet")
	compareTrees(t, full, out)
	t.Logf("interrupted after %d of 60 runs", kept)
}

func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	list := func(root string) map[string][]byte {
		m := map[string][]byte{}
		filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				rel, _ := filepath.Rel(root, p)
				m[rel], _ = os.ReadFile(p)
			}
			return nil
		})
		return m
	}
	ma, mb := list(a), list(b)
	var names []string
	for k := range ma {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(ma) != len(mb) || len(ma) == 0 {
		t.Fatalf("%d files vs %d", len(ma), len(mb))
	}
	for _, n := range names {
		if !bytes.Equal(ma[n], mb[n]) {
			t.Errorf("%s differs", n)
		}
	}
}

// TestReplayCommand runs the replay line printed by a failing check: a
// `dsim check` of that run alone, into a folder of its own, which fails
// the same way every time it is run and whose own replay line is itself.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	good := writeFile(t, dir, "tiny.yaml", tiny)
	replayLine := func(stdout string) string {
		for _, l := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "replay: ") {
				return strings.TrimPrefix(strings.TrimSpace(l), "replay: ")
			}
		}
		return ""
	}
	code, stdout, _ := runCLI("check", good, "--quiet")
	if code != exitFail {
		t.Fatalf("check: exit %d", code)
	}
	line := replayLine(stdout)
	args := strings.Fields(line)
	if len(args) < 4 || args[0] != "dsim" || args[1] != "check" || !strings.Contains(line, " --out out/tiny-replay-") {
		t.Fatalf("replay line %q", line)
	}
	for i := 0; i < 2; i++ {
		code, stdout, stderr := runCLI(append(args[1:], "--quiet")...)
		if code != exitFail || !strings.Contains(stdout, "0/1") {
			t.Fatalf("replay %d: exit %d\n%s%s", i+1, code, stdout, stderr)
		}
		if again := replayLine(stdout); again != line {
			t.Errorf("replay %d prints\n%s\nwant\n%s", i+1, again, line)
		}
	}
	if _, err := os.Stat(filepath.Join(args[len(args)-2], "report.html")); err != nil {
		t.Errorf("replay folder: %v", err)
	}
}

// TestBadInputLeavesResultsUntouched: even with --force, every kind of
// bad input is refused before the output folder is touched.
func TestBadInputLeavesResultsUntouched(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "tiny.yaml", tiny)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI("run", good, "--out", out, "--quiet"); code != exitOK {
		t.Fatalf("run: %s", stderr)
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(p)
				m[p] = string(b)
			}
			return nil
		})
		return m
	}
	before := snapshot()
	for name, src := range map[string]string{
		"malformed":        "name: [x\n",
		"wrong type":       strings.Replace(tiny, "seeds: 2", "seeds: two", 1),
		"unknown key":      strings.Replace(tiny, "duration:", "duraton:", 1),
		"out of range":     strings.Replace(tiny, "[0, 0.2]", "[0, 1.2]", 1),
		"empty sweep":      strings.Replace(tiny, "[0, 0.2]", "[]", 1),
		"unknown protocol": strings.Replace(tiny, "name: echo", "name: echoo", 1),
	} {
		f := writeFile(t, dir, "bad.yaml", src)
		if code, _, stderr := runCLI("run", f, "--out", out, "--force", "--quiet"); code != exitUsage {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
		}
	}
	for _, args := range [][]string{
		{"run", filepath.Join(dir, "missing.yaml"), "--out", out, "--force"},
		{"run", good, "--out", out, "--force", "--set", "no.such=1"},
		{"run", good, "--out", out},
		{"merge", out, "--out", out, "--force"},
	} {
		if code, _, stderr := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	after := snapshot()
	if len(after) != len(before) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed", p)
		}
	}
}
