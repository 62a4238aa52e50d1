package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomProtocolModule builds docs/custom-protocol — a Go module of
// its own with a protocol family and a ten-line main around package cli —
// and runs its binary the way the docs say: every command works for the
// new family.
func TestCustomProtocolModule(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "dsim-counter")
	// The module's go.sum must list what this checkout of dsim needs
	// (`make lint` checks it is tidy); a go.mod/go.sum that lags behind
	// fails the build here, as it would for a user.
	build := exec.Command("go", "build", "-mod=readonly", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..", "docs", "custom-protocol")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example module (after changing dsim's dependencies, run go mod tidy in docs/custom-protocol): %v\n%s", err, out)
	}
	exp, _ := filepath.Abs(filepath.Join("..", "..", "docs", "custom-protocol", "counter.yaml"))
	out := filepath.Join(dir, "out")
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("name: t\nnodes: [server, c1]\nprotocol: {name: counter, timout: 1s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"run", "--help"}, 0, "--seeds"},
		{[]string{"version"}, 0, "in example.com/dsim-counter"},
		{[]string{"validate", exp}, 0, "counter: 2 sweep points"},
		{[]string{"validate", typo}, 2, ""},
		{[]string{"run", exp, "--out", out, "--quiet", "--seeds", "1", "--set", "duration=2s"}, 0, ""},
		{[]string{"plot", out}, 0, ""},
		{[]string{"check", exp, "--seeds", "1", "--set", "duration=2s", "--quiet"}, 0, "all 1 checks passed"},
		{[]string{"check", exp, "--seeds", "1", "--set", "duration=2s", "--set", "network.loss=0.5", "--quiet"}, 1, "replay: "},
		{[]string{"schema"}, 0, `"const": "counter"`},
	}
	for _, s := range steps {
		cmd := exec.Command(bin, s.args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != s.code || !strings.Contains(stdout.String(), s.stdout) {
			t.Errorf("dsim-counter %v: exit %d (want %d)\nstdout: %s\nstderr: %s", s.args, code, s.code, stdout.String(), stderr.String())
		}
		if s.args[0] == "validate" && s.code == 2 && !strings.Contains(stderr.String(), `did you mean "timeout"`) {
			t.Errorf("typo in the custom protocol's field: %s", stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("no report: %v", err)
	}
}
