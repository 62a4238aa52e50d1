package quorum

import (
	"strconv"

	"github.com/dsim-dev/dsim/protocols"
)

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// metrics is the family's one list of metrics: kind, title, unit and
// labels of each, headline figures first. Every run records all of them;
// the config only fixes the values of p_consistent's t_ms label (its
// t_visibility lags), unknown when c is nil.
func metrics(c *Config) []protocols.MetricInfo {
	var lags []string
	if c != nil {
		lags = []string{}
		for _, t := range c.TVisibility {
			lags = append(lags, msLabel(t))
		}
	}
	ks := make([]string, 0, behindBuckets+1)
	for k := 0; k < behindBuckets; k++ {
		ks = append(ks, strconv.Itoa(k))
	}
	ks = append(ks, strconv.Itoa(behindBuckets)+"+")
	return []protocols.MetricInfo{
		{Name: MetricAvailability, Kind: protocols.ScalarMetric, Title: "Availability (operations that succeeded)", Unit: "fraction", Headline: true,
			Labels: []protocols.MetricLabel{{Key: "window", Values: []string{"partition", "none"}}}, Total: true},
		{Name: MetricStaleReadRatio, Kind: protocols.ScalarMetric, Title: "Stale reads", Unit: "fraction", Headline: true},
		{Name: MetricLostAckedWrites, Kind: protocols.ScalarMetric, Title: "Acknowledged writes lost", Headline: true},
		{Name: MetricLinearizable, Kind: protocols.ScalarMetric, Title: "Linearizable (1 yes, 0 no)", Headline: true},
		{Name: MetricReadLatency + "_p99_ms", Kind: protocols.DerivedMetric, Title: "Read latency, p99", Unit: "ms", Headline: true},
		{Name: MetricWriteLatency + "_p99_ms", Kind: protocols.DerivedMetric, Title: "Write latency, p99", Unit: "ms", Headline: true},
		{Name: MetricPConsistent, Kind: protocols.ScalarMetric, Title: "Probability a read sees the latest write (t-visibility)", Unit: "fraction",
			Labels: []protocols.MetricLabel{{Key: "t_ms", Values: lags}}},
		{Name: MetricConflicts, Kind: protocols.ScalarMetric, Title: "Conflicting writes"},
		{Name: MetricLostWriteRatio, Kind: protocols.ScalarMetric, Title: "Acknowledged writes lost", Unit: "fraction"},
		{Name: MetricVersionsBehind, Kind: protocols.ScalarMetric, Title: "Reads k versions behind", Unit: "fraction",
			Labels: []protocols.MetricLabel{{Key: "k", Values: ks}}},
		{Name: MetricVersionsBehind + "_mean", Kind: protocols.ScalarMetric, Title: "Versions behind per read"},
		{Name: MetricReadLatency, Kind: protocols.HistogramMetric, Title: "Read latency", Unit: "ms"},
		{Name: MetricWriteLatency, Kind: protocols.HistogramMetric, Title: "Write latency", Unit: "ms"},
		{Name: MetricIncrementLatency, Kind: protocols.HistogramMetric, Title: "Increment latency", Unit: "ms"},
		{Name: MetricReadStaleness, Kind: protocols.HistogramMetric, Title: "Read staleness", Unit: "ms"},
		{Name: MetricOpsOK, Kind: protocols.CounterMetric, Title: "Operations that succeeded"},
		{Name: MetricOpsFailed, Kind: protocols.CounterMetric, Title: "Operations that failed"},
		{Name: MetricCASAttempts, Kind: protocols.CounterMetric, Title: "Conditional writes sent"},
		{Name: MetricCASRejected, Kind: protocols.CounterMetric, Title: "Conditional writes rejected"},
		{Name: MetricRetries, Kind: protocols.CounterMetric, Title: "Client retries"},
		{Name: MetricTimeouts, Kind: protocols.CounterMetric, Title: "Attempts timed out"},
		{Name: MetricReadRepairs, Kind: protocols.CounterMetric, Title: "Read repairs"},
		{Name: MetricHintsStored, Kind: protocols.CounterMetric, Title: "Hinted writes stored"},
		{Name: MetricHintsDelivered, Kind: protocols.CounterMetric, Title: "Hinted writes handed off"},
		{Name: MetricSiblingReads, Kind: protocols.CounterMetric, Title: "Reads returning siblings"},
		{Name: MetricSiblingReadRatio, Kind: protocols.ScalarMetric, Title: "Reads returning siblings", Unit: "fraction"},
	}
}

// Metrics returns the titles and units of the family's metrics;
// availability, stale reads, lost acknowledged writes and linearizability
// are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric a quorum run records, so that the loader
// can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
