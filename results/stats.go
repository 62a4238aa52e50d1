package results

import (
	"math"
	"sort"
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

// MetricStat is a Stat with the metric's name.
type MetricStat struct {
	Name string
	Stat
}

// Point is one sweep point: its parameters, its runs and the statistics of
// every metric over them.
type Point struct {
	Params []Param
	// Runs are the indexes (Run.Index) of the point's runs, in order.
	Runs []int
	// Seeds are the runs' seeds.
	Seeds []uint64
	// Metrics are sorted by name: every metric any of the runs has.
	Metrics []MetricStat
}

// Metric returns the statistics of the named metric.
func (p *Point) Metric(name string) (Stat, bool) {
	i := sort.Search(len(p.Metrics), func(i int) bool { return p.Metrics[i].Name >= name })
	if i < len(p.Metrics) && p.Metrics[i].Name == name {
		return p.Metrics[i].Stat, true
	}
	return Stat{}, false
}

// Param returns the value of the named parameter at this point.
func (p *Point) Param(name string) (string, bool) {
	for _, q := range p.Params {
		if q.Name == name {
			return q.Value, true
		}
	}
	return "", false
}

// Label returns "name=value, name=value", or "all runs" without parameters.
func (p *Point) Label() string { return paramsLabel(p.Params) }

func paramsLabel(ps []Param) string {
	if len(ps) == 0 {
		return "all runs"
	}
	parts := make([]string, len(ps))
	for i, q := range ps {
		parts[i] = q.Name + "=" + q.Value
	}
	return strings.Join(parts, ", ")
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

// Aggregate groups runs by sweep point, in the order each point first
// appears, and summarises every metric across each point's seeds. A metric
// missing from a run counts as NaN there.
func Aggregate(runs []Run) []Point {
	var pts []*Point
	byKey := map[string]int{}
	var members [][]*Run
	for i := range runs {
		r := &runs[i]
		k := pointKey(r.Params)
		j, ok := byKey[k]
		if !ok {
			j = len(pts)
			byKey[k] = j
			pts = append(pts, &Point{Params: r.Params})
			members = append(members, nil)
		}
		pts[j].Runs = append(pts[j].Runs, r.Index)
		pts[j].Seeds = append(pts[j].Seeds, r.Seed)
		members[j] = append(members[j], r)
	}
	out := make([]Point, len(pts))
	for j, p := range pts {
		names := metricNames(members[j])
		xs := make([]float64, len(members[j]))
		for _, name := range names {
			for k, r := range members[j] {
				v, ok := r.Metric(name)
				if !ok {
					v = math.NaN()
				}
				xs[k] = v
			}
			p.Metrics = append(p.Metrics, MetricStat{Name: name, Stat: Describe(xs, Confidence)})
		}
		out[j] = *p
	}
	return out
}

// metricNames returns the sorted union of the runs' metric names.
func metricNames(runs []*Run) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range runs {
		for _, m := range r.Metrics {
			if !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}
