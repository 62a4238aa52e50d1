package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// aliasBomb nests levels of anchors, each a list of nine aliases to the
// one before: a few hundred bytes that expand to 9^levels nodes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= levels; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	return b.String() + "nodes: [a]\nprotocol: {name: echo}\n"
}

// numbers lists the integers from lo to hi as YAML flow items.
func numbers(lo, hi int) string {
	parts := make([]string, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		parts = append(parts, itoa(i))
	}
	return strings.Join(parts, ", ")
}

// hostileBase is a valid experiment the cases below break one way each.
const hostileBase = `name: h
duration: 2s
nodes: ["eu-{1..2}", "us-{1..2}", "c-1"]
network: {zones: {eu: ["eu-*"], us: ["us-*"]}}
protocol: {name: echo, clients: ["c-*"], servers: ["eu-*"]}
faults:
  schedule:
    - {kind: partition, at: 1s, duration: 500ms, groups: [[eu-1], [us-1]]}
checks:
  - {metric: success_ratio, min: 0.5}
plots:
  - {kind: cdf, metric: rtt}
`

// TestHostileInput: each hostile or mistaken input is refused at load
// time as bad input, with the place in the file and a clear message.
func TestHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		sets []string
		want []string
	}{
		{"alias bomb", aliasBomb(9), nil, []string{"test.yaml:2:10: the file expands to more than 250000 YAML nodes"}},
		{"alias to itself", "a: &a [*a]\nnodes: [a]\nprotocol: {name: echo}\n", nil, []string{"anchor &a contains an alias to itself"}},
		{"clients 1e9", hostileBase + "workload: {kind: closed, clients: 1000000000}\n", nil, []string{"test.yaml:13:35: workload.clients: 1000000000 closed-loop clients exceed 1000000"}},
		{"clients over max_pending", hostileBase + "workload: {kind: closed, clients: 5000}\nlimits: {max_pending: 1000}\n", nil, []string{"test.yaml:13:35: workload.clients: 5000 closed-loop clients exceed limits.max_pending 1000"}},
		{"max_buckets too large", hostileBase + "metrics: {bucket: 1ns, max_buckets: 1000000000}\n", nil, []string{"metrics.max_buckets: must be at most 1000000, got 1000000000"}},
		{"max_runs too large", hostileBase + "limits: {max_runs: 1000000000}\n", nil, []string{"test.yaml:13:20: limits.max_runs: must be in [1, 10000000]"}},
		{"max_pending too large", hostileBase + "limits: {max_pending: 1000000000}\n", nil, []string{"test.yaml:13:23: limits.max_pending: must be in [1, 16777215]"}},
		{"seed 1.5", hostileBase + "seed: 1.5\n", nil, []string{"test.yaml:13:7: seed: want a non-negative integer, got 1.5"}},
		{"int 2.5", hostileBase + "limits: {max_nodes: 2.5}\n", nil, []string{"test.yaml:13:21: limits.max_nodes: want an integer, got 2.5"}},
		{"duplicate seeds", hostileBase + "seeds: [1, 7, 1]\n", nil, []string{"test.yaml:13:15: seeds[2]: seed 1 is listed twice (seeds[0])"}},
		{"unknown group node", strings.Replace(hostileBase, "[us-1]]", "[xx-9]]", 1), nil, []string{`test.yaml:8:68: faults.schedule[0].groups[1][0]: "xx-9" matches no node`}},
		{"glob matching nothing", strings.Replace(hostileBase, "checks:", "    - {kind: crash, at: 1s, duration: 1s, nodes: [\"zz*\"]}\nchecks:", 1), nil, []string{`faults.schedule[1].nodes[0]: "zz*" matches no node`}},
		{"role glob matching nothing", strings.Replace(hostileBase, `["c-*"]`, `["k-*"]`, 1), nil, []string{`test.yaml:5:34: protocol.clients[0]: "k-*" matches no node or zone of the topology`}},
		{"role name misspelt", strings.Replace(hostileBase, `["eu-*"]}`, `[eu-3]}`, 1), nil, []string{`protocol.servers[0]: "eu-3" matches no node or zone of the topology (did you mean "eu-1"?)`}},
		{"check metric misspelt", strings.Replace(hostileBase, "metric: success_ratio", "metric: succes_ratio", 1), nil, []string{`test.yaml:10:14: checks[0].metric: "succes_ratio" is not a metric of protocol echo (did you mean "success_ratio"?)`}},
		{"plot metric misspelt", strings.Replace(hostileBase, "metric: rtt}", "metric: rtt_p99}", 1), nil, []string{`test.yaml:12:25: plots[0].metric: "rtt_p99" is not a latency distribution of protocol echo (did you mean "rtt"?)`}},
		{"duration given a list", hostileBase + "warmup: [1s]\n", nil, []string{`test.yaml:13:9: warmup: want a duration (e.g. "250ms", "1.5s"), got a list`}},
		{"too many sweep points", "nodes: [a]\nprotocol: {name: echo}\nlimits: {max_runs: 1000000000}\nsweep:\n  protocol.size_bytes: [" + numbers(1, 1000) + "]\n  workload.clients: [" + numbers(1, 1000) + "]\n", nil, []string{"test.yaml:5:3: sweep: 1000000 sweep points exceed 10000; split the sweep into several experiments"}},
		{"duplicate protocol key", "nodes: [a]\nprotocol: {name: echo, timeout: 1s, timeout: 2s}\n", nil, []string{`test.yaml:2:37: protocol.timeout: duplicate key "timeout" (first at line 2)`}},
		{"duplicate sweep key", "nodes: [a]\nprotocol: {name: echo}\nsweep:\n  network.loss: [0]\n  network.loss: [0.1]\n", nil, []string{`test.yaml:5:3: sweep.network.loss: duplicate key "network.loss" (first at line 4)`}},
		{"unclosed list", "name: t\nnodes: [a, b\nprotocol: {name: echo}\n", nil, []string{`test.yaml:2:8: this '[' is never closed`}},
		{"unclosed mapping", "name: t\nprotocol: {name: echo\nnodes: [a]\n", nil, []string{`test.yaml:2:11: this '{' is never closed`}},
		{"unclosed on line 1", "name: [x\n", nil, []string{`test.yaml:1:7: this '[' is never closed`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src), Options{Sets: tc.sets})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("a harmless --set refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("error %T does not match ErrBadInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	// A --set value cannot smuggle an alias bomb in either.
	bomb := "[" + strings.TrimSuffix(strings.ReplaceAll(aliasBomb(7), "\n", ", "), ", ") + "]"
	bomb = strings.Replace(bomb, "nodes: [a], protocol: {name: echo}", "x", 1)
	if _, err := Parse("test.yaml", []byte(hostileBase), Options{Sets: []string{"description={" + strings.TrimPrefix(strings.TrimSuffix(bomb, "]"), "[") + "}"}}); err == nil {
		t.Error("alias bomb in --set accepted")
	}
}

// TestDuplicateKeyOnce: a repeated key is one problem, at the repeat,
// naming the first line; no second message at a made-up place.
func TestDuplicateKeyOnce(t *testing.T) {
	_, err := Parse("test.yaml", []byte("nodes: [a]\nprotocol: {name: echo}\nduration: 1s\nduration: 2s\n"), Options{})
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	if got := le.Problems[0].String(); got != `test.yaml:4:1: duration: duplicate key "duration" (first at line 3)` {
		t.Errorf("problem %q", got)
	}
}

// TestRoleGlobsRun: globs in role selectors are validated at load and
// work in the run.
func TestRoleGlobsRun(t *testing.T) {
	x := mustParse(t, hostileBase)
	res := mustRun(t, x, RunOptions{})
	if v, ok := res.Runs[0].Run.Metric("pings_sent"); !ok || v == 0 {
		t.Errorf("c-1 sent no pings: %v %v", v, ok)
	}
}

// TestWarnings: a fault scheduled at or after the end of the run is a
// warning that names it; the experiment still loads.
func TestWarnings(t *testing.T) {
	x := mustParse(t, strings.Replace(hostileBase, "checks:", "    - {kind: crash, label: late-crash, at: 2s, duration: 1s, nodes: [us-2]}\nchecks:", 1))
	if len(x.Warnings) != 1 {
		t.Fatalf("warnings: %v", x.Warnings)
	}
	if got := x.Warnings[0].String(); got != `test.yaml:9:44: faults.schedule[1].at: crash "late-crash" starts at 2s, at or after the end of the run (duration 2s): it never happens` {
		t.Errorf("warning %q", got)
	}
	if x := mustParse(t, hostileBase); len(x.Warnings) != 0 {
		t.Errorf("warnings for a fault inside the run: %v", x.Warnings)
	}
}

// TestSpecialFiles: devices and FIFOs are refused before they are opened
// (a FIFO would block, /dev/zero would never end).
func TestSpecialFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero or FIFOs")
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: is a device, not an experiment file"},
		{fifo, "is a named pipe, not an experiment file"},
	} {
		_, err := Load(tc.path, Options{})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, Options{}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

// BenchmarkHostileLoad measures how long refusing a hostile input takes
// and what it allocates: the nine-level alias bomb (9^9 nodes once
// expanded), a billion closed-loop clients, /dev/zero, and a sweep of a
// million points.
func BenchmarkHostileLoad(b *testing.B) {
	bomb := []byte(aliasBomb(9))
	clients := []byte(hostileBase + "workload: {kind: closed, clients: 1000000000}\n")
	sweep := []byte("nodes: [a]\nprotocol: {name: echo}\nlimits: {max_runs: 1000000000}\nsweep:\n  protocol.size_bytes: [" + numbers(1, 1000) + "]\n  workload.clients: [" + numbers(1, 1000) + "]\n")
	for _, bc := range []struct {
		name string
		load func() error
	}{
		{"alias-bomb", func() error { _, err := Parse("bomb.yaml", bomb, Options{}); return err }},
		{"clients-1e9", func() error { _, err := Parse("clients.yaml", clients, Options{}); return err }},
		{"dev-zero", func() error { _, err := Load("/dev/zero", Options{}); return err }},
		{"sweep-1e6-points", func() error { _, err := Parse("sweep.yaml", sweep, Options{}); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := bc.load(); !errors.Is(err, ErrBadInput) {
					b.Fatalf("accepted: %v", err)
				}
			}
		})
	}
}
