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
)

// MetricDecl declares one metric a family records. Name is the
// instrument's name without labels ("attempts", not
// "attempts{tier=db}"): labels are separate dimensions.
type MetricDecl struct {
	Name string
	Kind MetricKind
}

// MetricDeclarer is implemented by a Config that lists every metric its
// runs can record. It is optional; when a family implements it, the
// experiment loader refuses a check or plot naming any other metric at
// load time, with the closest name, instead of failing after the runs.
type MetricDeclarer interface {
	Metrics() []MetricDecl
}
