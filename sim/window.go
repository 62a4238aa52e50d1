package sim

import (
	"cmp"
	"fmt"
	"slices"
)

// Window is a span of simulated time during which something was going on:
// a network fault (a partition, a crash, a pause), a protocol's error or
// slow window, a crash point. Whatever produced it, plots shade it,
// timelines mark it and fault coverage counts the operations it touched.
type Window struct {
	// Kind says what happened, in snake_case: "partition", "crash",
	// "errors", "slow", ...
	Kind string `json:"kind" yaml:"kind"`
	// Label says what it hit, for example "db-0" or "{a,b}|{c}".
	Label string `json:"label" yaml:"label"`
	// Start and End bound the window, [Start, End). End is Never for a
	// window that lasts until the end of the run, and Start for an
	// instantaneous one (a clock step).
	Start Time `json:"start" yaml:"start"`
	End   Time `json:"end" yaml:"end"`
}

// String returns "kind label [start, end)".
func (w Window) String() string {
	return fmt.Sprintf("%s %s [%v, %v)", w.Kind, w.Label, w.Start, w.End)
}

// Active reports whether the window covers time t; an instantaneous
// window covers its one instant.
func (w Window) Active(t Time) bool {
	return t >= w.Start && (t < w.End || w.End == w.Start && t == w.Start)
}

// Overlaps reports whether something in progress over [start, end] (an
// operation) was so during the window: it started before the window ended
// and ended at or after it started.
func (w Window) Overlaps(start, end Time) bool {
	return start < w.End && end >= w.Start
}

// CompareWindows orders windows by start, end, kind and label.
func CompareWindows(a, b Window) int {
	return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
		cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Label, b.Label))
}

// SortWindows sorts windows by CompareWindows, keeping the order of equal
// ones.
func SortWindows(ws []Window) { slices.SortStableFunc(ws, CompareWindows) }
