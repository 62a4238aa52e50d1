package retry

import (
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Growth -linecomment -output=eject_string.go

// Growth is how an ejection's length grows with repeated ejections.
type Growth uint8

// Growth laws.
const (
	// Linear ejects for base × n (Envoy's outlier detection: n is the
	// number of times the host has been ejected).
	GrowLinear Growth = iota // linear
	// Exponential ejects for base × 2^(n−1) (Finagle's failure accrual
	// backoff, without its jitter).
	GrowExponential // exponential
)

// MarshalText returns the name.
func (g Growth) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText parses a name.
func (g *Growth) UnmarshalText(b []byte) error { return enum.Set(g, "ejection growth", string(b)) }

// EjectionConfig configures outlier ejection in load balancing: a replica
// that fails Consecutive attempts in a row is taken out of rotation for a
// time that grows each time it is ejected again (Envoy's outlier
// detection, consecutive_5xx; Finagle's failure accrual).
type EjectionConfig struct {
	// Consecutive is the run of failed attempts (5xx, 429, timeouts)
	// that ejects a replica; 0 disables ejection. Envoy and Finagle use 5.
	Consecutive int `yaml:"consecutive_errors"`
	// BaseTime is the first ejection's length (Envoy 30s, Finagle 5s).
	BaseTime time.Duration `yaml:"base_ejection_time"`
	// MaxTime caps an ejection's length (Envoy and Finagle: 300s).
	MaxTime time.Duration `yaml:"max_ejection_time"`
	// MaxPercent is the most replicas, in percent, that may be ejected at
	// once; at least one always may (Envoy: 10).
	MaxPercent float64 `yaml:"max_ejection_percent"`
	// Interval is how often a healthy replica's ejection count decays by
	// one, so that an old ejection stops lengthening new ones (Envoy's
	// interval, 10s).
	Interval time.Duration `yaml:"interval"`
	// Growth is linear (Envoy) or exponential (Finagle).
	Growth Growth `yaml:"growth"`
}

// DefaultEjectionConfig returns ejection off, with Envoy's defaults for
// when consecutive_errors is set.
func DefaultEjectionConfig() EjectionConfig {
	return EjectionConfig{BaseTime: 30 * time.Second, MaxTime: 300 * time.Second, MaxPercent: 10, Interval: 10 * time.Second}
}

// EjectionFields lists the YAML fields of outlier ejection.
func EjectionFields() []string {
	return []string{"consecutive_errors", "base_ejection_time", "max_ejection_time", "max_ejection_percent", "interval", "growth"}
}

// Validate reports impossible settings.
func (c EjectionConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Consecutive < 0 {
		fe.Add("consecutive_errors", "must not be negative, got %d", c.Consecutive)
	}
	if c.Consecutive == 0 {
		return fe.Err()
	}
	if c.BaseTime <= 0 {
		fe.Add("base_ejection_time", "must be positive, got %v", c.BaseTime)
	}
	if c.MaxTime < c.BaseTime {
		fe.Add("max_ejection_time", "must be at least base_ejection_time (%v), got %v", c.BaseTime, c.MaxTime)
	}
	if !(c.MaxPercent >= 0 && c.MaxPercent <= 100) {
		fe.Add("max_ejection_percent", "must be in [0, 100], got %v", c.MaxPercent)
	}
	if c.Interval <= 0 {
		fe.Add("interval", "must be positive, got %v", c.Interval)
	}
	if c.Growth > GrowExponential {
		fe.Add("growth", "unknown growth %d", c.Growth)
	}
	return fe.Err()
}

// Ejector tracks the replicas of one callee as seen by one caller.
type Ejector struct {
	cfg   EjectionConfig
	hosts []host
}

type host struct {
	run   int      // consecutive failures
	times int      // ejections not yet decayed
	until sim.Time // ejected before this time
	since sim.Time // when times last changed or decayed
}

// NewEjector returns an ejector for n replicas, none ejected.
func NewEjector(cfg EjectionConfig, n int) *Ejector {
	return &Ejector{cfg: cfg, hosts: make([]host, n)}
}

// Duration returns the length of the n-th ejection in a row (n ≥ 1).
func (c EjectionConfig) Duration(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	var d float64
	if c.Growth == GrowExponential {
		d = float64(c.BaseTime) * math.Pow(2, float64(n-1))
	} else {
		d = float64(c.BaseTime) * float64(n)
	}
	if d > float64(c.MaxTime) {
		return c.MaxTime
	}
	return time.Duration(d)
}

// Ejected reports whether replica i is out of rotation at now.
func (e *Ejector) Ejected(now sim.Time, i int) bool {
	return e.cfg.Consecutive > 0 && now < e.hosts[i].until
}

// Count returns the replicas ejected at now.
func (e *Ejector) Count(now sim.Time) int {
	n := 0
	for i := range e.hosts {
		if e.Ejected(now, i) {
			n++
		}
	}
	return n
}

// decay forgets one past ejection per interval spent in rotation.
func (e *Ejector) decay(now sim.Time, h *host) {
	if h.times == 0 || now < h.until {
		return
	}
	from := max(h.since, h.until)
	if k := int(now.Sub(from) / e.cfg.Interval); k > 0 {
		h.times = max(0, h.times-k)
		h.since = from.Add(time.Duration(k) * e.cfg.Interval)
	}
}

// Record reports the outcome of an attempt sent to replica i and returns
// whether it ejected the replica. Success and client errors end a run of
// failures; overload, failure and timeout extend it.
func (e *Ejector) Record(now sim.Time, i int, c Class) bool {
	if e.cfg.Consecutive == 0 {
		return false
	}
	h := &e.hosts[i]
	if c == Success || c == ClientError {
		h.run = 0
		return false
	}
	h.run++
	if h.run < e.cfg.Consecutive || now < h.until {
		return false
	}
	limit := max(1, int(e.cfg.MaxPercent/100*float64(len(e.hosts))))
	if e.Count(now) >= limit {
		return false
	}
	e.decay(now, h)
	h.times++
	h.run = 0
	h.until = now.Add(e.cfg.Duration(h.times))
	h.since = now
	return true
}
