package delivery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is the delivery family; register it with
// experiments.Register(delivery.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "delivery".
func (Protocol) Name() string { return "delivery" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "at-most-once, at-least-once and effectively-exactly-once delivery, checked for lost, duplicated and reordered effects"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

// Metric names recorded by the family.
const (
	// MetricLatency is the histogram of the time from a message's
	// submission to its first application.
	MetricLatency = "delivery_latency"
	// MetricSubmitted counts messages submitted.
	MetricSubmitted = "messages_submitted"
	// MetricSends counts attempts sent (first sends and retransmissions).
	MetricSends = "sends"
	// MetricApplied counts first applications of messages.
	MetricApplied = "messages_applied"
	// MetricDuplicates counts applications beyond the first of a message.
	MetricDuplicates = "duplicate_effects"
	// MetricAcks counts acks received for pending messages.
	MetricAcks = "acks"
	// MetricDeadLetters counts messages given up after max_attempts and
	// moved to the dead-letter queue.
	MetricDeadLetters = "dead_letters"
	// MetricDedupeHits counts duplicates a dedupe store or receive window
	// recognised and did not apply.
	MetricDedupeHits = "dedupe_hits"
	// MetricRejected counts attempts an overloaded receiver turned away.
	MetricRejected = "rejected"
	// MetricDedupeSize is the number of keys in the receivers' dedupe
	// stores (a time series).
	MetricDedupeSize = "dedupe_store_size"
	// MetricOutboxSize is the number of messages in the senders'
	// outboxes (a time series).
	MetricOutboxSize = "outbox_size"
	// MetricSendsPerMessage is attempts sent per message submitted, a
	// run scalar.
	MetricSendsPerMessage = "sends_per_message"
	// MetricDuplicateRatio is duplicate applications per message, a run
	// scalar.
	MetricDuplicateRatio = "duplicate_effect_ratio"
	// MetricLost is the number of messages submitted after the warm-up
	// and before the liveness phase that were never applied, a run
	// scalar.
	MetricLost = "lost_messages"
	// MetricLossRatio is lost_messages per message, a run scalar.
	MetricLossRatio = "loss_ratio"
	// MetricGiveUpRatio is the share of messages whose sender gave up, a
	// run scalar.
	MetricGiveUpRatio = "give_up_ratio"
	// MetricEffectTotal is the sum of the receivers' effects at the end
	// of the run (the counters' values, or the cents charged), a run
	// scalar; compare it with messages_applied to see duplicates in the
	// effect itself.
	MetricEffectTotal = "effect_total"
)

type handles struct {
	latency                                                           sim.Histogram
	submitted, sends, applied, dups, acks, dead, dedupeHits, rejected sim.Counter
	dedupeSize, outboxSize                                            sim.Gauge
}

// Ledger flags, one byte per message: the run's ground truth, kept
// whether or not the history records.
const (
	ledCounted uint8 = 1 << iota // submitted after the warm-up, before the liveness phase
	ledGaveUp
	ledApplied1 // applied at least once
	ledApplied2 // applied at least twice
)

// run is the state shared by the nodes of one run: configuration,
// history, ground-truth ledger and the crash points' counters.
type run struct {
	cfg      *Config
	f        Failure
	eng      *sim.Engine
	hist     *history.History
	h        handles
	ops      protocols.Ops
	setup    *protocols.Setup // for the crash points' windows
	wl       workload.Config
	warmup   sim.Time
	deadline sim.Time
	senders  []sim.NodeID
	recvs    []sim.NodeID
	isSender map[sim.NodeID]bool
	isRecv   map[sim.NodeID]bool
	crashes  []*crashState
	inject   map[sim.NodeID]*rand.Rand

	ledger      []uint8 // by message id; ids start at 1
	sends       uint64
	dupCounted  uint64
	dedupeSizes map[sim.NodeID]int
	dedupeTotal int
	outboxSizes map[sim.NodeID]int
	outboxTotal int
}

type crashState struct {
	cp   CrashPoint
	node sim.NodeID // sim.None for a role
	n    int
}

// Build places senders and receivers on the topology's nodes.
func (c *Config) Build(s *protocols.Setup) error {
	if s.Workload.Kind != workload.Open {
		return errors.New("delivery needs an open workload (workload.kind: open): messages are submitted at a rate")
	}
	if c.Liveness >= s.Duration {
		return fmt.Errorf("liveness %v leaves no time to send messages in a %v run", c.Liveness, s.Duration)
	}
	senders, err := s.Select(c.Senders)
	if err != nil {
		return fmt.Errorf("senders: %w", err)
	}
	recvs, err := s.Select(c.Receivers)
	if err != nil {
		return fmt.Errorf("receivers: %w", err)
	}
	cfg := *c
	m := s.Engine.Metrics()
	r := &run{
		cfg: &cfg, f: c.effective(), eng: s.Engine, ops: s.Ops, setup: s, wl: s.Workload,
		warmup: sim.Time(s.Warmup), deadline: sim.Time(s.Duration - c.Liveness),
		hist:     history.New(history.Config{Enabled: c.History.Record, MaxOps: c.History.MaxOps}),
		isSender: map[sim.NodeID]bool{}, isRecv: map[sim.NodeID]bool{},
		inject: map[sim.NodeID]*rand.Rand{}, ledger: []uint8{0},
		dedupeSizes: map[sim.NodeID]int{}, outboxSizes: map[sim.NodeID]int{},
		h: handles{
			latency: m.Histogram(MetricLatency), submitted: m.Counter(MetricSubmitted), sends: m.Counter(MetricSends),
			applied: m.Counter(MetricApplied), dups: m.Counter(MetricDuplicates), acks: m.Counter(MetricAcks),
			dead: m.Counter(MetricDeadLetters), dedupeHits: m.Counter(MetricDedupeHits), rejected: m.Counter(MetricRejected),
			dedupeSize: m.Gauge(MetricDedupeSize), outboxSize: m.Gauge(MetricOutboxSize),
		},
	}
	r.h.dedupeSize.Set(0)
	r.h.outboxSize.Set(0)
	role := map[string]uint8{}
	for _, n := range senders {
		role[n.Name] |= 1
	}
	for _, n := range recvs {
		role[n.Name] |= 2
	}
	// Every topology node is added, so that the network and faults can
	// name any of them; nodes with no role stay idle.
	for _, p := range s.Nodes {
		rl := role[p.Name]
		id, err := s.AddNode(p.Name, func() sim.Node { return &node{r: r, sender: rl&1 != 0, receiver: rl&2 != 0} })
		if err != nil {
			return err
		}
		r.inject[id] = s.Engine.Stream("delivery/inject/" + p.Name)
		if rl&1 != 0 {
			r.senders = append(r.senders, id)
			r.isSender[id] = true
		}
		if rl&2 != 0 {
			r.recvs = append(r.recvs, id)
			r.isRecv[id] = true
		}
	}
	for _, cp := range r.f.CrashPoints {
		cs := &crashState{cp: cp, node: sim.None}
		if cp.Node != RoleSender && cp.Node != RoleReceiver {
			id, ok := s.Engine.Lookup(cp.Node)
			if !ok {
				return fmt.Errorf("crash point: %w: %q", sim.ErrUnknownNode, cp.Node)
			}
			cs.node = id
		}
		r.crashes = append(r.crashes, cs)
	}
	s.AtEnd(func() { r.finish(s) })
	if c.History.Record {
		opts := history.DeliveryOptions{
			Deadline:      r.deadline,
			ExcuseGiveUps: c.Semantics.acks() && c.Retry.MaxAttempts > 0,
			Name:          s.Engine.NodeName,
		}
		for _, ch := range history.DeliveryCheckers(c.Semantics.Guarantee(), opts) {
			ch := ch
			s.Invariant(ch.Name, func() error { return ch.Check(r.hist).Err() })
		}
	}
	return nil
}

// History returns the run's history; tests and tools read it after the
// run. It is nil until Build ran.
func (r *run) History() *history.History { return r.hist }

// finish reports the run scalars from the ledger.
func (r *run) finish(s *protocols.Setup) {
	var counted, lost, gaveUp float64
	for _, f := range r.ledger {
		if f&ledCounted == 0 {
			continue
		}
		counted++
		if f&ledApplied1 == 0 {
			lost++
		}
		if f&ledGaveUp != 0 {
			gaveUp++
		}
	}
	n := counted
	if n == 0 {
		n = math.NaN()
	}
	s.Report(MetricLost, lost)
	s.Report(MetricLossRatio, lost/n)
	s.Report(MetricGiveUpRatio, gaveUp/n)
	s.Report(MetricDuplicateRatio, float64(r.dupCounted)/n)
	submitted := float64(len(r.ledger) - 1)
	if submitted == 0 {
		submitted = math.NaN()
	}
	s.Report(MetricSendsPerMessage, float64(r.sends)/submitted)
	var total int64
	for _, id := range r.recvs {
		if b, ok := r.eng.Storage(id).Get(keyEffect); ok && len(b) == 8 {
			total += int64(binary.BigEndian.Uint64(b))
		}
	}
	s.Report(MetricEffectTotal, float64(total))
}

// newMessage allocates an id and records the submission in the ledger.
func (r *run) newMessage(now sim.Time) uint64 {
	id := uint64(len(r.ledger))
	var f uint8
	if now >= r.warmup && now <= r.deadline {
		f = ledCounted
	}
	r.ledger = append(r.ledger, f)
	r.h.submitted.Add(1)
	return id
}

// applied records an application in the ledger and the metrics.
func (r *run) applied(m *Msg, now sim.Time) {
	f := &r.ledger[m.ID]
	switch {
	case *f&ledApplied1 == 0:
		*f |= ledApplied1
		r.h.applied.Add(1)
		r.h.latency.Record(now.Sub(m.Created))
	default:
		*f |= ledApplied2
		r.h.dups.Add(1)
		if *f&ledCounted != 0 {
			r.dupCounted++
		}
	}
}

func (r *run) setDedupeSize(id sim.NodeID, n int) {
	r.dedupeTotal += n - r.dedupeSizes[id]
	r.dedupeSizes[id] = n
	r.h.dedupeSize.Set(float64(r.dedupeTotal))
}

func (r *run) setOutboxSize(id sim.NodeID, n int) {
	r.outboxTotal += n - r.outboxSizes[id]
	r.outboxSizes[id] = n
	r.h.outboxSize.Set(float64(r.outboxTotal))
}

// crashAt counts an occurrence of event p at the node and crashes it when
// a crash point says so. It returns true if the node crashed: the caller
// must return at once.
func (r *run) crashAt(env sim.Env, p Point) bool {
	me := env.ID()
	var down time.Duration
	for _, c := range r.crashes {
		if c.cp.AtEvent != p {
			continue
		}
		switch {
		case c.node == me:
		case c.node == sim.None && c.cp.Node == RoleReceiver && r.isRecv[me]:
		case c.node == sim.None && c.cp.Node == RoleSender && r.isSender[me]:
		default:
			continue
		}
		c.n++
		if c.n == c.cp.Nth || (c.cp.Every > 0 && c.n > c.cp.Nth && (c.n-c.cp.Nth)%c.cp.Every == 0) {
			down = max(down, c.cp.DownFor)
		}
	}
	if down == 0 {
		return false
	}
	e := r.eng
	e.Trace(sim.KindNote, me, sim.None, nil, "crash point "+p.String())
	e.Crash(me)
	e.At(e.Now().Add(down), func() { e.Restart(me) })
	// The node is down from now until it restarts (or the run ends): a
	// window plots shade and fault coverage counts, like a scheduled
	// crash.
	start := time.Duration(e.Now())
	r.setup.Window(WindowCrashPoint, e.NodeName(me)+"/"+p.String(), start, min(start+down, r.setup.Duration))
	return true
}

// WindowCrashPoint is the kind of the fault window a crash point opens,
// labelled node/event ("server/on_deliver"): from the crash until the
// node restarts.
const WindowCrashPoint = "crash_point"
