package results

import (
	"math"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level of every confidence interval dsim reports.
const Confidence = 0.95

// Stat summarises one metric over the seeds of a sweep point.
type Stat struct {
	// N is the number of finite values summarised (NaNs are skipped).
	N int
	// Mean is the sample mean.
	Mean float64
	// SD is the sample standard deviation (n-1 denominator); NaN if N < 2.
	SD float64
	// CILow and CIHigh bound the Confidence interval of the mean, from
	// Student's t distribution with N-1 degrees of freedom; NaN if N < 2.
	CILow, CIHigh float64
}

// Describe returns the mean, standard deviation and the level confidence
// interval of the mean of xs, skipping NaNs: mean ± t(1-(1-level)/2, n-1) ·
// sd/√n. The t interval assumes the per-seed values are independent and
// roughly normal, which holds for means and rates over long runs and is
// approximate for tail percentiles.
func Describe(xs []float64, level float64) Stat {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	s := Stat{N: len(v), Mean: math.NaN(), SD: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	switch len(v) {
	case 0:
		return s
	case 1:
		s.Mean = v[0]
		return s
	}
	s.Mean, s.SD = stat.MeanStdDev(v, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(v) - 1)}.Quantile(1 - (1-level)/2)
	h := t * s.SD / math.Sqrt(float64(len(v)))
	s.CILow, s.CIHigh = s.Mean-h, s.Mean+h
	return s
}

// Params are a sweep point's parameter values in the experiment's
// parameter order: what identifies the point, and how reports, checks
// and error messages name it.
type Params []Param

// Label returns "name=value, name=value", or "all runs" for an
// experiment without sweep parameters.
func (ps Params) Label() string {
	if len(ps) == 0 {
		return "all runs"
	}
	parts := make([]string, len(ps))
	for i, q := range ps {
		parts[i] = q.Name + "=" + q.Value
	}
	return strings.Join(parts, ", ")
}

// Get returns the value of the named parameter.
func (ps Params) Get(name string) (string, bool) {
	for _, q := range ps {
		if q.Name == name {
			return q.Value, true
		}
	}
	return "", false
}

// pointKey identifies a sweep point.
func pointKey(ps []Param) string {
	var b strings.Builder
	for _, q := range ps {
		b.WriteString(q.Name)
		b.WriteByte(0)
		b.WriteString(q.Value)
		b.WriteByte(0)
	}
	return b.String()
}
