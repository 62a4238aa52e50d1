package deploy

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sweep is a small experiment with four runs (two sweep points × two
// seeds), quick enough to run a few times on a shared two-core machine.
const sweep = `name: slurm-sweep
duration: 1s
seeds: 2
nodes: ["n{1..3}"]
network: {latency: {dist: constant, value: 1ms}}
protocol: {name: echo, timeout: 50ms}
workload: {rate: 100/s}
sweep:
  network.loss: [0, 0.2]
`

// buildDsim builds the dsim command into dir and returns its path.
func buildDsim(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "dsim")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/dsim")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// readTree returns every file below dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree fails unless want and got hold the same files, byte for byte.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	a, b := readTree(t, want), readTree(t, got)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%s has %d files, %s has %d", want, len(a), got, len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between %s and %s", name, want, got)
		}
	}
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	for _, b := range readTree(t, dir) {
		n += int64(len(b))
	}
	return n
}

// cluster is a running one-node Slurm cluster.
type cluster struct {
	t     *testing.T
	state string
	env   []string
}

// startCluster brings up a throwaway Slurm cluster with
// deploy/slurm-cluster.sh (installing Slurm and MUNGE from Debian's
// packages when they are missing) and stops it when the test ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("DSIM_SKIP_SLURM") == "1" {
			t.Skip("DSIM_SKIP_SLURM=1: the real-Slurm test was skipped on request")
		}
		t.Fatal("this test starts a throwaway Slurm cluster and needs root (CI runs as root); " +
			"run it as root, or set DSIM_SKIP_SLURM=1 to skip it explicitly")
	}
	state := t.TempDir()
	start := time.Now()
	cmd := exec.Command("bash", "slurm-cluster.sh", "up", state)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slurm-cluster.sh up: %v\n%s", err, b)
	}
	t.Logf("Slurm bring-up: %.1fs", time.Since(start).Seconds())
	c := &cluster{t: t, state: state, env: append(os.Environ(), "SLURM_CONF="+filepath.Join(state, "slurm.conf"))}
	t.Cleanup(func() {
		if b, err := exec.Command("bash", "slurm-cluster.sh", "down", state).CombinedOutput(); err != nil {
			t.Errorf("slurm-cluster.sh down: %v\n%s", err, b)
		}
	})
	return c
}

// run runs a command against the cluster and returns its output.
func (c *cluster) run(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(append([]string(nil), c.env...), env...)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// must is run that fails the test on error.
func (c *cluster) must(env []string, name string, args ...string) string {
	c.t.Helper()
	out, err := c.run(env, name, args...)
	if err != nil {
		c.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// jobID returns the job id printed on the line starting with label.
func jobID(t *testing.T, out, label string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == label {
			return f[2]
		}
	}
	t.Fatalf("no %q line in:\n%s", label, out)
	return ""
}

// waitGone waits until the jobs have left the queue.
func (c *cluster) waitGone(jobs ...string) {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		out := c.must(nil, "squeue", "-h", "-o", "%i", "-j", strings.Join(jobs, ","))
		if strings.TrimSpace(out) == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	q, _ := c.run(nil, "squeue")
	c.t.Fatalf("jobs %v still queued after 3 minutes:\n%s", jobs, q)
}

func mergeLogs(t *testing.T, out string) string {
	logs, _ := filepath.Glob(filepath.Join(out, "slurm", "logs", "*merge*.log"))
	var b strings.Builder
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		b.Write(data)
	}
	return b.String()
}

// TestSlurmSweep submits a sweep to a real Slurm cluster exactly as
// deploy/README.md says, then the failure path: one array task is
// cancelled, the merge reports it, the documented resubmit finishes it.
// Both merged folders must equal a single-process run byte for byte.
func TestSlurmSweep(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	bin := buildDsim(t, dir)
	exp := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(exp, []byte(sweep), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	c.must(nil, bin, "run", exp, "--out", full, "--quiet")
	dsimEnv := []string{"DSIM=" + bin}

	t.Run("sweep", func(t *testing.T) {
		out := filepath.Join(dir, "ok")
		start := time.Now()
		sub := c.must(dsimEnv, "bash", "slurm.sh", "submit", exp, out, "2")
		c.waitGone(jobID(t, sub, "shards:"), jobID(t, sub, "merge:"))
		t.Logf("2-shard sweep through Slurm: %.1fs; shard folders %d bytes, merged %d, single run %d",
			time.Since(start).Seconds(), dirSize(t, filepath.Join(out, "shard-0"))+dirSize(t, filepath.Join(out, "shard-1")),
			dirSize(t, filepath.Join(out, "merged")), dirSize(t, full))
		sameTree(t, full, filepath.Join(out, "merged"))
		// A second sweep into the same folder with another shard count
		// is refused before anything is submitted.
		if msg, err := c.run(dsimEnv, "bash", "slurm.sh", "submit", exp, out, "3"); err == nil || !strings.Contains(msg, "set up for 2 shards") {
			t.Errorf("submit with another N: err %v, %s", err, msg)
		}
	})

	t.Run("cancelled task and resubmit", func(t *testing.T) {
		out := filepath.Join(dir, "fail")
		// --hold passes through to sbatch, so the task can be cancelled
		// before it runs; releasing the rest lets the sweep go on.
		sub := c.must(dsimEnv, "bash", "slurm.sh", "submit", exp, out, "3", "--hold")
		jid, mid := jobID(t, sub, "shards:"), jobID(t, sub, "merge:")
		c.must(nil, "scancel", jid+"_1")
		c.must(nil, "scontrol", "release", jid)
		c.must(nil, "scontrol", "release", mid)
		c.waitGone(jid, mid)
		if log := mergeLogs(t, out); !strings.Contains(log, "shards not finished: 1") || !strings.Contains(log, "resubmit") {
			t.Fatalf("merge log does not name the missing shard and the resubmit command:\n%s", log)
		}
		if _, err := os.Stat(filepath.Join(out, "merged")); err == nil {
			t.Fatal("a merge happened although shard 1 was missing")
		}
		st := c.must(dsimEnv, "bash", "slurm.sh", "status", exp, out)
		if !strings.Contains(st, "missing: 1") {
			t.Fatalf("status: %s", st)
		}
		sub = c.must(dsimEnv, "bash", "slurm.sh", "resubmit", exp, out)
		if !strings.Contains(sub, "(array 1)") {
			t.Fatalf("resubmit did not send exactly shard 1:\n%s", sub)
		}
		c.waitGone(jobID(t, sub, "shards:"), jobID(t, sub, "merge:"))
		sameTree(t, full, filepath.Join(out, "merged"))
	})
}
