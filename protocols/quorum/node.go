package quorum

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols/dist"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Timer tags: the low three bits say what a timer is for, the rest carry
// an id.
const (
	tagArrival   = 0 // open loop: start the next operation
	tagThink     = 1 // closed loop: tag>>3 is the loop index
	tagAttempt   = 2 // client attempt timeout: tag>>3 is the attempt id
	tagCoord     = 3 // coordinator timeout: tag>>3 is the coordination id
	tagHint      = 4 // ap: try fallbacks for coordination tag>>3
	tagSend      = 5 // a leg-delayed message is due: tag>>3 is its id
	tagRetry     = 6 // backoff over: tag>>3 is the logical operation id
	tagPeriodic  = 7 // tag>>3: 0 handoff, 1 anti-entropy, 2+i script op i
	periodicHand = 0
	periodicAE   = 1
	periodicScr  = 2
)

// entry is a replica's value of one key.
type entry struct {
	value int64
	ver   Ver
	// sibs is the sibling set under merge siblings (value and ver are
	// then those of its newest member).
	sibs []Sibling
}

// hintKey names a hinted write: for which replica (store index) and key.
type hintKey struct {
	target int
	key    uint64
}

// delayed is a message waiting out its leg delay.
type delayed struct {
	to  sim.NodeID
	msg sim.Message
}

// node is one topology node: a store replica, a client, or both; every
// node can coordinate.
type node struct {
	rs    *runState
	name  string
	store int // store index, -1 if not a store
	// client role
	client bool
	share  float64
	loops  []int

	gen    *workload.Generator
	data   map[uint64]entry
	hints  map[hintKey]entry
	coords map[uint64]*coord
	atts   map[uint64]*attempt
	ops    map[uint64]*logical
	sends  map[uint64]delayed
	sendID uint64
	// busy queues a cp leader's writes per key; the first is running.
	busy map[uint64][]*coord
	// ctx is a client's version vector per key (merge siblings), dot the
	// last version-vector count this node issued as a coordinator.
	ctx map[uint64]VClock
	dot uint64
}

// Start boots the node: reload the replica's data, arm the workload.
func (n *node) Start(env sim.Env) {
	n.coords = map[uint64]*coord{}
	n.atts = map[uint64]*attempt{}
	n.ops = map[uint64]*logical{}
	n.sends = map[uint64]delayed{}
	n.hints = map[hintKey]entry{}
	if n.store >= 0 {
		n.data = map[uint64]entry{}
		st := env.Storage()
		for _, k := range st.Keys() {
			if !strings.HasPrefix(k, storePrefix) {
				continue
			}
			key, err := strconv.ParseUint(k[len(storePrefix):], 16, 64)
			b, _ := st.Get(k)
			e, ok := decodeStored(b)
			if err != nil || !ok {
				continue
			}
			n.data[key] = e
		}
		env.After(n.rs.cfg.HandoffInterval, periodicHand<<3|tagPeriodic)
		if ae := n.rs.cfg.AntiEntropyInterval; ae > 0 {
			env.After(time.Duration(env.Rand().Int64N(int64(ae)))+1, periodicAE<<3|tagPeriodic)
		}
	}
	if len(n.rs.cfg.Script) > 0 {
		for i, s := range n.rs.cfg.Script {
			if s.Client == n.name && sim.Time(s.At) >= env.Now() {
				env.After(sim.Time(s.At).Sub(env.Now()), uint64(periodicScr+i)<<3|tagPeriodic)
			}
		}
		return
	}
	if !n.client {
		return
	}
	wl := n.rs.wl
	n.gen = workload.NewGenerator(wl, n.share, env.Rand())
	if wl.Kind == workload.Open {
		n.armArrival(env)
		return
	}
	// Closed loops start together at the workload's start and think
	// only between operations.
	start := sim.Time(wl.Start)
	for _, l := range n.loops {
		env.After(max(0, start.Sub(env.Now())), uint64(l)<<3|tagThink)
	}
}

const storePrefix = "q/"

func encodeEntry(e entry) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint64(b, uint64(e.value))
	binary.BigEndian.PutUint64(b[8:], uint64(e.ver.TS))
	binary.BigEndian.PutUint32(b[16:], uint32(e.ver.Node))
	return b
}

func decodeEntry(b []byte) entry {
	return entry{
		value: int64(binary.BigEndian.Uint64(b)),
		ver:   Ver{TS: int64(binary.BigEndian.Uint64(b[8:])), Node: sim.NodeID(binary.BigEndian.Uint32(b[16:]))},
	}
}

func storeKey(key uint64) string { return storePrefix + strconv.FormatUint(key, 16) }

// apply merges a value into the replica by last-writer-wins and persists
// it; it reports whether the value was newer.
func (n *node) apply(env sim.Env, key uint64, value int64, v Ver) bool {
	cur := n.data[key]
	if !cur.ver.Less(v) {
		return false
	}
	e := entry{value: value, ver: v}
	n.data[key] = e
	env.Storage().Put(storeKey(key), encodeEntry(e))
	return true
}

func (n *node) armArrival(env sim.Env) {
	next := n.gen.Next(env.Now())
	if next == sim.Never {
		return
	}
	env.After(next.Sub(env.Now()), tagArrival)
}

// send hands msg to the network after the leg's extra delay (none if the
// leg has no distribution). Messages to the node itself skip the network.
func (n *node) send(env sim.Env, to sim.NodeID, msg sim.Message, leg dist.Dist) {
	var d time.Duration
	if leg != nil {
		d = leg.Sample(env.Rand())
	}
	if d <= 0 {
		n.deliver(env, to, msg)
		return
	}
	n.sendID++
	n.sends[n.sendID] = delayed{to: to, msg: msg}
	env.After(d, n.sendID<<3|tagSend)
}

func (n *node) deliver(env sim.Env, to sim.NodeID, msg sim.Message) {
	if to == env.ID() {
		n.Receive(env, to, msg)
		return
	}
	env.Send(to, msg)
}

// Receive dispatches a message to the role it is for.
func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	switch m := msg.(type) {
	case *WriteReq:
		n.onWriteReq(env, from, m)
	case *ReadReq:
		if n.store < 0 {
			return
		}
		e := n.data[m.Key]
		n.send(env, from, &ReadResp{Op: m.Op, Key: m.Key, Value: e.value, Ver: e.ver, Sibs: e.sibs}, n.rs.legs[legReadResponse])
	case *WriteAck:
		if m.Handoff {
			n.onHandoffAck(m)
			return
		}
		if c := n.coords[m.Op]; c != nil {
			c.onWriteAck(env, n, from, m)
		}
	case *ReadResp:
		if c := n.coords[m.Op]; c != nil {
			c.onReadResp(env, n, from, m)
		}
	case *ClientReq:
		n.onClientReq(env, from, m)
	case *ClientResp:
		if a := n.atts[m.ID]; a != nil {
			n.attemptDone(env, a, answer{s: m.Status, value: m.Value, ver: m.Ver, applied: m.Applied, ctx: m.Ctx, nsibs: m.NSibs})
		}
	case *SyncMsg:
		if n.store < 0 {
			return
		}
		for _, e := range m.Entries {
			if n.rs.cfg.Merge == Siblings {
				n.applySibling(env, e.Key, Sibling{Value: e.Value, Ver: e.Ver, VV: e.VV})
				continue
			}
			n.apply(env, e.Key, e.Value, e.Ver)
		}
	}
}

// onWriteReq is the replica side of a write: check the condition, merge
// by last-writer-wins, keep a hint if the write was meant for another
// replica, and acknowledge.
func (n *node) onWriteReq(env sim.Env, from sim.NodeID, m *WriteReq) {
	if n.store < 0 {
		return
	}
	cur := n.data[m.Key]
	if m.Cond && m.Expect.Less(cur.ver) {
		if !m.Repair {
			n.send(env, from, &WriteAck{Op: m.Op, Key: m.Key, OK: false, Cur: cur.ver}, n.rs.legs[legWriteAck])
		}
		return
	}
	sibs := n.rs.cfg.Merge == Siblings
	if sibs {
		n.applySibling(env, m.Key, Sibling{Value: m.Value, Ver: m.Ver, VV: m.VV})
	} else {
		n.apply(env, m.Key, m.Value, m.Ver)
	}
	if m.Hint >= 0 && m.Hint != n.store {
		hk := hintKey{target: m.Hint, key: m.Key}
		h, ok := n.hints[hk]
		switch {
		case sibs:
			if set, kept := addSibling(h.sibs, Sibling{Value: m.Value, Ver: m.Ver, VV: m.VV}); kept {
				n.hints[hk] = entry{sibs: set}
				if !ok {
					n.rs.h.hintsStored.Add(1)
				}
			}
		case !ok || h.ver.Less(m.Ver):
			if !ok {
				n.rs.h.hintsStored.Add(1)
			}
			n.hints[hk] = entry{value: m.Value, ver: m.Ver}
		}
	}
	if !m.Repair {
		n.send(env, from, &WriteAck{Op: m.Op, Key: m.Key, OK: true, Cur: m.Ver, Handoff: m.Handoff, Hinted: m.Hint}, n.rs.legs[legWriteAck])
	}
}

func (n *node) onHandoffAck(m *WriteAck) {
	hk := hintKey{target: m.Hinted, key: m.Key}
	h, ok := n.hints[hk]
	if !ok {
		return
	}
	if h.sibs != nil {
		var rest []Sibling
		for _, s := range h.sibs {
			if s.Ver != m.Cur {
				rest = append(rest, s)
			}
		}
		if len(rest) > 0 {
			n.hints[hk] = entry{sibs: rest}
			return
		}
		delete(n.hints, hk)
		n.rs.h.hintsDelivered.Add(1)
		return
	}
	if h.ver == m.Cur {
		delete(n.hints, hk)
		n.rs.h.hintsDelivered.Add(1)
	}
}

// handoff sends every hint to its intended replica, in a fixed order.
func (n *node) handoff(env sim.Env) {
	keys := make([]hintKey, 0, len(n.hints))
	for k := range n.hints {
		keys = append(keys, k)
	}
	sortHints(keys)
	for _, k := range keys {
		h := n.hints[k]
		if h.sibs != nil {
			for _, s := range h.sibs {
				n.send(env, n.rs.storeIDs[k.target], &WriteReq{Key: k.key, Value: s.Value, Ver: s.Ver, VV: s.VV, Hint: k.target, Handoff: true}, n.rs.legs[legWriteRequest])
			}
			continue
		}
		n.send(env, n.rs.storeIDs[k.target], &WriteReq{Key: k.key, Value: h.value, Ver: h.ver, Hint: k.target, Handoff: true}, n.rs.legs[legWriteRequest])
	}
}

// antiEntropy pushes this store's values of the keys it shares with one
// random other store.
func (n *node) antiEntropy(env sim.Env) {
	rs := n.rs
	if len(rs.storeIDs) < 2 {
		return
	}
	peer := env.Rand().IntN(len(rs.storeIDs) - 1)
	if peer >= n.store {
		peer++
	}
	keys := slices.Sorted(maps.Keys(n.data))
	var out []SyncEntry
	for _, k := range keys {
		reps := rs.ring.Replicas(k, rs.cfg.N)
		for _, r := range reps {
			if r == peer {
				e := n.data[k]
				if e.sibs != nil {
					for _, s := range e.sibs {
						out = append(out, SyncEntry{Key: k, Value: s.Value, Ver: s.Ver, VV: s.VV})
					}
					break
				}
				out = append(out, SyncEntry{Key: k, Value: e.value, Ver: e.ver})
				break
			}
		}
	}
	if len(out) > 0 {
		n.send(env, rs.storeIDs[peer], &SyncMsg{Entries: out}, nil)
	}
}

// Timer dispatches a timer.
func (n *node) Timer(env sim.Env, tag uint64) {
	id := tag >> 3
	switch tag & 7 {
	case tagArrival:
		n.startLogical(env, -1, n.rs.pickKind(env.Rand()), n.rs.keys.next(env.Rand()))
		n.armArrival(env)
	case tagThink:
		n.startLogical(env, int(id), n.rs.pickKind(env.Rand()), n.rs.keys.next(env.Rand()))
	case tagAttempt:
		if a := n.atts[id]; a != nil {
			n.attemptDone(env, a, answer{s: stUnavailable, applied: true})
			n.rs.h.timeouts.Add(1)
		}
	case tagCoord:
		if c := n.coords[id]; c != nil {
			c.expire(env, n)
		}
	case tagHint:
		if c := n.coords[id]; c != nil {
			c.fallback(env, n)
		}
	case tagSend:
		if d, ok := n.sends[id]; ok {
			delete(n.sends, id)
			n.deliver(env, d.to, d.msg)
		}
	case tagRetry:
		if op := n.ops[id]; op != nil {
			n.runAttempt(env, op)
		}
	case tagPeriodic:
		switch {
		case id == periodicHand:
			n.handoff(env)
			env.After(n.rs.cfg.HandoffInterval, periodicHand<<3|tagPeriodic)
		case id == periodicAE:
			n.antiEntropy(env)
			env.After(n.rs.cfg.AntiEntropyInterval, periodicAE<<3|tagPeriodic)
		default:
			s := n.rs.cfg.Script[id-periodicScr]
			n.startLogical(env, -1, s.Kind, s.Key)
		}
	}
}

// logical is one client operation, across its attempts.
type logical struct {
	id      uint64
	kind    OpKind
	key     uint64
	value   int64 // the value written (fresh per logical operation)
	loop    int
	start   sim.Time
	attempt int           // attempts made
	prev    time.Duration // previous backoff
	// increment: the read's result while the CAS is under way.
	readVal int64
	readVer Ver
	// anyEffect: some attempt may have taken effect.
	anyEffect bool
}

// attempt is one client attempt in flight: a read, a write or a CAS.
type attempt struct {
	id    uint64
	op    *logical
	kind  opKind
	timer sim.TimerID
	ref   history.Ref
	start sim.Time
	coord uint64 // local coordination (client-coordinated), else 0
}

func (n *node) startLogical(env sim.Env, loop int, kind OpKind, key uint64) {
	rs := n.rs
	rs.nextID++
	op := &logical{id: rs.nextID, kind: kind, key: key, loop: loop, start: env.Now()}
	rs.nextValue++
	op.value = rs.nextValue
	n.ops[op.id] = op
	rs.st.started++
	n.runAttempt(env, op)
}

// runAttempt starts the next attempt of op: a write, or a read (for
// reads, and as the first half of every increment attempt; the
// conditional write follows the read's answer).
func (n *node) runAttempt(env sim.Env, op *logical) {
	op.attempt++
	if op.kind == OpWrite {
		n.startAttempt(env, op, kWrite, op.value, Ver{})
		return
	}
	n.startAttempt(env, op, kRead, 0, Ver{})
}

func (n *node) startAttempt(env sim.Env, op *logical, kind opKind, value int64, expect Ver) {
	rs := n.rs
	rs.nextID++
	a := &attempt{id: rs.nextID, op: op, kind: kind, start: env.Now()}
	n.atts[a.id] = a
	hk := history.Read
	switch kind {
	case kWrite:
		hk = history.Write
	case kCAS:
		hk = history.CAS
	}
	a.ref = rs.hist.Invoke(a.id, env.ID(), hk, op.key, value, env.Now())
	if kind == kCAS {
		if o := rs.hist.Op(a.ref); o != nil {
			o.Prev, o.Expect = expect.Key(), op.readVal
		}
	}
	a.timer = env.After(rs.cfg.Timeout, a.id<<3|tagAttempt)
	// Who coordinates: primary-strategy writes always go to the
	// primary, cp writes to the key's leader; otherwise the client
	// itself, or a random replica.
	to := sim.None
	if (rs.cfg.Strategy == Primary || rs.cfg.Strategy == CP) && kind != kRead {
		to = rs.storeIDs[rs.primaryOf(op.key)]
	} else if rs.cfg.Coordinator == ReplicaCoordinates {
		reps := rs.ring.Replicas(op.key, rs.cfg.N)
		to = rs.storeIDs[reps[env.Rand().IntN(len(reps))]]
	}
	ctx := n.ctx[op.key]
	if to == sim.None {
		c := n.newCoord(env, kind, op.key, value, expect)
		c.ctx = ctx
		c.local = a.id
		a.coord = c.id
		c.begin(env, n)
		return
	}
	n.deliver(env, to, &ClientReq{ID: a.id, Kind: kind, Key: op.key, Value: value, Expect: expect, Ctx: ctx})
}

// onClientReq coordinates an attempt on behalf of a remote client.
func (n *node) onClientReq(env sim.Env, from sim.NodeID, m *ClientReq) {
	c := n.newCoord(env, m.Kind, m.Key, m.Value, m.Expect)
	c.client, c.clientReq, c.ctx = from, m.ID, m.Ctx
	// Answer before the client's own timeout, so that it learns the
	// quorum was out of reach rather than nothing at all.
	c.deadline = n.rs.cfg.Timeout * 3 / 4
	if n.rs.cfg.Strategy == CP && m.Kind != kRead {
		// The key's leader runs its writes one at a time, so that
		// versions grow with the order in which writes take effect
		// (single-writer ABD, which is linearizable; concurrent
		// two-phase writers are not once conditional writes are mixed
		// in).
		c.serial, c.queued = true, env.Now()
		if n.busy == nil {
			n.busy = map[uint64][]*coord{}
		}
		q, busy := n.busy[m.Key]
		n.busy[m.Key] = append(q, c)
		if busy {
			return
		}
	}
	c.begin(env, n)
}

// nextSerial starts the next queued cp write of key at its leader.
func (n *node) nextSerial(env sim.Env, key uint64) {
	q := n.busy[key]
	if len(q) > 0 {
		q = q[1:]
	}
	for len(q) > 0 && env.Now().Sub(q[0].queued) >= q[0].deadline {
		// Its client has given up: refuse it without touching a replica.
		c := q[0]
		q = q[1:]
		c.done = true
		delete(n.coords, c.id)
		n.deliver(env, c.client, &ClientResp{ID: c.clientReq, Status: stUnavailable})
	}
	if len(q) == 0 {
		delete(n.busy, key)
		return
	}
	n.busy[key] = q
	q[0].begin(env, n)
}

// answer is how a coordinated attempt ended.
type answer struct {
	s       status
	value   int64
	ver     Ver
	applied bool // some replica may hold the write
	ctx     VClock
	nsibs   int
}

// attemptDone ends attempt a with the coordinator's answer.
func (n *node) attemptDone(env sim.Env, a *attempt, ans answer) {
	rs := n.rs
	s, value, v, applied := ans.s, ans.value, ans.ver, ans.applied
	if s == stOK && rs.cfg.Merge == Siblings {
		if n.ctx == nil {
			n.ctx = map[uint64]VClock{}
		}
		n.ctx[a.op.key] = ans.ctx
		if a.kind == kRead && ans.nsibs > 1 {
			rs.h.siblingReads.Add(1)
			rs.st.siblingReads++
		}
		if a.kind == kWrite && rs.hist.Enabled() {
			rs.writeVV[v.Key()] = ans.ctx
		}
	}
	delete(n.atts, a.id)
	env.Cancel(a.timer)
	if a.coord != 0 {
		if c := n.coords[a.coord]; c != nil {
			c.local = 0
		}
	}
	op := a.op
	now := env.Now()
	out := sim.OK
	switch {
	case s == stOK:
	case !applied:
		out = sim.Failed
	default:
		out = sim.TimedOut
	}
	rs.hist.Complete(a.ref, out, value, v.Key(), now)
	if a.kind != kRead && out != sim.Failed {
		op.anyEffect = true
	}
	if s == stOK {
		switch a.kind {
		case kRead:
			_, lag := rs.stale.Read(op.key, a.start, v.Key())
			if a.start >= rs.warmup {
				rs.h.staleness.Record(lag)
			}
		default:
			rs.stale.Commit(op.key, v.Key(), now)
		}
	}
	if a.kind == kCAS && s == stConflict {
		rs.h.casRejected.Add(1)
	}
	if s == stOK {
		if op.kind == OpIncrement && a.kind == kRead {
			op.readVal, op.readVer = value, v
			n.startAttempt(env, op, kCAS, op.value, v)
			rs.h.casAttempts.Add(1)
			return
		}
		n.finish(env, op, true)
		return
	}
	class := retry.Timeout
	switch s {
	case stConflict:
		class = retry.Failure
	case stUnavailable:
		if applied {
			class = retry.Timeout
		} else {
			class = retry.Overload
		}
	}
	if !rs.cfg.Retry.ShouldRetry(op.attempt, class) {
		n.finish(env, op, false)
		return
	}
	op.prev = rs.cfg.Retry.Next(op.attempt, op.prev, env.Rand())
	rs.h.retries.Add(1)
	env.After(op.prev, op.id<<3|tagRetry)
}

// finish ends a logical operation.
func (n *node) finish(env sim.Env, op *logical, ok bool) {
	rs := n.rs
	delete(n.ops, op.id)
	now := env.Now()
	if ok {
		rs.st.ok++
	} else {
		rs.st.failed++
	}
	if op.start >= rs.warmup {
		rs.count(op.start, now, ok)
		if ok {
			d := now.Sub(op.start)
			switch op.kind {
			case OpRead:
				rs.h.readLat.Record(d)
			case OpWrite:
				rs.h.writeLat.Record(d)
			case OpIncrement:
				rs.h.incLat.Record(d)
			}
			rs.h.ok.Add(1)
		} else {
			rs.h.failed.Add(1)
		}
		out := sim.OK
		if !ok {
			out = sim.Failed
			if op.anyEffect {
				out = sim.TimedOut
			}
		}
		rs.ops.Op(op.start, now, out)
	}
	if op.loop >= 0 {
		env.After(n.gen.Think(), uint64(op.loop)<<3|tagThink)
	}
}

func (n *node) String() string { return fmt.Sprintf("quorum node %s", n.name) }
