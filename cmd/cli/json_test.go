package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestJSONOutputs: check, validate and examples print machine-readable
// JSON on stdout with --json, and keep their exit codes.
func TestJSONOutputs(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "tiny.yaml", tiny)
	bad := writeFile(t, dir, "bad.yaml", "name: x\nduration: 1s\nprotocol: {name: echo, timout: 1s}\n")

	code, out, errOut := runCLI("check", good, "--json", "--quiet")
	var chk struct {
		Passed, Failed int
		Checks         []struct {
			Check    string
			OK       bool
			Point    map[string]string
			Worst    *float64
			Failures []struct {
				Run                   int
				Seed, Message, Replay string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &chk); err != nil {
		t.Fatalf("check --json: %v\n%s\n%s", err, out, errOut)
	}
	if code != exitFail || chk.Failed != 1 || chk.Passed != 1 || len(chk.Checks) != 2 {
		t.Fatalf("check --json: exit %d, %+v", code, chk)
	}
	f := chk.Checks[1].Failures
	if len(f) == 0 || !strings.HasPrefix(f[0].Replay, "dsim ") || f[0].Seed == "" || strings.Contains(f[0].Message, "00000") {
		t.Errorf("failures: %+v", f)
	}

	code, out, _ = runCLI("validate", good, bad, "--json")
	var val []struct {
		Source   string
		OK       bool
		Runs     int
		Problems []struct {
			File         string
			Line, Column int
			Path         string
			Message      string
		}
	}
	if err := json.Unmarshal([]byte(out), &val); err != nil {
		t.Fatalf("validate --json: %v\n%s", err, out)
	}
	if code != exitUsage || len(val) != 2 || !val[0].OK || val[0].Runs != 4 || val[1].OK ||
		len(val[1].Problems) != 2 || val[1].Problems[1].Line != 3 || val[1].Problems[1].Path != "protocol.timout" ||
		!strings.Contains(val[1].Problems[1].Message, `did you mean "timeout"`) || val[1].Problems[1].File != bad {
		t.Errorf("validate --json: exit %d, %+v", code, val)
	}

	code, out, _ = runCLI("examples", "--json")
	var ex []struct{ Name, Summary, Description string }
	if err := json.Unmarshal([]byte(out), &ex); err != nil || code != exitOK || len(ex) == 0 {
		t.Fatalf("examples --json: exit %d, %v\n%s", code, err, out)
	}
	for _, e := range ex {
		if e.Summary == "" || utf8.RuneCountInString(e.Summary) > 72 {
			t.Errorf("example %s: summary %q is empty or longer than 72 characters", e.Name, e.Summary)
		}
	}
	code, out, _ = runCLI("examples")
	if code != exitOK {
		t.Errorf("examples: exit %d", code)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("examples line of %d characters: %s", n, l)
		}
	}
	if code, _, errOut := runCLI("examples", "retry-strom"); code != exitUsage || !strings.Contains(errOut, `did you mean "retry-storm"`) {
		t.Errorf("examples retry-strom: exit %d, %s", code, errOut)
	}
}
