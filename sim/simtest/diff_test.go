package simtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny\n", "x\ny\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"insert at start", "b\nc\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{"delete at end", "a\nb\nc\n", "a\nb\n", "@@ -1,3 +1,2 @@\n a\n b\n-c\n"},
		{"from empty", "", "a\n", "@@ -0,0 +1 @@\n+a\n"},
		{"to empty", "a\nb\n", "", "@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"final newline only", "a\nb", "a\nb\n", "(the texts differ only in their final newline)\n"},
		// A moved line: the shortest script deletes it once and inserts
		// it once.
		{"moved line", "a\nb\nc\nd\n", "b\nc\nd\na\n", "@@ -1,4 +1,4 @@\n-a\n b\n c\n d\n+a\n"},
		// Changes far apart make two hunks with three lines of context.
		{"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\nELEVEN\n12\n",
			"@@ -1,5 +1,5 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+ELEVEN\n 12\n"},
		// Changes close together share a hunk.
		{"one hunk", "1\n2\n3\n4\n5\n6\n7\n", "1\nX\n3\n4\n5\nY\n7\n",
			"@@ -1,7 +1,7 @@\n 1\n-2\n+X\n 3\n 4\n 5\n-6\n+Y\n 7\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff("a", "b", tc.a, tc.b)
			want := tc.want
			if want != "" {
				want = "--- a\n+++ b\n" + want
			}
			if got != want {
				t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", tc.a, tc.b, got, want)
			}
		})
	}
}

// TestDiffIsAnEditScript checks on many pairs that applying the printed
// diff's "-" and "+" lines to a gives b and that it is no longer than a
// naive one.
func TestDiffIsAnEditScript(t *testing.T) {
	words := []string{"a", "b", "c"}
	gen := func(seed, n int) []string {
		var out []string
		x := uint32(seed)
		for i := 0; i < n; i++ {
			x = x*1103515245 + 12345
			out = append(out, words[(x>>16)%uint32(len(words))])
		}
		return out
	}
	for i := 0; i < 300; i++ {
		a, b := gen(i, i%9), gen(i*7+1, (i/9)%9)
		eds := lineEdits(a, b)
		var ra, rb []string
		changes := 0
		for _, e := range eds {
			if e.op != '+' {
				ra = append(ra, e.line)
			}
			if e.op != '-' {
				rb = append(rb, e.line)
			}
			if e.op != ' ' {
				changes++
			}
		}
		if strings.Join(ra, ",") != strings.Join(a, ",") || strings.Join(rb, ",") != strings.Join(b, ",") {
			t.Fatalf("%v -> %v: script %v does not rebuild both sides", a, b, eds)
		}
		if lcs := lcsLen(a, b); changes != len(a)+len(b)-2*lcs {
			t.Errorf("%v -> %v: %d changes, the shortest has %d", a, b, changes, len(a)+len(b)-2*lcs)
		}
	}
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestDiffIsBounded(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&a, "line %d\n", i)
		fmt.Fprintf(&b, "other %d\n", i)
	}
	d := Diff("a", "b", a.String(), b.String())
	if n := strings.Count(d, "\n"); n > diffMaxLines+5 {
		t.Errorf("diff of 10,000 changed lines prints %d lines", n)
	}
	if !strings.Contains(d, "more lines of diff") && !strings.Contains(d, "hunk cut") {
		t.Errorf("a cut diff does not say so:\n%s", d[len(d)-200:])
	}
}

// recorder is a testing.TB that keeps what the code under test reports.
type recorder struct {
	testing.TB
	errs  []string
	fatal bool
}

func (r *recorder) Helper()                      {}
func (r *recorder) Logf(string, ...any)          {}
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }
func (r *recorder) Fatalf(f string, args ...any) { r.Errorf(f, args...); r.fatal = true }
func (r *recorder) Fatal(args ...any)            { r.errs = append(r.errs, fmt.Sprint(args...)); r.fatal = true }

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Golden(r, path, "a\nb\nc\n")
	Golden(r, path, []byte("a\nb\nc\n"))
	if len(r.errs) > 0 {
		t.Fatalf("equal contents reported: %v", r.errs)
	}
	Golden(r, path, "a\nB\nc\n")
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "-b\n+B\n") || !strings.Contains(r.errs[0], "-rewrite") || r.fatal {
		t.Errorf("a changed line: %q, fatal %v; want one error with the diff", r.errs, r.fatal)
	}
	r = &recorder{TB: t}
	Golden(r, filepath.Join(dir, "missing.golden"), "x")
	if !r.fatal || !strings.Contains(r.errs[0], "-rewrite") {
		t.Errorf("a missing file: %q, fatal %v", r.errs, r.fatal)
	}

	*rewrite = true
	defer func() { *rewrite = false }()
	r = &recorder{TB: t}
	sub := filepath.Join(dir, "new", "y.golden")
	Golden(r, sub, "new\n")
	if b, err := os.ReadFile(sub); err != nil || string(b) != "new\n" || len(r.errs) > 0 {
		t.Errorf("-rewrite wrote %q, %v (errors %v)", b, err, r.errs)
	}
}
