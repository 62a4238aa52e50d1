package experiments

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docExamples returns the code blocks of a language in docs/results.md,
// with the example folder replaced by dir.
func docExamples(t *testing.T, lang, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/results.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, strings.ReplaceAll(m[1], "out/retry-storm/", filepath.ToSlash(dir)+"/"))
	}
	if len(out) == 0 {
		t.Fatalf("docs/results.md has no %s example", lang)
	}
	return out
}

// pandasPython returns a python3 that imports pandas and matplotlib:
// Debian's (make deps installs python3-pandas and python3-matplotlib),
// else the first on PATH.
func pandasPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import pandas, matplotlib").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 with pandas and matplotlib: this test runs the pandas example of docs/results.md; run `make deps` (it installs Debian's python3-pandas and python3-matplotlib)")
	return ""
}

// TestDocExamplesRun runs the pandas and R examples of docs/results.md
// against a fresh results folder of the bundled retry-storm (shortened),
// and checks that each draws its plot.
func TestDocExamplesRun(t *testing.T) {
	py := pandasPython(t)
	x, err := Load("retry-storm", Options{Sets: []string{"duration=2s", "warmup=500ms", "seeds=2", "workload.rate=200/s"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "retry-storm")
	if _, err := Run(context.Background(), x, RunOptions{Out: dir, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "MPLBACKEND=Agg")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	isPNG := func(name string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(work, name))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 2000 {
			t.Errorf("%s: %d bytes, %v; want a PNG plot", name, len(b), err)
		}
	}
	for _, src := range docExamples(t, "python", dir) {
		if n := strings.Count(strings.TrimSpace(src), "\n") + 1; n > 5 {
			t.Errorf("the pandas example has %d lines, want at most 5", n)
		}
		if err := os.WriteFile(filepath.Join(work, "example.py"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		run(py, "example.py")
	}
	isPNG("db-attempts.png")
	rs, err := exec.LookPath("Rscript")
	if err != nil {
		t.Log("Rscript not installed: the R example was not run (make deps installs pandas only)")
		return
	}
	for _, src := range docExamples(t, "r", dir) {
		if err := os.WriteFile(filepath.Join(work, "example.R"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		run(rs, "example.R")
	}
	isPNG("db-amplification.png")
}
