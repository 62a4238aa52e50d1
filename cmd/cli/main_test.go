package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	code = c.main(args)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{nil, exitUsage, "", "Commands:"},
		{[]string{"help"}, exitOK, "Commands:", ""},
		{[]string{"--help"}, exitOK, "Commands:", ""},
		{[]string{"version"}, exitOK, "dsim ", ""},
		{[]string{"--version"}, exitOK, "dsim ", ""},
		{[]string{"version", "extra"}, exitUsage, "", "unexpected argument"},
		{[]string{"benhc"}, exitUsage, "", `did you mean "bench"`},
		{[]string{"help", "bench"}, exitOK, "phold", ""},
		{[]string{"bench"}, exitUsage, "", "missing workload"},
		{[]string{"bench", "nope"}, exitUsage, "", "unknown benchmark"},
		{[]string{"bench", "phold", "--help"}, exitOK, "--per-lp", ""},
		{[]string{"bench", "phold", "--lps", "x"}, exitUsage, "", "invalid value"},
		{[]string{"bench", "phold", "--lps", "0"}, exitUsage, "", "lps: must be at least 1"},
		{[]string{"bench", "phold", "--frob"}, exitUsage, "", "unknown flag --frob"},
		{[]string{"bench", "phold", "--sed", "3"}, exitUsage, "", `unknown flag --sed (did you mean "--seed"?)`},
		{[]string{"bench", "phold", "--events", "20000"}, exitOK, "events/s", ""},
	}
	for _, tc := range tests {
		code, out, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.inStdout) || !strings.Contains(errOut, tc.inStderr) {
			t.Errorf("dsim %v: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, out, errOut)
		}
	}
}

func TestBenchPHOLDJSONIsDeterministic(t *testing.T) {
	var hashes []string
	for i := 0; i < 2; i++ {
		code, out, errOut := runCLI("bench", "phold", "--lps", "50", "--per-lp", "3", "--events", "30000", "--seed", "5", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("bad JSON %q: %v", out, err)
		}
		for _, k := range []string{"events_per_sec", "ns_per_event", "allocs_per_event", "peak_heap_bytes", "hash"} {
			if _, ok := rep[k]; !ok {
				t.Errorf("JSON lacks %q: %s", k, out)
			}
		}
		if rep["events"].(float64) != 30000 {
			t.Errorf("events = %v, want 30000", rep["events"])
		}
		hashes = append(hashes, rep["hash"].(string))
	}
	if hashes[0] != hashes[1] {
		t.Errorf("same seed printed different hashes: %v", hashes)
	}
}
