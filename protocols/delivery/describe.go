package delivery

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics; lost and
// duplicated effects and the delivery latency are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricLossRatio, Title: "Messages lost", Unit: "fraction", Headline: true},
		{Name: MetricDuplicateRatio, Title: "Duplicate effects per message", Unit: "per message", Headline: true},
		{Name: MetricSendsPerMessage, Title: "Sends per message", Unit: "per message", Headline: true},
		{Name: MetricLatency + "_p99_ms", Title: "Delivery latency, p99", Unit: "ms", Headline: true},
		{Name: MetricGiveUpRatio, Title: "Messages given up", Unit: "fraction"},
		{Name: MetricLatency, Title: "Delivery latency (send to first effect)", Unit: "ms"},
		{Name: MetricLost, Title: "Messages lost"},
		{Name: MetricDuplicates, Title: "Duplicate effects"},
		{Name: MetricSubmitted, Title: "Messages submitted"},
		{Name: MetricApplied, Title: "Messages applied"},
		{Name: MetricSends, Title: "Sends"},
		{Name: MetricAcks, Title: "Acknowledgements"},
		{Name: MetricDeadLetters, Title: "Dead letters"},
		{Name: MetricDedupeHits, Title: "Duplicates dropped by the dedupe store"},
		{Name: MetricDedupeSize, Title: "Dedupe store size", Unit: "keys"},
		{Name: MetricOutboxSize, Title: "Outbox size", Unit: "messages"},
	}
}
