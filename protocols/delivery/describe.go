package delivery

import "github.com/dsim-dev/dsim/protocols"

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// metrics is the family's one list of metrics: kind, title and unit of
// each, headline figures first. Every run records all of them, whatever
// the semantics, case or crash points (c may be nil).
func metrics(*Config) []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricLossRatio, Kind: protocols.ScalarMetric, Title: "Messages lost", Unit: "fraction", Headline: true},
		{Name: MetricDuplicateRatio, Kind: protocols.ScalarMetric, Title: "Duplicate effects per message", Unit: "per message", Headline: true},
		{Name: MetricSendsPerMessage, Kind: protocols.ScalarMetric, Title: "Sends per message", Unit: "per message", Headline: true},
		{Name: MetricLatency + "_p99_ms", Kind: protocols.DerivedMetric, Title: "Delivery latency, p99", Unit: "ms", Headline: true},
		{Name: MetricGiveUpRatio, Kind: protocols.ScalarMetric, Title: "Messages given up", Unit: "fraction"},
		{Name: MetricLatency, Kind: protocols.HistogramMetric, Title: "Delivery latency (send to first effect)", Unit: "ms"},
		{Name: MetricLost, Kind: protocols.ScalarMetric, Title: "Messages lost"},
		{Name: MetricDuplicates, Kind: protocols.CounterMetric, Title: "Duplicate effects"},
		{Name: MetricSubmitted, Kind: protocols.CounterMetric, Title: "Messages submitted"},
		{Name: MetricApplied, Kind: protocols.CounterMetric, Title: "Messages applied"},
		{Name: MetricSends, Kind: protocols.CounterMetric, Title: "Sends"},
		{Name: MetricAcks, Kind: protocols.CounterMetric, Title: "Acknowledgements"},
		{Name: MetricDeadLetters, Kind: protocols.CounterMetric, Title: "Dead letters"},
		{Name: MetricDedupeHits, Kind: protocols.CounterMetric, Title: "Duplicates dropped by the dedupe store"},
		{Name: MetricDedupeSize, Kind: protocols.GaugeMetric, Title: "Dedupe store size", Unit: "keys"},
		{Name: MetricOutboxSize, Kind: protocols.GaugeMetric, Title: "Outbox size", Unit: "messages"},
		{Name: MetricRejected, Kind: protocols.CounterMetric, Title: "Attempts rejected by an overloaded receiver"},
		{Name: MetricEffectTotal, Kind: protocols.ScalarMetric, Title: "Total effect at the receivers"},
	}
}

// Metrics returns the titles and units of the family's metrics; lost and
// duplicated effects and the delivery latency are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric a delivery run records, so that the
// loader can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
