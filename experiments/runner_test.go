package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// TestRunGoAPI shows the Go API: load, run in memory, assert on metrics.
func TestRunGoAPI(t *testing.T) {
	x := mustParse(t, small)
	res := mustRun(t, x, RunOptions{})
	if len(res.Runs) != 4 || !res.Complete {
		t.Fatalf("%d runs, complete %v", len(res.Runs), res.Complete)
	}
	for _, r := range res.Runs {
		ok, _ := r.Run.Metric("success_ratio")
		loss, _ := r.Run.Param("network.loss")
		switch loss {
		case "0":
			if ok != 1 {
				t.Errorf("run %d: success ratio %v without loss", r.Run.Index, ok)
			}
		case "0.05":
			// A ping fails if the ping or its echo is lost: 1-(1-p)^2.
			if ok < 0.85 || ok > 0.95 {
				t.Errorf("run %d: success ratio %v, want about 0.9025", r.Run.Index, ok)
			}
		}
		if r.Events == 0 || r.Hash == 0 || len(r.Violations) > 0 {
			t.Errorf("run %d: %d events, hash %x, violations %v", r.Run.Index, r.Events, r.Hash, r.Violations)
		}
	}
	for _, c := range Evaluate(x, res.Runs) {
		if !c.OK() {
			t.Errorf("check %s at %v failed: %+v", c.Name, c.Params, c.Failed)
		}
	}
	for i, r := range res.Runs {
		if (r.TimelineSVG != nil) != (i == 1) || (r.TimelineTrace != nil) != (i == 1) {
			t.Errorf("run %d: timeline recorded %v, want only for run 1", i, r.TimelineSVG != nil)
		}
	}
	if s := res.Set(); len(s.Runs) != 4 || len(s.Manifest.Params) != 1 {
		t.Errorf("set %+v", s.Manifest)
	}
}

// TestSameSeedSameRun: a run is a pure function of config and seed, and
// adding a sweep value leaves the other runs' results unchanged.
func TestSameSeedSameRun(t *testing.T) {
	a := mustRun(t, mustParse(t, small), RunOptions{Parallel: 1})
	grown := strings.Replace(small, "network.loss: [0, 0.05]", "network.loss: [0, 0.02, 0.05]", 1)
	b := mustRun(t, mustParse(t, grown), RunOptions{Parallel: 2})
	byKey := map[string]RunResult{}
	for _, r := range b.Runs {
		byKey[fmt.Sprint(r.Run.Params, r.Run.Seed)] = r
	}
	for _, r := range a.Runs {
		o, ok := byKey[fmt.Sprint(r.Run.Params, r.Run.Seed)]
		if !ok || o.Hash != r.Hash || fmt.Sprint(o.Run.Metrics) != fmt.Sprint(r.Run.Metrics) {
			t.Errorf("run %v seed %d changed when a sweep value was added", r.Run.Params, r.Run.Seed)
		}
	}
	if a.Runs[0].Hash == a.Runs[1].Hash {
		t.Error("different seeds gave the same event hash")
	}
}

// TestOutputIndependentOfParallel: the results folder is byte-identical
// whatever the number of workers.
func TestOutputIndependentOfParallel(t *testing.T) {
	x := mustParse(t, small)
	d1, d3 := filepath.Join(t.TempDir(), "p1"), filepath.Join(t.TempDir(), "p3")
	mustRun(t, x, RunOptions{Out: d1, Parallel: 1, Version: "test"})
	mustRun(t, x, RunOptions{Out: d3, Parallel: 3, Version: "test"})
	sameTree(t, d1, d3)
	for _, f := range []string{"runs.csv", "summary.csv", "manifest.json", "report.html", "config.resolved.yaml", "runs/plan.json", "runs/run-000003.gob.gz", "runs/series.gob.gz", "metrics.csv", "timeseries.csv", "timeline.svg", "trace.json"} {
		if _, err := os.Stat(filepath.Join(d1, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestInterruptAndResume: cancelling keeps finished runs; resuming
// finishes the rest and gives the same bytes as one uninterrupted run.
func TestInterruptAndResume(t *testing.T) {
	src := strings.Replace(small, "seeds: 2", "seeds: 5", 1)
	x := mustParse(t, src)
	full := filepath.Join(t.TempDir(), "full")
	mustRun(t, x, RunOptions{Out: full, Parallel: 2, Version: "test"})

	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, x, RunOptions{Out: out, Parallel: 1, Version: "test", Progress: func(p Progress) {
		if p.Done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	if len(res.Runs) < 3 || len(res.Runs) >= 10 {
		t.Fatalf("kept %d runs", len(res.Runs))
	}
	if _, err := os.Stat(filepath.Join(out, "runs.csv")); err == nil {
		t.Error("an interrupted run wrote runs.csv")
	}
	// Without --resume or --force the folder is refused, untouched.
	before := readTree(t, out)
	if _, err := Run(context.Background(), x, RunOptions{Out: out}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("existing folder: %v", err)
	}
	if after := readTree(t, out); len(after) != len(before) {
		t.Error("refused run changed the folder")
	}
	var resumed int
	res2 := mustRun(t, x, RunOptions{Out: out, Resume: true, Parallel: 2, Version: "test", Progress: func(p Progress) { resumed = p.Resumed }})
	if res2.Resumed != len(res.Runs) || resumed != len(res.Runs) {
		t.Errorf("resumed %d (progress %d), want %d", res2.Resumed, resumed, len(res.Runs))
	}
	sameTree(t, full, out)
	// Resuming a finished folder redoes nothing and changes nothing.
	res3 := mustRun(t, x, RunOptions{Out: out, Resume: true, Version: "test"})
	if res3.Resumed != 10 {
		t.Errorf("resumed %d of 10", res3.Resumed)
	}
	sameTree(t, full, out)
	// Resuming with another config is refused.
	y := mustParse(t, src, "duration=3s")
	if _, err := Run(context.Background(), y, RunOptions{Out: out, Resume: true}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "different config") {
		t.Errorf("resume with another config: %v", err)
	}
}

// TestShardsMerge: shards run separately merge into the bytes of one run.
func TestShardsMerge(t *testing.T) {
	x := mustParse(t, small)
	base := t.TempDir()
	full := filepath.Join(base, "full")
	mustRun(t, x, RunOptions{Out: full, Version: "test"})
	var dirs []string
	total := 0
	for i := 0; i < 3; i++ {
		d := filepath.Join(base, fmt.Sprintf("shard%d", i))
		res := mustRun(t, x, RunOptions{Out: d, Shard: i, Shards: 3, Version: "test"})
		total += len(res.Runs)
		if res.Complete {
			t.Errorf("shard %d claims to be complete", i)
		}
		dirs = append(dirs, d)
	}
	if total != 4 {
		t.Errorf("shards ran %d runs, want 4", total)
	}
	merged := filepath.Join(base, "merged")
	if _, err := Merge(dirs, merged, false); err != nil {
		t.Fatal(err)
	}
	sameTree(t, full, merged)
	// Missing shards and mixed experiments are refused.
	if _, err := Merge(dirs[:2], filepath.Join(base, "m2"), false); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "missing runs") {
		t.Errorf("missing shard: %v", err)
	}
	other := filepath.Join(base, "other")
	mustRun(t, mustParse(t, small, "duration=1s"), RunOptions{Out: other, Shard: 2, Shards: 3})
	if _, err := Merge([]string{dirs[0], dirs[1], other}, filepath.Join(base, "m3"), false); !errors.Is(err, ErrBadInput) {
		t.Errorf("mixed experiments: %v", err)
	}
	if _, err := Merge([]string{base}, filepath.Join(base, "m4"), false); !errors.Is(err, ErrBadInput) {
		t.Errorf("not a run folder: %v", err)
	}
	// The merged folder exists: merging again needs --force.
	if _, err := Merge(dirs, merged, false); !errors.Is(err, ErrBadInput) {
		t.Errorf("merge over existing: %v", err)
	}
	if _, err := Merge(dirs, merged, true); err != nil {
		t.Errorf("merge --force: %v", err)
	}
	sameTree(t, full, merged)
}

func TestOutputGuards(t *testing.T) {
	x := mustParse(t, small)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mustRun(t, x, RunOptions{Out: out, Version: "test"})
	// Unrelated files in the folder survive --force.
	keep := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	y := mustParse(t, small, "duration=1s")
	mustRun(t, y, RunOptions{Out: out, Force: true, Version: "test"})
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Error("--force removed a file it did not write")
	}
	// An output path below a regular file cannot be created.
	if _, err := Run(context.Background(), x, RunOptions{Out: filepath.Join(keep, "sub")}); !errors.Is(err, ErrBadInput) {
		t.Errorf("unwritable output: %v", err)
	}
	if _, err := Run(context.Background(), x, RunOptions{Out: keep}); !errors.Is(err, ErrBadInput) {
		t.Errorf("output is a file: %v", err)
	}
	if _, err := Run(context.Background(), x, RunOptions{Shard: 3, Shards: 3}); !errors.Is(err, ErrBadInput) {
		t.Errorf("bad shard: %v", err)
	}
}

// flaky is a protocol whose runs differ between executions: it reads a
// package variable that persists across runs, which is exactly the kind of
// bug --verify-determinism exists to catch.
type flaky struct{}

var flakyCounter int

type flakyConfig struct {
	Fail bool `yaml:"fail"`
}

func (flaky) Name() string                    { return "test-flaky" }
func (flaky) Summary() string                 { return "a deliberately non-deterministic protocol (tests only)" }
func (flaky) DefaultConfig() protocols.Config { return &flakyConfig{} }
func (c *flakyConfig) Validate() error        { return nil }

type flakyNode struct{}

func (flakyNode) Start(env sim.Env) {
	flakyCounter++
	env.After(sim.Time(flakyCounter).Duration(), 0)
}
func (flakyNode) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (flakyNode) Timer(sim.Env, uint64)                    {}

func (c *flakyConfig) Build(s *protocols.Setup) error {
	for _, n := range s.Nodes {
		if _, err := s.AddNode(n.Name, func() sim.Node { return flakyNode{} }); err != nil {
			return err
		}
	}
	s.Invariant("never_fails", func() error {
		if c.Fail {
			return errors.New("told to fail")
		}
		return nil
	})
	return nil
}

func init() { Register(flaky{}) }

func TestVerifyDeterminism(t *testing.T) {
	x := mustParse(t, small, "seeds=1")
	mustRun(t, x, RunOptions{VerifyDeterminism: true})
	y := mustParse(t, "nodes: [a]\nduration: 1s\nprotocol: {name: test-flaky}\n")
	_, err := Run(context.Background(), y, RunOptions{VerifyDeterminism: true})
	if !errors.Is(err, ErrNondeterministic) {
		t.Errorf("flaky protocol: %v", err)
	}
}

func TestChecksAndReplay(t *testing.T) {
	src := small + "  - {metric: success_ratio, min: 0.99, when: {network.loss: \"0.05\"}}\n  - {metric: pings_sent, max: 1, of: mean}\n"
	x := mustParse(t, src, "protocol.size_bytes=100")
	res := mustRun(t, x, RunOptions{})
	rows := Evaluate(x, res.Runs)
	var failed []string
	for _, r := range rows {
		if !r.OK() {
			failed = append(failed, r.Name+" "+fmt.Sprint(r.Params))
		}
	}
	want := []string{
		"success_ratio ≥ 0.99 (each run) [{network.loss 0.05}]",
		"pings_sent ≤ 1 (mean over seeds) [{network.loss 0}]",
		"pings_sent ≤ 1 (mean over seeds) [{network.loss 0.05}]",
	}
	if strings.Join(failed, "\n") != strings.Join(want, "\n") {
		t.Errorf("failed checks:\n%s\nwant\n%s", strings.Join(failed, "\n"), strings.Join(want, "\n"))
	}
	// The replay command reproduces the failing run exactly.
	var f Failure
	for _, r := range rows {
		if strings.HasPrefix(r.Name, "success_ratio ≥ 0.99") {
			f = r.Failed[0]
		}
	}
	cmd := x.ReplayCommand(f.Run)
	if !strings.Contains(cmd, fmt.Sprintf("--seed %d", f.Seed)) || !strings.Contains(cmd, "--set network.loss=0.05") || !strings.Contains(cmd, "--set protocol.size_bytes=100") || !strings.Contains(cmd, "--set timeline.run=0") || !strings.HasPrefix(cmd, "dsim check test.yaml ") || !strings.HasSuffix(cmd, fmt.Sprintf(" --out out/small-replay-%d --force", f.Seed)) {
		t.Errorf("replay command %q", cmd)
	}
	replay := mustParse(t, src, "protocol.size_bytes=100", fmt.Sprintf("seeds=[%d]", f.Seed), "network.loss=0.05", "timeline.run=0")
	rr := mustRun(t, replay, RunOptions{})
	if rr.Runs[0].Hash != res.Runs[f.Run].Hash {
		t.Errorf("replay hash %x, original %x", rr.Runs[0].Hash, res.Runs[f.Run].Hash)
	}
	// A replay's replay command is the same command: nothing repeats.
	if again := replay.ReplayCommand(0); again != cmd {
		t.Errorf("replay of the replay:\n%s\nwant\n%s", again, cmd)
	}
	// The pinned sweep value still selects the check that failed.
	var again bool
	for _, r := range Evaluate(replay, rr.Runs) {
		again = again || (strings.HasPrefix(r.Name, "success_ratio ≥ 0.99") && !r.OK())
	}
	if !again {
		t.Error("the replayed run does not fail the same check")
	}
	// Invariant violations are reported per sweep point.
	z := mustParse(t, "nodes: [a]\nduration: 1s\nprotocol: {name: test-flaky, fail: true}\n")
	zr := mustRun(t, z, RunOptions{})
	inv := Evaluate(z, zr.Runs)
	if len(inv) != 1 || inv[0].OK() || inv[0].Name != "invariant never_fails" {
		t.Errorf("invariants: %+v", inv)
	}
}

// TestRunFailure: a failed run is a *RunError naming the run and its
// seed, matching ErrRunFailed and its cause, with or without a folder.
func TestRunFailure(t *testing.T) {
	x := mustParse(t, small, "limits.max_events=100")
	for _, out := range []string{"", filepath.Join(t.TempDir(), "out")} {
		_, err := Run(context.Background(), x, RunOptions{Out: out, Parallel: 1})
		var re *RunError
		if !errors.As(err, &re) || !errors.Is(err, ErrRunFailed) || !errors.Is(err, sim.ErrEventLimit) {
			t.Fatalf("out %q: event limit: %v", out, err)
		}
		spec := x.Runs()[re.Index]
		if re.Seed != spec.Seed || re.Params.Label() != spec.Point.Params.Label() {
			t.Errorf("RunError %+v names another run than %+v", re, spec)
		}
		want := fmt.Sprintf("run failed: run %d (seed %d, network.loss=%s): ", re.Index, re.Seed, spec.Point.Params[0].Value)
		if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "event limit exceeded (max 100)") {
			t.Errorf("message %q, want %q...", err, want)
		}
	}
}

// TestPlotErrorsAreTyped: a plot that cannot be drawn does not fail the
// run; Result.PlotErr says which, as a *results.PlotError.
func TestPlotErrorsAreTyped(t *testing.T) {
	x := mustParse(t, small+"plots:\n  - {kind: line, metric: success_ratio, x: network.loss}\n  - {kind: line, metric: success_ratio, x: network.loss, where: {network.loss: \"7\"}}\n", "seeds=1")
	res, err := Run(context.Background(), x, RunOptions{Out: filepath.Join(t.TempDir(), "out")})
	if err != nil {
		t.Fatal(err)
	}
	var pe *results.PlotError
	if !errors.As(res.PlotErr, &pe) || pe.Index != 1 || !results.IsPlotError(res.PlotErr) {
		t.Fatalf("PlotErr = %v, want the second plot's *results.PlotError", res.PlotErr)
	}
}

// BenchmarkSweep measures sweep throughput: 100 short echo runs (1 s of
// simulated time at 100 pings/s on 3 nodes) with 1 and 2 workers.
func BenchmarkSweep(b *testing.B) {
	src := strings.Replace(strings.Replace(small, "seeds: 2", "seeds: 50", 1), "duration: 2s", "duration: 1s", 1)
	src = strings.Replace(src, "rate: 200/s", "rate: 100/s", 1)
	x := mustParse(b, src)
	for _, par := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", par), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res := mustRun(b, x, RunOptions{Parallel: par})
				if len(res.Runs) != 100 {
					b.Fatal(len(res.Runs))
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}

// TestEchoUnderDuplicationAndCrashes: duplicated messages and a crashed
// client keep the echo invariants, and the duplicates are counted.
func TestEchoUnderDuplicationAndCrashes(t *testing.T) {
	src := `nodes: [a, b]
duration: 3s
protocol: {name: echo, clients: [a], servers: [b], timeout: 20ms}
network: {latency: {dist: constant, value: 2ms}, duplicate: 0.3, duplicate_delay: 1ms}
faults:
  schedule:
    - {kind: crash, at: 1s, duration: 100ms, nodes: [a]}
workload: {rate: 300/s}
`
	x := mustParse(t, src)
	res := mustRun(t, x, RunOptions{})
	r := res.Runs[0]
	if len(r.Violations) > 0 {
		t.Fatalf("violations: %+v", r.Violations)
	}
	dups, _ := r.Run.Metric("echoes_duplicate")
	sent, _ := r.Run.Metric("pings_sent")
	// A ping arrives 1.3 times on average (duplicated with probability
	// 0.3) and each echo is sent 1.3 times: 1.3² = 1.69 echoes per ping,
	// 0.69 of them duplicates. With ~900 pings the sd of the ratio is
	// about 0.02; allow 0.1 (the crash also loses a few).
	if sent == 0 || math.Abs(dups/sent-0.69) > 0.1 {
		t.Errorf("%v duplicates for %v pings (%.3f per ping, want 0.69)", dups, sent, dups/sent)
	}
}

// TestRunAllStops: the first failure of collect stops the runs (none
// starts after it and it is returned), and so does a cancelled context
// (nothing is returned: the missing runs are the caller's to count).
func TestRunAllStops(t *testing.T) {
	x := mustParse(t, strings.Replace(small, "seeds: 2", "seeds: 20", 1))
	todo := x.Runs()
	full := errors.New("disk full")
	calls := 0
	err := runAll(context.Background(), x, todo, RunOptions{Parallel: 2}, func(finished) error {
		calls++
		return full
	})
	if !errors.Is(err, full) || calls != 1 {
		t.Errorf("collect failing: err %v after %d calls, want %v after 1", err, calls, full)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = runAll(ctx, x, todo, RunOptions{Parallel: 2}, func(finished) error { calls++; return nil })
	if err != nil || calls != 0 {
		t.Errorf("cancelled before the start: err %v, %d runs collected", err, calls)
	}
}
