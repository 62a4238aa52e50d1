package experiments

import (
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// protocolWindow is a protocol's window (an rpc error window, a delivery
// crash point) as a fault window, so that plots shade it and fault
// coverage counts it like a network fault. End 0 means the end of the
// run.
func protocolWindow(w protocols.Window) results.FaultWindow {
	end := sim.Never
	if w.End > 0 {
		end = sim.Time(w.End)
	}
	return results.FaultWindow{Kind: w.Kind, Label: w.Label, Start: sim.Time(w.Start), End: end}
}
