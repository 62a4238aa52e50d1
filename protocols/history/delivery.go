package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// Guarantee is a set of delivery promises a messaging configuration
// makes. Each delivery checker checks exactly one of them, so a
// configuration registers the checkers of the promises it makes and no
// others.
type Guarantee uint8

// Delivery promises.
const (
	// NoLoss: every message submitted before the liveness deadline is
	// applied by the end of the run ("eventually"), unless its sender
	// was told it failed (a give-up, when the configuration excuses
	// them).
	NoLoss Guarantee = 1 << iota
	// NoDuplicates: no message's effect is applied more than once.
	NoDuplicates
	// InOrder: on each channel (an Op's Key), effects are applied in
	// sequence-number order (an Op's Value), without gaps.
	InOrder
)

var guaranteeNames = []string{"no_loss", "no_duplicates", "in_order"}

// String joins the promises' names with "+" ("none" for the empty set).
func (g Guarantee) String() string {
	var parts []string
	for i, n := range guaranteeNames {
		if g&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Has reports whether g includes every promise of o.
func (g Guarantee) Has(o Guarantee) bool { return g&o == o }

// Checker names of the delivery checkers; they are also the names of the
// invariants a delivery configuration registers.
const (
	CheckerLost       = "no_lost_messages"
	CheckerDuplicates = "no_duplicate_effects"
	CheckerOrder      = "in_order_effects"
)

// DeliveryOptions tune the delivery checkers.
type DeliveryOptions struct {
	// Deadline is the end of the submission phase: messages submitted
	// after it are not required to have been applied (the rest of the
	// run is the liveness phase that lets retransmissions finish).
	// Zero or negative means every message counts.
	Deadline sim.Time
	// ExcuseGiveUps does not count as lost a message whose sender
	// completed an Ack with an outcome other than OK (it gave up and
	// knows it: the message went to a dead-letter queue).
	ExcuseGiveUps bool
	// Name formats a node for violation messages; nil prints "node N".
	Name func(sim.NodeID) string
}

func (o DeliveryOptions) name(id sim.NodeID) string {
	if o.Name != nil {
		return o.Name(id)
	}
	return fmt.Sprintf("node %d", id)
}

// Checker is a named check of one promise over a history.
type Checker struct {
	// Name is the checker's and the invariant's name.
	Name string
	// Guarantee is the promise it checks.
	Guarantee Guarantee
	// Check runs it.
	Check func(h *History) Report
}

// DeliveryCheckers returns the checkers of the promises in g, in the
// order NoLoss, NoDuplicates, InOrder.
func DeliveryCheckers(g Guarantee, o DeliveryOptions) []Checker {
	var cs []Checker
	if g.Has(NoLoss) {
		cs = append(cs, Checker{CheckerLost, NoLoss, func(h *History) Report { return CheckLost(h, o) }})
	}
	if g.Has(NoDuplicates) {
		cs = append(cs, Checker{CheckerDuplicates, NoDuplicates, func(h *History) Report { return CheckDuplicates(h, o) }})
	}
	if g.Has(InOrder) {
		cs = append(cs, Checker{CheckerOrder, InOrder, func(h *History) Report { return CheckOrder(h, o) }})
	}
	return cs
}

// undecided returns an Unknown report when h is not a full record.
func undecided(name string, h *History) (Report, bool) {
	r := Report{Checker: name}
	switch {
	case !h.Enabled():
		r.Verdict, r.Reason = Unknown, "history recording is off"
		return r, true
	case h.Truncated():
		r.Verdict, r.Reason = Unknown, fmt.Sprintf("history truncated at %d operations", h.Len())
		return r, true
	}
	return r, false
}

// msgState is what the loss checker learns about one message.
type msgState struct {
	origin  sim.Time // submit time, else first send time
	from    sim.NodeID
	to      sim.NodeID
	known   bool // a Submit or Send was seen
	applied bool
	gaveUp  bool
	acked   bool
}

// CheckLost reports messages that were submitted (or sent) no later than
// o.Deadline and never applied. A message with an Ack whose outcome is
// not OK and no OK Ack is excused when o.ExcuseGiveUps is set.
// Violations are in submission order; At is the submission time.
func CheckLost(h *History, o DeliveryOptions) Report {
	r, stop := undecided(CheckerLost, h)
	if stop {
		return r
	}
	// Messages live in a slice indexed through a map: one allocation
	// per growth, not per message.
	idx := make(map[uint64]int32, len(h.ops)/4)
	var ms []msgState
	var ids []uint64
	get := func(id uint64) *msgState {
		i, ok := idx[id]
		if !ok {
			i = int32(len(ms))
			idx[id] = i
			ms = append(ms, msgState{})
			ids = append(ids, id)
		}
		return &ms[i]
	}
	for i := range h.ops {
		op := &h.ops[i]
		switch op.Kind {
		case Submit, Send:
			m := get(op.ID)
			if !m.known || (op.Kind == Submit && op.Invoke < m.origin) {
				m.origin, m.from, m.to, m.known = op.Invoke, op.Process, op.Peer, true
			}
		case Apply:
			get(op.ID).applied = true
		case Ack:
			if !op.Done() {
				continue
			}
			m := get(op.ID)
			if op.Outcome == sim.OK {
				m.acked = true
			} else {
				m.gaveUp = true
			}
		}
	}
	type lost struct {
		id uint64
		m  *msgState
	}
	var ls []lost
	for i := range ms {
		id, m := ids[i], &ms[i]
		if !m.known || m.applied || (o.Deadline > 0 && m.origin > o.Deadline) {
			continue
		}
		if o.ExcuseGiveUps && m.gaveUp && !m.acked {
			continue
		}
		ls = append(ls, lost{id, m})
	}
	slices.SortFunc(ls, func(a, b lost) int {
		return cmp.Or(cmp.Compare(a.m.origin, b.m.origin), cmp.Compare(a.id, b.id))
	})
	for _, l := range ls {
		what := fmt.Sprintf("message %d from %s to %s, submitted at %v, was never applied", l.id, o.name(l.m.from), o.name(l.m.to), l.m.origin)
		if l.m.acked {
			what += " although its sender got an ack"
		}
		r.Add(Violation{IDs: []uint64{l.id}, At: l.m.origin, What: what})
	}
	return r
}

// CheckDuplicates reports messages whose effect was applied more than
// once. At is the time of the second application.
func CheckDuplicates(h *History, o DeliveryOptions) Report {
	r, stop := undecided(CheckerDuplicates, h)
	if stop {
		return r
	}
	type applied struct {
		n     int
		first sim.Time
		node  sim.NodeID
	}
	seen := make(map[uint64]applied, len(h.ops)/4)
	for i := range h.ops {
		op := &h.ops[i]
		if op.Kind != Apply {
			continue
		}
		a, ok := seen[op.ID]
		if !ok {
			seen[op.ID] = applied{n: 1, first: op.Invoke, node: op.Process}
			continue
		}
		a.n++
		seen[op.ID] = a
		// Report the second application only; later ones are the same
		// breach of the same message.
		if a.n == 2 {
			r.Add(Violation{IDs: []uint64{op.ID}, At: op.Invoke,
				What: fmt.Sprintf("message %d applied twice on %s: at %v and again at %v", op.ID, o.name(op.Process), a.first, op.Invoke)})
		}
	}
	return r
}

// CheckOrder reports applications that break sequence order on a channel:
// an Apply whose Value (sequence number) is not one more than the last
// applied on its Key, either going back (reordered or replayed) or
// skipping ahead (a gap). IDs are the previous and the offending message.
func CheckOrder(h *History, o DeliveryOptions) Report {
	r, stop := undecided(CheckerOrder, h)
	if stop {
		return r
	}
	type chanState struct {
		last   int64
		lastID uint64
	}
	chans := map[uint64]*chanState{}
	for i := range h.ops {
		op := &h.ops[i]
		if op.Kind != Apply {
			continue
		}
		c := chans[op.Key]
		if c == nil {
			c = &chanState{}
			chans[op.Key] = c
		}
		if op.Value != c.last+1 {
			ids := []uint64{op.ID}
			if c.lastID != 0 && c.lastID != op.ID {
				ids = append(ids, c.lastID)
				slices.Sort(ids)
			}
			kind := "a gap"
			if op.Value <= c.last {
				kind = "going back"
			}
			r.Add(Violation{IDs: ids, At: op.Invoke,
				What: fmt.Sprintf("message %d (seq %d) applied on %s after seq %d: %s", op.ID, op.Value, o.name(op.Process), c.last, kind)})
		}
		if op.Value > c.last {
			c.last, c.lastID = op.Value, op.ID
		}
	}
	return r
}
