package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/experiments"
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// broken is a protocol whose invariant always fails (tests only).
type broken struct{}

type brokenConfig struct{}

type brokenNode struct{}

func (broken) Name() string                                 { return "test-broken" }
func (broken) Summary() string                              { return "an invariant that always fails (tests only)" }
func (broken) DefaultConfig() protocols.Config              { return &brokenConfig{} }
func (*brokenConfig) Validate() error                       { return nil }
func (brokenNode) Start(sim.Env)                            {}
func (brokenNode) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (brokenNode) Timer(sim.Env, uint64)                    {}

func (*brokenConfig) Build(s *protocols.Setup) error {
	for _, n := range s.Nodes {
		if _, err := s.AddNode(n.Name, func() sim.Node { return brokenNode{} }); err != nil {
			return err
		}
	}
	s.Invariant("always_broken", func() error { return errors.New("broken on purpose") })
	return nil
}

func init() { experiments.Register(broken{}) }

// aliasBomb is nine levels of nine aliases each: 9^9 nodes once expanded,
// from under 400 bytes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String() + "nodes: [a]\nprotocol: {name: echo}\n"
}

// rpcTiny is a small rpc experiment with a misspelt check metric.
const rpcTiny = `name: rpc-tiny
duration: 1s
nodes: ["client-1", "api-1"]
protocol:
  name: rpc
  services:
    api: {workers: 4, service_time: {dist: constant, value: 1ms}}
  client: {service: api}
workload: {rate: 50/s}
checks:
  - {metric: goodput_rsp, min: 1}
`

// TestHostileInputCLI: every hostile or mistaken input, as a table of
// command → exit code and message. Bad input exits 2 before anything
// runs, with the file, line and column where there is one.
func TestHostileInputCLI(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	good := writeFile(t, dir, "tiny.yaml", tiny)
	file := func(name, src string) string { return writeFile(t, dir, name, src) }
	sub := func(old, new string) string { return strings.Replace(tiny, old, new, 1) }
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// A results folder whose summary.csv (what plot reads) was cut short.
	cut := filepath.Join(dir, "cut")
	if code, _, stderr := runCLI("run", good, "--out", cut, "--quiet"); code != exitOK {
		t.Fatal(stderr)
	}
	if err := os.Truncate(filepath.Join(cut, "summary.csv"), 40); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(dir, "shard0")
	if code, _, stderr := runCLI("run", good, "--shard", "0/2", "--out", shard, "--quiet"); code != exitOK {
		t.Fatal(stderr)
	}
	// Results and shard folders whose files are not regular files, or too
	// large: dsim plot and dsim merge refuse them before reading.
	special := func(name, file string, make func(path string) error) string {
		d := filepath.Join(dir, name)
		if code, _, stderr := runCLI("run", good, "--out", d, "--quiet"); code != exitOK {
			t.Fatal(stderr)
		}
		p := filepath.Join(d, file)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := make(p); err != nil {
			t.Fatal(err)
		}
		return d
	}
	fifoSummary := special("fifo-summary", "summary.csv", mkfifo)
	devManifest := special("dev-manifest", "manifest.json", func(p string) error { return os.Symlink("/dev/zero", p) })
	bigSeries := special("big-series", "timeseries.csv", func(p string) error {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Truncate(results.MaxDataBytes + 1) // sparse: nothing is written
	})
	fifoPlan := special("fifo-plan", filepath.Join("runs", "plan.json"), mkfifo)
	fifoRun := special("fifo-run", filepath.Join("runs", "run-000000.gob.gz"), mkfifo)
	faults := "faults:\n  schedule:\n    - {kind: partition, at: 100ms, duration: 100ms, groups: [[n1], [xx-9]]}\n"
	late := "faults:\n  schedule:\n    - {kind: crash, label: late, at: 5s, duration: 1s, nodes: [n2]}\n"
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
		notIn    string
	}{
		// Out of memory or hang.
		{"alias bomb validate", []string{"validate", file("bomb.yaml", aliasBomb())}, exitUsage, "bomb.yaml:2:10: the file expands to more than 250000 YAML nodes", ""},
		{"alias bomb run", []string{"run", file("bomb.yaml", aliasBomb()), "--quiet"}, exitUsage, "expands to more than", ""},
		{"clients 1e9", []string{"run", file("clients.yaml", sub("workload: {rate: 100/s}", "workload: {kind: closed, clients: 1000000000}")), "--quiet"}, exitUsage, "clients.yaml:7:35: workload.clients: 1000000000 closed-loop clients exceed 1000000", ""},
		{"dev zero", []string{"validate", "/dev/zero"}, exitUsage, "/dev/zero: is a device, not an experiment file", ""},
		{"fifo", []string{"run", fifo}, exitUsage, "is a named pipe, not an experiment file", ""},
		{"dev zero as latency file", []string{"validate", file("empirical.yaml", sub("{dist: constant, value: 1ms}", "{dist: empirical, file: /dev/zero}"))}, exitUsage, "network.latency.file: load /dev/zero: bad empirical distribution: not a regular file", ""},
		// Late errors.
		{"fault names an unknown node", []string{"validate", file("faults.yaml", tiny+faults)}, exitUsage, `faults.yaml:14:69: faults.schedule[0].groups[1][0]: "xx-9" matches no node`, ""},
		{"role glob matches nothing", []string{"validate", file("roles.yaml", sub("timeout: 50ms", `timeout: 50ms, clients: ["c-*"]`))}, exitUsage, `roles.yaml:6:49: protocol.clients[0]: "c-*" matches no node or zone`, ""},
		{"role glob works", []string{"run", file("glob.yaml", sub("timeout: 50ms", `timeout: 50ms, clients: ["n[12]"], servers: ["n*"]`)), "--quiet", "--out", "glob"}, exitOK, "", ""},
		{"invariant fails", []string{"run", file("broken.yaml", "name: b\nduration: 1s\nnodes: [a]\nprotocol: {name: test-broken}\n"), "--quiet", "--out", "broken"}, exitFail, "invariants failed in 1 of 1 runs: always_broken (1 runs)", ""},
		{"check metric misspelt", []string{"check", file("metric.yaml", sub("metric: success_ratio", "metric: succes_ratio"))}, exitUsage, `metric.yaml:11:14: checks[0].metric: "succes_ratio" is not a metric of protocol echo (did you mean "success_ratio"?)`, ""},
		{"plot metric misspelt", []string{"validate", file("plot.yaml", tiny+"plots: [{kind: cdf, metric: rt}]\n")}, exitUsage, `"rt" is not a latency distribution of protocol echo (did you mean "rtt"?)`, ""},
		{"check metric misspelt, rpc", []string{"validate", file("rpc.yaml", rpcTiny)}, exitUsage, `rpc.yaml:11:14: checks[0].metric: "goodput_rsp" is not a metric of protocol rpc (did you mean "goodput_rps"?)`, ""},
		{"check tier misspelt, rpc", []string{"check", file("tier.yaml", strings.Replace(rpcTiny, "goodput_rsp", `"amplification{tier=apii}"`, 1)), "--quiet"}, exitUsage, `tier.yaml:11:14: checks[0].metric: "amplification{tier=apii}": this experiment records amplification for no tier "apii" (did you mean "api"?)`, ""},
		{"check metric misspelt, undeclared", []string{"check", file("undeclared.yaml", "name: u\nduration: 1s\nnodes: [a]\nprotocol: {name: test-broken}\nchecks:\n  - {metric: event, min: 1}\n"), "--quiet"}, exitUsage, `undeclared.yaml:6:14: checks[0].metric: "event" is not a metric of the runs (did you mean "events"?)`, ""},
		{"plot truncated summary.csv", []string{"plot", cut}, exitUsage, "is damaged", ""},
		{"plot fifo summary.csv", []string{"plot", fifoSummary}, exitUsage, "summary.csv: is a named pipe, not a regular file", ""},
		{"plot manifest.json is /dev/zero", []string{"plot", devManifest}, exitUsage, "manifest.json: is a device, not a regular file", ""},
		{"plot huge timeseries.csv", []string{"plot", bigSeries}, exitUsage, "timeseries.csv: is larger than 1024 MiB", ""},
		{"merge fifo plan.json", []string{"merge", fifoPlan, "--out", "merged-plan"}, exitUsage, "plan.json: is a named pipe, not a regular file", ""},
		{"merge fifo run file", []string{"merge", fifoRun, "--out", "merged-run"}, exitUsage, "run-000000.gob.gz: is a named pipe, not a regular file", ""},
		// Results silently wrong.
		{"resume as another shard", []string{"run", good, "--shard", "1/2", "--out", shard, "--resume"}, exitUsage, "it holds shard 0/2, not shard 1/2; resume it with --shard 0/2", ""},
		// Silently accepted.
		{"seeds 0", []string{"run", good, "--seeds", "0"}, exitUsage, "--seeds must be at least 1", ""},
		{"parallel 0", []string{"run", good, "--parallel", "0"}, exitUsage, "--parallel must be at least 1", ""},
		{"out empty", []string{"check", good, "--out", ""}, exitUsage, "--out must name a folder", ""},
		{"seed 1.5", []string{"validate", file("seed.yaml", tiny+"seed: 1.5\n")}, exitUsage, "seed.yaml:12:7: seed: want a non-negative integer, got 1.5", ""},
		{"duplicate seeds", []string{"validate", file("seeds.yaml", sub("seeds: 2", "seeds: [1, 1]"))}, exitUsage, "seeds.yaml:3:12: seeds[1]: seed 1 is listed twice", ""},
		{"fault after the end", []string{"validate", file("late.yaml", tiny+late)}, exitOK, `late.yaml:14:38: faults.schedule[0].at: crash "late" starts at 5s, at or after the end of the run (duration 1s): it never happens`, ""},
		// Unclear messages.
		{"unclosed list", []string{"validate", file("flow.yaml", sub(`nodes: ["n{1..3}"]`, `nodes: ["n{1..3}"`))}, exitUsage, "flow.yaml:4:8: this '[' is never closed", ""},
		{"unclosed mapping", []string{"validate", file("flow2.yaml", sub("protocol: {name: echo, timeout: 50ms}", "protocol: {name: echo, timeout: 50ms"))}, exitUsage, "flow2.yaml:6:11: this '{' is never closed", ""},
		{"duplicate key", []string{"validate", file("dup.yaml", tiny+"duration: 2s\n")}, exitUsage, `dup.yaml:12:1: duration: duplicate key "duration" (first at line 2)`, ":1:1:"},
		{"list for a duration", []string{"validate", file("list.yaml", sub("duration: 1s", "duration: [1s]"))}, exitUsage, `list.yaml:2:11: duration: want a duration (e.g. "250ms", "1.5s"), got a list`, `""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.inStderr) || (tc.notIn != "" && strings.Contains(stderr, tc.notIn)) {
				t.Errorf("dsim %v: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout, stderr)
			}
		})
	}
	// The refused shard resume left the folder as it was.
	if entries, _ := os.ReadDir(filepath.Join(shard, "runs")); len(entries) != 6 { // plan, shard, series sums, 2 runs, done marker
		t.Errorf("shard folder holds %d entries in runs/", len(entries))
	}
}

// TestInvariantFailures: the message of a run whose invariants failed.
func TestInvariantFailures(t *testing.T) {
	res := &experiments.Result{Runs: []experiments.RunResult{
		{Violations: []experiments.Violation{{Invariant: "b"}, {Invariant: "a"}}},
		{},
		{Violations: []experiments.Violation{{Invariant: "b"}}},
	}}
	var fe failError
	if err := invariantFailures(res); !errors.As(err, &fe) || fe.msg != "invariants failed in 2 of 3 runs: a (1 runs), b (2 runs); 'dsim check' prints each failing seed and a replay command" {
		t.Errorf("got %v", err)
	}
	if err := invariantFailures(&experiments.Result{Runs: make([]experiments.RunResult, 3)}); err != nil {
		t.Errorf("no violations: %v", err)
	}
}

// slow is an experiment that runs for a few seconds on one core.
var slow = strings.NewReplacer("seeds: 2", "seeds: 10", "duration: 1s", "duration: 20s", "rate: 100/s", "rate: 400/s").Replace(tiny)

// waitFor polls until cond holds or the deadline passes.
func waitFor(t *testing.T, cmd *exec.Cmd, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentWritersProcess: two dsim processes with different configs
// and --force on one --out. The second is refused while the first runs,
// and the folder ends up exactly the first one's results.
func TestConcurrentWritersProcess(t *testing.T) {
	bin := buildDsim(t)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", slow)
	b := writeFile(t, dir, "b.yaml", strings.Replace(slow, "timeout: 50ms", "timeout: 60ms", 1))
	out := filepath.Join(dir, "out")
	first := exec.Command(bin, "run", a, "--out", out, "--force", "--quiet", "--parallel", "1")
	var stderr1 bytes.Buffer
	first.Stderr = &stderr1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, first, "the first run's lock", func() bool {
		_, err := os.Stat(filepath.Join(out, "runs", "plan.json"))
		return err == nil
	})
	second := exec.Command(bin, "run", b, "--out", out, "--force", "--quiet")
	var stderr2 bytes.Buffer
	second.Stderr = &stderr2
	err := second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.Contains(stderr2.String(), "is being written by dsim process") {
		t.Errorf("second writer: %v: %s", err, stderr2.String())
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first writer: %v: %s", err, stderr1.String())
	}
	alone := filepath.Join(dir, "alone")
	dsimCmd(t, bin, "run", a, "--out", alone, "--quiet")
	compareTrees(t, alone, out)
}

// TestForceFullDisk: a --force run that cannot write its files (a file
// size limit makes every large write fail as a full disk would) exits 3,
// says so, and leaves the previous results byte for byte.
func TestForceFullDisk(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs ulimit")
	}
	bin := buildDsim(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", tiny)
	out := filepath.Join(dir, "out")
	dsimCmd(t, bin, "run", cfg, "--out", out, "--quiet")
	before := filepath.Join(dir, "before")
	dsimCmd(t, bin, "run", cfg, "--out", before, "--quiet")
	other := writeFile(t, dir, "other.yaml", strings.Replace(tiny, "duration: 1s", "duration: 3s", 1))
	// ulimit -f counts 512-byte blocks in sh: writes beyond 20 kB fail
	// with EFBIG, which the Go runtime turns into an error (it ignores
	// SIGXFSZ).
	cmd := exec.Command("sh", "-c", `ulimit -f 40 && exec "$0" "$@"`, bin, "run", other, "--out", out, "--force", "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRuntime || !strings.Contains(stderr.String(), "file too large") ||
		!strings.Contains(stderr.String(), "the previous results in "+out+" are unchanged") {
		t.Errorf("full disk: %v: %s", err, stderr.String())
	}
	compareTrees(t, before, out)
	if entries, _ := os.ReadDir(dir); len(entries) != 4 { // tiny.yaml, other.yaml, out, before
		t.Errorf("left behind: %v", entries)
	}
}

// TestKilledRunResumes: SIGKILL at any moment, then --resume, gives the
// bytes of an uninterrupted run: temporary files of the write that was
// cut are removed, the lock is free again.
func TestKilledRunResumes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	bin := buildDsim(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "slow.yaml", slow)
	out := filepath.Join(dir, "out")
	cmd := exec.Command(bin, "run", cfg, "--out", out, "--parallel", "1", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cmd, "two runs", func() bool {
		entries, _ := os.ReadDir(filepath.Join(out, "runs"))
		return len(entries) >= 3
	})
	cmd.Process.Kill()
	cmd.Wait()
	// What a kill during the final write leaves: a hidden temporary file.
	if err := os.WriteFile(filepath.Join(out, ".timeseries.csv.tmp1234567"), bytes.Repeat([]byte("x"), 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	dsimCmd(t, bin, "run", cfg, "--out", out, "--resume", "--quiet")
	full := filepath.Join(dir, "full")
	dsimCmd(t, bin, "run", cfg, "--out", full, "--quiet")
	compareTrees(t, full, out)
}
