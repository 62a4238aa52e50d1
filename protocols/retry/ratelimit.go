package retry

import (
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// RateLimitConfig configures the client-side rate limiter of the AWS
// SDKs' adaptive retry mode (AWS SDKs and Tools Reference Guide, "Retry
// behavior"; botocore retries/adaptive.py, throttling.py and bucket.py):
// it stays off until the first throttling answer; from then on every
// attempt takes a token from a bucket whose fill rate follows TCP CUBIC:
// cut to beta × the measured sending rate at each throttling answer,
// grown back along a cubic curve after it, and never above twice the
// measured rate. Attempts wait for a token rather than fail.
type RateLimitConfig struct {
	// Adaptive turns the limiter on.
	Adaptive bool `yaml:"adaptive"`
	// Beta is the multiplicative cut after a throttling answer (0.7).
	Beta float64 `yaml:"beta"`
	// Scale is CUBIC's scale constant C (0.4).
	Scale float64 `yaml:"scale"`
	// Smoothing weighs the newest measurement of the sending rate (0.8).
	Smoothing float64 `yaml:"smoothing"`
	// MinRate is the lowest fill rate in tokens per second (0.5).
	MinRate float64 `yaml:"min_rate"`
}

// DefaultRateLimitConfig returns the limiter off, with botocore's
// constants for when it is turned on.
func DefaultRateLimitConfig() RateLimitConfig {
	return RateLimitConfig{Beta: 0.7, Scale: 0.4, Smoothing: 0.8, MinRate: 0.5}
}

// RateLimitFields lists the YAML fields of the rate limiter.
func RateLimitFields() []string {
	return []string{"adaptive", "beta", "scale", "smoothing", "min_rate"}
}

// Validate reports impossible settings.
func (c RateLimitConfig) Validate() error {
	var fe sim.FieldErrors
	if !c.Adaptive {
		return nil
	}
	if !(c.Beta > 0 && c.Beta < 1) {
		fe.Add("beta", "must be in (0, 1), got %v", c.Beta)
	}
	if !(c.Scale > 0) || math.IsInf(c.Scale, 0) {
		fe.Add("scale", "must be a finite number > 0, got %v", c.Scale)
	}
	if !(c.Smoothing > 0 && c.Smoothing <= 1) {
		fe.Add("smoothing", "must be in (0, 1], got %v", c.Smoothing)
	}
	if !(c.MinRate > 0) || math.IsInf(c.MinRate, 0) {
		fe.Add("min_rate", "must be a finite number > 0, got %v", c.MinRate)
	}
	return fe.Err()
}

// RateLimiter is one client's adaptive rate limiter. Rates are in
// requests per second, times in seconds since the run started.
type RateLimiter struct {
	cfg     RateLimitConfig
	enabled bool

	// token bucket
	rate, tokens float64
	last         float64 // last refill

	// CUBIC
	lastMax      float64
	lastThrottle float64

	// measured sending rate: responses counted in half-second buckets
	measured   float64
	count      float64
	lastBucket float64

	waiting int // attempts told to wait that have not asked again
}

// NewRateLimiter returns a limiter that is not yet limiting.
func NewRateLimiter(c RateLimitConfig) *RateLimiter {
	return &RateLimiter{cfg: c, lastMax: c.MinRate, rate: c.MinRate}
}

// Enabled reports whether a throttling answer has switched limiting on.
func (l *RateLimiter) Enabled() bool { return l.enabled }

// Rate returns the fill rate (tokens per second).
func (l *RateLimiter) Rate() float64 { return l.rate }

func (l *RateLimiter) refill(t float64) {
	if t > l.last {
		l.tokens = math.Min(math.Max(1, l.rate), l.tokens+(t-l.last)*l.rate)
		l.last = t
	}
}

// Acquire takes a token for an attempt made at now, if one is there,
// and returns 0. Otherwise it takes nothing and returns how long until
// the bucket holds a token at the current rate: the attempt waits that
// long and asks again (waiters compete for tokens, as threads blocked on
// botocore's bucket do). An attempt that would wait longer than limit
// (0 = no limit), such as past its deadline, gets ok false.
func (l *RateLimiter) Acquire(now sim.Time, limit time.Duration) (wait time.Duration, ok bool) {
	if !l.enabled {
		return 0, true
	}
	l.refill(time.Duration(now).Seconds())
	if l.tokens >= 1 {
		l.tokens--
		return 0, true
	}
	// Waiters ahead take the tokens before this one: ask again once
	// the bucket has refilled for all of them.
	wait = time.Duration(math.Ceil((float64(l.waiting) + 1 - l.tokens) / l.rate * float64(time.Second)))
	if limit > 0 && wait > limit {
		return wait, false
	}
	l.waiting++
	return wait, true
}

// Woke reports that an attempt told to wait by Acquire has waited (it
// asks again) or given up.
func (l *RateLimiter) Woke() {
	if l.waiting > 0 {
		l.waiting--
	}
}

// OnResponse updates the rate with an answer received at now; throttled
// tells whether it was a throttling answer (429).
func (l *RateLimiter) OnResponse(now sim.Time, throttled bool) {
	t := time.Duration(now).Seconds()
	// Measured rate (botocore RateClocker: 0.5 s buckets, smoothing 0.8).
	l.count++
	if b := math.Floor(t*2) / 2; b > l.lastBucket {
		cur := l.count / (b - l.lastBucket)
		l.measured = cur*l.cfg.Smoothing + l.measured*(1-l.cfg.Smoothing)
		l.count = 0
		l.lastBucket = b
	}
	var next float64
	if throttled {
		use := l.measured
		if l.enabled {
			use = math.Min(l.measured, l.rate)
		}
		l.lastMax = use
		l.lastThrottle = t
		next = use * l.cfg.Beta
		l.enabled = true
	} else {
		k := math.Cbrt(l.lastMax * (1 - l.cfg.Beta) / l.cfg.Scale)
		d := t - l.lastThrottle - k
		next = l.cfg.Scale*d*d*d + l.lastMax
	}
	next = math.Min(next, 2*l.measured)
	l.refill(t)
	l.rate = math.Max(l.cfg.MinRate, next)
	l.tokens = math.Min(l.tokens, math.Max(1, l.rate))
}
