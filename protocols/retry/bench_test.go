package retry

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// BenchmarkThrottleAllow measures one adaptive-throttling decision and
// its accept (go test -bench Throttle ./protocols/retry).
func BenchmarkThrottleAllow(b *testing.B) {
	th := NewThrottle(ThrottleConfig{Adaptive: true, K: 2, Window: 2 * time.Minute})
	for i := 0; i < b.N; i++ {
		now := sim.Time(i) * sim.Time(time.Millisecond)
		if th.Allow(now, 0.5) && i%3 == 0 {
			th.Accept(now)
		}
	}
}

// BenchmarkQuota measures a retry taken from the AWS quota and the
// call's refill.
func BenchmarkQuota(b *testing.B) {
	q := NewQuota(500, 5, 10, 1)
	for i := 0; i < b.N; i++ {
		cost, _ := q.RetryAfter(0, Failure)
		q.CallEnded(0, Success, cost)
	}
}

// BenchmarkEjector measures recording an outcome for one of 10 replicas.
func BenchmarkEjector(b *testing.B) {
	e := NewEjector(EjectionConfig{Consecutive: 5, BaseTime: time.Second, MaxTime: time.Minute, MaxPercent: 10, Interval: time.Second}, 10)
	for i := 0; i < b.N; i++ {
		c := Success
		if i%7 == 0 {
			c = Failure
		}
		e.Record(sim.Time(i), i%10, c)
	}
}
