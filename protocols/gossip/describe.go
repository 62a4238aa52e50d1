package gossip

import "github.com/dsim-dev/dsim/protocols"

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// metrics is the family's one list of metrics: kind, title and unit of
// each, headline figures first. Every run records all of them, whatever
// the mode (c may be nil).
func metrics(*Config) []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricRoundsToAll, Kind: protocols.ScalarMetric, Title: "Rounds until every live node has the rumor", Headline: true},
		{Name: MetricResidue, Kind: protocols.ScalarMetric, Title: "Residue (nodes never reached)", Unit: "fraction", Headline: true},
		{Name: MetricMsgsPerNode, Kind: protocols.ScalarMetric, Title: "Messages per node", Headline: true},
		{Name: MetricTimeToAll, Kind: protocols.ScalarMetric, Title: "Time until every live node has the rumor", Unit: "s"},
		{Name: MetricRoundsToStop, Kind: protocols.ScalarMetric, Title: "Rounds until the rumor stops spreading"},
		{Name: MetricMsgs, Kind: protocols.CounterMetric, Title: "Gossip messages"},
		{Name: MetricMsgsPerNodeTotal, Kind: protocols.ScalarMetric, Title: "Messages per node over the whole run"},
	}
}

// Metrics returns the titles and units of the family's metrics; rounds
// to reach everyone, residue and messages per node are its headline
// figures.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares every metric a gossip run records, so that the loader
// can refuse a check or plot that names another.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }
