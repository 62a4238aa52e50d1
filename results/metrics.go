package results

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/dsim-dev/dsim/sim"
)

// Clock is anything that tells the simulated time; *sim.Engine is one.
type Clock interface {
	Now() sim.Time
}

// Config holds the recorder's parameters.
type Config struct {
	// Bucket is the width of one time-series bucket in simulated time.
	// Narrower buckets show faster dynamics and cost more memory and
	// rows in timeseries.csv.
	Bucket time.Duration `yaml:"bucket" json:"bucket"`
	// Warmup is the span at the start of the run excluded from the scalar
	// metrics (percentiles, totals, rates), so start-up transients do not
	// bias them. Time series still cover the whole run.
	Warmup time.Duration `yaml:"warmup" json:"warmup"`
	// SignificantDigits is the precision of latency histograms: a
	// recorded value is kept to within a relative error of
	// 10^-SignificantDigits. 3 keeps 0.1% at about 270 KB per histogram.
	SignificantDigits int `yaml:"significant_digits" json:"significant_digits"`
	// MaxLatency is the largest span a histogram tracks; longer samples
	// are recorded as MaxLatency.
	MaxLatency time.Duration `yaml:"max_latency" json:"max_latency"`
	// MaxBuckets bounds the buckets per time series. When a run outgrows
	// it, every series merges adjacent buckets pairwise and the bucket
	// width doubles, so memory stays bounded whatever the run length.
	MaxBuckets int `yaml:"max_buckets" json:"max_buckets"`
}

// DefaultConfig returns 100 ms buckets, no warm-up, 3 significant digits,
// latencies up to one hour and at most 100,000 buckets per series.
func DefaultConfig() Config {
	return Config{
		Bucket:            100 * time.Millisecond,
		SignificantDigits: 3,
		MaxLatency:        time.Hour,
		MaxBuckets:        100_000,
	}
}

// Validate checks the config; paths use the YAML field names.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	if c.Bucket <= 0 {
		fe.Add("bucket", "must be positive, got %v", c.Bucket)
	}
	if c.Warmup < 0 {
		fe.Add("warmup", "must not be negative, got %v", c.Warmup)
	}
	if c.SignificantDigits < 1 || c.SignificantDigits > 5 {
		fe.Add("significant_digits", "must be between 1 and 5, got %d", c.SignificantDigits)
	}
	if c.MaxLatency < time.Millisecond {
		fe.Add("max_latency", "must be at least 1ms, got %v", c.MaxLatency)
	}
	if c.MaxBuckets < 16 {
		fe.Add("max_buckets", "must be at least 16, got %d", c.MaxBuckets)
	}
	return fe.Err()
}

// Recorder collects one run's metrics. It implements sim.Metrics: give it
// to sim.Config.Metrics, then Bind it to the engine so it can read the
// simulated clock, and call Finish when the run is over.
//
// Handles (Counter, Gauge, Histogram) are created on first use of a name
// and set of labels, and returned again for the same name and labels;
// fetch them once, at setup, and record through them on the hot path.
// Names are snake_case; labels stay a separate dimension all the way to
// the label columns of the CSV files: the counter "attempts" with tier=api
// gives the metrics "attempts" and "attempts_rps", both with tier=api.
//
// A Recorder is not safe for concurrent use, like the engine it serves.
type Recorder struct {
	cfg      Config
	clock    Clock
	warm     sim.Time // end of the warm-up span
	width    int64    // current bucket width in ns
	maxB     int
	counters map[string]*counter // by MetricID.key
	gauges   map[string]*gauge
	hists    map[string]*histogram
	nbuckets int // largest bucket count of any series
	// The bucket of the latest sample and its span [curStart, curEnd):
	// simulated time only moves forward, so nearly every sample falls in
	// it and needs no division.
	curB             int
	curStart, curEnd sim.Time
}

var _ sim.Metrics = (*Recorder)(nil)

// NewRecorder returns a recorder with the given config. It panics if the
// config is invalid: validate user input first.
func NewRecorder(cfg Config) *Recorder {
	if err := cfg.Validate(); err != nil {
		panic("results: NewRecorder: " + err.Error())
	}
	return &Recorder{
		cfg:      cfg,
		clock:    zeroClock{},
		warm:     sim.Time(cfg.Warmup),
		width:    int64(cfg.Bucket),
		maxB:     cfg.MaxBuckets,
		counters: map[string]*counter{},
		gauges:   map[string]*gauge{},
		hists:    map[string]*histogram{},
	}
}

type zeroClock struct{}

func (zeroClock) Now() sim.Time { return 0 }

// Bind sets the clock the recorder reads, usually the *sim.Engine. Before
// Bind every sample is recorded at time 0.
func (r *Recorder) Bind(c Clock) { r.clock = c }

// Config returns the recorder's config.
func (r *Recorder) Config() Config { return r.cfg }

// newID copies a handle's name and labels (the caller may reuse its
// slice) and returns them with their map key.
func newID(name string, labels []sim.Label) (MetricID, string) {
	id := MetricID{Name: name}
	if len(labels) > 0 {
		id.Labels = append(Labels(nil), labels...)
	}
	return id, id.key()
}

// Counter returns the counter with the given name and labels.
func (r *Recorder) Counter(name string, labels ...sim.Label) sim.Counter {
	id, k := newID(name, labels)
	c, ok := r.counters[k]
	if !ok {
		c = &counter{r: r, id: id}
		r.counters[k] = c
	}
	return c
}

// Gauge returns the gauge with the given name and labels.
func (r *Recorder) Gauge(name string, labels ...sim.Label) sim.Gauge {
	id, k := newID(name, labels)
	g, ok := r.gauges[k]
	if !ok {
		g = &gauge{r: r, id: id, last: math.NaN(), max: math.Inf(-1)}
		r.gauges[k] = g
	}
	return g
}

// Histogram returns the latency histogram with the given name and
// labels.
func (r *Recorder) Histogram(name string, labels ...sim.Label) sim.Histogram {
	id, k := newID(name, labels)
	h, ok := r.hists[k]
	if !ok {
		h = &histogram{
			r:   r,
			id:  id,
			h:   hdrhistogram.New(1, int64(r.cfg.MaxLatency), r.cfg.SignificantDigits),
			max: int64(r.cfg.MaxLatency),
		}
		r.hists[k] = h
	}
	return h
}

// bucket returns the time-series bucket of now, widening every series if
// the run has outgrown MaxBuckets.
func (r *Recorder) bucket(now sim.Time) int {
	if now >= r.curStart && now < r.curEnd {
		return r.curB
	}
	return r.newBucket(now)
}

func (r *Recorder) newBucket(now sim.Time) int {
	b := int(int64(now) / r.width)
	for b >= r.maxB {
		r.widen()
		b = int(int64(now) / r.width)
	}
	if b >= r.nbuckets {
		r.nbuckets = b + 1
	}
	r.curB, r.curStart = b, sim.Time(int64(b)*r.width)
	r.curEnd = r.curStart + sim.Time(r.width)
	return b
}

// widen doubles the bucket width, merging adjacent buckets of every
// series.
func (r *Recorder) widen() {
	r.width *= 2
	r.curEnd = r.curStart // the cached bucket no longer exists
	for _, c := range r.counters {
		c.series = mergeSum(c.series)
	}
	for _, h := range r.hists {
		h.sum = mergeSum(h.sum)
		h.cnt = mergeSum(h.cnt)
	}
	for _, g := range r.gauges {
		n := (len(g.series) + 1) / 2
		for i := 0; i < n; i++ {
			v := g.series[2*i]
			if 2*i+1 < len(g.series) && !math.IsNaN(g.series[2*i+1]) {
				v = g.series[2*i+1]
			}
			g.series[i] = v
		}
		g.series = g.series[:n]
	}
	r.nbuckets = (r.nbuckets + 1) / 2
}

func mergeSum(s []int64) []int64 {
	n := (len(s) + 1) / 2
	for i := 0; i < n; i++ {
		v := s[2*i]
		if 2*i+1 < len(s) {
			v += s[2*i+1]
		}
		s[i] = v
	}
	return s[:n]
}

func growInt(s []int64, b int) []int64 {
	for len(s) <= b {
		s = append(s, 0)
	}
	return s
}

type counter struct {
	r      *Recorder
	id     MetricID
	total  int64 // after warm-up
	series []int64
}

// Add increases the counter by n.
func (c *counter) Add(n int64) {
	now := c.r.clock.Now()
	b := c.r.bucket(now)
	if b >= len(c.series) {
		c.series = growInt(c.series, b)
	}
	c.series[b] += n
	if now >= c.r.warm {
		c.total += n
	}
}

type gauge struct {
	r      *Recorder
	id     MetricID
	last   float64  // latest value, NaN before the first Set
	lastAt sim.Time // when last was set (clamped to the warm-up end)
	area   float64  // integral of the value over measured time, value·ns
	span   int64    // measured ns covered by area
	max    float64
	series []float64 // last value set in each bucket, NaN if none
}

// Set records the gauge's current value.
func (g *gauge) Set(v float64) {
	now := g.r.clock.Now()
	b := g.r.bucket(now)
	for len(g.series) <= b {
		g.series = append(g.series, math.NaN())
	}
	g.series[b] = v
	g.advance(now)
	if now >= g.r.warm && v > g.max {
		g.max = v
	}
	g.last = v
}

// advance accumulates the time-weighted area up to now.
func (g *gauge) advance(now sim.Time) {
	if now < g.r.warm {
		g.lastAt = g.r.warm
		return
	}
	if !math.IsNaN(g.last) && now > g.lastAt {
		d := int64(now - g.lastAt)
		g.area += g.last * float64(d)
		g.span += d
	}
	if now > g.lastAt {
		g.lastAt = now
	}
}

type histogram struct {
	r      *Recorder
	id     MetricID
	h      *hdrhistogram.Histogram
	max    int64
	sum    []int64 // per bucket: sum of samples in ns
	cnt    []int64 // per bucket: number of samples
	total  int64   // ns, after warm-up
	maxRec int64   // exact largest sample after warm-up
}

// Record adds one latency sample. It does not allocate once the current
// time-series bucket exists.
func (h *histogram) Record(d time.Duration) {
	now := h.r.clock.Now()
	v := int64(d)
	if v < 0 {
		v = 0
	} else if v > h.max {
		v = h.max
	}
	b := h.r.bucket(now)
	if b >= len(h.cnt) {
		h.sum = growInt(h.sum, b)
		h.cnt = growInt(h.cnt, b)
	}
	h.sum[b] += v
	h.cnt[b]++
	if now < h.r.warm {
		return
	}
	_ = h.h.RecordValue(v) // cannot fail: v is within [0, max]
	h.total += v
	if v > h.maxRec {
		h.maxRec = v
	}
}

// Labels are a metric's dimensions (tier=db, status=ok), in the order
// the recording code gave them.
type Labels []sim.Label

// String returns the labels as experiment files write them after a
// metric's name, "{tier=db,status=ok}", or "" without labels.
func (ls Labels) String() string {
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Key)
		b.WriteByte('=')
		b.WriteString(l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// Get returns the value of the label with the given key.
func (ls Labels) Get(key string) (string, bool) {
	for _, l := range ls {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// Sorted returns the labels sorted by key: ls itself when they are
// already, else a sorted copy.
func (ls Labels) Sorted() Labels {
	if slices.IsSortedFunc(ls, cmpLabel) {
		return ls
	}
	c := slices.Clone(ls)
	slices.SortStableFunc(c, cmpLabel)
	return c
}

func cmpLabel(a, b sim.Label) int { return strings.Compare(a.Key, b.Key) }

// MetricID identifies one metric: its name ("attempts_rps") and its
// labels (tier=db).
type MetricID struct {
	Name   string
	Labels Labels
}

// FullName returns the metric as experiment files name it in checks and
// plots: "attempts_rps{tier=db}", labels in their order.
func (id MetricID) FullName() string { return id.Name + id.Labels.String() }

// Canonical returns the ID with its labels sorted by key. Aggregation
// keys metrics this way, so that label order never splits a metric.
func (id MetricID) Canonical() MetricID {
	id.Labels = id.Labels.Sorted()
	return id
}

// key is the canonical full name, for map keys.
func (id MetricID) key() string { return id.Canonical().FullName() }

// Same reports whether two IDs name the same metric (labels in any
// order).
func (id MetricID) Same(o MetricID) bool {
	if id.Name != o.Name || len(id.Labels) != len(o.Labels) {
		return false
	}
	a, b := id.Labels.Sorted(), o.Labels.Sorted()
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Matches reports whether id is one of the metrics o names when o leaves
// labels out: the same name, and every label of o among id's. An o with
// every label of id is the same metric.
func (id MetricID) Matches(o MetricID) bool {
	if id.Name != o.Name || len(o.Labels) > len(id.Labels) {
		return false
	}
	for _, l := range o.Labels {
		if v, ok := id.Labels.Get(l.Key); !ok || v != l.Value {
			return false
		}
	}
	return true
}

// less orders IDs by name, then by their labels as written:
// attempts{tier=db} before attempts_rps{tier=api}.
func (id MetricID) less(o MetricID) bool {
	if id.Name != o.Name {
		return id.Name < o.Name
	}
	return id.Labels.String() < o.Labels.String()
}

// ParseID reads a metric as users write it in checks and plots, a name
// with an optional label group: "attempts_rps{tier=api,zone=b}" gives
// attempts_rps with tier=api and zone=b, labels in the order written.
// It is for names typed by people; metrics recorded by code carry their
// labels separately throughout.
func ParseID(s string) MetricID {
	i := strings.IndexByte(s, '{')
	if i < 0 || !strings.HasSuffix(s, "}") {
		return MetricID{Name: s}
	}
	id := MetricID{Name: s[:i]}
	for _, kv := range strings.Split(s[i+1:len(s)-1], ",") {
		k, v, _ := strings.Cut(kv, "=")
		id.Labels = append(id.Labels, sim.Label{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return id
}

// Metric is one scalar of a run, for example latency_p99_ms with
// tier=db.
type Metric struct {
	MetricID
	Value float64
}

// Series is one time series of a run: Values[i] covers simulated time
// [i·Step, (i+1)·Step).
type Series struct {
	MetricID
	Step   time.Duration
	Values []float64
}

// Quantile is one point of a latency distribution: the smallest recorded
// value v such that a fraction Q of the samples is at most v.
type Quantile struct {
	Q       float64
	ValueMs float64
}

// Dist is the distribution of one latency histogram as CDF points.
type Dist struct {
	MetricID
	Points []Quantile
}

// Param is the value of one swept parameter at a sweep point, formatted as
// in the experiment file ("100ms", "naive", "0.5").
type Param struct {
	Name  string
	Value string
}

// Run is everything measured in one run. Finish fills Metrics, Series and
// Dists; the runner fills Index, Params and Seed, and adds Faults and
// Coverage when it has them.
type Run struct {
	// Index numbers the runs of an experiment from 0; it is the "run"
	// column of every CSV file.
	Index int
	// Params is the sweep point, in the experiment's parameter order.
	Params []Param
	// Seed is the run seed.
	Seed uint64
	// Metrics are the scalars, sorted by full name.
	Metrics []Metric
	// Series are the time series, sorted by full name.
	Series []Series
	// Dists are the latency distributions, sorted by full name.
	Dists []Dist
	// Faults are the fault windows of the run, in start order.
	Faults []sim.Window
	// Coverage says how many operations each fault window touched.
	Coverage []Coverage
}

// Metric returns the value of a metric named as experiment files name it
// ("attempts{tier=db}", labels in any order).
func (r *Run) Metric(name string) (float64, bool) {
	id := ParseID(name)
	for _, m := range r.Metrics {
		if m.Same(id) {
			return m.Value, true
		}
	}
	return 0, false
}

// Param returns the value of the named sweep parameter.
func (r *Run) Param(name string) (string, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Quantiles is the grid of quantiles at which Finish samples every latency
// distribution: every percent, then finer steps into the tail, so a CDF on
// a log axis shows p99.9 and p99.99.
var Quantiles = func() []float64 {
	var qs []float64
	for i := 0; i <= 98; i++ {
		qs = append(qs, float64(i)/100)
	}
	for i := 990; i <= 998; i++ {
		qs = append(qs, float64(i)/1000)
	}
	for i := 9990; i <= 9999; i++ {
		qs = append(qs, float64(i)/10000)
	}
	return append(qs, 1)
}()

// Finish computes the run's metrics as of time end (normally the run's
// end time) and returns them. Rates are over the measured span, from the
// end of the warm-up to end.
//
// For a histogram "latency": latency_count, latency_mean_ms,
// latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms,
// latency_p999_ms, latency_max_ms (NaN without samples) and the series
// latency_mean_ms. For a counter "requests": requests (the total) and
// requests_rps, and the series requests_rps. For a gauge "queue_len":
// queue_len_last, queue_len_max, queue_len_mean (time-weighted), and the
// series queue_len (the last value set in each bucket, carried forward).
func (r *Recorder) Finish(end sim.Time) Run {
	var run Run
	span := float64(end-r.warm) / 1e9
	nb := r.nbuckets
	if eb := int((int64(end) + r.width - 1) / r.width); eb > nb && eb <= r.maxB {
		nb = eb
	}
	step := time.Duration(r.width)
	add := func(id MetricID, suffix string, v float64) {
		run.Metrics = append(run.Metrics, Metric{MetricID: id.suffixed(suffix), Value: v})
	}
	for _, c := range r.counters {
		add(c.id, "", float64(c.total))
		add(c.id, "_rps", rate(float64(c.total), span))
		vals := make([]float64, nb)
		for i, v := range c.series {
			vals[i] = float64(v) / step.Seconds()
		}
		run.Series = append(run.Series, Series{MetricID: c.id.suffixed("_rps"), Step: step, Values: vals})
	}
	for _, g := range r.gauges {
		g.advance(max(end, r.warm))
		mean := math.NaN()
		if g.span > 0 {
			mean = g.area / float64(g.span)
		} else if !math.IsNaN(g.last) {
			mean = g.last
		}
		mx := g.max
		if math.IsInf(mx, -1) {
			mx = math.NaN()
		}
		add(g.id, "_last", g.last)
		add(g.id, "_max", mx)
		add(g.id, "_mean", mean)
		vals := make([]float64, nb)
		last := math.NaN()
		for i := range vals {
			if i < len(g.series) && !math.IsNaN(g.series[i]) {
				last = g.series[i]
			}
			vals[i] = last
		}
		run.Series = append(run.Series, Series{MetricID: g.id, Step: step, Values: vals})
	}
	for _, h := range r.hists {
		n := h.h.TotalCount()
		add(h.id, "_count", float64(n))
		nan := math.NaN()
		mean, p50, p90, p95, p99, p999, mx := nan, nan, nan, nan, nan, nan, nan
		if n > 0 {
			mean = float64(h.total) / float64(n) / 1e6
			p50 = ms(h.h.ValueAtPercentile(50))
			p90 = ms(h.h.ValueAtPercentile(90))
			p95 = ms(h.h.ValueAtPercentile(95))
			p99 = ms(h.h.ValueAtPercentile(99))
			p999 = ms(h.h.ValueAtPercentile(99.9))
			mx = ms(h.maxRec)
			pts := make([]Quantile, len(Quantiles))
			for i, q := range Quantiles {
				v := ms(h.h.ValueAtPercentile(q * 100))
				if q == 1 {
					v = mx
				}
				if v > mx {
					v = mx
				}
				pts[i] = Quantile{Q: q, ValueMs: v}
			}
			run.Dists = append(run.Dists, Dist{MetricID: h.id, Points: pts})
		}
		add(h.id, "_mean_ms", mean)
		add(h.id, "_p50_ms", p50)
		add(h.id, "_p90_ms", p90)
		add(h.id, "_p95_ms", p95)
		add(h.id, "_p99_ms", p99)
		add(h.id, "_p999_ms", p999)
		add(h.id, "_max_ms", mx)
		vals := make([]float64, nb)
		for i := range vals {
			vals[i] = math.NaN()
			if i < len(h.cnt) && h.cnt[i] > 0 {
				vals[i] = float64(h.sum[i]) / float64(h.cnt[i]) / 1e6
			}
		}
		run.Series = append(run.Series, Series{MetricID: h.id.suffixed("_mean_ms"), Step: step, Values: vals})
	}
	sortByFullName(run.Metrics, func(m *Metric) MetricID { return m.MetricID })
	sortByFullName(run.Series, func(s *Series) MetricID { return s.MetricID })
	sortByFullName(run.Dists, func(d *Dist) MetricID { return d.MetricID })
	return run
}

// suffixed returns the ID of a metric derived from id: the suffix goes on
// the name, the labels stay ("attempts" → "attempts_rps", tier=db).
func (id MetricID) suffixed(suffix string) MetricID {
	id.Name += suffix
	return id
}

// sortByFullName sorts xs by the full names of their IDs, labels in
// their recorded order: the order of a run's rows in metrics.csv.
func sortByFullName[T any](xs []T, id func(*T) MetricID) {
	keys := make([]string, len(xs))
	idx := make([]int, len(xs))
	for i := range xs {
		keys[i] = id(&xs[i]).FullName()
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]T, len(xs))
	for i, j := range idx {
		sorted[i] = xs[j]
	}
	copy(xs, sorted)
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

func rate(n, span float64) float64 {
	if span <= 0 {
		return math.NaN()
	}
	return n / span
}

// Hist is one latency histogram of a run (samples after the warm-up), kept
// so that the histograms of a sweep point's seeds can be merged into the
// pooled distribution of all their samples.
type Hist struct {
	MetricID
	H *hdrhistogram.Histogram
}

// Hists returns the run's latency histograms, sorted by full name. Call
// it after Finish; the recorder must not record afterwards.
func (r *Recorder) Hists() []Hist {
	out := make([]Hist, 0, len(r.hists))
	for _, h := range r.hists {
		if h.h.TotalCount() > 0 {
			out = append(out, Hist{MetricID: h.id, H: h.h})
		}
	}
	sortByFullName(out, func(h *Hist) MetricID { return h.MetricID })
	return out
}
