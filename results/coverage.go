package results

import (
	"slices"

	"github.com/dsim-dev/dsim/sim"
)

// Coverage counts the operations in flight during one fault window: an
// operation counts if it started before the window ended and ended at or
// after it started. The row with Kind "none" counts operations that
// overlapped no window, as a baseline.
type Coverage struct {
	Window    sim.Window
	Attempted int64
	Succeeded int64
	Failed    int64
	TimedOut  int64
}

// Ops records client operations for fault coverage; it is the
// protocols.Ops that the runner hands to a protocol, which calls Op when
// an operation ends. The fault
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
	windows []sim.Window
	counts  []Coverage
	none    Coverage
}

// NewOps returns a recorder that counts operations against windows.
func NewOps(windows []sim.Window) *Ops {
	o := &Ops{}
	o.Watch(windows...)
	return o
}

// Watch adds fault windows to count against. Operations recorded before
// the call are not counted for them.
func (o *Ops) Watch(ws ...sim.Window) {
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
		if o.windows[i].Overlaps(start, end) {
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
	slices.SortStableFunc(rows, func(a, b Coverage) int { return sim.CompareWindows(a.Window, b.Window) })
	none := o.none
	none.Window = sim.Window{Kind: "none", Label: "outside faults", Start: 0, End: sim.Never}
	return append(rows, none)
}
