//go:build unix

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
	"syscall"
	"testing"
)

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }

// TestHostileConfigsBounded runs the hostile inputs as processes under a
// 4 GB address-space limit (a safety net: the Go runtime itself reserves
// several hundred MB of address space) and checks that each is
// refused with exit 2 and a peak resident size under 100 MB. Before the
// guards the alias bomb grew to 6.7 GB, clients: 1e9 to 24 GB and a
// sweep of a million points without bound. How
// long refusing takes is measured by BenchmarkHostileLoad in
// experiments.
func TestHostileConfigsBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs ulimit -v and Linux rusage")
	}
	bin := buildDsim(t)
	dir := t.TempDir()
	bomb := writeFile(t, dir, "bomb.yaml", aliasBomb())
	clients := writeFile(t, dir, "clients.yaml", strings.Replace(tiny, "workload: {rate: 100/s}", "workload: {kind: closed, clients: 1000000000}", 1))
	var grid strings.Builder
	grid.WriteString("nodes: [a]\nprotocol: {name: echo}\nlimits: {max_runs: 1000000000}\nsweep:\n")
	for _, p := range []string{"protocol.size_bytes", "workload.clients"} {
		grid.WriteString("  " + p + ": [1")
		for i := 2; i <= 1000; i++ {
			fmt.Fprintf(&grid, ", %d", i)
		}
		grid.WriteString("]\n")
	}
	sweep := writeFile(t, dir, "sweep.yaml", grid.String())
	for _, args := range [][]string{
		{"validate", sweep},
		{"validate", bomb},
		{"run", bomb, "--out", filepath.Join(dir, "o1")},
		{"run", clients, "--out", filepath.Join(dir, "o2")},
		{"validate", "/dev/zero"},
	} {
		cmd := exec.Command("sh", append([]string{"-c", `ulimit -v 4000000 && exec "$0" "$@"`, bin}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || strings.Contains(stderr.String(), "fatal error") {
			t.Errorf("dsim %v: %v: %s", args, err, stderr.String())
			continue
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Skip("no rusage")
		}
		rss := ru.Maxrss / 1024 // kB on Linux
		t.Logf("dsim %s %s: exit 2, peak RSS %d MB", args[0], filepath.Base(args[1]), rss)
		if rss >= 100 {
			t.Errorf("dsim %v: peak RSS %d MB, want < 100 MB", args, rss)
		}
	}
	for _, o := range []string{"o1", "o2"} {
		if _, err := os.Stat(filepath.Join(dir, o)); err == nil {
			t.Errorf("refused run created %s", o)
		}
	}
}
