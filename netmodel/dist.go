package netmodel

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"gonum.org/v1/gonum/stat/distuv"
	"gopkg.in/yaml.v3"
)

// Dist is a distribution of non-negative spans: link latencies, pause
// lengths, RPC service times. Sample draws from the caller's stream (one
// of the engine's seeded streams), so a Dist holds no random state and can
// be shared by many links.
type Dist interface {
	// Sample draws one span using r.
	Sample(r *rand.Rand) time.Duration
	// CDF returns P(X <= x).
	CDF(x time.Duration) float64
	// String describes the distribution and its parameters.
	String() string
}

// Distribution names accepted in DistSpec.Dist.
const (
	DistConstant    = "constant"
	DistUniform     = "uniform"
	DistNormal      = "normal"
	DistExponential = "exponential"
	DistLogNormal   = "lognormal"
	DistPareto      = "pareto"
	DistWeibull     = "weibull"
	DistEmpirical   = "empirical"
	DistMixture     = "mixture"
)

// z99 is the 0.99 quantile of the standard normal distribution.
const z99 = 2.3263478740408408

// DistSpec describes a Dist in configuration. Which fields apply depends
// on Dist:
//
//	constant     value                       (YAML shorthand: latency: 5ms)
//	uniform      min, max                    min <= max
//	normal       mean, stddev                truncated at 0 (mean >= 0)
//	exponential  mean, min                   min + Exp; mean is the total mean (> min)
//	lognormal    median, p99                 or mu, sigma of ln(seconds)
//	pareto       scale, shape                Type I: scale is the minimum, shape alpha > 0
//	weibull      scale, shape                lambda > 0, k > 0
//	empirical    file or samples             see LoadEmpirical for the CSV format
//	mixture      of: [{weight, dist, ...}]   weights sum to 1
//
// Examples: {dist: lognormal, median: 1ms, p99: 8ms},
// {dist: exponential, mean: 2ms, min: 100us},
// {dist: mixture, of: [{weight: 0.91, dist: pareto, scale: 1ms, shape: 1.5},
// {weight: 0.09, dist: exponential, mean: 20ms}]}.
type DistSpec struct {
	// Dist names the distribution family.
	Dist string `yaml:"dist"`
	// Value is the constant's value.
	Value Duration `yaml:"value,omitempty"`
	// Min is the lower bound (uniform) or the shift (exponential).
	Min Duration `yaml:"min,omitempty"`
	// Max is the upper bound (uniform).
	Max Duration `yaml:"max,omitempty"`
	// Mean is the mean (normal, before truncation; exponential, including Min).
	Mean Duration `yaml:"mean,omitempty"`
	// Stddev is the standard deviation (normal, before truncation).
	Stddev Duration `yaml:"stddev,omitempty"`
	// Median is the lognormal median.
	Median Duration `yaml:"median,omitempty"`
	// P99 is the lognormal 99th percentile.
	P99 Duration `yaml:"p99,omitempty"`
	// Mu is the lognormal location: the mean of ln(X in seconds).
	Mu float64 `yaml:"mu,omitempty"`
	// Sigma is the lognormal scale: the stddev of ln(X).
	Sigma float64 `yaml:"sigma,omitempty"`
	// Scale is the Pareto minimum x_m or the Weibull lambda.
	Scale Duration `yaml:"scale,omitempty"`
	// Shape is the Pareto alpha or the Weibull k.
	Shape float64 `yaml:"shape,omitempty"`
	// File is an empirical CSV file (see LoadEmpirical). A relative path
	// is relative to the working directory unless ResolveFiles rewrote it.
	File string `yaml:"file,omitempty"`
	// Samples are inline empirical samples, drawn uniformly.
	Samples []Duration `yaml:"samples,omitempty"`
	// Of lists a mixture's components.
	Of []DistSpec `yaml:"of,omitempty"`
	// Weight is a mixture component's probability; only inside Of.
	Weight float64 `yaml:"weight,omitempty"`
}

// Const returns the spec of a constant span.
func Const(d time.Duration) DistSpec { return DistSpec{Dist: DistConstant, Value: Duration(d)} }

// IsZero reports whether s is unset.
func (s DistSpec) IsZero() bool { return s.Dist == "" }

// distFields lists the fields each family may set (YAML names).
var distFields = map[string][]string{
	DistConstant:    {"value"},
	DistUniform:     {"min", "max"},
	DistNormal:      {"mean", "stddev"},
	DistExponential: {"mean", "min"},
	DistLogNormal:   {"median", "p99", "mu", "sigma"},
	DistPareto:      {"scale", "shape"},
	DistWeibull:     {"scale", "shape"},
	DistEmpirical:   {"file", "samples"},
	DistMixture:     {"of"},
}

// DistNames returns the accepted family names in alphabetical order.
func DistNames() []string {
	return slices.Sorted(maps.Keys(distFields))
}

// yamlFieldNames maps the YAML keys of DistSpec to struct field indexes.
var yamlFieldNames = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeOf(DistSpec{})
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		m[tag] = i
	}
	return m
}()

// UnmarshalYAML accepts a mapping, or a bare duration as a constant
// ("latency: 5ms"). Unknown keys are rejected.
func (s *DistSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var d Duration
		if err := d.UnmarshalYAML(n); err != nil {
			return err
		}
		*s = Const(d.D())
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a distribution such as {dist: lognormal, median: 1ms, p99: 8ms}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := yamlFieldNames[k.Value]; !ok {
			return fmt.Errorf("line %d: unknown distribution field %q", k.Line, k.Value)
		}
	}
	type plain DistSpec
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = DistSpec(p)
	return nil
}

// setFields returns the YAML names of the fields of s that are set,
// excluding dist and weight.
func (s DistSpec) setFields() []string {
	v := reflect.ValueOf(s)
	t := v.Type()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "dist" || tag == "weight" {
			continue
		}
		if !v.Field(i).IsZero() {
			out = append(out, tag)
		}
	}
	return out
}

// Validate checks s without reading files. Paths are relative to s.
func (s DistSpec) Validate() error {
	var fe sim.FieldErrors
	s.validate(&fe, false)
	return fe.Err()
}

func (s DistSpec) validate(fe *sim.FieldErrors, inMixture bool) {
	allowed, ok := distFields[s.Dist]
	if !ok {
		if s.Dist == "" {
			fe.Add("dist", "missing; one of %s", strings.Join(DistNames(), ", "))
		} else {
			fe.Add("dist", "unknown distribution %q; one of %s", s.Dist, strings.Join(DistNames(), ", "))
		}
		return
	}
	for _, f := range s.setFields() {
		found := false
		for _, a := range allowed {
			found = found || a == f
		}
		if !found {
			fe.Add(f, "does not apply to dist %s (it takes %s)", s.Dist, strings.Join(allowed, ", "))
		}
	}
	if s.Weight != 0 && !inMixture {
		fe.Add("weight", "only allowed on a component inside a mixture's of")
	}
	neg := func(path string, d Duration) {
		if d < 0 {
			fe.Add(path, "must not be negative, got %v", d)
		}
	}
	switch s.Dist {
	case DistConstant:
		neg("value", s.Value)
	case DistUniform:
		neg("min", s.Min)
		neg("max", s.Max)
		if s.Max < s.Min {
			fe.Add("max", "must be >= min (%v), got %v", s.Min, s.Max)
		}
	case DistNormal:
		neg("mean", s.Mean)
		neg("stddev", s.Stddev)
	case DistExponential:
		neg("min", s.Min)
		if s.Mean <= s.Min {
			fe.Add("mean", "must be > min (%v), got %v; mean includes the minimum", s.Min, s.Mean)
		}
	case DistLogNormal:
		byQ := s.Median != 0 || s.P99 != 0
		byP := s.Mu != 0 || s.Sigma != 0
		switch {
		case byQ && byP:
			fe.Add("mu", "give either median and p99 or mu and sigma, not both")
		case byQ:
			if s.Median <= 0 {
				fe.Add("median", "must be > 0, got %v", s.Median)
			}
			if s.P99 <= s.Median {
				fe.Add("p99", "must be > median (%v), got %v", s.Median, s.P99)
			}
		default:
			if !(s.Sigma > 0) || math.IsInf(s.Sigma, 0) {
				fe.Add("sigma", "must be > 0, got %v (or give median and p99)", s.Sigma)
			}
			if math.IsNaN(s.Mu) || math.IsInf(s.Mu, 0) {
				fe.Add("mu", "must be finite")
			}
		}
	case DistPareto, DistWeibull:
		if s.Scale <= 0 {
			fe.Add("scale", "must be > 0, got %v", s.Scale)
		}
		if !(s.Shape > 0) || math.IsInf(s.Shape, 0) {
			fe.Add("shape", "must be > 0, got %v", s.Shape)
		}
	case DistEmpirical:
		switch {
		case s.File == "" && len(s.Samples) == 0:
			fe.Add("file", "give a CSV file or inline samples")
		case s.File != "" && len(s.Samples) > 0:
			fe.Add("samples", "give either file or samples, not both")
		}
		for i, d := range s.Samples {
			neg(fmt.Sprintf("samples[%d]", i), d)
		}
	case DistMixture:
		if len(s.Of) == 0 {
			fe.Add("of", "a mixture needs at least one component")
			return
		}
		sum := 0.0
		for i, c := range s.Of {
			p := fmt.Sprintf("of[%d]", i)
			if !(c.Weight > 0) || c.Weight > 1 {
				fe.Add(p+".weight", "must be in (0, 1], got %v", c.Weight)
			}
			sum += c.Weight
			var sub sim.FieldErrors
			c.validate(&sub, true)
			fe.Merge(p, sub.Err())
		}
		if math.Abs(sum-1) > 1e-6 {
			fe.Add("of", "weights must sum to 1, got %v", sum)
		}
	}
}

// ResolveFiles makes relative empirical file paths relative to dir (the
// directory of the config file that named them).
func (s *DistSpec) ResolveFiles(dir string) {
	if s.File != "" && !filepath.IsAbs(s.File) {
		s.File = filepath.Join(dir, s.File)
	}
	for i := range s.Of {
		s.Of[i].ResolveFiles(dir)
	}
}

// Build validates s and returns its Dist, reading empirical files.
func (s DistSpec) Build() (Dist, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.build()
}

// MustBuild is Build for tests and examples where an error is a bug.
func (s DistSpec) MustBuild() Dist {
	d, err := s.Build()
	if err != nil {
		panic(err)
	}
	return d
}

func (s DistSpec) build() (Dist, error) {
	switch s.Dist {
	case DistConstant:
		c := constDist(s.Value)
		return &c, nil
	case DistUniform:
		return &uniformDist{lo: float64(s.Min), hi: float64(s.Max)}, nil
	case DistNormal:
		return newNormal(float64(s.Mean), float64(s.Stddev)), nil
	case DistExponential:
		rate := 1 / float64(s.Mean-s.Min)
		return &expDist{min: float64(s.Min), g: distuv.Exponential{Rate: rate}}, nil
	case DistLogNormal:
		var mu, sigma float64
		if s.Median != 0 {
			mu = math.Log(float64(s.Median))
			sigma = (math.Log(float64(s.P99)) - mu) / z99
		} else {
			mu = s.Mu + math.Log(1e9) // ln(seconds) to ln(ns)
			sigma = s.Sigma
		}
		return &lognormalDist{g: distuv.LogNormal{Mu: mu, Sigma: sigma}}, nil
	case DistPareto:
		return &paretoDist{g: distuv.Pareto{Xm: float64(s.Scale), Alpha: s.Shape}}, nil
	case DistWeibull:
		return &weibullDist{g: distuv.Weibull{K: s.Shape, Lambda: float64(s.Scale)}}, nil
	case DistEmpirical:
		if s.File != "" {
			d, err := LoadEmpirical(s.File)
			if err != nil {
				return nil, sim.FieldErrors{{Path: "file", Msg: err.Error()}}
			}
			return d, nil
		}
		xs := make([]float64, len(s.Samples))
		for i, v := range s.Samples {
			xs[i] = float64(v)
		}
		return newSamples(xs), nil
	case DistMixture:
		m := &mixtureDist{}
		acc := 0.0
		for i, c := range s.Of {
			d, err := c.build()
			if err != nil {
				var fe sim.FieldErrors
				fe.Merge(fmt.Sprintf("of[%d]", i), err)
				return nil, fe
			}
			acc += c.Weight
			m.cum = append(m.cum, acc)
			m.w = append(m.w, c.Weight)
			m.comps = append(m.comps, d)
		}
		m.cum[len(m.cum)-1] = 1 // absorb rounding
		return m, nil
	}
	return nil, fmt.Errorf("unknown distribution %q", s.Dist)
}

// maxSpan caps samples from heavy tails so that time arithmetic cannot
// overflow: about 2.9 simulated centuries.
const maxSpan = float64(math.MaxInt64 / 32)

func span(x float64) time.Duration {
	switch {
	case x <= 0 || math.IsNaN(x):
		return 0
	case x >= maxSpan:
		return time.Duration(maxSpan)
	}
	return time.Duration(x)
}

type constDist time.Duration

func (c *constDist) Sample(*rand.Rand) time.Duration { return time.Duration(*c) }
func (c *constDist) CDF(x time.Duration) float64 {
	if x >= time.Duration(*c) {
		return 1
	}
	return 0
}
func (c *constDist) String() string { return fmt.Sprintf("constant(%v)", time.Duration(*c)) }

type uniformDist struct{ lo, hi float64 }

func (u *uniformDist) Sample(r *rand.Rand) time.Duration {
	// The float64 conversions here and below round the product, so no
	// architecture fuses a multiply-add and draws stay identical on every
	// machine (Go spec, "Arithmetic operators").
	return span(u.lo + float64(r.Float64()*(u.hi-u.lo)))
}
func (u *uniformDist) CDF(x time.Duration) float64 {
	v := float64(x)
	switch {
	case v < u.lo:
		return 0
	case v >= u.hi:
		return 1
	}
	return (v - u.lo) / (u.hi - u.lo)
}
func (u *uniformDist) String() string {
	return fmt.Sprintf("uniform(%v, %v)", time.Duration(u.lo), time.Duration(u.hi))
}

// normalDist is a normal distribution truncated to [0, inf): draws below
// zero are redrawn, so the density is renormalised, not piled at zero.
type normalDist struct {
	g  distuv.Normal
	p0 float64 // P(X < 0) before truncation
}

func newNormal(mean, sd float64) *normalDist {
	if sd == 0 {
		sd = 1e-300
	}
	g := distuv.Normal{Mu: mean, Sigma: sd}
	return &normalDist{g: g, p0: g.CDF(0)}
}

func (n *normalDist) Sample(r *rand.Rand) time.Duration {
	// mean >= 0, so each draw is accepted with probability >= 1/2.
	for {
		x := n.g.Mu + float64(n.g.Sigma*r.NormFloat64())
		if x >= 0 {
			return span(x)
		}
	}
}
func (n *normalDist) CDF(x time.Duration) float64 {
	if x < 0 {
		return 0
	}
	return (n.g.CDF(float64(x)) - n.p0) / (1 - n.p0)
}
func (n *normalDist) String() string {
	return fmt.Sprintf("normal(mean %v, stddev %v, truncated at 0)", time.Duration(n.g.Mu), time.Duration(n.g.Sigma))
}

type expDist struct {
	min float64
	g   distuv.Exponential
}

func (d *expDist) Sample(r *rand.Rand) time.Duration { return span(d.min + r.ExpFloat64()/d.g.Rate) }
func (d *expDist) CDF(x time.Duration) float64       { return d.g.CDF(float64(x) - d.min) }
func (d *expDist) String() string {
	return fmt.Sprintf("exponential(min %v, mean %v)", time.Duration(d.min), time.Duration(d.min+1/d.g.Rate))
}

type lognormalDist struct{ g distuv.LogNormal }

func (d *lognormalDist) Sample(r *rand.Rand) time.Duration {
	return span(math.Exp(d.g.Mu + float64(d.g.Sigma*r.NormFloat64())))
}
func (d *lognormalDist) CDF(x time.Duration) float64 {
	if x <= 0 {
		return 0
	}
	return d.g.CDF(float64(x))
}
func (d *lognormalDist) String() string {
	return fmt.Sprintf("lognormal(median %v, p99 %v)", time.Duration(math.Round(math.Exp(d.g.Mu))), time.Duration(math.Round(math.Exp(d.g.Mu+z99*d.g.Sigma))))
}

type paretoDist struct{ g distuv.Pareto }

func (d *paretoDist) Sample(r *rand.Rand) time.Duration {
	// Inverse transform: x_m * U^(-1/alpha), U in (0, 1].
	u := 1 - r.Float64()
	return span(d.g.Xm * math.Pow(u, -1/d.g.Alpha))
}
func (d *paretoDist) CDF(x time.Duration) float64 { return d.g.CDF(float64(x)) }
func (d *paretoDist) String() string {
	return fmt.Sprintf("pareto(scale %v, shape %g)", time.Duration(d.g.Xm), d.g.Alpha)
}

type weibullDist struct{ g distuv.Weibull }

func (d *weibullDist) Sample(r *rand.Rand) time.Duration { return span(d.g.Quantile(r.Float64())) }
func (d *weibullDist) CDF(x time.Duration) float64 {
	if x <= 0 {
		return 0
	}
	return d.g.CDF(float64(x))
}
func (d *weibullDist) String() string {
	return fmt.Sprintf("weibull(scale %v, shape %g)", time.Duration(d.g.Lambda), d.g.K)
}

type mixtureDist struct {
	cum   []float64
	w     []float64
	comps []Dist
}

func (m *mixtureDist) Sample(r *rand.Rand) time.Duration {
	u := r.Float64()
	for i, c := range m.cum {
		if u < c {
			return m.comps[i].Sample(r)
		}
	}
	return m.comps[len(m.comps)-1].Sample(r)
}
func (m *mixtureDist) CDF(x time.Duration) float64 {
	p := 0.0
	for i, c := range m.comps {
		p += m.w[i] * c.CDF(x)
	}
	return math.Min(p, 1)
}
func (m *mixtureDist) String() string {
	parts := make([]string, len(m.comps))
	for i, c := range m.comps {
		parts[i] = fmt.Sprintf("%g %s", m.w[i], c)
	}
	return "mixture(" + strings.Join(parts, " + ") + ")"
}

// empiricalDist draws from sample values (each with equal probability) or
// from a piecewise-linear CDF through given points.
type empiricalDist struct {
	xs []float64 // sorted values
	ps []float64 // cumulative probabilities for CDF points; nil for samples
}

func newSamples(xs []float64) *empiricalDist {
	sort.Float64s(xs)
	return &empiricalDist{xs: xs}
}

func (d *empiricalDist) Sample(r *rand.Rand) time.Duration {
	if d.ps == nil {
		return span(d.xs[r.IntN(len(d.xs))])
	}
	u := r.Float64()
	i := sort.SearchFloat64s(d.ps, u) // first ps[i] >= u
	if i == 0 {
		return span(d.xs[0])
	}
	if i >= len(d.ps) {
		i = len(d.ps) - 1
	}
	p0, p1 := d.ps[i-1], d.ps[i]
	x0, x1 := d.xs[i-1], d.xs[i]
	if p1 == p0 {
		return span(x1)
	}
	return span(x0 + float64((u-p0)/(p1-p0)*(x1-x0)))
}

func (d *empiricalDist) CDF(x time.Duration) float64 {
	v := float64(x)
	if d.ps == nil {
		i := sort.Search(len(d.xs), func(i int) bool { return d.xs[i] > v })
		return float64(i) / float64(len(d.xs))
	}
	i := sort.Search(len(d.xs), func(i int) bool { return d.xs[i] > v })
	switch {
	case i == 0:
		return 0
	case i == len(d.xs):
		return 1
	}
	x0, x1 := d.xs[i-1], d.xs[i]
	p0, p1 := d.ps[i-1], d.ps[i]
	return p0 + float64((v-x0)/(x1-x0)*(p1-p0))
}

func (d *empiricalDist) String() string {
	if d.ps == nil {
		return fmt.Sprintf("empirical(%d samples)", len(d.xs))
	}
	return fmt.Sprintf("empirical(%d CDF points)", len(d.xs))
}

// ErrEmpirical is wrapped by errors reading an empirical distribution.
var ErrEmpirical = errors.New("bad empirical distribution")

// LoadEmpirical reads an empirical distribution from a CSV file. Each row
// holds a value, either a Go duration ("1.5ms") or a plain number of
// milliseconds, and optionally a second column with the cumulative
// probability at that value. With one column the values are samples drawn
// with equal probability; with two they are CDF points, ascending in both
// columns and ending at probability 1, interpolated linearly (the first
// point's probability is an atom at its value). Blank lines, lines
// starting with '#' and a first row that does not parse (a header) are
// skipped.
//
// Only a regular file of at most MaxEmpiricalBytes is read: a device
// (/dev/zero) or a named pipe is refused before it is opened.
func LoadEmpirical(path string) (Dist, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("load %s: %w: not a regular file", path, ErrEmpirical)
	}
	if st.Size() > MaxEmpiricalBytes {
		return nil, fmt.Errorf("load %s: %w: larger than %d bytes", path, ErrEmpirical, MaxEmpiricalBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: MaxEmpiricalBytes + 1}
	d, err := ReadEmpirical(lr)
	if err == nil && lr.N <= 0 {
		err = fmt.Errorf("%w: larger than %d bytes", ErrEmpirical, MaxEmpiricalBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return d, nil
}

// MaxEmpiricalBytes bounds the size of an empirical distribution file
// (a million samples take about 10 MB).
const MaxEmpiricalBytes = 64 << 20

// ReadEmpirical is LoadEmpirical over a reader.
func ReadEmpirical(r io.Reader) (Dist, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var xs, ps []float64
	cols := 0
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrEmpirical, err)
		}
		line, _ := cr.FieldPos(0)
		x, errX := parseValue(rec[0])
		if errX != nil {
			if row == 1 {
				continue // header
			}
			return nil, fmt.Errorf("%w: line %d: %v", ErrEmpirical, line, errX)
		}
		if cols == 0 {
			cols = len(rec)
			if cols > 2 {
				return nil, fmt.Errorf("%w: line %d: want 1 or 2 columns, got %d", ErrEmpirical, line, cols)
			}
		}
		if len(rec) != cols {
			return nil, fmt.Errorf("%w: line %d: want %d columns, got %d", ErrEmpirical, line, cols, len(rec))
		}
		if !(x >= 0) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: line %d: value %v is not a finite non-negative span", ErrEmpirical, line, rec[0])
		}
		xs = append(xs, x)
		if cols == 2 {
			p, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
			if err != nil || !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("%w: line %d: probability %q not in [0, 1]", ErrEmpirical, line, rec[1])
			}
			if n := len(ps); n > 0 && (p < ps[n-1] || x <= xs[n-1]) {
				return nil, fmt.Errorf("%w: line %d: CDF points must ascend in value and probability", ErrEmpirical, line)
			}
			ps = append(ps, p)
		}
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: no values", ErrEmpirical)
	}
	if cols == 1 {
		return newSamples(xs), nil
	}
	if math.Abs(ps[len(ps)-1]-1) > 1e-9 {
		return nil, fmt.Errorf("%w: last CDF point has probability %v, want 1", ErrEmpirical, ps[len(ps)-1])
	}
	ps[len(ps)-1] = 1
	return &empiricalDist{xs: xs, ps: ps}, nil
}

func parseValue(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v * 1e6, nil // milliseconds
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a duration nor a number of milliseconds", s)
	}
	return float64(d), nil
}
