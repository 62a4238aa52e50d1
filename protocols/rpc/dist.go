package rpc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Dist is a distribution of spans, such as service times. The network
// model's latency distributions satisfy it, so an experiment can hand
// them to a service directly (ServiceConfig.ServiceTimeDist).
type Dist interface {
	Sample(r *rand.Rand) time.Duration
}

// Constant is a Dist that always returns the same span.
type Constant time.Duration

// Sample returns the constant.
func (c Constant) Sample(*rand.Rand) time.Duration { return time.Duration(c) }

// Exponential is a Dist with exponentially distributed spans of the given
// mean (service times of an M/M/c queue).
type Exponential struct{ Mean time.Duration }

// Sample draws one span.
func (e Exponential) Sample(r *rand.Rand) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(e.Mean))
}

// Uniform is a Dist uniform over [Min, Max).
type Uniform struct{ Min, Max time.Duration }

// Sample draws one span.
func (u Uniform) Sample(r *rand.Rand) time.Duration {
	return u.Min + time.Duration(r.Float64()*float64(u.Max-u.Min))
}

// LogNormal is a Dist whose logarithm is normal, set by its median and
// 99th percentile (the usual way to describe a long-tailed latency).
type LogNormal struct {
	mu, sigma float64
}

// NewLogNormal returns the log-normal with the given median and p99
// (p99 ≥ median > 0).
func NewLogNormal(median, p99 time.Duration) LogNormal {
	const z99 = 2.3263478740408408 // Φ⁻¹(0.99)
	return LogNormal{mu: math.Log(float64(median)), sigma: math.Log(float64(p99)/float64(median)) / z99}
}

// Sample draws one span.
func (l LogNormal) Sample(r *rand.Rand) time.Duration {
	return time.Duration(math.Exp(l.mu + l.sigma*r.NormFloat64()))
}

// DistConfig describes a Dist in YAML:
//
//	{dist: constant, value: 5ms}
//	{dist: exponential, mean: 5ms}
//	{dist: uniform, min: 1ms, max: 9ms}
//	{dist: lognormal, median: 5ms, p99: 40ms}
type DistConfig struct {
	// Dist is constant, exponential, uniform or lognormal.
	Dist string `yaml:"dist"`
	// Value is the constant span.
	Value time.Duration `yaml:"value"`
	// Mean is the exponential mean.
	Mean time.Duration `yaml:"mean"`
	// Min and Max bound the uniform distribution.
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
	// Median and P99 set the log-normal.
	Median time.Duration `yaml:"median"`
	P99    time.Duration `yaml:"p99"`
}

// Validate reports impossible settings.
func (c DistConfig) Validate() error {
	var fe sim.FieldErrors
	switch c.Dist {
	case "constant":
		if c.Value < 0 {
			fe.Add("value", "must not be negative, got %v", c.Value)
		}
	case "exponential":
		if c.Mean <= 0 {
			fe.Add("mean", "must be positive, got %v", c.Mean)
		}
	case "uniform":
		if c.Min < 0 || c.Max <= c.Min {
			fe.Add("max", "need 0 ≤ min < max, got min %v max %v", c.Min, c.Max)
		}
	case "lognormal":
		if c.Median <= 0 {
			fe.Add("median", "must be positive, got %v", c.Median)
		}
		if c.P99 < c.Median {
			fe.Add("p99", "must be at least the median (%v), got %v", c.Median, c.P99)
		}
	default:
		fe.Add("dist", "unknown distribution %q (want one of %s)", c.Dist, strings.Join([]string{"constant", "exponential", "uniform", "lognormal"}, ", "))
	}
	return fe.Err()
}

// Build returns the Dist c describes; c must be valid.
func (c DistConfig) Build() Dist {
	switch c.Dist {
	case "exponential":
		return Exponential{Mean: c.Mean}
	case "uniform":
		return Uniform{Min: c.Min, Max: c.Max}
	case "lognormal":
		return NewLogNormal(c.Median, c.P99)
	}
	return Constant(c.Value)
}

// String describes the distribution briefly.
func (c DistConfig) String() string {
	switch c.Dist {
	case "constant":
		return fmt.Sprintf("constant(%v)", c.Value)
	case "exponential":
		return fmt.Sprintf("exponential(mean %v)", c.Mean)
	case "uniform":
		return fmt.Sprintf("uniform(%v, %v)", c.Min, c.Max)
	case "lognormal":
		return fmt.Sprintf("lognormal(median %v, p99 %v)", c.Median, c.P99)
	}
	return c.Dist
}
