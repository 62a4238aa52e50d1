package deploy

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeRefusals: merging shard folders of different splits, or a
// folder that holds leftovers of a sweep with another shard count, is bad
// input (exit 2) with a message that says what is wrong — never a merge
// that quietly mixes runs.
func TestMergeRefusals(t *testing.T) {
	dir := t.TempDir()
	bin := buildDsim(t, dir)
	exp := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(exp, []byte(sweep), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, s := range []string{"0/2", "1/2", "2/3"} {
		folder := filepath.Join(out, "shard-"+strings.Split(s, "/")[0])
		if s == "2/3" {
			folder = filepath.Join(dir, "other", "shard-0")
		}
		if b, err := exec.Command(bin, "run", exp, "--shard", s, "--out", folder, "--quiet").CombinedOutput(); err != nil {
			t.Fatalf("shard %s: %v\n%s", s, err, b)
		}
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"overlapping splits", []string{"merge", filepath.Join(out, "shard-0"), filepath.Join(out, "shard-1"), filepath.Join(dir, "other", "shard-0"), "--out", filepath.Join(dir, "m1")}, "overlap"},
		{"leftover shard folder", []string{"merge", "--shards", "1", out, "--out", filepath.Join(dir, "m2")}, "shard-1, which is not one of the 1 shards"},
		{"--shards with two folders", []string{"merge", "--shards", "2", out, out, "--out", filepath.Join(dir, "m3")}, "exactly one folder"},
	}
	for _, c := range cases {
		b, err := exec.Command(bin, c.args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %v, want exit 2 with %q; got:\n%s", c.name, err, c.want, b)
		}
	}
	// The right call merges.
	if b, err := exec.Command(bin, "merge", "--shards", "2", out, "--out", filepath.Join(dir, "ok")).CombinedOutput(); err != nil {
		t.Fatalf("merge --shards 2: %v\n%s", err, b)
	}
}
