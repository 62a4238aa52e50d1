package swim

import (
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/detector"
)

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics: the
// detection, mistake and load figures every membership family reports,
// and SWIM's own probe counters.
func (Protocol) Metrics() []protocols.MetricInfo {
	return append(detector.TrackerMetrics(),
		protocols.MetricInfo{Name: MetricProbes, Title: "Direct probes"},
		protocols.MetricInfo{Name: MetricProbeFailures, Title: "Probes without an ack"},
		protocols.MetricInfo{Name: MetricIndirect, Title: "Indirect probes"},
		protocols.MetricInfo{Name: MetricRefutes, Title: "Refutations"},
		protocols.MetricInfo{Name: MetricHealthMax, Title: "Highest local health score"},
	)
}
