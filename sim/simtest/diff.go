package simtest

import (
	"fmt"
	"strings"
)

// Limits of Diff's output and work.
const (
	diffContext  = 3    // unchanged lines shown around a change
	diffMaxLines = 120  // lines of hunks printed before the rest is cut
	diffMaxEdits = 2000 // beyond this many changed lines, the middle is shown as replaced
)

// Diff returns a unified line diff from a (named nameA) to b (named nameB):
// hunks of changed lines ("-" only in a, "+" only in b) with three lines
// of context, cut after about 120 lines. It returns "" when a and b are
// equal.
func Diff(nameA, nameB, a, b string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	eds := lineEdits(al, bl)
	hunks := hunksOf(eds)
	if len(hunks) == 0 {
		// Only the final newline differs.
		out.WriteString("(the texts differ only in their final newline)\n")
		return out.String()
	}
	printed := 0
	for hi, h := range hunks {
		if printed >= diffMaxLines {
			rest := 0
			for _, h := range hunks[hi:] {
				rest += h.end - h.start
			}
			fmt.Fprintf(&out, "... %d more lines of diff in %d more hunks\n", rest, len(hunks)-hi)
			break
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", span(h.aStart, h.aLen), span(h.bStart, h.bLen))
		for _, e := range eds[h.start:h.end] {
			if printed >= diffMaxLines {
				fmt.Fprintf(&out, "... (hunk cut)\n")
				break
			}
			out.WriteByte(e.op)
			out.WriteString(e.line)
			out.WriteByte('\n')
			printed++
		}
	}
	return out.String()
}

// span formats a hunk's range as unified diffs do: "start,len", with the
// line before the hunk as start when the range is empty.
func span(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s into lines, without a last empty line after a final
// newline.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// edit is one line of an edit script: op ' ' (in both), '-' (only in a)
// or '+' (only in b).
type edit struct {
	op   byte
	line string
}

// lineEdits returns a shortest edit script from a to b. The common
// prefix and suffix are matched first; the middle goes through Myers'
// O(ND) algorithm ("An O(ND) difference algorithm and its variations",
// Algorithmica 1986), or, beyond diffMaxEdits changes, is shown as
// replaced outright.
func lineEdits(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var eds []edit
	for _, l := range a[:pre] {
		eds = append(eds, edit{' ', l})
	}
	mid, ok := myers(a[pre:len(a)-suf], b[pre:len(b)-suf])
	if !ok {
		mid = mid[:0]
		for _, l := range a[pre : len(a)-suf] {
			mid = append(mid, edit{'-', l})
		}
		for _, l := range b[pre : len(b)-suf] {
			mid = append(mid, edit{'+', l})
		}
	}
	eds = append(eds, mid...)
	for _, l := range a[len(a)-suf:] {
		eds = append(eds, edit{' ', l})
	}
	return eds
}

// myers returns a shortest edit script from a to b, or false when it
// needs more than diffMaxEdits insertions and deletions.
func myers(a, b []string) ([]edit, bool) {
	n, m := len(a), len(b)
	if n == 0 && m == 0 {
		return nil, true
	}
	dmax := min(n+m, diffMaxEdits)
	off := dmax + 1
	v := make([]int, 2*dmax+3) // v[off+k]: furthest x on diagonal k
	// trace[d] holds v[off-d-1 .. off+d+1] as it was before round d.
	var trace [][]int
	for d := 0; d <= dmax; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace), true
			}
		}
	}
	return nil, false
}

// backtrack walks the rounds of myers back from (len(a), len(b)) to
// (0, 0) and returns the edit script in order.
func backtrack(a, b []string, trace [][]int) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for d := len(trace) - 1; d >= 0; d-- {
		at := func(k int) int { return trace[d][k+d+1] }
		k := x - y
		var pk int
		if k == -d || k != d && at(k-1) < at(k+1) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := 0
		if d > 0 {
			px = at(pk)
		}
		py := px - pk
		for x > px && y > py {
			x, y = x-1, y-1
			rev = append(rev, edit{' ', a[x]})
		}
		if d == 0 {
			break
		}
		if x == px {
			y--
			rev = append(rev, edit{'+', b[y]})
		} else {
			x--
			rev = append(rev, edit{'-', a[x]})
		}
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// hunk is a run of edits to print: eds[start:end], covering lines
// [aStart, aStart+aLen) of a and [bStart, bStart+bLen) of b (0-based).
type hunk struct {
	start, end   int
	aStart, aLen int
	bStart, bLen int
}

// hunksOf groups the changes of an edit script into hunks with
// diffContext lines of context, merging hunks whose context would touch.
func hunksOf(eds []edit) []hunk {
	var hs []hunk
	ai, bi := 0, 0 // line numbers before eds[i]
	aAt := make([]int, len(eds)+1)
	bAt := make([]int, len(eds)+1)
	for i, e := range eds {
		aAt[i], bAt[i] = ai, bi
		if e.op != '+' {
			ai++
		}
		if e.op != '-' {
			bi++
		}
	}
	aAt[len(eds)], bAt[len(eds)] = ai, bi
	for i := 0; i < len(eds); {
		if eds[i].op == ' ' {
			i++
			continue
		}
		start := max(0, i-diffContext)
		// Extend over changes and over gaps of unchanged lines short
		// enough that their contexts would overlap.
		end := i
		for end < len(eds) {
			if eds[end].op != ' ' {
				end++
				continue
			}
			same := end
			for same < len(eds) && eds[same].op == ' ' {
				same++
			}
			if same < len(eds) && same-end <= 2*diffContext {
				end = same
				continue
			}
			end = min(len(eds), end+diffContext)
			break
		}
		hs = append(hs, hunk{start: start, end: end,
			aStart: aAt[start], aLen: aAt[end] - aAt[start],
			bStart: bAt[start], bLen: bAt[end] - bAt[start]})
		i = end
	}
	return hs
}
