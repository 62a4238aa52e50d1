package sim

import (
	"math"
	"time"
)

// Time is a point in simulated time: nanoseconds since the run started.
// Spans between points are time.Duration values.
type Time int64

// Never is a Time later than any event; it marks "no deadline".
const Never Time = math.MaxInt64

// Add returns t+d, saturating at Never instead of overflowing.
func (t Time) Add(d time.Duration) Time {
	s := t + Time(d)
	if d > 0 && s < t {
		return Never
	}
	return s
}

// Sub returns the span t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Seconds returns t as seconds since the start of the run.
func (t Time) Seconds() float64 { return float64(t) / 1e9 }

// Duration returns t as the span since the start of the run.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// String formats t like a time.Duration ("1.5s"), or "never".
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return time.Duration(t).String()
}
