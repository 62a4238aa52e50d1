package simtest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files with the tests' output instead of comparing with them")

// Rewriting reports whether the tests run with -rewrite: golden files are
// to be written, not compared.
func Rewriting() bool { return *rewrite }

// Golden compares got with the golden file at path. On a mismatch it
// reports a line diff (-golden, +got) as a test error; when the file does
// not exist it stops the test. With -rewrite it writes got to path
// instead, creating the directories it needs, and compares nothing.
func Golden[T string | []byte](t testing.TB, path string, got T) {
	t.Helper()
	if *rewrite {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(got)) {
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -rewrite to create it)", err)
	}
	if bytes.Equal(want, []byte(got)) {
		return
	}
	t.Errorf("%s differs from the test's output (rerun with -rewrite if the change is intended, then review git diff):\n%s",
		path, Diff(path, "got", string(want), string(got)))
}
