package netmodel

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// params are the resolved properties of a link; links with the same
// matching rules share one.
type params struct {
	lat        Dist
	bytesPerNs float64
	queueBytes float64
	loss       float64
	dup        float64
	dupDelay   time.Duration
	corrupt    float64
	ge         GilbertElliott
	fifo       bool
	// plain: no loss, bandwidth, FIFO, corruption or duplication, so
	// Send only samples the latency (the same single draw the full
	// path makes then).
	plain bool
}

// link is the state of one directed link.
type link struct {
	from, to sim.NodeID
	p        *params
	rng      *rand.Rand
	txFree   sim.Time // when the transmitter finishes the queued bytes
	lastAt   sim.Time // latest arrival scheduled (FIFO)
	geBad    bool
	c        Counts
}

// rule is a compiled LinkRule.
type rule struct {
	from, to []bool
	oneWay   bool
	patch    LinkPatch
	lat      Dist // built patch.Latency, or nil
}

// getLink returns the link from->to, creating it on first use.
func (m *Model) getLink(from, to sim.NodeID) *link {
	if l := m.cached(from, to); l != nil {
		return l
	}
	return m.findLink(from, to)
}

// cached returns link from->to if the dense table holds it, else nil.
// It is inlined, so the hot paths (Send, Arrive) call findLink only for
// a link's first message or in a model too large for the table.
func (m *Model) cached(from, to sim.NodeID) *link {
	if uint(from) < uint(m.denseN) && uint(to) < uint(m.denseN) {
		return m.dense[int(from)*m.denseN+int(to)]
	}
	return nil
}

// findLink is getLink's slow path: a link not made yet, or any link of
// a model too large for the dense table.
func (m *Model) findLink(from, to sim.NodeID) *link {
	if uint(from) < uint(m.denseN) && uint(to) < uint(m.denseN) {
		l := m.newLink(from, to)
		m.dense[int(from)*m.denseN+int(to)] = l
		return l
	}
	if n := m.e.NumNodes(); from < 0 || to < 0 || int(from) >= n || int(to) >= n {
		panic(fmt.Sprintf("netmodel: message from node %d to node %d: %v", from, to, sim.ErrUnknownNode))
	}
	k := pairKey(from, to)
	if l, ok := m.sparse[k]; ok {
		return l
	}
	l := m.newLink(from, to)
	m.sparse[k] = l
	return l
}

func (m *Model) newLink(from, to sim.NodeID) *link {
	name := "net/link/" + m.e.NodeName(from) + "->" + m.e.NodeName(to)
	return &link{from: from, to: to, p: m.params(from, to), rng: m.e.Stream(name)}
}

func in(set []bool, id sim.NodeID) bool { return int(id) < len(set) && set[id] }

// params resolves the properties of link from->to. Links matched by the
// same rules share one params.
func (m *Model) params(from, to sim.NodeID) *params {
	var idx []int
	for i, r := range m.rules {
		if (in(r.from, from) && in(r.to, to)) || (!r.oneWay && in(r.from, to) && in(r.to, from)) {
			idx = append(idx, i)
		}
	}
	key := fmt.Sprint(idx)
	if p, ok := m.paramsByRules[key]; ok {
		return p
	}
	c := m.base
	lat := m.lat
	for _, i := range idx {
		c = m.rules[i].patch.Apply(c)
		if m.rules[i].lat != nil {
			lat = m.rules[i].lat
		}
	}
	p := &params{
		lat:        lat,
		bytesPerNs: c.BandwidthMbps / 8000, // 1 Mbps = 1e6/8 bytes per 1e9 ns
		queueBytes: float64(c.QueueBytes),
		loss:       c.Loss,
		dup:        c.Duplicate,
		dupDelay:   c.DuplicateDelay.D(),
		corrupt:    c.Corrupt,
		ge:         c.GilbertElliott,
		fifo:       c.FIFO,
	}
	p.plain = p.bytesPerNs == 0 && p.loss == 0 && p.dup == 0 && p.corrupt == 0 && p.ge.PGoodBad == 0 && !p.fifo
	m.paramsByRules[key] = p
	return p
}

func (m *Model) drop(l *link, from, to sim.NodeID, msg sim.Message, c Cause) {
	l.c.DroppedBy[c]++
	m.totals.DroppedBy[c]++
	m.metrics.drop[c].Add(1)
	m.e.Trace(sim.KindDrop, to, from, msg, c.String())
}

func (m *Model) isCut(from, to sim.NodeID, inFlight bool) bool {
	for _, c := range m.cuts {
		if (!inFlight || c.drop) && c.cuts(from, to) {
			return true
		}
	}
	return false
}

// Send decides the fate of one message: partition, loss, link queue,
// latency, corruption and duplication, in that order.
func (m *Model) Send(from, to sim.NodeID, msg sim.Message) {
	l := m.cached(from, to)
	if l == nil {
		l = m.findLink(from, to)
	}
	l.c.Sent++
	m.totals.Sent++
	m.metrics.sent.Add(1)
	if len(m.cuts) > 0 && m.isCut(from, to, false) {
		m.drop(l, from, to, msg, CausePartition)
		return
	}
	p := l.p
	r := l.rng
	if p.plain {
		m.e.Deliver(m.e.Now().Add(p.lat.Sample(r)), from, to, msg, 0)
		return
	}
	// The Gilbert–Elliott chain steps on every message that reaches the
	// link, whatever the Bernoulli draw says, so its bursts keep their
	// configured length.
	lost := false
	if p.ge.PGoodBad > 0 {
		if l.geBad {
			lost = r.Float64() < p.ge.LossBad
			if r.Float64() < p.ge.PBadGood {
				l.geBad = false
			}
		} else {
			lost = p.ge.LossGood > 0 && r.Float64() < p.ge.LossGood
			if r.Float64() < p.ge.PGoodBad {
				l.geBad = true
			}
		}
	}
	if lost || (p.loss > 0 && r.Float64() < p.loss) {
		m.drop(l, from, to, msg, CauseLoss)
		return
	}
	now := m.e.Now()
	at := now
	if p.bytesPerNs > 0 {
		size := float64(sim.MessageSize(msg))
		start := now
		if l.txFree > now {
			start = l.txFree
		}
		if p.queueBytes > 0 && float64(float64(start-now)*p.bytesPerNs)+size > p.queueBytes {
			m.drop(l, from, to, msg, CauseCongestion)
			return
		}
		l.txFree = start + sim.Time(size/p.bytesPerNs+0.5)
		at = l.txFree
	}
	at = at.Add(p.lat.Sample(r))
	if p.fifo {
		if at < l.lastAt {
			at = l.lastAt
		}
		l.lastAt = at
	}
	var flags uint32
	if p.corrupt > 0 && r.Float64() < p.corrupt {
		flags = FlagCorrupt
	}
	m.e.Deliver(at, from, to, msg, flags)
	if p.dup > 0 && r.Float64() < p.dup {
		l.c.Duplicated++
		m.totals.Duplicated++
		m.metrics.dup.Add(1)
		flags = FlagDuplicate
		if p.corrupt > 0 && r.Float64() < p.corrupt {
			flags |= FlagCorrupt
		}
		m.e.Trace(sim.KindDuplicate, to, from, msg, "")
		sim.Retain(msg)
		m.e.Deliver(at.Add(p.dupDelay), from, to, msg, flags)
	}
}

// Arrive runs the receiver's side: the checksum drops corrupted messages,
// a cut link drops in-flight messages (unless the partition delivers
// them), and with a processing time the message waits for the node's
// earlier inputs before it is handled.
func (m *Model) Arrive(from, to sim.NodeID, msg sim.Message, flags uint32) bool {
	l := m.cached(from, to)
	if l == nil {
		l = m.findLink(from, to)
	}
	if flags&flagQueued == 0 {
		if flags&FlagCorrupt != 0 {
			m.drop(l, from, to, msg, CauseCorruption)
			return false
		}
		if len(m.cuts) > 0 && m.isCut(from, to, true) {
			m.drop(l, from, to, msg, CausePartition)
			return false
		}
		if m.proc > 0 && int(to) < len(m.busy) {
			now := m.e.Now()
			start := max(now, m.busy[to])
			done := start.Add(time.Duration(float64(m.proc) * m.factor[to]))
			m.busy[to] = done
			m.e.Deliver(done, from, to, msg, flags|flagQueued|m.epoch[to]<<epochShift)
			return false
		}
	} else if flags>>epochShift != m.epoch[to]&(1<<(32-epochShift)-1) {
		// Queued before a crash: the input died with the node.
		m.drop(l, from, to, msg, CauseCrashed)
		return false
	}
	l.c.Delivered++
	m.totals.Delivered++
	m.metrics.delivered.Add(1)
	return true
}

// Dropped counts messages the engine dropped because the receiver was
// down.
func (m *Model) Dropped(from, to sim.NodeID, msg sim.Message, cause sim.DropCause) {
	l := m.getLink(from, to)
	l.c.DroppedBy[CauseCrashed]++
	m.totals.DroppedBy[CauseCrashed]++
	m.metrics.drop[CauseCrashed].Add(1)
}
