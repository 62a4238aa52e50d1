package swim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

// names returns n placements n1..nN in one zone.
func names(n int) []protocols.Placement {
	ps := make([]protocols.Placement, n)
	for i := range ps {
		ps[i] = protocols.Placement{Name: fmt.Sprintf("n%d", i+1), Zone: "z"}
	}
	return ps
}

// build sets up a run of cfg on n nodes over a Direct network with
// one-way delay d; during may schedule faults on the engine.
func build(tb testing.TB, cfg Config, n int, seed uint64, d, dur time.Duration, during func(e *sim.Engine)) (*sim.Engine, *protocols.Setup) {
	tb.Helper()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	e := sim.New(sim.Config{Seed: seed})
	e.SetNetwork(&sim.Direct{Delay: d})
	s := &protocols.Setup{Engine: e, Nodes: names(n), Duration: dur, Ops: protocols.NopOps{}}
	if err := cfg.Build(s); err != nil {
		tb.Fatal(err)
	}
	if during != nil {
		during(e)
	}
	return e, s
}

// runFor runs the engine to dur, finishes the setup and checks the
// invariants.
func runFor(tb testing.TB, e *sim.Engine, s *protocols.Setup, dur time.Duration) {
	tb.Helper()
	if err := e.Run(sim.Time(dur)); err != nil {
		tb.Fatal(err)
	}
	s.Finish()
	for _, inv := range s.Invariants() {
		if err := inv.Check(); err != nil {
			tb.Errorf("invariant %s: %v", inv.Name, err)
		}
	}
}

func scalar(s *protocols.Setup, name string) float64 {
	for _, x := range s.Scalars() {
		if x.Name == name {
			return x.Value
		}
	}
	return math.NaN()
}
