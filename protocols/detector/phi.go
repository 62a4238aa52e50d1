package detector

import (
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Variant -linecomment -output=phi_string.go

// Variant is the distribution a phi accrual detector assumes for
// heartbeat inter-arrival times.
type Variant uint8

// Phi accrual variants.
const (
	// Normal assumes normally distributed inter-arrival times with the
	// window's mean and standard deviation, as Akka's detector does
	// (Hayashibara et al., "The φ accrual failure detector", SRDS 2004).
	Normal Variant = iota // normal
	// Exponential assumes exponentially distributed inter-arrival times
	// with the window's mean, as Cassandra's detector does: φ grows
	// linearly with the silence.
	Exponential // exponential
)

// UnmarshalYAML parses "normal" or "exponential".
func (v *Variant) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(v, "phi variant", n.Value)
}

// MarshalYAML writes the name.
func (v Variant) MarshalYAML() (any, error) { return v.String(), nil }

// PhiConfig configures a phi accrual detector.
type PhiConfig struct {
	// Variant is normal (Akka) or exponential (Cassandra).
	Variant Variant `yaml:"variant"`
	// Threshold is the φ at which the monitored member is declared
	// dead. φ = 1 means a 10% chance that the silence is not a failure,
	// φ = 8 a 10⁻⁸ chance. Higher thresholds make fewer mistakes and
	// detect later.
	Threshold float64 `yaml:"threshold"`
	// WindowSize is how many recent inter-arrival times the detector
	// keeps. A longer window is steadier; a shorter one adapts sooner.
	WindowSize int `yaml:"window_size"`
	// MinStdDev is the smallest standard deviation the normal variant
	// uses, so that perfectly regular heartbeats do not make φ explode at
	// the first small delay.
	MinStdDev time.Duration `yaml:"min_std_dev"`
	// AcceptablePause is silence tolerated on top of the expected
	// interval (a GC pause, a network blip): it shifts the distribution
	// right, delaying detection by that much.
	AcceptablePause time.Duration `yaml:"acceptable_pause"`
	// FirstHeartbeatEstimate seeds the window before real samples exist:
	// a mean of this value and a standard deviation of a quarter of it.
	FirstHeartbeatEstimate time.Duration `yaml:"first_heartbeat_estimate"`
	// CheckInterval, when positive, evaluates φ every CheckInterval
	// instead of arming a timer at the exact instant φ crosses the
	// threshold (0, the default). Polling quantises detection times to
	// the interval, as a real implementation's sampling loop would.
	CheckInterval time.Duration `yaml:"check_interval"`
}

// DefaultPhiConfig follows Akka's cluster detector (threshold 8, minimum
// standard deviation 100 ms, first estimate 1 s) with no acceptable pause
// and a window of 200 samples (Akka keeps 1000; 200 adapts sooner and
// keeps all-to-all monitoring of hundreds of members small).
func DefaultPhiConfig() PhiConfig {
	return PhiConfig{
		Variant: Normal, Threshold: 8, WindowSize: 200, MinStdDev: 100 * time.Millisecond,
		FirstHeartbeatEstimate: time.Second,
	}
}

// Window is a bounded window of inter-arrival times with running sums.
type Window struct {
	buf        []float64 // seconds
	next, n    int
	sum, sumSq float64
}

// NewWindow returns a window of at most size samples, seeded with the
// first-heartbeat estimate est: the two samples est·3/4 and est·5/4, so
// that the mean is est and the standard deviation est/4.
func NewWindow(size int, est time.Duration) *Window {
	w := &Window{buf: make([]float64, max(size, 2))}
	if est > 0 {
		e := est.Seconds()
		w.Add(time.Duration((e - e/4) * 1e9))
		w.Add(time.Duration((e + e/4) * 1e9))
	}
	return w
}

// Add appends one inter-arrival time, dropping the oldest when full.
func (w *Window) Add(d time.Duration) {
	x := d.Seconds()
	if w.n == len(w.buf) {
		old := w.buf[w.next]
		w.sum -= old
		w.sumSq -= old * old
	} else {
		w.n++
	}
	w.buf[w.next] = x
	w.next = (w.next + 1) % len(w.buf)
	w.sum += x
	w.sumSq += x * x
}

// Len returns the number of samples held.
func (w *Window) Len() int { return w.n }

// Mean returns the mean inter-arrival time in seconds.
func (w *Window) Mean() float64 {
	if w.n == 0 {
		return 0
	}
	return w.sum / float64(w.n)
}

// StdDev returns the population standard deviation in seconds.
func (w *Window) StdDev() float64 {
	if w.n == 0 {
		return 0
	}
	m := w.Mean()
	v := w.sumSq/float64(w.n) - m*m
	if v < 0 {
		v = 0
	}
	return math.Sqrt(v)
}

// Phi returns φ after a silence of since with inter-arrival mean and
// standard deviation (seconds) under c's variant, pause and minimum
// standard deviation:
//
//	normal:      φ = −log10( ½·erfc((Δ − μ − pause) / (σ·√2)) ),  σ ≥ min_std_dev
//	exponential: φ = max(0, Δ − pause) / (μ · ln 10)            (= −log10 e^{−(Δ−pause)/μ})
func (c *PhiConfig) Phi(since time.Duration, mean, std float64) float64 {
	d := since.Seconds()
	p := c.AcceptablePause.Seconds()
	switch c.Variant {
	case Exponential:
		if mean <= 0 {
			return math.Inf(1)
		}
		return math.Max(0, d-p) / (mean * math.Ln10)
	default:
		s := math.Max(std, c.MinStdDev.Seconds())
		if s <= 0 {
			s = 1e-9
		}
		later := 0.5 * math.Erfc((d-mean-p)/(s*math.Sqrt2))
		if later <= 0 {
			return math.Inf(1)
		}
		return -math.Log10(later)
	}
}

// Crossing returns the silence after which φ reaches the threshold: the
// closed-form inverse of Phi.
//
//	normal:      Δ* = μ + pause + σ·√2·erfcinv(2·10^−θ)
//	exponential: Δ* = pause + θ·μ·ln 10
func (c *PhiConfig) Crossing(mean, std float64) time.Duration {
	p := c.AcceptablePause.Seconds()
	var d float64
	switch c.Variant {
	case Exponential:
		d = p + c.Threshold*mean*math.Ln10
	default:
		s := math.Max(std, c.MinStdDev.Seconds())
		d = mean + p + s*math.Sqrt2*math.Erfcinv(2*math.Pow(10, -c.Threshold))
	}
	if d < 0 || math.IsNaN(d) {
		d = 0
	}
	if d > 1e9 { // beyond any run: never
		d = 1e9
	}
	return time.Duration(d * 1e9)
}

// validate reports bad settings at paths under prefix.
func (c *PhiConfig) validate(add func(path, format string, args ...any)) {
	if !(c.Threshold > 0) || math.IsInf(c.Threshold, 0) {
		add("phi.threshold", "must be positive, got %v", c.Threshold)
	}
	if c.Threshold > 300 {
		add("phi.threshold", "must be at most 300 (a probability of 10^-300), got %v", c.Threshold)
	}
	if c.Variant > Exponential {
		add("phi.variant", "must be normal or exponential")
	}
	if c.WindowSize < 2 || c.WindowSize > 100_000 {
		add("phi.window_size", "must be in [2, 100000], got %d", c.WindowSize)
	}
	if c.MinStdDev < 0 {
		add("phi.min_std_dev", "must not be negative, got %v", c.MinStdDev)
	}
	if c.AcceptablePause < 0 {
		add("phi.acceptable_pause", "must not be negative, got %v", c.AcceptablePause)
	}
	if c.FirstHeartbeatEstimate <= 0 {
		add("phi.first_heartbeat_estimate", "must be positive, got %v", c.FirstHeartbeatEstimate)
	}
	if c.CheckInterval < 0 {
		add("phi.check_interval", "must not be negative (0: exact crossing time), got %v", c.CheckInterval)
	}
}
