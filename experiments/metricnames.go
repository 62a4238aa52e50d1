package experiments

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

// The metric names a run can have, checked at load time. A protocol
// family that declares its metrics (protocols.MetricDeclarer) lets the
// loader refuse a check, plot or headline naming a metric, a label or a
// label value that its runs cannot record, at its place in the file and
// with the closest name, before anything runs. Families that do not
// declare keep the older checks: an unknown check metric is bad input
// once the runs are over (Experiment.CheckMetrics), an unknown plot
// metric a warning.

// runMetrics are the metrics of every run whatever the family: the
// network's counters and the engine's event count.
func runMetrics() []protocols.MetricInfo {
	ms := []protocols.MetricInfo{
		{Name: netmodel.MetricSent, Kind: protocols.CounterMetric, Title: "Messages sent on the network"},
		{Name: netmodel.MetricDelivered, Kind: protocols.CounterMetric, Title: "Messages delivered by the network"},
		{Name: netmodel.MetricDuplicated, Kind: protocols.CounterMetric, Title: "Messages duplicated by the network"},
	}
	for _, c := range netmodel.Causes() {
		ms = append(ms, protocols.MetricInfo{Name: netmodel.MetricDroppedPrefix + c.String(), Kind: protocols.CounterMetric,
			Title: "Messages dropped: " + strings.ReplaceAll(c.String(), "_", " ")})
	}
	return append(ms, protocols.MetricInfo{Name: "events", Kind: protocols.ScalarMetric, Title: "Events simulated"})
}

// familyMetrics returns the titles, units and headline marks of a
// family's metrics (its Describer, if any) and of the metrics every run
// has, for the results manifest.
func familyMetrics(name string) []results.MetricInfo {
	var ms []protocols.MetricInfo
	if fam, ok := LookupProtocol(name); ok {
		if d, ok := fam.(protocols.Describer); ok {
			ms = d.Metrics()
		}
	}
	var out []results.MetricInfo
	for _, m := range append(ms, runMetrics()...) {
		out = append(out, results.MetricInfo{Name: m.Name, Title: m.Title, Unit: m.Unit, Headline: m.Headline})
	}
	return out
}

// form is what a name is in a run's results: a run metric (a check,
// a line, bars or heatmap plot, a headline), a time series (a
// timeseries plot) or a latency distribution (a cdf plot).
type form uint8

const (
	runMetric form = 1 << iota
	series
	distribution
)

func (f form) String() string {
	switch f {
	case series:
		return "time series"
	case distribution:
		return "latency distribution"
	}
	return "metric"
}

// plotForm is what a plot of kind k draws.
func plotForm(k results.PlotKind) form {
	switch k {
	case results.TimeSeries:
		return series
	case results.CDF:
		return distribution
	}
	return runMetric
}

// derived are the names results.Recorder.Finish derives from each kind
// of instrument, and what each is (a test runs the bundled experiments
// to keep the two in step).
var derived = map[protocols.MetricKind][]struct {
	suffix string
	form   form
}{
	protocols.ScalarMetric:  {{"", runMetric}},
	protocols.DerivedMetric: {{"", runMetric}},
	protocols.CounterMetric: {{"", runMetric}, {"_rps", runMetric | series}},
	protocols.GaugeMetric:   {{"", series}, {"_last", runMetric}, {"_max", runMetric}, {"_mean", runMetric}},
	protocols.HistogramMetric: {{"", distribution}, {"_count", runMetric}, {"_mean_ms", runMetric | series},
		{"_p50_ms", runMetric}, {"_p90_ms", runMetric}, {"_p95_ms", runMetric}, {"_p99_ms", runMetric},
		{"_p999_ms", runMetric}, {"_max_ms", runMetric}},
}

// metricSet is every metric, series and distribution name the runs of a
// config can have, with what each is and its labels.
type metricSet struct {
	names map[string]*nameInfo
}

type nameInfo struct {
	form   form
	labels []protocols.MetricLabel
	total  bool // also recorded without labels (MetricInfo.Total, or declared bare)
}

func newMetricSet() *metricSet { return &metricSet{names: map[string]*nameInfo{}} }

func (s *metricSet) add(name string, f form, labels []protocols.MetricLabel, total bool) {
	ni := s.names[name]
	if ni == nil {
		ni = &nameInfo{}
		s.names[name] = ni
	}
	ni.form |= f
	ni.labels = mergeLabels(ni.labels, labels)
	// Declared once without labels: the bare name is recorded too.
	ni.total = ni.total || total || len(labels) == 0
}

// declaredMetrics returns the names a run of cfg can have, when its
// protocol declares its metrics; ok is false when it does not, and
// nothing can be checked before running.
func declaredMetrics(cfg *Config) (ms *metricSet, ok bool) {
	d, ok := cfg.Protocol.Config.(protocols.MetricDeclarer)
	if !ok {
		return nil, false
	}
	return expand(d.Metrics()), true
}

// describedMetrics returns the names a family's runs can have under any
// config, from its Describer (nil without one).
func describedMetrics(family string) *metricSet {
	fam, _ := LookupProtocol(family)
	d, ok := fam.(protocols.Describer)
	if !ok {
		return nil
	}
	return expand(d.Metrics())
}

// expand returns the names a list of metrics gives, the metrics of every
// run included.
func expand(list []protocols.MetricInfo) *metricSet {
	ms := newMetricSet()
	for _, m := range append(list, runMetrics()...) {
		base := results.ParseID(m.Name).Name
		for _, dn := range derived[m.Kind] {
			ms.add(base+dn.suffix, dn.form, m.Labels, m.Total)
		}
	}
	return ms
}

// mergeLabels unions two label lists, key by key; a key with unknown
// values (nil) stays unknown.
func mergeLabels(a, b []protocols.MetricLabel) []protocols.MetricLabel {
	out := slices.Clone(a)
	for _, l := range b {
		i := slices.IndexFunc(out, func(o protocols.MetricLabel) bool { return o.Key == l.Key })
		switch {
		case i < 0:
			out = append(out, protocols.MetricLabel{Key: l.Key, Values: slices.Clone(l.Values)})
		case out[i].Values == nil || l.Values == nil:
			out[i].Values = nil
		default:
			vs := append(slices.Clone(out[i].Values), l.Values...)
			slices.Sort(vs)
			out[i].Values = slices.Compact(vs)
		}
	}
	return out
}

// merge adds the names of o to s.
func (s *metricSet) merge(o *metricSet) {
	for n, ni := range o.names {
		s.add(n, ni.form, ni.labels, ni.total)
	}
}

// lookup returns what s knows of a base name, nil if nothing (or if s is
// nil).
func (s *metricSet) lookup(base string) *nameInfo {
	if s == nil {
		return nil
	}
	return s.names[base]
}

// of returns the sorted names that are f.
func (s *metricSet) of(f form) []string {
	var out []string
	for n, ni := range s.names {
		if ni.form&f != 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// A use is what a config does with a metric name, which decides whether
// it may leave out some of the metric's labels. A check and a line,
// bars, heatmap or cdf plot read one label set, so they name a value of
// every label the metric has ("attempt_status{tier=db,status=ok}"). A
// timeseries plot draws, and a headline shows, every recorded label set
// that has the labels named ("attempts_rps": a line per tier), so they
// may leave labels out. Summing over the labels left out would be
// natural for a counter only (not for a ratio, a gauge or a latency
// percentile), and the aggregated tables have no such sums to read.
type use struct {
	what string // "a check", "a bars plot"
	some bool   // labels may be left out
}

// checkUse is a check's use of a metric.
var checkUse = use{what: "a check"}

// plotUse is the use of a plot of kind k.
func plotUse(k results.PlotKind) use {
	return use{what: "a " + k.String() + " plot", some: k == results.TimeSeries}
}

// headlineUse is the headline table's use of a metric.
var headlineUse = use{what: "a headline", some: true}

// problem says what is wrong with name ("attempts_rps",
// "attempts{tier=db}") as a f used as u, or "" when runs can record it.
// possible, if not nil, is what the family records under some config: a
// name it has is one this config does not record.
func (s *metricSet) problem(name string, f form, u use, family string, possible *metricSet) string {
	id := results.ParseID(name)
	base, labels := id.Name, id.Labels
	ni, ok := s.names[base]
	if !ok || ni.form&f == 0 {
		if pi := possible.lookup(base); pi != nil && pi.form&f != 0 {
			return fmt.Sprintf("%q is not a %s of protocol %s as configured here: its runs record %s only when the mechanism it measures is set up", name, f, family, base)
		}
		return fmt.Sprintf("%q is not a %s of protocol %s%s", name, f, family, suggestMetric(base, s.of(f)))
	}
	for _, l := range labels {
		i := slices.IndexFunc(ni.labels, func(d protocols.MetricLabel) bool { return d.Key == l.Key })
		if i < 0 {
			if len(ni.labels) == 0 {
				return fmt.Sprintf("%q: %s has no labels", name, base)
			}
			return fmt.Sprintf("%q: %s has no label %q%s", name, base, l.Key, Suggest(l.Key, labelKeys(ni.labels)))
		}
		if vs := ni.labels[i].Values; vs != nil && !slices.Contains(vs, l.Value) {
			if len(vs) == 0 {
				return fmt.Sprintf("%q: this experiment records %s with no %s", name, base, l.Key)
			}
			return fmt.Sprintf("%q: this experiment records %s for no %s %q%s", name, base, l.Key, l.Value, Suggest(l.Value, vs))
		}
	}
	if !u.some && len(labels) < len(ni.labels) && !(len(labels) == 0 && ni.total) {
		return partialLabels(id, ni.labels, u)
	}
	return ""
}

// partialLabels says that id, whose labels are all among declared,
// leaves some out where u needs them all, naming the missing keys, the
// values this experiment records for them when the family declares them,
// and a full name to write instead.
func partialLabels(id results.MetricID, declared []protocols.MetricLabel, u use) string {
	var missing []string
	full := slices.Clone(id.Labels)
	known := true
	for _, d := range declared {
		if _, ok := id.Labels.Get(d.Key); ok {
			continue
		}
		if len(d.Values) == 0 {
			missing = append(missing, d.Key)
			known = false
			continue
		}
		oneOf := "one of "
		if len(d.Values) == 1 {
			oneOf = ""
		}
		missing = append(missing, fmt.Sprintf("%s (%s%s)", d.Key, oneOf, quoteList(d.Values, 8)))
		full = append(full, sim.Label{Key: d.Key, Value: d.Values[0]})
	}
	name := "name"
	if len(id.Labels) > 0 {
		name = "also name"
	}
	msg := fmt.Sprintf("%q: %s is recorded per %s, and %s reads one label set: %s %s",
		id.FullName(), id.Name, andList(labelKeys(declared)), u.what, name, andList(missing))
	if known {
		msg += fmt.Sprintf(", as in %q", results.MetricID{Name: id.Name, Labels: full}.FullName())
	}
	return msg
}

// freeLabels returns the declared label keys that id names no value of,
// but by.
func freeLabels(id results.MetricID, declared []protocols.MetricLabel, by string) []string {
	var free []string
	for _, d := range declared {
		if _, ok := id.Labels.Get(d.Key); !ok && d.Key != by {
			free = append(free, d.Key)
		}
	}
	return free
}

// quoteList returns `"a", "b"`, the first max values then how many in
// all.
func quoteList(vs []string, max int) string {
	var qs []string
	for i, v := range vs {
		if i == max {
			qs = append(qs, fmt.Sprintf("… (%d in all)", len(vs)))
			break
		}
		qs = append(qs, strconv.Quote(v))
	}
	return strings.Join(qs, ", ")
}

// andList returns "a", "a and b", "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func labelKeys(ls []protocols.MetricLabel) []string {
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = l.Key
	}
	return keys
}

func suggestMetric(base string, known []string) string {
	s := Suggest(base, known)
	if strings.HasPrefix(s, " (known") {
		return " (see the metrics in runs.csv of a run)"
	}
	return s
}

// checkMetrics reports the checks, plots and headline names that name a
// metric (or label) no run of the experiment can record, with the
// closest known name; a timeseries plot's `by` must be a label of its
// metric. A check or plot limited to some sweep points (when, where) is
// held against the metrics of those points only. It does nothing when
// the protocol does not declare its metrics.
func checkMetrics(ps *problems, root *yaml.Node, x *Experiment) {
	// Sweep points mostly share their declarations (a sweep over rates
	// changes none): expand each distinct list once.
	var sets []*metricSet
	of := make([]int, len(x.Points)) // point → index in sets
	seen := map[string]int{}
	for i := range x.Points {
		d, ok := x.Points[i].Config.Protocol.Config.(protocols.MetricDeclarer)
		if !ok {
			return
		}
		list := d.Metrics()
		key := fmt.Sprint(list)
		j, ok := seen[key]
		if !ok {
			j = len(sets)
			seen[key] = j
			sets = append(sets, expand(list))
		}
		of[i] = j
	}
	if len(sets) == 0 {
		return
	}
	// union is the metrics of the points where matches the point's
	// parameters (of every point when none does: where itself is wrong
	// then, and reported as such elsewhere).
	union := func(where map[string]string) *metricSet {
		in := make([]bool, len(sets))
		for i, pt := range x.Points {
			if matches(where, pt.Params, x.pinned) {
				in[of[i]] = true
			}
		}
		if !slices.Contains(in, true) {
			in = slices.Repeat([]bool{true}, len(sets))
		}
		u := newMetricSet()
		for j, s := range sets {
			if in[j] {
				u.merge(s)
			}
		}
		return u
	}
	family := x.Config.Protocol.Name
	possible := describedMetrics(family)
	for i, ch := range x.Config.Checks {
		if ch.Metric == "" {
			continue
		}
		if msg := union(ch.When).problem(ch.Metric, runMetric, checkUse, family, possible); msg != "" {
			p := fmt.Sprintf("checks[%d].metric", i)
			ps.at(nodeAt(root, p), p, "%s", msg)
		}
	}
	for i, pl := range x.Config.Plots {
		if pl.Metric == "" {
			continue
		}
		u := union(pl.Where)
		p := fmt.Sprintf("plots[%d]", i)
		if msg := u.problem(pl.Metric, plotForm(pl.Kind), plotUse(pl.Kind), family, possible); msg != "" {
			ps.at(nodeAt(root, p+".metric"), p+".metric", "%s", msg)
			continue
		}
		if pl.Kind == results.TimeSeries && pl.By != "" {
			base := results.ParseID(pl.Metric).Name
			if ls := u.names[base].labels; !slices.Contains(labelKeys(ls), pl.By) {
				what := "has no labels"
				if len(ls) > 0 {
					what = fmt.Sprintf("has no label %q%s", pl.By, Suggest(pl.By, labelKeys(ls)))
				}
				ps.at(nodeAt(root, p+".by"), p+".by", "%s %s to split its lines by", base, what)
			} else if free := freeLabels(results.ParseID(pl.Metric), ls, pl.By); len(free) > 0 {
				// Lines labelled by one key's value alone would be
				// several to a legend entry.
				ps.at(nodeAt(root, p+".by"), p+".by", "%s is recorded per %s, so lines split by %s alone would share their legend entries: name %s in the metric too (or leave by out, for a line per label set)",
					base, andList(labelKeys(ls)), pl.By, andList(free))
			}
		}
	}
	all := union(nil)
	for i, h := range x.Config.Report.Headline {
		if h == "" {
			continue
		}
		if msg := all.problem(h, runMetric, headlineUse, family, possible); msg != "" {
			p := fmt.Sprintf("report.headline[%d]", i)
			ps.at(nodeAt(root, p), p, "%s", msg)
		}
	}
}
