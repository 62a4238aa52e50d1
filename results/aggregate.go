package results

import (
	"encoding/gob"
	"io"
	"maps"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dsim-dev/dsim/sim"
	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is an experiment aggregated across seeds: for every sweep point
// the statistics of each metric, the time series averaged bucket by bucket
// with a confidence band, the latency distributions averaged quantile by
// quantile, the fault windows and the fault coverage summed over seeds.
// It is built once (by an Aggregator, run by run) and everything drawn or
// tabulated afterwards reads it; nothing re-aggregates runs.
type Summary struct {
	// Params are the swept parameters, in column order.
	Params []string
	// Points are the sweep points in the order their first run arrived.
	Points []Point
	// Runs is the number of runs folded in.
	Runs int
}

// Point is one sweep point and its statistics over the point's seeds.
type Point struct {
	// Params is the sweep point, values as in the experiment file.
	Params Params
	// N is the number of runs (seeds) at the point.
	N int
	// Metrics are sorted by name: every metric any of the runs has.
	Metrics []MetricStat
	// Series are the time series, sorted by name.
	Series []SeriesStat
	// CDFs are the latency distributions averaged over the seeds quantile
	// by quantile (each seed weighs the same), sorted by name.
	CDFs []Dist
	// Pooled are the distributions of all the point's samples (the runs'
	// HDR histograms merged), when the runs' histograms were added;
	// sorted by name.
	Pooled []Dist
	// Windows are the distinct fault windows of the point's runs, sorted.
	Windows []sim.Window
	// Coverage sums the fault coverage of the point's runs, window by
	// window, in window order with the "none" row last.
	Coverage []PointCoverage
}

// MetricStat is a Stat with the metric's name and labels (sorted by
// key).
type MetricStat struct {
	MetricID
	Stat
	// Zero is true when every run's value was 0 or missing.
	Zero bool
}

// SeriesStat is one time series averaged over the seeds of a point:
// Mean[i], Low[i] and High[i] cover simulated time [i·Step, (i+1)·Step);
// N[i] counts the seeds with a value there (NaN where none had one).
type SeriesStat struct {
	MetricID
	Step            time.Duration
	N               []int
	Mean, Low, High []float64
	// Zero is true when every value of every seed was 0 or missing.
	Zero bool
}

// PointCoverage is a fault window's coverage summed over Runs runs.
type PointCoverage struct {
	Coverage
	Runs int
}

// Metric returns the statistics of a metric named as experiment files
// name it ("attempts{tier=db}", labels in any order).
func (p *Point) Metric(name string) (Stat, bool) {
	return p.MetricOf(ParseID(name))
}

// MetricOf returns the statistics of the metric id.
func (p *Point) MetricOf(id MetricID) (Stat, bool) {
	id = id.Canonical()
	i := sort.Search(len(p.Metrics), func(i int) bool { return !p.Metrics[i].less(id) })
	if i < len(p.Metrics) && p.Metrics[i].Same(id) {
		return p.Metrics[i].Stat, true
	}
	return Stat{}, false
}

// sortIDs sorts metric IDs with MetricID.less.
func sortIDs(ids []MetricID) {
	sort.Slice(ids, func(i, j int) bool { return ids[i].less(ids[j]) })
}

// Param returns the value of the named parameter at this point.
func (p *Point) Param(name string) (string, bool) { return p.Params.Get(name) }

// Label returns "name=value, name=value", or "all runs" without parameters.
func (p *Point) Label() string { return p.Params.Label() }

// maxWindows bounds the distinct fault windows kept per sweep point, so
// that faults drawn at random per seed cannot grow the summary without
// limit; later windows are counted in Summary but not listed.
const maxWindows = 256

// Aggregator folds runs into a Summary one at a time. Memory depends on
// the number of sweep points, metrics, series buckets and quantiles, never
// on the number of runs: scalars go into Welford accumulators, series into
// exact fixed-point sums (SeriesAcc), distributions into per-quantile
// sums.
//
//	agg := results.NewAggregator(params)
//	for each finished run, in index order: agg.Add(&run)
//	sum := agg.Summary()
//
// Scalar statistics depend on the order runs are added (floating point);
// add them in index order for reproducible bytes. Series sums do not.
type Aggregator struct {
	params []string
	points []*pointAcc
	byKey  map[string]int
	series *SeriesAcc
	runs   int
	// noSeries skips Run.Series (the runner feeds series separately).
	noSeries bool
}

type pointAcc struct {
	params  []Param
	n       int
	metrics map[string]*welford // by MetricID.key
	cdfs    map[string]*cdfAcc
	windows map[sim.Window]bool
	cover   map[sim.Window]*PointCoverage
}

type welford struct {
	id      MetricID // labels sorted
	n       int
	mean, m float64
	nonZero bool
}

func (w *welford) add(x float64) {
	if math.IsNaN(x) {
		return
	}
	if x != 0 {
		w.nonZero = true
	}
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m += d * (x - w.mean)
}

func (w *welford) stat() Stat {
	s := Stat{N: w.n, Mean: math.NaN(), SD: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	switch {
	case w.n == 0:
		return s
	case w.n == 1:
		s.Mean = w.mean
		return s
	}
	s.Mean = w.mean
	if !w.nonZero {
		s.Mean = 0 // exactly, so Zero reads back from summary.csv
	}
	s.SD = math.Sqrt(math.Max(w.m, 0) / float64(w.n-1))
	h := tQuantile(w.n-1) * s.SD / math.Sqrt(float64(w.n))
	if math.IsInf(w.mean, 0) {
		h = math.NaN()
	}
	s.CILow, s.CIHigh = s.Mean-h, s.Mean+h
	return s
}

var tCache = map[int]float64{}

// tQuantile is Student's t quantile for the two-sided Confidence interval
// with df degrees of freedom.
func tQuantile(df int) float64 {
	if v, ok := tCache[df]; ok {
		return v
	}
	v := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-Confidence)/2)
	if len(tCache) < 4096 {
		tCache[df] = v
	}
	return v
}

type cdfAcc struct {
	id  MetricID // labels sorted
	q   []float64
	sum []float64
	n   int
}

// NewAggregator returns an empty aggregator for the given swept
// parameters.
func NewAggregator(params []string) *Aggregator {
	return &Aggregator{params: params, byKey: map[string]int{}, series: NewSeriesAcc()}
}

// SkipSeries makes Add ignore Run.Series; the caller folds series into
// Series() itself (the runner does, as runs finish, in any order).
func (a *Aggregator) SkipSeries() { a.noSeries = true }

// Series returns the aggregator's series accumulator.
func (a *Aggregator) Series() *SeriesAcc { return a.series }

// SetSeries replaces the series accumulator (one read back from disk).
func (a *Aggregator) SetSeries(s *SeriesAcc) { a.series = s }

func (a *Aggregator) point(ps []Param) *pointAcc {
	k := pointKey(ps)
	j, ok := a.byKey[k]
	if !ok {
		j = len(a.points)
		a.byKey[k] = j
		a.points = append(a.points, &pointAcc{params: append([]Param(nil), ps...), metrics: map[string]*welford{},
			cdfs: map[string]*cdfAcc{}, windows: map[sim.Window]bool{}, cover: map[sim.Window]*PointCoverage{}})
	}
	return a.points[j]
}

// Add folds one run in.
func (a *Aggregator) Add(r *Run) {
	a.runs++
	p := a.point(r.Params)
	p.n++
	for _, m := range r.Metrics {
		k := m.key()
		w, ok := p.metrics[k]
		if !ok {
			w = &welford{id: m.Canonical()}
			p.metrics[k] = w
		}
		w.add(m.Value)
	}
	for _, d := range r.Dists {
		k := d.key()
		c, ok := p.cdfs[k]
		if !ok {
			c = &cdfAcc{id: d.Canonical()}
			for _, q := range d.Points {
				c.q = append(c.q, q.Q)
			}
			c.sum = make([]float64, len(c.q))
			p.cdfs[k] = c
		}
		if len(d.Points) != len(c.q) {
			continue
		}
		for i, q := range d.Points {
			c.sum[i] += q.ValueMs
		}
		c.n++
	}
	for _, w := range r.Faults {
		if len(p.windows) < maxWindows {
			p.windows[w] = true
		}
	}
	for _, c := range r.Coverage {
		pc, ok := p.cover[c.Window]
		if !ok {
			if len(p.cover) >= maxWindows && c.Window.Kind != "none" {
				continue
			}
			pc = &PointCoverage{Coverage: Coverage{Window: c.Window}}
			p.cover[c.Window] = pc
		}
		pc.Runs++
		pc.Attempted += c.Attempted
		pc.Succeeded += c.Succeeded
		pc.Failed += c.Failed
		pc.TimedOut += c.TimedOut
	}
	if !a.noSeries {
		a.series.Add(r.Params, r.Series)
	}
}

// Summary returns the statistics of everything added so far.
func (a *Aggregator) Summary() *Summary {
	s := &Summary{Params: append([]string(nil), a.params...), Runs: a.runs}
	for _, p := range a.points {
		pt := Point{Params: p.params, N: p.n}
		ws := make([]*welford, 0, len(p.metrics))
		for _, w := range p.metrics {
			ws = append(ws, w)
		}
		sort.Slice(ws, func(i, j int) bool { return ws[i].id.less(ws[j].id) })
		for _, w := range ws {
			st := w.stat()
			pt.Metrics = append(pt.Metrics, MetricStat{MetricID: w.id, Stat: st, Zero: isZeroStat(st)})
		}
		for _, k := range slices.Sorted(maps.Keys(p.cdfs)) {
			c := p.cdfs[k]
			if c.n == 0 {
				continue
			}
			d := Dist{MetricID: c.id, Points: make([]Quantile, len(c.q))}
			for i := range c.q {
				d.Points[i] = Quantile{Q: c.q[i], ValueMs: c.sum[i] / float64(c.n)}
			}
			pt.CDFs = append(pt.CDFs, d)
		}
		for w := range p.windows {
			pt.Windows = append(pt.Windows, w)
		}
		sim.SortWindows(pt.Windows)
		var none *PointCoverage
		for w, c := range p.cover {
			if w.Kind == "none" {
				none = c
				continue
			}
			pt.Coverage = append(pt.Coverage, *c)
		}
		slices.SortFunc(pt.Coverage, func(a, b PointCoverage) int { return sim.CompareWindows(a.Window, b.Window) })
		if none != nil {
			pt.Coverage = append(pt.Coverage, *none)
		}
		pt.Series = a.series.Stats(p.params)
		pt.Pooled = a.series.Pooled(p.params)
		s.Points = append(s.Points, pt)
	}
	return s
}

// Aggregate summarises runs (in the given order) with an Aggregator.
func Aggregate(params []string, runs []Run) *Summary {
	a := NewAggregator(params)
	for i := range runs {
		a.Add(&runs[i])
	}
	return a.Summary()
}

// SeriesScale is the fixed-point resolution of series aggregation: values
// are summed as integers in units of 1/SeriesScale, so sums are exact and
// do not depend on the order runs arrive in (shards and resumed runs give
// the same bytes). 10⁻⁶ of a unit is far below anything a plot shows.
const SeriesScale = 1e6

// seriesLimit is the largest magnitude a series value may have before it
// is clamped (the fixed-point value must fit an int64).
const seriesLimit = 9e12

// SeriesAcc sums time series over runs, per sweep point, series name and
// bucket width, exactly: for every bucket the count of values, their sum
// and the sum of their squares in 128-bit fixed point. Adding runs in any
// order, or merging accumulators of disjoint runs, gives identical state.
type SeriesAcc struct {
	entries map[seriesKey]*seriesCells
	hists   map[histKey]*pooledHist
	// Included lists the run indexes folded in, when the caller tracks
	// them (the runner does, to resume and merge).
	Included map[int]bool

	pointParams map[string][]Param
}

type seriesKey struct {
	point string
	name  string // MetricID.key
	step  time.Duration
}

type seriesCells struct {
	id     MetricID // labels sorted
	params []Param
	n      []int64
	sumHi  []int64
	sumLo  []uint64
	sqHi   []uint64
	sqLo   []uint64
}

type histKey struct{ point, name string } // name: MetricID.key

// pooledHist is the merged histogram of one metric at one sweep point.
type pooledHist struct {
	id MetricID // labels sorted
	h  *hdrhistogram.Histogram
}

// NewSeriesAcc returns an empty accumulator.
func NewSeriesAcc() *SeriesAcc {
	return &SeriesAcc{entries: map[seriesKey]*seriesCells{}, hists: map[histKey]*pooledHist{}, Included: map[int]bool{}}
}

// AddHists merges one run's latency histograms at the given sweep point.
// Merging HDR histograms adds counts, so it too is exact and order-free.
func (s *SeriesAcc) AddHists(params []Param, hs []Hist) {
	pk := pointKey(params)
	for _, h := range hs {
		k := histKey{pk, h.key()}
		m, ok := s.hists[k]
		if !ok {
			m = &pooledHist{id: h.Canonical(), h: hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: h.H.LowestTrackableValue(),
				HighestTrackableValue: h.H.HighestTrackableValue(), SignificantFigures: h.H.SignificantFigures(),
				Counts: make([]int64, len(h.H.Export().Counts))})}
			s.hists[k] = m
			s.histParams(k, params)
		}
		m.h.Merge(h.H)
	}
}

// histParams remembers the parameters of a point key.
func (s *SeriesAcc) histParams(k histKey, params []Param) {
	if s.pointParams == nil {
		s.pointParams = map[string][]Param{}
	}
	if _, ok := s.pointParams[k.point]; !ok {
		s.pointParams[k.point] = append([]Param(nil), params...)
	}
}

// Pooled returns the pooled latency distributions of one sweep point: the
// merged histograms of its runs, sampled at Quantiles, sorted by name.
func (s *SeriesAcc) Pooled(params []Param) []Dist {
	pk := pointKey(params)
	var phs []*pooledHist
	for k, ph := range s.hists {
		if k.point == pk {
			phs = append(phs, ph)
		}
	}
	sort.Slice(phs, func(i, j int) bool { return phs[i].id.less(phs[j].id) })
	var out []Dist
	for _, ph := range phs {
		h := ph.h
		if h.TotalCount() == 0 {
			continue
		}
		d := Dist{MetricID: ph.id, Points: make([]Quantile, len(Quantiles))}
		mx := h.Max()
		for i, q := range Quantiles {
			v := h.ValueAtPercentile(q * 100)
			if q == 1 || v > mx {
				v = mx
			}
			d.Points[i] = Quantile{Q: q, ValueMs: ms(v)}
		}
		out = append(out, d)
	}
	return out
}

func (c *seriesCells) grow(n int) {
	for len(c.n) < n {
		c.n = append(c.n, 0)
		c.sumHi = append(c.sumHi, 0)
		c.sumLo = append(c.sumLo, 0)
		c.sqHi = append(c.sqHi, 0)
		c.sqLo = append(c.sqLo, 0)
	}
}

// Add folds one run's series at the given sweep point.
func (s *SeriesAcc) Add(params []Param, series []Series) {
	pk := pointKey(params)
	for _, ser := range series {
		k := seriesKey{pk, ser.key(), ser.Step}
		c, ok := s.entries[k]
		if !ok {
			c = &seriesCells{id: ser.Canonical(), params: append([]Param(nil), params...)}
			s.entries[k] = c
		}
		c.grow(len(ser.Values))
		for i, v := range ser.Values {
			if math.IsNaN(v) {
				continue
			}
			v = math.Max(-seriesLimit, math.Min(seriesLimit, v))
			q := int64(math.Round(v * SeriesScale))
			c.n[i]++
			var carry uint64
			c.sumLo[i], carry = bits.Add64(c.sumLo[i], uint64(q), 0)
			ext := int64(0)
			if q < 0 {
				ext = -1
			}
			c.sumHi[i] += ext + int64(carry)
			a := uint64(q)
			if q < 0 {
				a = uint64(-q)
			}
			hi, lo := bits.Mul64(a, a)
			c.sqLo[i], carry = bits.Add64(c.sqLo[i], lo, 0)
			c.sqHi[i] += hi + carry
		}
	}
}

// Merge adds the sums of another accumulator of disjoint runs.
func (s *SeriesAcc) Merge(o *SeriesAcc) {
	for k, oc := range o.entries {
		c, ok := s.entries[k]
		if !ok {
			c = &seriesCells{id: oc.id, params: oc.params}
			s.entries[k] = c
		}
		c.grow(len(oc.n))
		for i := range oc.n {
			var carry uint64
			c.n[i] += oc.n[i]
			c.sumLo[i], carry = bits.Add64(c.sumLo[i], oc.sumLo[i], 0)
			c.sumHi[i] += oc.sumHi[i] + int64(carry)
			c.sqLo[i], carry = bits.Add64(c.sqLo[i], oc.sqLo[i], 0)
			c.sqHi[i] += oc.sqHi[i] + carry
		}
	}
	for k, oh := range o.hists {
		h, ok := s.hists[k]
		if !ok {
			h = &pooledHist{id: oh.id, h: hdrhistogram.Import(oh.h.Export())}
			h.h.Reset()
			s.hists[k] = h
			s.histParams(k, o.pointParams[k.point])
		}
		h.h.Merge(oh.h)
	}
	for i := range o.Included {
		s.Included[i] = true
	}
}

func i128(hi int64, lo uint64) *big.Int {
	b := new(big.Int).SetInt64(hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(lo))
}

func u128(hi, lo uint64) *big.Int {
	b := new(big.Int).SetUint64(hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(lo))
}

// Stats returns the series of one sweep point, sorted by name then step,
// with per-bucket mean and Confidence interval.
func (s *SeriesAcc) Stats(params []Param) []SeriesStat {
	pk := pointKey(params)
	var keys []seriesKey
	for k := range s.entries {
		if k.point == pk {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return s.entries[keys[i]].id.less(s.entries[keys[j]].id)
		}
		return keys[i].step < keys[j].step
	})
	scale := new(big.Float).SetFloat64(SeriesScale)
	var out []SeriesStat
	for _, k := range keys {
		c := s.entries[k]
		st := SeriesStat{MetricID: c.id, Step: k.step, N: make([]int, len(c.n)), Mean: make([]float64, len(c.n)),
			Low: make([]float64, len(c.n)), High: make([]float64, len(c.n)), Zero: true}
		for i := range c.n {
			n := c.n[i]
			st.N[i] = int(n)
			st.Mean[i], st.Low[i], st.High[i] = math.NaN(), math.NaN(), math.NaN()
			if n == 0 {
				continue
			}
			if c.sqHi[i] != 0 || c.sqLo[i] != 0 {
				st.Zero = false
			}
			sum := i128(c.sumHi[i], c.sumLo[i])
			mean, _ := new(big.Float).Quo(new(big.Float).SetInt(sum), new(big.Float).Mul(scale, new(big.Float).SetInt64(n))).Float64()
			st.Mean[i] = mean
			if n < 2 {
				continue
			}
			// var = (n·Σq² − (Σq)²) / (n(n−1)), exact in integers.
			num := new(big.Int).Mul(big.NewInt(n), u128(c.sqHi[i], c.sqLo[i]))
			num.Sub(num, new(big.Int).Mul(sum, sum))
			if num.Sign() < 0 {
				num.SetInt64(0)
			}
			v, _ := new(big.Float).Quo(new(big.Float).SetInt(num), new(big.Float).SetInt64(n*(n-1))).Float64()
			sd := math.Sqrt(v) / SeriesScale
			h := tQuantile(int(n-1)) * sd / math.Sqrt(float64(n))
			st.Low[i], st.High[i] = mean-h, mean+h
		}
		out = append(out, st)
	}
	return out
}

// seriesFormat is the version of seriesFile: 2 since labels are stored
// apart from names.
const seriesFormat = 2

// seriesFile is the stored form of a SeriesAcc.
type seriesFile struct {
	Format   int
	Included []int
	Entries  []seriesEntry
	Hists    []histEntry
}

// histEntry is a merged histogram, its counts stored sparsely: the
// index of each non-zero count (delta from the previous one) and the
// count.
type histEntry struct {
	Params []Param
	MetricID
	Lowest, Highest, Digits int64
	Len                     int
	Gaps                    []int64
	Counts                  []int64
}

// SparseHist is the stored form of a run's histograms (see
// EncodeHists).
type SparseHist = histEntry

// EncodeHists returns histograms in a compact, storable form.
func EncodeHists(hs []Hist) []SparseHist {
	var out []SparseHist
	for _, h := range hs {
		out = append(out, sparse(nil, h.MetricID, h.H))
	}
	return out
}

// DecodeHists rebuilds what EncodeHists stored.
func DecodeHists(ss []SparseHist) []Hist {
	var out []Hist
	for _, e := range ss {
		out = append(out, Hist{MetricID: e.MetricID, H: dense(e)})
	}
	return out
}

func sparse(params []Param, id MetricID, h *hdrhistogram.Histogram) histEntry {
	snap := h.Export()
	e := histEntry{Params: params, MetricID: id, Lowest: snap.LowestTrackableValue, Highest: snap.HighestTrackableValue,
		Digits: snap.SignificantFigures, Len: len(snap.Counts)}
	prev := int64(-1)
	for i, c := range snap.Counts {
		if c != 0 {
			e.Gaps = append(e.Gaps, int64(i)-prev)
			e.Counts = append(e.Counts, c)
			prev = int64(i)
		}
	}
	return e
}

func dense(e histEntry) *hdrhistogram.Histogram {
	counts := make([]int64, e.Len)
	i := int64(-1)
	for k, g := range e.Gaps {
		i += g
		if i >= 0 && i < int64(len(counts)) {
			counts[i] = e.Counts[k]
		}
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: e.Lowest, HighestTrackableValue: e.Highest,
		SignificantFigures: e.Digits, Counts: counts})
}

type seriesEntry struct {
	Params []Param
	MetricID
	Step  time.Duration
	N     []int64
	SumHi []int64
	SumLo []uint64
	SqHi  []uint64
	SqLo  []uint64
}

// Export returns the accumulator in a canonical, sorted form for storage.
func (s *SeriesAcc) export() seriesFile {
	f := seriesFile{Format: seriesFormat}
	for i := range s.Included {
		f.Included = append(f.Included, i)
	}
	sort.Ints(f.Included)
	keys := make([]seriesKey, 0, len(s.entries))
	for k := range s.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.point != b.point {
			return a.point < b.point
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.step < b.step
	})
	for _, k := range keys {
		c := s.entries[k]
		f.Entries = append(f.Entries, seriesEntry{Params: c.params, MetricID: c.id, Step: k.step,
			N: c.n, SumHi: c.sumHi, SumLo: c.sumLo, SqHi: c.sqHi, SqLo: c.sqLo})
	}
	hk := make([]histKey, 0, len(s.hists))
	for k := range s.hists {
		hk = append(hk, k)
	}
	sort.Slice(hk, func(i, j int) bool {
		if hk[i].point != hk[j].point {
			return hk[i].point < hk[j].point
		}
		return hk[i].name < hk[j].name
	})
	for _, k := range hk {
		ph := s.hists[k]
		f.Hists = append(f.Hists, sparse(s.pointParams[k.point], ph.id, ph.h))
	}
	return f
}

func importSeries(f seriesFile) *SeriesAcc {
	s := NewSeriesAcc()
	for _, i := range f.Included {
		s.Included[i] = true
	}
	for _, e := range f.Entries {
		s.entries[seriesKey{pointKey(e.Params), e.key(), e.Step}] = &seriesCells{id: e.Canonical(), params: e.Params,
			n: e.N, sumHi: e.SumHi, sumLo: e.SumLo, sqHi: e.SqHi, sqLo: e.SqLo}
	}
	for _, e := range f.Hists {
		k := histKey{pointKey(e.Params), e.key()}
		s.hists[k] = &pooledHist{id: e.Canonical(), h: dense(e)}
		s.histParams(k, e.Params)
	}
	return s
}

func init() {
	// gob numbers types in the order a process first meets them, and the
	// numbers are part of the bytes. Meeting the stored types here, in a
	// fixed order, makes the stored series sums the same bytes in every
	// process (a run, a resumed run, a merge).
	if err := gob.NewEncoder(io.Discard).Encode(seriesFile{Entries: []seriesEntry{{Params: []Param{{}}, MetricID: MetricID{Labels: Labels{{}}}}},
		Hists: []histEntry{{Params: []Param{{}}, MetricID: MetricID{Labels: Labels{{}}}}}}); err != nil {
		panic("results: the series sums do not encode: " + err.Error())
	}
}
