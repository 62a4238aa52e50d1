package quorum

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics;
// availability, stale reads, lost acknowledged writes and linearizability
// are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricAvailability, Title: "Availability (operations that succeeded)", Unit: "fraction", Headline: true},
		{Name: MetricStaleReadRatio, Title: "Stale reads", Unit: "fraction", Headline: true},
		{Name: MetricLostAckedWrites, Title: "Acknowledged writes lost", Headline: true},
		{Name: MetricLinearizable, Title: "Linearizable (1 yes, 0 no)", Headline: true},
		{Name: MetricReadLatency + "_p99_ms", Title: "Read latency, p99", Unit: "ms", Headline: true},
		{Name: MetricWriteLatency + "_p99_ms", Title: "Write latency, p99", Unit: "ms", Headline: true},
		{Name: MetricPConsistent, Title: "Probability a read sees the latest write (t-visibility)", Unit: "fraction"},
		{Name: MetricConflicts, Title: "Conflicting writes"},
		{Name: MetricLostWriteRatio, Title: "Acknowledged writes lost", Unit: "fraction"},
		{Name: MetricVersionsBehind, Title: "Versions behind per read"},
		{Name: MetricReadLatency, Title: "Read latency", Unit: "ms"},
		{Name: MetricWriteLatency, Title: "Write latency", Unit: "ms"},
		{Name: MetricIncrementLatency, Title: "Increment latency", Unit: "ms"},
		{Name: MetricReadStaleness, Title: "Read staleness", Unit: "ms"},
		{Name: MetricCASAttempts, Title: "Conditional writes sent"},
		{Name: MetricCASRejected, Title: "Conditional writes rejected"},
		{Name: MetricRetries, Title: "Client retries"},
		{Name: MetricReadRepairs, Title: "Read repairs"},
		{Name: MetricSiblingReadRatio, Title: "Reads returning siblings", Unit: "fraction"},
	}
}
