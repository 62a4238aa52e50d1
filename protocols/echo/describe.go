package echo

import "github.com/dsim-dev/dsim/protocols"

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// metrics is echo's one list of metrics: kind, title and unit of each,
// headline figures first. Every run records all of them, whatever the
// config (c may be nil).
func metrics(*Config) []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricSuccessRatio, Kind: protocols.ScalarMetric, Title: "Ping success ratio", Unit: "fraction", Headline: true},
		{Name: MetricLossRatio, Kind: protocols.ScalarMetric, Title: "Ping loss ratio", Unit: "fraction", Headline: true},
		{Name: MetricRTT + "_p99_ms", Kind: protocols.DerivedMetric, Title: "Round-trip time, p99", Unit: "ms", Headline: true},
		{Name: MetricTimeoutRatio, Kind: protocols.ScalarMetric, Title: "Ping timeout ratio", Unit: "fraction"},
		{Name: MetricSent, Kind: protocols.CounterMetric, Title: "Pings sent"},
		{Name: MetricOK, Kind: protocols.CounterMetric, Title: "Pings answered"},
		{Name: MetricTimeouts, Kind: protocols.CounterMetric, Title: "Pings timed out"},
		{Name: MetricLate, Kind: protocols.CounterMetric, Title: "Late echoes"},
		{Name: MetricDuplicates, Kind: protocols.CounterMetric, Title: "Duplicate echoes"},
		{Name: MetricRTT, Kind: protocols.HistogramMetric, Title: "Round-trip time", Unit: "ms"},
		{Name: MetricRTTSameZone, Kind: protocols.HistogramMetric, Title: "Round-trip time within a zone", Unit: "ms"},
		{Name: MetricRTTCrossZone, Kind: protocols.HistogramMetric, Title: "Round-trip time across zones", Unit: "ms"},
	}
}

// Metrics returns the titles and units of the family's metrics; the
// success ratio, loss ratio and round-trip p99 are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric an echo run records, so that the loader
// can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
