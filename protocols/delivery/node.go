package delivery

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Timer tags: the low two bits say what the timer is for, the rest is a
// message or job id.
const (
	tagArrival = 0 // submit the next message(s)
	tagTimeout = 1 // an attempt's ack did not come: tag>>2 is the message id
	tagRetry   = 2 // backoff over: tag>>2 is the message id
	tagDone    = 3 // processing finished: tag>>2 is the job id
)

// Storage keys. Ids are zero-padded so that key order is id order.
const (
	keyOutbox = "outbox/"
	keyDLQ    = "dlq/"
	keyDedupe = "dedupe/"
	keySeq    = "seq/"
	keyEpoch  = "epoch"
	keyBoots  = "boots"
	keyEffect = "effect"
)

func idKey(prefix string, id uint64) string { return fmt.Sprintf("%s%020d", prefix, id) }

// out is a message the sender waits to see acknowledged.
type out struct {
	m       *Msg
	tries   int
	start   sim.Time
	timer   sim.TimerID
	backoff time.Duration
}

// rxChan is the receive state of one sender's session
// (sequence_numbers).
type rxChan struct {
	epoch   uint32
	next    int64 // next sequence number to accept
	applied int64 // next sequence number to apply (all below are applied)
	buf     map[int64]*Msg
}

type dedupeEntry struct {
	id uint64
	at sim.Time
}

// node is one node of the family: a sender, a receiver, both or neither.
// Everything in it is volatile; what must survive a crash lives in
// env.Storage().
type node struct {
	r        *run
	sender   bool
	receiver bool

	// sender
	gen     *workload.Generator
	targets []sim.NodeID
	rr      int
	pending map[uint64]*out
	epoch   uint32
	seqNext map[sim.NodeID]int64

	// receiver
	restarted bool
	keys      map[uint64]sim.Time // dedupe store (mirrors storage when durable)
	fifo      []dedupeEntry       // keys in insertion order, for eviction
	inflight  map[uint64]bool     // accepted, not yet applied
	chans     map[sim.NodeID]*rxChan
	busy      int
	queue     []*Msg
	jobs      map[uint64]*Msg
	nextJob   uint64
}

// Start boots the node. The engine runs it before anything else reaches
// the instance, even a message due in the instant of a restart.
func (n *node) Start(env sim.Env) {
	if n.receiver {
		n.startReceiver(env)
	}
	if n.sender {
		n.startSender(env)
	}
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	switch m := msg.(type) {
	case *Msg:
		if n.receiver {
			n.deliver(env, from, m)
		}
	case *Ack:
		if n.sender {
			n.ack(env, m)
		}
	}
}

func (n *node) Timer(env sim.Env, tag uint64) {
	id := tag >> 2
	switch tag & 3 {
	case tagArrival:
		n.arrival(env)
	case tagTimeout:
		n.timeout(env, id)
	case tagRetry:
		if o := n.pending[id]; o != nil {
			n.attempt(env, o)
		}
	case tagDone:
		n.done(env, id)
	}
}

// ---- sender ----

func (n *node) startSender(env sim.Env) {
	r := n.r
	for _, id := range r.recvs {
		if id != env.ID() || len(r.recvs) == 1 {
			n.targets = append(n.targets, id)
		}
	}
	n.rr = int(env.ID()) % len(n.targets)
	n.pending = map[uint64]*out{}
	n.seqNext = map[sim.NodeID]int64{}
	st := env.Storage()
	// A session per boot: sequence numbers restart at 1 after a crash.
	if b, ok := st.Get(keyEpoch); ok && len(b) == 4 {
		n.epoch = binary.BigEndian.Uint32(b)
	}
	n.epoch++
	st.Put(keyEpoch, binary.BigEndian.AppendUint32(nil, n.epoch))
	if r.cfg.Semantics == TransactionalOutbox {
		// The relay resumes from the durable outbox.
		var rows []*Msg
		for _, k := range st.Keys() {
			if !strings.HasPrefix(k, keyOutbox) {
				continue
			}
			b, _ := st.Get(k)
			if m, ok := decodeMsg(b, r.cfg.SizeBytes); ok {
				m.from = env.ID()
				rows = append(rows, m)
			}
		}
		r.setOutboxSize(env.ID(), len(rows))
		for _, m := range rows {
			o := &out{m: m, start: m.Created}
			n.pending[m.ID] = o
			if n.attempt(env, o) {
				return
			}
		}
	}
	n.gen = workload.NewGenerator(r.wl, 1/float64(len(r.senders)), env.Rand())
	n.armArrival(env)
}

func (n *node) armArrival(env sim.Env) {
	next := n.gen.Next(env.Now())
	if next == sim.Never || next > n.r.deadline {
		return
	}
	env.After(next.Sub(env.Now()), tagArrival)
}

func (n *node) arrival(env sim.Env) {
	if n.r.cfg.FanOut {
		for _, to := range n.targets {
			if n.submit(env, to) {
				return
			}
		}
	} else {
		to := n.targets[n.rr]
		n.rr = (n.rr + 1) % len(n.targets)
		if n.submit(env, to) {
			return
		}
	}
	n.armArrival(env)
}

// submit creates a message to to, commits it and sends the first
// attempt. It returns true if the node crashed.
func (n *node) submit(env sim.Env, to sim.NodeID) bool {
	r, now := n.r, env.Now()
	m := &Msg{ID: r.newMessage(now), from: env.ID(), To: to, Created: now, AmountCents: int64(r.cfg.AmountCents), size: r.cfg.SizeBytes}
	if r.cfg.Semantics == SequenceNumbers {
		n.seqNext[to]++
		m.Epoch, m.Seq = n.epoch, n.seqNext[to]
	}
	r.hist.Event(m.ID, env.ID(), to, history.Submit, channel(env.ID(), to, m.Epoch), m.Seq, now)
	if r.cfg.Semantics == TransactionalOutbox {
		// The message and the sender's state change commit together.
		env.Storage().Put(idKey(keyOutbox, m.ID), m.encode())
		r.setOutboxSize(env.ID(), r.outboxSizes[env.ID()]+1)
	}
	o := &out{m: m, start: now}
	if r.cfg.Semantics.acks() {
		n.pending[m.ID] = o
	}
	if r.crashAt(env, AfterWrite) {
		return true
	}
	return n.attempt(env, o)
}

// attempt sends one attempt of o. It returns true if the node crashed.
func (n *node) attempt(env sim.Env, o *out) bool {
	r, now := n.r, env.Now()
	o.tries++
	m := *o.m
	m.Attempt = o.tries
	r.hist.Event(m.ID, env.ID(), m.To, history.Send, channel(env.ID(), m.To, m.Epoch), m.Seq, now)
	r.sends++
	r.h.sends.Add(1)
	// Both draws are made for every attempt, so that changing one
	// probability leaves the other's draws alone.
	rng := r.inject[env.ID()]
	lost, dup := rng.Float64() < r.f.RequestLoss, rng.Float64() < r.f.Duplicate
	if !lost {
		env.Send(m.To, &m)
		if dup {
			d := m
			env.Send(m.To, &d)
		}
	}
	if r.cfg.Semantics.acks() {
		o.timer = env.After(r.cfg.AckTimeout, m.ID<<2|tagTimeout)
	}
	return r.crashAt(env, AfterSend)
}

func (n *node) timeout(env sim.Env, id uint64) {
	o := n.pending[id]
	if o == nil {
		return
	}
	r := n.r
	if max := r.cfg.Retry.MaxAttempts; max > 0 && o.tries >= max {
		n.giveUp(env, o)
		return
	}
	o.backoff = r.cfg.Retry.Next(o.tries, o.backoff, env.Rand())
	if o.backoff <= 0 {
		n.attempt(env, o)
		return
	}
	o.timer = env.After(o.backoff, id<<2|tagRetry)
}

// giveUp moves a message to the dead-letter queue.
func (n *node) giveUp(env sim.Env, o *out) {
	r, now, id := n.r, env.Now(), o.m.ID
	delete(n.pending, id)
	r.ledger[id] |= ledGaveUp
	r.h.dead.Add(1)
	r.hist.Record(history.Op{ID: id, Process: env.ID(), Peer: o.m.To, Kind: history.Ack,
		Key: channel(env.ID(), o.m.To, o.m.Epoch), Value: o.m.Seq, Invoke: o.start, Complete: now, Outcome: sim.TimedOut})
	r.ops.Op(o.start, now, sim.TimedOut)
	st := env.Storage()
	st.Put(idKey(keyDLQ, id), o.m.encode())
	if r.cfg.Semantics == TransactionalOutbox {
		st.Delete(idKey(keyOutbox, id))
		r.setOutboxSize(env.ID(), r.outboxSizes[env.ID()]-1)
	}
}

func (n *node) ack(env sim.Env, a *Ack) {
	o := n.pending[a.ID]
	if o == nil {
		return // a late or duplicate ack
	}
	r, now := n.r, env.Now()
	env.Cancel(o.timer)
	delete(n.pending, a.ID)
	r.h.acks.Add(1)
	r.hist.Record(history.Op{ID: a.ID, Process: env.ID(), Peer: o.m.To, Kind: history.Ack,
		Key: channel(env.ID(), o.m.To, o.m.Epoch), Value: o.m.Seq, Invoke: o.start, Complete: now, Outcome: sim.OK})
	r.ops.Op(o.start, now, sim.OK)
	if r.cfg.Semantics == TransactionalOutbox {
		env.Storage().Delete(idKey(keyOutbox, a.ID))
		r.setOutboxSize(env.ID(), r.outboxSizes[env.ID()]-1)
	}
}

// ---- receiver ----

func (n *node) startReceiver(env sim.Env) {
	r, st := n.r, env.Storage()
	boots := uint64(0)
	if b, ok := st.Get(keyBoots); ok && len(b) == 8 {
		boots = binary.BigEndian.Uint64(b)
	}
	n.restarted = boots > 0
	st.Put(keyBoots, binary.BigEndian.AppendUint64(nil, boots+1))
	n.keys = map[uint64]sim.Time{}
	n.inflight = map[uint64]bool{}
	n.chans = map[sim.NodeID]*rxChan{}
	n.jobs = map[uint64]*Msg{}
	if r.cfg.Dedupe.Store == Durable {
		for _, k := range st.Keys() {
			if !strings.HasPrefix(k, keyDedupe) {
				continue
			}
			id, _ := strconv.ParseUint(k[len(keyDedupe):], 10, 64)
			b, _ := st.Get(k)
			at := sim.Time(binary.BigEndian.Uint64(b))
			n.keys[id] = at
			n.fifo = append(n.fifo, dedupeEntry{id, at})
		}
		// Insertion order is time order (ties by id).
		slices.SortFunc(n.fifo, func(a, b dedupeEntry) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
	}
	r.setDedupeSize(env.ID(), len(n.keys))
}

func (n *node) deliver(env sim.Env, from sim.NodeID, m *Msg) {
	r := n.r
	r.hist.Event(m.ID, env.ID(), from, history.Deliver, channel(from, env.ID(), m.Epoch), m.Seq, env.Now())
	if r.crashAt(env, OnDeliver) {
		return
	}
	if f := r.f; f.Workers > 0 && n.busy >= f.Workers && f.Queue > 0 && len(n.queue) >= f.Queue {
		r.h.rejected.Add(1)
		return
	}
	switch {
	case r.cfg.Semantics.dedupes():
		n.evict(env)
		if _, ok := n.keys[m.ID]; ok {
			r.h.dedupeHits.Add(1)
			n.sendAck(env, from, m)
			return
		}
		if n.inflight[m.ID] {
			r.h.dedupeHits.Add(1)
			return // being processed: the ack follows
		}
		n.inflight[m.ID] = true
		n.process(env, m)
	case r.cfg.Semantics == SequenceNumbers:
		n.window(env, from, m)
	default:
		n.process(env, m)
	}
}

// window runs the receive window of sequence_numbers: in order, no gaps,
// duplicates dropped.
func (n *node) window(env sim.Env, from sim.NodeID, m *Msg) {
	r := n.r
	c := n.chans[from]
	if c == nil {
		c = n.loadChan(env, from, m)
		n.chans[from] = c
	}
	switch {
	case m.Epoch < c.epoch:
		return // a session the sender has left
	case m.Epoch > c.epoch:
		*c = rxChan{epoch: m.Epoch, next: 1, applied: 1}
	}
	if c.buf == nil {
		c.buf = map[int64]*Msg{}
	}
	switch {
	case m.Seq < c.next:
		r.h.dedupeHits.Add(1)
		if m.Seq < c.applied {
			n.sendAck(env, from, m)
		}
	case m.Seq == c.next:
		c.next++
		n.process(env, m)
		for {
			b := c.buf[c.next]
			if b == nil {
				break
			}
			delete(c.buf, c.next)
			c.next++
			n.process(env, b)
		}
	case m.Seq < c.next+int64(r.cfg.Window):
		if c.buf[m.Seq] == nil {
			c.buf[m.Seq] = m
		}
	}
}

// loadChan returns the session state of a sender seen for the first time
// since boot: from durable storage, or — state lost in a crash — starting
// at whatever arrives.
func (n *node) loadChan(env sim.Env, from sim.NodeID, m *Msg) *rxChan {
	if n.r.cfg.Dedupe.Store == Durable {
		if b, ok := env.Storage().Get(fmt.Sprintf("%s%d", keySeq, from)); ok && len(b) == 12 {
			next := int64(binary.BigEndian.Uint64(b[4:]))
			return &rxChan{epoch: binary.BigEndian.Uint32(b), next: next, applied: next}
		}
	}
	if n.restarted && n.r.cfg.Dedupe.Store == Volatile {
		return &rxChan{epoch: m.Epoch, next: m.Seq, applied: m.Seq}
	}
	return &rxChan{epoch: m.Epoch, next: 1, applied: 1}
}

// process applies m now or after the processing time, through the
// workers.
func (n *node) process(env sim.Env, m *Msg) {
	f := n.r.f
	if f.ProcessingTime <= 0 {
		n.apply(env, m)
		return
	}
	if f.Workers > 0 && n.busy >= f.Workers {
		n.queue = append(n.queue, m)
		return
	}
	n.busy++
	n.startJob(env, m)
}

func (n *node) startJob(env sim.Env, m *Msg) {
	n.nextJob++
	n.jobs[n.nextJob] = m
	env.After(n.r.f.ProcessingTime, n.nextJob<<2|tagDone)
}

func (n *node) done(env sim.Env, job uint64) {
	m := n.jobs[job]
	if m == nil {
		return
	}
	delete(n.jobs, job)
	if n.r.f.Workers > 0 {
		if len(n.queue) > 0 {
			next := n.queue[0]
			n.queue = n.queue[1:]
			n.startJob(env, next)
		} else {
			n.busy--
		}
	}
	n.apply(env, m)
}

// apply applies m's effect, together with the dedupe key or sequence
// state, then acks.
func (n *node) apply(env sim.Env, m *Msg) {
	r, st, now, me := n.r, env.Storage(), env.Now(), env.ID()
	from := m.from
	var total int64
	if b, ok := st.Get(keyEffect); ok && len(b) == 8 {
		total = int64(binary.BigEndian.Uint64(b))
	}
	if r.cfg.Effect == Payment {
		total += m.AmountCents
	} else {
		total++
	}
	st.Put(keyEffect, binary.BigEndian.AppendUint64(nil, uint64(total)))
	switch {
	case r.cfg.Semantics.dedupes():
		delete(n.inflight, m.ID)
		n.keys[m.ID] = now
		n.fifo = append(n.fifo, dedupeEntry{m.ID, now})
		if r.cfg.Dedupe.Store == Durable {
			st.Put(idKey(keyDedupe, m.ID), binary.BigEndian.AppendUint64(nil, uint64(now)))
		}
		n.evict(env)
	case r.cfg.Semantics == SequenceNumbers:
		if c := n.chans[from]; c != nil && c.epoch == m.Epoch && m.Seq >= c.applied {
			c.applied = m.Seq + 1
			if r.cfg.Dedupe.Store == Durable {
				b := binary.BigEndian.AppendUint32(nil, c.epoch)
				st.Put(fmt.Sprintf("%s%d", keySeq, from), binary.BigEndian.AppendUint64(b, uint64(c.applied)))
			}
		}
	}
	r.hist.Event(m.ID, me, from, history.Apply, channel(from, me, m.Epoch), m.Seq, now)
	r.applied(m, now)
	if r.crashAt(env, AfterApply) {
		return
	}
	n.sendAck(env, from, m)
}

// evict drops keys past the dedupe store's size or age bound.
func (n *node) evict(env sim.Env) {
	r := n.r
	d, now := r.cfg.Dedupe, env.Now()
	for len(n.fifo) > 0 && (len(n.keys) > d.MaxKeys || n.fifo[0].at.Add(d.TTL) <= now) {
		e := n.fifo[0]
		n.fifo = n.fifo[1:]
		delete(n.keys, e.id)
		if d.Store == Durable {
			env.Storage().Delete(idKey(keyDedupe, e.id))
		}
	}
	r.setDedupeSize(env.ID(), len(n.keys))
}

func (n *node) sendAck(env sim.Env, to sim.NodeID, m *Msg) {
	r := n.r
	if !r.cfg.Semantics.acks() {
		return
	}
	if r.inject[env.ID()].Float64() < r.f.AckLoss {
		return
	}
	env.Send(to, &Ack{ID: m.ID})
}
