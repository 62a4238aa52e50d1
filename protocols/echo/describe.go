package echo

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics; the
// success ratio, loss ratio and round-trip p99 are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricSuccessRatio, Title: "Ping success ratio", Unit: "fraction", Headline: true},
		{Name: MetricLossRatio, Title: "Ping loss ratio", Unit: "fraction", Headline: true},
		{Name: MetricRTT + "_p99_ms", Title: "Round-trip time, p99", Unit: "ms", Headline: true},
		{Name: MetricTimeoutRatio, Title: "Ping timeout ratio", Unit: "fraction"},
		{Name: MetricSent, Title: "Pings sent"},
		{Name: MetricOK, Title: "Pings answered"},
		{Name: MetricTimeouts, Title: "Pings timed out"},
		{Name: MetricLate, Title: "Late echoes"},
		{Name: MetricDuplicates, Title: "Duplicate echoes"},
		{Name: MetricRTT, Title: "Round-trip time", Unit: "ms"},
		{Name: MetricRTTSameZone, Title: "Round-trip time within a zone", Unit: "ms"},
		{Name: MetricRTTCrossZone, Title: "Round-trip time across zones", Unit: "ms"},
	}
}
