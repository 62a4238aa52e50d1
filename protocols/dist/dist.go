package dist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Dist is a distribution of spans. The network model's distributions
// have the same method, so code can hand any of them to a protocol
// (rpc.ServiceConfig.ServiceTimeDist, quorum's Legs).
type Dist interface {
	Sample(r *rand.Rand) time.Duration
}

// Config describes a Dist in YAML:
//
//	{dist: constant, value: 1ms}
//	{dist: uniform, min: 1ms, max: 3ms}
//	{dist: exponential, mean: 2ms, min: 100us}     # min + Exp, mean includes min
//	{dist: lognormal, median: 1ms, p99: 8ms}
//	{dist: pareto, scale: 1ms, shape: 1.5}         # Type I: scale is the minimum
//	{dist: normal, mean: 2ms, stddev: 500us}       # redrawn while negative
//	{dist: weibull, scale: 2ms, shape: 0.8}
//	{dist: empirical, samples: [1ms, 1ms, 2ms, 9ms]}  # drawn uniformly
//	{dist: mixture, of: [{weight: 0.9, dist: pareto, scale: 235us, shape: 10},
//	                     {weight: 0.1, dist: exponential, mean: 602us}]}
//
// An empty dist is no distribution (Build returns nil): quorum reads it
// as no extra delay, rpc refuses it. As in the network section, the
// resolved config writes dist and the fields that are set.
type Config struct {
	// Dist names the family: constant, uniform, exponential, normal,
	// lognormal, pareto, weibull, empirical or mixture.
	Dist string `yaml:"dist"`
	// Value is the constant's value.
	Value time.Duration `yaml:"value,omitempty"`
	// Min is the uniform lower bound or the exponential shift.
	Min time.Duration `yaml:"min,omitempty"`
	// Max is the uniform upper bound.
	Max time.Duration `yaml:"max,omitempty"`
	// Mean is the exponential mean (shift included) or the normal mean.
	Mean time.Duration `yaml:"mean,omitempty"`
	// Stddev is the normal standard deviation.
	Stddev time.Duration `yaml:"stddev,omitempty"`
	// Median is the log-normal median.
	Median time.Duration `yaml:"median,omitempty"`
	// P99 is the log-normal 99th percentile (at least the median).
	P99 time.Duration `yaml:"p99,omitempty"`
	// Scale is the Pareto minimum x_m or the Weibull lambda.
	Scale time.Duration `yaml:"scale,omitempty"`
	// Shape is the Pareto alpha (> 0; the mean is finite above 1) or the
	// Weibull k (> 0).
	Shape float64 `yaml:"shape,omitempty"`
	// Samples are the empirical distribution's values, drawn uniformly.
	Samples []time.Duration `yaml:"samples,omitempty"`
	// Of lists a mixture's components, each with a weight; the weights
	// sum to 1.
	Of []Config `yaml:"of,omitempty"`
	// Weight is a mixture component's probability; only inside of.
	Weight float64 `yaml:"weight,omitempty"`
}

var names = []string{"constant", "uniform", "exponential", "normal", "lognormal", "pareto", "weibull", "empirical", "mixture"}

// Names returns the family names Config.Dist accepts.
func Names() []string { return append([]string(nil), names...) }

// IsZero reports whether no distribution is set.
func (c Config) IsZero() bool { return c.Dist == "" }

// Validate reports impossible settings with paths relative to c.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	c.validate(&fe, false)
	return fe.Err()
}

func (c Config) validate(fe *sim.FieldErrors, inMixture bool) {
	if c.Weight != 0 && !inMixture {
		fe.Add("weight", "only a mixture component has a weight")
	}
	switch c.Dist {
	case "":
		if inMixture {
			fe.Add("dist", "missing; one of %s", strings.Join(names, ", "))
		}
	case "constant":
		if c.Value < 0 {
			fe.Add("value", "must not be negative, got %v", c.Value)
		}
	case "uniform":
		if c.Min < 0 || c.Max < c.Min {
			fe.Add("max", "need 0 ≤ min ≤ max, got min %v max %v", c.Min, c.Max)
		}
	case "exponential":
		if c.Min < 0 {
			fe.Add("min", "must not be negative, got %v", c.Min)
		}
		if c.Mean <= c.Min {
			fe.Add("mean", "must exceed min (%v), got %v", c.Min, c.Mean)
		}
	case "lognormal":
		if c.Median <= 0 {
			fe.Add("median", "must be positive, got %v", c.Median)
		}
		if c.P99 < c.Median {
			fe.Add("p99", "must be at least the median (%v), got %v", c.Median, c.P99)
		}
	case "normal":
		if c.Mean < 0 {
			fe.Add("mean", "must not be negative, got %v", c.Mean)
		}
		if c.Stddev < 0 {
			fe.Add("stddev", "must not be negative, got %v", c.Stddev)
		}
	case "empirical":
		if len(c.Samples) == 0 {
			fe.Add("samples", "an empirical distribution needs at least one sample")
		}
		for i, s := range c.Samples {
			if s < 0 {
				fe.Add(fmt.Sprintf("samples[%d]", i), "must not be negative, got %v", s)
			}
		}
	case "pareto", "weibull":
		if c.Scale <= 0 {
			fe.Add("scale", "must be positive, got %v", c.Scale)
		}
		if !(c.Shape > 0) || math.IsInf(c.Shape, 0) {
			fe.Add("shape", "must be a finite number > 0, got %v", c.Shape)
		}
	case "mixture":
		if inMixture {
			fe.Add("dist", "a mixture cannot nest another mixture")
			return
		}
		if len(c.Of) == 0 {
			fe.Add("of", "a mixture needs at least one component")
		}
		sum := 0.0
		for i, o := range c.Of {
			p := fmt.Sprintf("of[%d]", i)
			if !(o.Weight > 0) || o.Weight > 1 {
				fe.Add(p+".weight", "must be in (0, 1], got %v", o.Weight)
			}
			sum += o.Weight
			var sub sim.FieldErrors
			o.validate(&sub, true)
			fe.Merge(p, sub.Err())
		}
		if len(c.Of) > 0 && math.Abs(sum-1) > 1e-6 {
			fe.Add("of", "weights must sum to 1, got %v", sum)
		}
	default:
		fe.Add("dist", "unknown distribution %q (want one of %s)", c.Dist, strings.Join(names, ", "))
	}
}

// Build returns the Dist c describes, or nil for none; c must be valid.
func (c Config) Build() Dist {
	switch c.Dist {
	case "constant":
		return constant(c.Value)
	case "uniform":
		return uniform{c.Min, c.Max}
	case "exponential":
		return exponential{min: c.Min, mean: c.Mean - c.Min}
	case "lognormal":
		const z99 = 2.3263478740408408 // Φ⁻¹(0.99)
		return lognormal{mu: math.Log(float64(c.Median)), sigma: math.Log(float64(c.P99)/float64(c.Median)) / z99}
	case "pareto":
		return pareto{scale: float64(c.Scale), shape: c.Shape}
	case "weibull":
		return weibull{scale: float64(c.Scale), shape: c.Shape}
	case "normal":
		return normal{mean: float64(c.Mean), sd: float64(c.Stddev)}
	case "empirical":
		return empirical(c.Samples)
	case "mixture":
		m := mixture{}
		acc := 0.0
		for _, o := range c.Of {
			acc += o.Weight
			m.cum = append(m.cum, acc)
			m.comps = append(m.comps, o.Build())
		}
		return m
	}
	return nil
}

// String describes the distribution briefly: "exponential(mean 2ms)".
func (c Config) String() string {
	switch c.Dist {
	case "constant":
		return fmt.Sprintf("constant(%v)", c.Value)
	case "uniform":
		return fmt.Sprintf("uniform(%v, %v)", c.Min, c.Max)
	case "exponential":
		if c.Min != 0 {
			return fmt.Sprintf("exponential(mean %v, min %v)", c.Mean, c.Min)
		}
		return fmt.Sprintf("exponential(mean %v)", c.Mean)
	case "lognormal":
		return fmt.Sprintf("lognormal(median %v, p99 %v)", c.Median, c.P99)
	case "normal":
		return fmt.Sprintf("normal(mean %v, stddev %v)", c.Mean, c.Stddev)
	case "pareto", "weibull":
		return fmt.Sprintf("%s(scale %v, shape %v)", c.Dist, c.Scale, c.Shape)
	case "empirical":
		return fmt.Sprintf("empirical(%d samples)", len(c.Samples))
	case "mixture":
		parts := make([]string, len(c.Of))
		for i, o := range c.Of {
			parts[i] = fmt.Sprintf("%v %v", o.Weight, o)
		}
		return "mixture(" + strings.Join(parts, ", ") + ")"
	}
	return c.Dist
}

type constant time.Duration

func (c constant) Sample(*rand.Rand) time.Duration { return time.Duration(c) }

type uniform struct{ min, max time.Duration }

func (u uniform) Sample(r *rand.Rand) time.Duration {
	return u.min + time.Duration(r.Float64()*float64(u.max-u.min))
}

type exponential struct{ min, mean time.Duration }

func (e exponential) Sample(r *rand.Rand) time.Duration {
	return e.min + time.Duration(r.ExpFloat64()*float64(e.mean))
}

type lognormal struct{ mu, sigma float64 }

func (l lognormal) Sample(r *rand.Rand) time.Duration {
	return time.Duration(math.Exp(l.mu + l.sigma*r.NormFloat64()))
}

// maxSpan bounds a heavy-tailed draw (an hour) so that it stays a
// time.Duration.
const maxSpan = float64(time.Hour)

type pareto struct{ scale, shape float64 }

// Sample inverts the Pareto CDF 1-(x_m/x)^α.
func (p pareto) Sample(r *rand.Rand) time.Duration {
	u := 1 - r.Float64() // (0, 1]
	return time.Duration(min(p.scale/math.Pow(u, 1/p.shape), maxSpan))
}

type weibull struct{ scale, shape float64 }

// Sample inverts the Weibull CDF 1-exp(-(x/λ)^k).
func (w weibull) Sample(r *rand.Rand) time.Duration {
	u := 1 - r.Float64() // (0, 1]
	return time.Duration(min(w.scale*math.Pow(-math.Log(u), 1/w.shape), maxSpan))
}

type normal struct{ mean, sd float64 }

// Sample draws from the normal truncated at 0 (redrawing negatives; after
// 100 tries, 0).
func (d normal) Sample(r *rand.Rand) time.Duration {
	for range 100 {
		if x := d.mean + d.sd*r.NormFloat64(); x >= 0 {
			return time.Duration(min(x, maxSpan))
		}
	}
	return 0
}

type empirical []time.Duration

func (e empirical) Sample(r *rand.Rand) time.Duration { return e[r.IntN(len(e))] }

type mixture struct {
	cum   []float64
	comps []Dist
}

func (m mixture) Sample(r *rand.Rand) time.Duration {
	u := r.Float64()
	for i, c := range m.cum {
		if u < c && m.comps[i] != nil {
			return m.comps[i].Sample(r)
		}
	}
	if d := m.comps[len(m.comps)-1]; d != nil {
		return d.Sample(r)
	}
	return 0
}
