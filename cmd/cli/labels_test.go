package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPartialLabelsRefusedBeforeRunning: a check or a bars plot naming
// only some of a metric's labels is bad input for every command that
// loads the file: exit 2, the place and the missing label on stderr,
// and no run (no output folder, no progress).
func TestPartialLabelsRefusedBeforeRunning(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "experiments", "examples", "retry-storm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"check", "checks:\n", "checks:\n  - {metric: \"attempt_status{tier=db}\", max: 1000}\n",
			`:66:14: checks[0].metric: "attempt_status{tier=db}": attempt_status is recorded per tier and status, and a check reads one label set: also name status`},
		{"bars plot", "plots:\n", "plots:\n  - {kind: bars, metric: attempts_rps, x: protocol.variant}\n",
			`:55:26: plots[0].metric: "attempts_rps": attempts_rps is recorded per tier, and a bars plot reads one label set: name tier (one of "api", "db", "frontend"), as in "attempts_rps{tier=api}"`},
	} {
		src := strings.Replace(string(data), tc.old, tc.new, 1)
		path := writeFile(t, dir, "partial.yaml", src)
		for _, cmd := range []string{"validate", "run", "check"} {
			out := filepath.Join(dir, "out-"+cmd)
			args := []string{cmd, path}
			if cmd != "validate" {
				args = append(args, "--seeds", "1", "--out", out)
			}
			code, stdout, stderr := runCLI(args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s: dsim %s: exit %d, stderr %q; want exit %d and %q", tc.name, cmd, code, stderr, exitUsage, tc.want)
			}
			if strings.Contains(stdout+stderr, "runs ") {
				t.Errorf("%s: dsim %s ran something:\n%s%s", tc.name, cmd, stdout, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s: dsim %s made %s (%v)", tc.name, cmd, out, err)
			}
		}
	}
}
