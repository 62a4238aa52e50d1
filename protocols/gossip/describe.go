package gossip

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics; rounds
// to reach everyone, residue and messages per node are its headline
// figures.
func (Protocol) Metrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricRoundsToAll, Title: "Rounds until every live node has the rumor", Headline: true},
		{Name: MetricResidue, Title: "Residue (nodes never reached)", Unit: "fraction", Headline: true},
		{Name: MetricMsgsPerNode, Title: "Messages per node", Headline: true},
		{Name: MetricTimeToAll, Title: "Time until every live node has the rumor", Unit: "s"},
		{Name: MetricRoundsToStop, Title: "Rounds until the rumor stops spreading"},
		{Name: MetricMsgs, Title: "Gossip messages"},
	}
}
