package rpc

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// MetricRecovery is the end-of-run figure recovery_s: seconds from the
// end of the error window until the clients' success ratio is back.
const MetricRecovery = "recovery_s"

// Recovery is measured in buckets of recoveryBucket after the error
// window; the clients have recovered at the start of the first two
// consecutive buckets whose success ratio is at least recoveryLevel of
// the ratio before the window.
const (
	recoveryBucket = 250 * time.Millisecond
	recoveryLevel  = 0.95
)

// recovery counts finished client requests per bucket after the error
// window.
type recovery struct {
	to       sim.Time
	done, ok []int64
}

func (r *recovery) add(now sim.Time, st Status) {
	if now < r.to {
		return
	}
	i := int(now.Sub(r.to) / recoveryBucket)
	for len(r.done) <= i {
		r.done = append(r.done, 0)
		r.ok = append(r.ok, 0)
	}
	r.done[i]++
	if st == OK {
		r.ok[i]++
	}
}

// seconds returns the recovery time for a success ratio of baseline
// before the window, and false when no request finished after it. A run
// that never recovers reports the time from the window's end to its last
// finished request.
func (r *recovery) seconds(baseline float64) (float64, bool) {
	if len(r.done) == 0 {
		return 0, false
	}
	good := func(i int) bool {
		return i < len(r.done) && r.done[i] > 0 && float64(r.ok[i]) >= recoveryLevel*baseline*float64(r.done[i])
	}
	for i := range r.done {
		if good(i) && (good(i+1) || i+1 == len(r.done)) {
			return (time.Duration(i) * recoveryBucket).Seconds(), true
		}
	}
	return (time.Duration(len(r.done)) * recoveryBucket).Seconds(), true
}

// recoveryFigure returns recovery_s once the run has passed the error
// window.
func (d *Deployment) recoveryFigure() (Figure, bool) {
	if d.rec == nil || d.winFrom == nil || d.winTo == nil {
		return Figure{}, false
	}
	before := d.winFrom
	if d.base != nil {
		b := d.winFrom.minus(d.base)
		before = &b
	}
	baseline := 1.0
	var n int64
	for _, v := range before.Done {
		n += v
	}
	if n > 0 {
		baseline = before.SuccessRate()
	}
	s, ok := d.rec.seconds(baseline)
	return Figure{Name: MetricRecovery, Value: s}, ok
}
