package results

import (
	"fmt"
	"sort"

	"github.com/dsim-dev/dsim/sim"
)

// FaultWindow is a span of simulated time during which a fault was active:
// a partition, a crash, a pause, error injection. Plots shade it, timelines
// mark it and fault coverage counts the operations it touched. End is
// sim.Never for a fault that was never healed.
type FaultWindow struct {
	// Kind is the fault's kind in snake_case: "partition", "crash", ...
	Kind string `json:"kind" yaml:"kind"`
	// Label says what it hit, for example "db-0" or "{a,b}|{c}".
	Label string `json:"label" yaml:"label"`
	// Start and End bound the window, [Start, End).
	Start sim.Time `json:"start" yaml:"start"`
	End   sim.Time `json:"end" yaml:"end"`
}

// String returns "kind label [start, end)".
func (w FaultWindow) String() string {
	return fmt.Sprintf("%s %s [%v, %v)", w.Kind, w.Label, w.Start, w.End)
}

// overlaps reports whether an operation over [start, end] was in flight
// during the window.
func (w FaultWindow) overlaps(start, end sim.Time) bool {
	return start < w.End && end >= w.Start
}

// SortWindows sorts fault windows by start, end, kind and label.
func SortWindows(ws []FaultWindow) {
	sort.SliceStable(ws, func(i, j int) bool { return windowLess(ws[i], ws[j]) })
}

func windowLess(a, b FaultWindow) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.End != b.End {
		return a.End < b.End
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Label < b.Label
}

// Coverage counts the operations in flight during one fault window: an
// operation counts if it started before the window ended and ended at or
// after it started. The row with Kind "none" counts operations that
// overlapped no window, as a baseline.
type Coverage struct {
	Window    FaultWindow
	Attempted int64
	Succeeded int64
	Failed    int64
	TimedOut  int64
}

// Ops records client operations for fault coverage. Protocols (or the
// runner, wrapping them) call Record when an operation ends. The fault
// windows must be given up front (NewOps or Watch, before the operations
// they cover end); counting is online, so memory does not grow with the
// number of operations.
//
//	ops := results.NewOps(windows)
//	...
//	ops.Op(start, env.Now(), sim.TimedOut)
//	...
//	run.Coverage = ops.Coverage()
type Ops struct {
	windows []FaultWindow
	counts  []Coverage
	none    Coverage
}

// NewOps returns a recorder that counts operations against windows.
func NewOps(windows []FaultWindow) *Ops {
	o := &Ops{}
	o.Watch(windows...)
	return o
}

// Watch adds fault windows to count against. Operations recorded before
// the call are not counted for them.
func (o *Ops) Watch(ws ...FaultWindow) {
	for _, w := range ws {
		o.windows = append(o.windows, w)
		o.counts = append(o.counts, Coverage{Window: w})
	}
}

// Op counts one operation that ran over [start, end] and ended with
// outcome out. It makes *Ops a protocols.Ops: the runner hands it to the
// protocol as is.
func (o *Ops) Op(start, end sim.Time, out sim.Outcome) {
	hit := false
	for i := range o.windows {
		if o.windows[i].overlaps(start, end) {
			o.counts[i].add(out)
			hit = true
		}
	}
	if !hit {
		o.none.add(out)
	}
}

func (c *Coverage) add(out sim.Outcome) {
	c.Attempted++
	switch out {
	case sim.OK:
		c.Succeeded++
	case sim.Failed:
		c.Failed++
	case sim.TimedOut:
		c.TimedOut++
	}
}

// Coverage returns one row per watched window, in start order, then the
// "none" row for operations outside every window.
func (o *Ops) Coverage() []Coverage {
	rows := make([]Coverage, len(o.counts))
	copy(rows, o.counts)
	sort.SliceStable(rows, func(i, j int) bool { return windowLess(rows[i].Window, rows[j].Window) })
	none := o.none
	none.Window = FaultWindow{Kind: "none", Label: "outside faults", Start: 0, End: sim.Never}
	return append(rows, none)
}
