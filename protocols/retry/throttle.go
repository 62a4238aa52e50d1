package retry

import (
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// ThrottleConfig configures client-side adaptive throttling (B. Beyer et
// al., "Site Reliability Engineering", O'Reilly 2016, ch. 21 "Handling
// Overload"): each client keeps, over a trailing window, the count of
// requests it attempted and of requests the backend accepted, and rejects
// a new request locally with probability
//
//	max(0, (requests − K·accepts) / (requests + 1))
//
// so that it sends about K times what the backend accepts once the
// backend starts refusing.
type ThrottleConfig struct {
	// Adaptive turns throttling on.
	Adaptive bool `yaml:"adaptive"`
	// K is the multiplier (the book's default is 2). Smaller values
	// throttle sooner and waste less backend effort on rejections; values
	// near 1 also throttle requests the backend would have accepted.
	// Must be > 1.
	K float64 `yaml:"k"`
	// Window is how long requests and accepts are remembered (the book
	// uses two minutes). Longer windows react more slowly to recovery.
	Window time.Duration `yaml:"window"`
}

// DefaultThrottleConfig returns throttling off, with K 2 and a 2-minute
// window for when it is turned on.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{K: 2, Window: 2 * time.Minute}
}

// ThrottleFields lists the YAML fields of adaptive throttling.
func ThrottleFields() []string { return []string{"adaptive", "k", "window"} }

// Validate reports impossible settings: K must exceed 1 and the window
// must be positive when throttling is on.
func (c ThrottleConfig) Validate() error {
	var fe sim.FieldErrors
	if !c.Adaptive {
		return nil
	}
	if !(c.K > 1) || math.IsInf(c.K, 0) {
		fe.Add("k", "must be a finite number > 1 (with K ≤ 1 the client throttles requests the backend would accept; the SRE book uses 2), got %v", c.K)
	}
	if c.Window <= 0 {
		fe.Add("window", "must be positive, got %v", c.Window)
	}
	return fe.Err()
}

// Throttle is the state of one client's adaptive throttling: requests
// and accepts in a ring of slices covering the window.
type Throttle struct {
	k        float64
	slice    time.Duration
	head     int
	start    sim.Time
	requests [throttleSlices]int64
	accepts  [throttleSlices]int64
}

const throttleSlices = 20

// NewThrottle returns a throttle with empty history.
func NewThrottle(c ThrottleConfig) *Throttle {
	t := &Throttle{k: c.K, slice: c.Window / throttleSlices}
	if t.slice <= 0 {
		t.slice = 1
	}
	return t
}

func (t *Throttle) advance(now sim.Time) {
	if now < t.start+sim.Time(t.slice) {
		return
	}
	steps := int64(now.Sub(t.start) / t.slice)
	if steps >= throttleSlices {
		t.requests = [throttleSlices]int64{}
		t.accepts = [throttleSlices]int64{}
	} else {
		for i := int64(0); i < steps; i++ {
			t.head = (t.head + 1) % throttleSlices
			t.requests[t.head], t.accepts[t.head] = 0, 0
		}
	}
	t.start += sim.Time(steps * int64(t.slice))
}

// Counts returns the requests and accepts in the window at now.
func (t *Throttle) Counts(now sim.Time) (requests, accepts int64) {
	t.advance(now)
	for i := range t.requests {
		requests += t.requests[i]
		accepts += t.accepts[i]
	}
	return requests, accepts
}

// RejectProbability returns the probability that a request made at now
// is rejected locally: max(0, (requests − K·accepts) / (requests + 1)).
func (t *Throttle) RejectProbability(now sim.Time) float64 {
	r, a := t.Counts(now)
	return RejectProbability(r, a, t.k)
}

// RejectProbability is the SRE book's formula.
func RejectProbability(requests, accepts int64, k float64) float64 {
	return math.Max(0, (float64(requests)-k*float64(accepts))/float64(requests+1))
}

// Allow counts a request made at now and decides whether it goes to the
// backend; u is a uniform draw in [0, 1). Rejected requests count as
// requests too: that is what keeps the probability up while the backend
// refuses.
func (t *Throttle) Allow(now sim.Time, u float64) bool {
	p := t.RejectProbability(now)
	t.requests[t.head]++
	return u >= p
}

// Accept records that the backend accepted a request (answered it with
// anything but an overload refusal).
func (t *Throttle) Accept(now sim.Time) {
	t.advance(now)
	t.accepts[t.head]++
}

// Accepted reports whether an attempt that ended in class c counts as
// accepted by the backend: every answer but an overload refusal (429,
// 503) and a timeout, which says the backend did not take the request in
// time.
func Accepted(c Class) bool { return c != Overload && c != Timeout }
