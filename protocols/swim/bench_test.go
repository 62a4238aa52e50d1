package swim

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// BenchmarkScale10k runs 10,000 members for 100 protocol periods with the
// memberlist LAN defaults and one crash, over a fixed 500µs network: the
// scale target of the family (run it with -benchtime=1x and -benchmem; the
// peak RSS is best read with /usr/bin/time -v on `dsim run`).
func BenchmarkScale10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cfg := DefaultConfig()
		e, s := build(b, cfg, 10_000, uint64(i+1), 500*time.Microsecond, 100*time.Second, func(e *sim.Engine) {
			e.At(sim.Time(30*time.Second), func() { e.Crash(16) })
		})
		runFor(b, e, s, 100*time.Second)
		b.ReportMetric(float64(e.Events()), "events/op")
	}
}
