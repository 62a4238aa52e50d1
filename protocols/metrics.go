package protocols

// MetricKind is the kind of instrument a declared metric is recorded with;
// it decides the names the run's results derive from it.
type MetricKind uint8

// Kinds of declared metric.
const (
	// ScalarMetric is a figure reported with Setup.Report: one name.
	ScalarMetric MetricKind = iota
	// CounterMetric is a counter "x": x (the total), x_rps and the
	// series x_rps.
	CounterMetric
	// GaugeMetric is a gauge "x": x_last, x_max, x_mean and the series x.
	GaugeMetric
	// HistogramMetric is a latency histogram "x": x_count, x_mean_ms,
	// x_p50_ms ... x_max_ms, the distribution x (for a cdf plot) and the
	// series x_mean_ms.
	HistogramMetric
	// DerivedMetric is a name derived from another entry of the same
	// list ("latency_p99_ms" from the histogram "latency"), listed to
	// give it a title of its own or to make it a headline figure. It
	// declares no new name.
	DerivedMetric
)

// MetricInfo describes one metric of a protocol family: what it is for
// the loader (its kind decides the names results derive from it) and for
// people (the title and unit plots and the report show instead of its
// name, and whether it is a headline figure). Name is the instrument's
// name without labels ("attempts", not "attempts{tier=db}"): labels are
// separate dimensions.
type MetricInfo struct {
	// Name is the metric's base name without labels: a counter
	// ("attempts"), a histogram ("latency"), a derived name
	// ("attempts_rps", "latency_p99_ms") or a reported scalar
	// ("success_ratio").
	Name string
	// Kind is the instrument it is recorded with. It matters in a
	// MetricDeclarer's list, which says what names exist; a Describer
	// may leave it.
	Kind MetricKind
	// Title is a short human title ("Attempts", "Client success ratio").
	Title string
	// Unit is the unit shown on axes ("ms", "per second", "fraction"),
	// empty for plain counts.
	Unit string
	// Headline marks a key figure: the report's headline table shows it
	// for every sweep point (an experiment's report.headline overrides).
	Headline bool
	// Labels are the label dimensions the metric is recorded with
	// ("tier", "status"), nil for an unlabelled one. In a
	// MetricDeclarer's list they say which label keys, and where the
	// config fixes them which values, a check or plot may name.
	Labels []MetricLabel
	// Total says that the runs also record a labelled metric without
	// labels, as one figure over every label set (quorum's availability
	// over the whole run beside availability{window=...}), so a check or
	// plot may name it bare.
	Total bool
}

// MetricLabel is one label dimension of a declared metric.
type MetricLabel struct {
	// Key is the label's name ("tier").
	Key string
	// Values are the values it takes under the declaring config (the
	// service names, the status names); nil when they are not known
	// before the run (node names chosen by the topology, say), and then
	// any value is accepted.
	Values []string
}

// MetricDeclarer is implemented by a Config that lists every metric its
// runs can record, with each metric's kind and labels: the metrics that
// exist only when a mechanism is configured (an error window, a
// transport, a breaker) are listed only then. It is optional; when a
// family implements it, the experiment loader refuses a check, plot or
// headline naming any other metric (or label value) at load time, with
// the closest name, instead of failing after the runs. The network's
// metrics and "events" are added by the loader.
//
// The usual shape is one list per family, built by a function of the
// config, that feeds both this and the family's Describer (which lists
// every metric any config can record, for titles):
//
//	func metrics(c *Config) []protocols.MetricInfo { ... }
//	func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }
//	func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
type MetricDeclarer interface {
	Metrics() []MetricInfo
}
