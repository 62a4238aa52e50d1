package experiments

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondWriterRefused: while one process holds an output folder, a
// second writer with another config is refused at once, even with
// --force, and the folder is left as it was. Once the first lets go, the
// second may proceed.
func TestSecondWriterRefused(t *testing.T) {
	a := mustParse(t, small)
	b := mustParse(t, small, "duration=1s")
	out := filepath.Join(t.TempDir(), "out")
	mustRun(t, a, RunOptions{Out: out, Version: "test"})
	before := readTree(t, out)

	// A writer in progress: it holds the lock as Run does.
	held, _, err := openOut(out, a.plan("test"), RunOptions{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []RunOptions{{Out: out, Force: true}, {Out: out, Resume: true}, {Out: out}} {
		_, err := Run(context.Background(), b, opts)
		if !errors.Is(err, ErrLocked) || !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "is being written by dsim process") {
			t.Errorf("second writer %+v: %v", opts, err)
		}
	}
	if _, err := Merge([]string{out}, out+"-merged", false); err != nil {
		t.Errorf("reading a held folder: %v", err)
	}
	held.commit()
	held.release()
	after := readTree(t, out)
	if len(after) != len(before) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if string(after[k]) != string(v) {
			t.Errorf("%s changed", k)
		}
	}
	mustRun(t, b, RunOptions{Out: out, Force: true, Version: "test"})
	if _, err := os.Stat(filepath.Join(out, lockFile)); err == nil {
		t.Error("the lock file outlives the run")
	}
}

// TestForceKeepsOldUntilComplete: --force replaces the results only with
// a complete run. An interrupted or failed --force run leaves the earlier
// results byte for byte, and no temporary folder behind.
func TestForceKeepsOldUntilComplete(t *testing.T) {
	a := mustParse(t, strings.Replace(small, "seeds: 2", "seeds: 4", 1))
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mustRun(t, a, RunOptions{Out: out, Version: "test"})
	before := readTree(t, out)
	check := func(what string) {
		t.Helper()
		after := readTree(t, out)
		if len(after) != len(before) {
			t.Errorf("%s: %d files before, %d after", what, len(before), len(after))
		}
		for k, v := range before {
			if string(after[k]) != string(v) {
				t.Errorf("%s: %s changed", what, k)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("%s: left %d entries next to the folder", what, len(entries)-1)
		}
	}
	b := mustParse(t, strings.Replace(small, "seeds: 2", "seeds: 4", 1), "duration=1s")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, b, RunOptions{Out: out, Force: true, Parallel: 1, Progress: func(p Progress) {
		if p.Done == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted --force: %v", err)
	}
	check("interrupted")
	c := mustParse(t, small, "limits.max_events=100")
	if _, err := Run(context.Background(), c, RunOptions{Out: out, Force: true}); !errors.Is(err, ErrRunFailed) {
		t.Fatalf("failing --force: %v", err)
	}
	check("failed")
	// A complete --force run replaces them.
	mustRun(t, b, RunOptions{Out: out, Force: true, Version: "test"})
	fresh := filepath.Join(t.TempDir(), "fresh")
	mustRun(t, b, RunOptions{Out: fresh, Version: "test"})
	sameTree(t, fresh, out)
}

// TestResumeRemovesStale: what a killed process leaves (temporary files
// of atomic writes, a --force folder, the lock file) is removed when the
// folder is opened again, so a resumed folder is byte for byte an
// uninterrupted one.
func TestResumeRemovesStale(t *testing.T) {
	x := mustParse(t, small)
	full := filepath.Join(t.TempDir(), "full")
	mustRun(t, x, RunOptions{Out: full, Version: "test"})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Run(ctx, x, RunOptions{Out: out, Parallel: 1, Version: "test", Progress: func(p Progress) {
		if p.Done == 2 {
			cancel()
		}
	}}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupt: %v", err)
	}
	// What SIGKILL during the final write leaves.
	for _, p := range []string{".timeseries.csv.tmp2174453", lockFile, "runs/.run-000003.gob.tmp99", "plots/.cdf.png.tmp1"} {
		os.MkdirAll(filepath.Dir(filepath.Join(out, p)), 0o755)
		if err := os.WriteFile(filepath.Join(out, p), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, ".out"+forceMark+"12345", "runs"), 0o755)
	mustRun(t, x, RunOptions{Out: out, Resume: true, Version: "test"})
	sameTree(t, full, out)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a stale --force folder survived: %v", entries)
	}
}

// TestShardIdentity: a shard's folder records which shard it holds;
// resuming it as another shard, or as the whole experiment, is refused.
func TestShardIdentity(t *testing.T) {
	x := mustParse(t, small)
	out := filepath.Join(t.TempDir(), "s0")
	mustRun(t, x, RunOptions{Out: out, Shard: 0, Shards: 2, Version: "test"})
	for _, tc := range []struct {
		shard, shards int
		want          string
	}{
		{1, 2, "it holds shard 0/2, not shard 1/2; resume it with --shard 0/2"},
		{0, 1, "it holds shard 0/2, not every run (no --shard)"},
		{0, 3, "it holds shard 0/2, not shard 0/3"},
	} {
		_, err := Run(context.Background(), x, RunOptions{Out: out, Resume: true, Shard: tc.shard, Shards: tc.shards})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("resume %d/%d: %v", tc.shard, tc.shards, err)
		}
	}
	res := mustRun(t, x, RunOptions{Out: out, Resume: true, Shard: 0, Shards: 2, Version: "test"})
	if res.Resumed != 2 {
		t.Errorf("resumed %d runs, want 2", res.Resumed)
	}
	// An unsharded folder cannot be resumed as a shard either.
	all := filepath.Join(t.TempDir(), "all")
	mustRun(t, x, RunOptions{Out: all, Version: "test"})
	if _, err := Run(context.Background(), x, RunOptions{Out: all, Resume: true, Shard: 1, Shards: 2}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "it holds every run") {
		t.Errorf("resume of a full folder as a shard: %v", err)
	}
}

// TestFailedRunLeavesNothing: a run that fails before any run finished
// leaves no folder behind, so the next run needs no --force.
func TestFailedRunLeavesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	bad := mustParse(t, small, "limits.max_events=100")
	if _, err := Run(context.Background(), bad, RunOptions{Out: out}); !errors.Is(err, ErrRunFailed) {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed run left %s: %v", out, err)
	}
	mustRun(t, mustParse(t, small), RunOptions{Out: out})
}
