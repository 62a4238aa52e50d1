package swim

import (
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/detector"
)

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// metrics is the family's one list of metrics: the detection, mistake
// and load figures every membership family reports, and SWIM's own probe
// counters, which the heartbeat baseline does not have. With c nil, all
// of them.
func metrics(c *Config) []protocols.MetricInfo {
	if c != nil && c.Variant == Heartbeat {
		return detector.TrackerMetrics()
	}
	return append(detector.TrackerMetrics(),
		protocols.MetricInfo{Name: MetricProbes, Kind: protocols.CounterMetric, Title: "Direct probes"},
		protocols.MetricInfo{Name: MetricProbeFailures, Kind: protocols.CounterMetric, Title: "Probes without an ack"},
		protocols.MetricInfo{Name: MetricIndirect, Kind: protocols.CounterMetric, Title: "Indirect probes"},
		protocols.MetricInfo{Name: MetricRefutes, Kind: protocols.CounterMetric, Title: "Refutations"},
		protocols.MetricInfo{Name: MetricHealthMax, Kind: protocols.ScalarMetric, Title: "Highest local health score"},
	)
}

// Metrics returns the titles and units of the family's metrics.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric a swim run records, so that the loader
// can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
