package detector

import (
	"fmt"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

// BenchmarkAllToAll1000 runs 1,000 members heartbeating all-to-all every
// second for 10 s (10 million heartbeats) over a fixed-delay network.
func BenchmarkAllToAll1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfg := DefaultConfig()
		e := sim.New(sim.Config{Seed: uint64(i + 1)})
		e.SetNetwork(&sim.Direct{Delay: time.Millisecond})
		ps := make([]protocols.Placement, 1000)
		for j := range ps {
			ps[j] = protocols.Placement{Name: fmt.Sprintf("n%d", j)}
		}
		s := &protocols.Setup{Engine: e, Nodes: ps, Duration: 10 * time.Second, Ops: protocols.NopOps{}}
		if err := cfg.Build(s); err != nil {
			b.Fatal(err)
		}
		if err := e.Run(sim.Time(10 * time.Second)); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(e.Events()), "events/op")
	}
}
