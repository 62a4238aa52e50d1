package history

import (
	"fmt"
	"maps"
	"slices"

	"github.com/dsim-dev/dsim/sim"
)

// CheckerLostWrites names the lost-acknowledged-writes checker in reports.
const CheckerLostWrites = "no_lost_acked_writes"

// CheckLostWrites finds acknowledged writes (Write or CAS with outcome OK)
// that a versioned store silently dropped. A write W is lost when
//
//   - a write that was acknowledged before W started carries a newer
//     version, so last-writer-wins ordered W before a write that really
//     preceded it (a clock ahead, or W's clock behind);
//   - W is a conditional write and another acknowledged conditional
//     write replaced the same base version with a newer version: both
//     were told they succeeded, only one survives (a lost update);
//   - final is given (the version of each key once replicas reconciled,
//     0 or absent for a key with no value) and W's version is newer
//     than its key's final version, so W vanished from every replica.
//
// Each lost write is one violation naming it (and the write that
// displaced it, where there is one).
func CheckLostWrites(h *History, final map[uint64]uint64) Report {
	r := Report{Checker: CheckerLostWrites}
	if !h.Full() {
		r.Verdict, r.Reason = Unknown, incompleteReason(h)
		return r
	}
	byKey := map[uint64][]*Op{}
	for i := range h.ops {
		op := &h.ops[i]
		if (op.Kind == Write || op.Kind == CAS) && op.Done() && op.Outcome == sim.OK {
			byKey[op.Key] = append(byKey[op.Key], op)
		}
	}
	keys := slices.Sorted(maps.Keys(byKey))
	for _, k := range keys {
		ws := byKey[k]
		// Sorted by completion, a running maximum gives the newest version
		// acknowledged before each write started.
		done := slices.Clone(ws)
		slices.SortStableFunc(done, func(a, b *Op) int { return cmpTime(a.Complete, b.Complete) })
		lost := map[uint64]bool{}
		for _, w := range ws {
			var by *Op
			for _, d := range done {
				if d.Complete >= w.Invoke {
					break
				}
				if d.Version > w.Version && (by == nil || d.Version > by.Version) {
					by = d
				}
			}
			if by != nil {
				lost[w.ID] = true
				r.Add(Violation{IDs: sortedIDs(w.ID, by.ID), At: w.Complete, What: fmt.Sprintf(
					"write %d of key %d (version %d) was acknowledged after write %d, which carries the newer version %d", w.ID, k, w.Version, by.ID, by.Version)})
			}
		}
		// Conditional writes on the same base version.
		base := map[uint64][]*Op{}
		for _, w := range ws {
			if w.Kind == CAS {
				base[w.Prev] = append(base[w.Prev], w)
			}
		}
		prevs := slices.Sorted(maps.Keys(base))
		for _, p := range prevs {
			group := base[p]
			if len(group) < 2 {
				continue
			}
			win := group[0]
			for _, w := range group[1:] {
				if w.Version > win.Version {
					win = w
				}
			}
			for _, w := range group {
				if w == win || lost[w.ID] {
					continue
				}
				lost[w.ID] = true
				r.Add(Violation{IDs: sortedIDs(w.ID, win.ID), At: w.Complete, What: fmt.Sprintf(
					"conditional write %d of key %d on version %d was acknowledged, but write %d replaced the same version", w.ID, k, p, win.ID)})
			}
		}
		if final == nil {
			continue
		}
		for _, w := range ws {
			if !lost[w.ID] && w.Version > final[k] {
				r.Add(Violation{IDs: []uint64{w.ID}, At: w.Complete, What: fmt.Sprintf(
					"write %d of key %d (version %d) is on no replica: the key ended at version %d", w.ID, k, w.Version, final[k])})
			}
		}
	}
	return r
}

// Conflicts counts acknowledged conditional writes that shared their base
// version with another acknowledged conditional write of the same key:
// for each group of g such writes it adds g-1 (the histories that had to
// be collapsed into one). It returns -1 for an incomplete history.
func Conflicts(h *History) int {
	if !h.Full() {
		return -1
	}
	type kp struct{ key, prev uint64 }
	n := map[kp]int{}
	for _, op := range h.ops {
		if op.Kind == CAS && op.Done() && op.Outcome == sim.OK {
			n[kp{op.Key, op.Prev}]++
		}
	}
	total := 0
	for _, c := range n {
		total += c - 1
	}
	return total
}

func sortedIDs(a, b uint64) []uint64 {
	if a > b {
		a, b = b, a
	}
	return []uint64{a, b}
}

func cmpTime[T ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
