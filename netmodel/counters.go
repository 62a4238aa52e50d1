package netmodel

import (
	"sort"

	"github.com/dsim-dev/dsim/sim"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Cause -linecomment -output=counters_string.go

// Cause says why the network dropped a message.
type Cause uint8

// Drop causes.
const (
	// CauseLoss: random loss (Bernoulli or Gilbert–Elliott).
	CauseLoss Cause = iota + 1 // loss
	// CausePartition: the link was cut when sent or (with in-flight drop)
	// when it arrived.
	CausePartition // partition
	// CauseCongestion: tail drop at a full link queue.
	CauseCongestion // congestion
	// CauseCorruption: the receiver's checksum rejected it.
	CauseCorruption // corruption
	// CauseCrashed: the receiver was down when it arrived.
	CauseCrashed // crashed_receiver

	numCauses = iota + 1 // one more than the last cause (untyped: not a cause)
)

// Causes returns every cause in order.
func Causes() []Cause {
	return []Cause{CauseLoss, CausePartition, CauseCongestion, CauseCorruption, CauseCrashed}
}

// Counts are message counts for a link or a whole run. Every message sent
// or duplicated ends delivered, dropped for exactly one cause, or still in
// flight: Sent + Duplicated = Delivered + Dropped() + in flight.
type Counts struct {
	// Sent counts messages handed to the network (copies excluded).
	Sent int64
	// Delivered counts messages (copies included) handed to the receiver.
	Delivered int64
	// Duplicated counts extra copies made.
	Duplicated int64
	// DroppedBy counts drops, indexed by Cause.
	DroppedBy [numCauses]int64
}

// Dropped returns the number of drops for every cause.
func (c Counts) Dropped() int64 {
	var n int64
	for _, v := range c.DroppedBy {
		n += v
	}
	return n
}

// LinkCounts are the counts of one directed link.
type LinkCounts struct {
	// From and To are the link's endpoints.
	From, To sim.NodeID
	// FromName and ToName are their names.
	FromName, ToName string
	// Counts are the link's counts.
	Counts
}

// Counters are a run's message counts: the total and every link that
// carried traffic, ordered by (From, To).
type Counters struct {
	// Total sums every link.
	Total Counts
	// Links holds one entry per link that carried traffic.
	Links []LinkCounts
}

// Metric names recorded through the engine's Metrics (totals only):
//
//	net_sent, net_delivered, net_duplicated,
//	net_dropped_loss, net_dropped_partition, net_dropped_congestion,
//	net_dropped_corruption, net_dropped_crashed_receiver
const (
	MetricSent       = "net_sent"
	MetricDelivered  = "net_delivered"
	MetricDuplicated = "net_duplicated"
	// MetricDroppedPrefix is followed by Cause.String().
	MetricDroppedPrefix = "net_dropped_"
)

// Counters returns the message counts so far.
func (m *Model) Counters() Counters {
	out := Counters{Total: m.totals}
	add := func(l *link) {
		out.Links = append(out.Links, LinkCounts{From: l.from, To: l.to,
			FromName: m.e.NodeName(l.from), ToName: m.e.NodeName(l.to), Counts: l.c})
	}
	for _, l := range m.dense {
		if l != nil {
			add(l)
		}
	}
	keys := make([]uint64, 0, len(m.sparse))
	for k := range m.sparse {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		add(m.sparse[k])
	}
	sort.SliceStable(out.Links, func(i, j int) bool {
		a, b := out.Links[i], out.Links[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out
}
