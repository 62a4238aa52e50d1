package netmodel

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Clock is a node's local clock: true time plus an offset, a constant
// drift and a list of steps. It implements sim.Clock, so Env.Local and
// Env.After follow it while metrics keep using true time.
//
//	Local(t) = t + Offset + t·DriftPPM/1e6 + Σ{Jump : step.At <= t}
type Clock struct {
	// Offset is Local(0) - 0.
	Offset time.Duration
	// DriftPPM is the rate error in parts per million (> -1e6).
	DriftPPM float64
	// Steps are jumps of the local clock, sorted by At. Do not change
	// them once the clock is in use.
	Steps []ClockStep

	cum []time.Duration // cum[i] = sum of Steps[:i+1].Jump
}

// ClockStep is a jump of a local clock at a true time.
type ClockStep struct {
	// At is the true time of the step.
	At sim.Time
	// Jump is added to the local clock; negative goes back.
	Jump time.Duration
}

var _ sim.Clock = (*Clock)(nil)

// NewClock returns a clock; steps are sorted by time (stable for equal
// times).
func NewClock(offset time.Duration, driftPPM float64, steps ...ClockStep) *Clock {
	s := append([]ClockStep(nil), steps...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].At < s[j].At })
	c := &Clock{Offset: offset, DriftPPM: driftPPM, Steps: s}
	c.prepare()
	return c
}

// prepare computes the running sums of the steps.
func (c *Clock) prepare() {
	c.cum = make([]time.Duration, len(c.Steps))
	var sum time.Duration
	for i, s := range c.Steps {
		sum += s.Jump
		c.cum[i] = sum
	}
}

// stepped returns the sum of the jumps at or before t.
func (c *Clock) stepped(t sim.Time) time.Duration {
	if len(c.cum) != len(c.Steps) {
		c.prepare()
	}
	n := len(c.Steps)
	if n == 0 || c.Steps[0].At > t {
		return 0
	}
	if c.Steps[n-1].At <= t {
		return c.cum[n-1]
	}
	i := sort.Search(n, func(i int) bool { return c.Steps[i].At > t })
	return c.cum[i-1]
}

// rate is the local clock's speed relative to true time.
func (c *Clock) rate() float64 { return 1 + float64(c.DriftPPM*1e-6) }

// Local returns the local reading at true time t.
func (c *Clock) Local(t sim.Time) sim.Time {
	l := int64(t) + int64(c.Offset) + int64(math.Round(float64(t)*c.DriftPPM*1e-6)) + int64(c.stepped(t))
	return sim.Time(l)
}

// Span returns the true span from t until the local clock first reads at
// least Local(t)+d. A backward step inside the span lengthens it, a
// forward step shortens it (a timer fires early, as with a wall-clock
// timer on a real machine).
func (c *Clock) Span(t sim.Time, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	target := int64(c.Local(t)) + int64(d)
	cur := t
	rate := c.rate()
	i := sort.Search(len(c.Steps), func(i int) bool { return c.Steps[i].At > t })
	for ; ; i++ {
		l := int64(c.Local(cur))
		if l >= target {
			return cur.Sub(t)
		}
		// Solve within the segment [cur, next step).
		u := cur + sim.Time(math.Ceil(float64(target-l)/rate))
		for int64(c.Local(u)) < target && (i >= len(c.Steps) || u < c.Steps[i].At) {
			u++ // rounding
		}
		if i >= len(c.Steps) || u < c.Steps[i].At {
			return u.Sub(t)
		}
		cur = c.Steps[i].At
	}
}

// String describes the clock.
func (c *Clock) String() string {
	return fmt.Sprintf("clock(offset %v, drift %gppm, %d steps)", c.Offset, c.DriftPPM, len(c.Steps))
}
