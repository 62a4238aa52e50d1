package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	tests := []struct {
		words []string
		want  []string // each must be offered
		not   []string // none may be offered
	}{
		{[]string{""}, []string{"run", "check", "schema", "completion"}, []string{"__complete"}},
		{[]string{"ch"}, []string{"check"}, []string{"run"}},
		{[]string{"run", "--se"}, []string{"--seed", "--seeds", "--set"}, []string{"--out"}},
		{[]string{"check", "--j"}, []string{"--json"}, nil},
		{[]string{"run", "retry"}, []string{"retry-storm"}, []string{"jitter"}},
		{[]string{"run", "retry-storm", "--set", "protocol.cli"}, []string{"protocol.client.timeout="}, nil},
		{[]string{"run", "echo-regions", "--set", "protocol.ti"}, []string{"protocol.timeout="}, []string{"protocol.client.timeout="}},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}, nil},
		{[]string{"help", "val"}, []string{"validate"}, nil},
	}
	for _, tc := range tests {
		got := complete(tc.words)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete(%q) lacks %q: %v", tc.words, w, got)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("complete(%q) offers %q", tc.words, w)
			}
		}
	}
}

// TestBashCompletion loads the bash script into a real bash with the
// built dsim on PATH and completes a line, as pressing Tab would.
func TestBashCompletion(t *testing.T) {
	bin := buildDsim(t)
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "dsim")); err != nil {
		t.Fatal(err)
	}
	code, script, _ := runCLI("completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: exit %d", code)
	}
	f := filepath.Join(dir, "dsim.bash")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	line := `source ` + f + `; COMP_WORDS=(dsim run retry-storm --se); COMP_CWORD=3; _dsim; printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if !slices.Equal(got, []string{"--seed", "--seeds", "--set"}) {
		t.Errorf("bash completed %q to %v", "dsim run retry-storm --se", got)
	}
	for _, sh := range []string{"zsh", "fish"} {
		code, script, _ := runCLI("completion", sh)
		if code != exitOK || !strings.Contains(script, "dsim __complete") {
			t.Errorf("completion %s: exit %d\n%s", sh, code, script)
		}
	}
	if code, _, errOut := runCLI("completion", "bsh"); code != exitUsage || !strings.Contains(errOut, `did you mean "bash"`) {
		t.Errorf("completion bsh: exit %d %s", code, errOut)
	}
}
