package retry

import (
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=LimitKind -linecomment -output=limit_string.go

// LimitKind selects a server-side adaptive concurrency limit.
type LimitKind uint8

// Concurrency limit algorithms, after Netflix's concurrency-limits
// library (github.com/Netflix/concurrency-limits, v0.3.x: AIMDLimit and
// Gradient2Limit).
const (
	// NoLimit admits every request the queue can hold.
	NoLimit LimitKind = iota // none
	// AIMD grows the limit by one after a success that used at least half
	// of it, and multiplies it by backoff_ratio after a drop (a request
	// that failed for lack of capacity, or took longer than timeout).
	AIMD // aimd
	// Gradient compares a long-term average of latency with the latest
	// sample: limit ← limit·gradient + queue_size, gradient =
	// clamp(tolerance·long/short, 0.5, 1), smoothed.
	Gradient // gradient
)

// MarshalText returns the name.
func (k LimitKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a name.
func (k *LimitKind) UnmarshalText(b []byte) error { return enum.Set(k, "concurrency limit", string(b)) }

// LimitConfig configures an adaptive concurrency limit: requests beyond
// the limit in progress at a replica are refused at once (429) instead
// of queueing, so that the limit, not the queue, absorbs a surge.
type LimitConfig struct {
	// Kind is none, aimd or gradient.
	Kind LimitKind `yaml:"kind"`
	// Initial is the starting limit (Netflix: 20).
	Initial int `yaml:"initial"`
	// Min is the lowest the limit goes (Netflix: 20).
	Min int `yaml:"min"`
	// Max is the highest the limit goes (Netflix: 200).
	Max int `yaml:"max"`
	// BackoffRatio multiplies the limit after a drop (aimd; Netflix 0.9).
	BackoffRatio float64 `yaml:"backoff_ratio"`
	// Timeout is the latency beyond which a request counts as a drop
	// (aimd; Netflix 5s).
	Timeout time.Duration `yaml:"timeout"`
	// Smoothing weighs each new estimate (gradient; Netflix 0.2).
	Smoothing float64 `yaml:"smoothing"`
	// Tolerance is how much the latest latency may exceed the long-term
	// average before the limit shrinks (gradient; Netflix 1.5).
	Tolerance float64 `yaml:"tolerance"`
	// LongWindow is the number of samples the long-term average spans
	// (gradient; Netflix 600).
	LongWindow int `yaml:"long_window"`
	// QueueSize is the headroom added to each estimate (gradient;
	// Netflix 4).
	QueueSize int `yaml:"queue_size"`
}

// DefaultLimitConfig returns no limit, with Netflix's defaults for when a
// kind is chosen.
func DefaultLimitConfig() LimitConfig {
	return LimitConfig{Initial: 20, Min: 20, Max: 200, BackoffRatio: 0.9, Timeout: 5 * time.Second,
		Smoothing: 0.2, Tolerance: 1.5, LongWindow: 600, QueueSize: 4}
}

// Validate reports impossible settings.
func (c LimitConfig) Validate() error {
	var fe sim.FieldErrors
	switch c.Kind {
	case NoLimit:
		return nil
	case AIMD:
		if !(c.BackoffRatio > 0 && c.BackoffRatio < 1) {
			fe.Add("backoff_ratio", "must be in (0, 1), got %v", c.BackoffRatio)
		}
		if c.Timeout <= 0 {
			fe.Add("timeout", "must be positive, got %v", c.Timeout)
		}
	case Gradient:
		if !(c.Smoothing > 0 && c.Smoothing <= 1) {
			fe.Add("smoothing", "must be in (0, 1], got %v", c.Smoothing)
		}
		if !(c.Tolerance >= 1) || math.IsInf(c.Tolerance, 0) {
			fe.Add("tolerance", "must be a finite number ≥ 1, got %v", c.Tolerance)
		}
		if c.LongWindow < 1 {
			fe.Add("long_window", "must be at least 1, got %d", c.LongWindow)
		}
		if c.QueueSize < 0 {
			fe.Add("queue_size", "must not be negative, got %d", c.QueueSize)
		}
	default:
		fe.Add("kind", "unknown concurrency limit %d", c.Kind)
	}
	if c.Min < 1 {
		fe.Add("min", "must be at least 1, got %d", c.Min)
	}
	if c.Max < c.Min {
		fe.Add("max", "must be at least min (%d), got %d", c.Min, c.Max)
	}
	if c.Initial < c.Min || c.Initial > c.Max {
		fe.Add("initial", "must be in [min, max] = [%d, %d], got %d", c.Min, c.Max, c.Initial)
	}
	return fe.Err()
}

// Limiter is one replica's adaptive concurrency limit.
type Limiter struct {
	cfg   LimitConfig
	limit float64
	long  float64 // long-term average latency, ns (gradient)
	n     int     // samples seen (gradient warm-up)
}

// NewLimiter returns a limiter at its initial limit.
func NewLimiter(c LimitConfig) *Limiter {
	return &Limiter{cfg: c, limit: float64(c.Initial)}
}

// Limit returns the current limit.
func (l *Limiter) Limit() int { return int(l.limit) }

// Admit reports whether a request may start with inflight requests
// already in progress.
func (l *Limiter) Admit(inflight int) bool {
	return l.cfg.Kind == NoLimit || inflight < int(l.limit)
}

// Sample updates the limit with one finished request: its latency, the
// requests in progress when it started, and whether it was dropped (it
// failed for lack of capacity: overload or timeout).
func (l *Limiter) Sample(rtt time.Duration, inflight int, dropped bool) {
	c := &l.cfg
	switch c.Kind {
	case AIMD:
		if dropped || rtt > c.Timeout {
			l.limit = math.Floor(l.limit * c.BackoffRatio)
		} else if 2*inflight >= int(l.limit) {
			l.limit++
		}
	case Gradient:
		short := float64(rtt)
		if short <= 0 {
			short = 1
		}
		l.n++
		if l.n <= 10 {
			// Warm-up: a plain mean of the first samples.
			l.long += (short - l.long) / float64(l.n)
		} else {
			f := 2 / (float64(c.LongWindow) + 1)
			l.long = l.long*(1-f) + short*f
		}
		// A long average far above the latest sample drifts down, so
		// that the limit can recover after a period of high latency.
		if l.long/short > 2 {
			l.long *= 0.95
		}
		if float64(inflight) < l.limit/2 {
			return // the limit is not what holds the load back
		}
		g := math.Max(0.5, math.Min(1, c.Tolerance*l.long/short))
		next := l.limit*g + float64(c.QueueSize)
		l.limit = l.limit*(1-c.Smoothing) + next*c.Smoothing
	default:
		return
	}
	l.limit = math.Max(float64(c.Min), math.Min(float64(c.Max), l.limit))
}
