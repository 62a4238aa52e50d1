package quorum

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// coord is one coordinated attempt: a quorum read, a quorum write or a
// conditional write, in one or two phases.
type coord struct {
	id     uint64
	kind   opKind
	key    uint64
	value  int64
	expect Ver
	// phase: 0 = the first round, 1 = a cp write round (after the
	// version read) or read write-back.
	phase int
	ver   Ver // the version being written

	// Who asked: a local attempt (local != 0) or a remote client.
	local     uint64
	client    sim.NodeID
	clientReq uint64
	deadline  time.Duration

	walk     []int // the key's stores in ring order
	targets  []int // stores contacted this round
	answered []bool
	need     int
	acks     int
	rejects  int
	applied  bool // some replica may hold the write
	best     entry
	resps    []readAnswer
	nextFb   int // next fallback position in walk (ap)
	timer    sim.TimerID
	hint     sim.TimerID
	done     bool
	cpRead   bool // the first round of a cp write: reading versions
	serial   bool // a cp leader's write: start the next one when done
	queued   sim.Time
	ctx      VClock    // merge siblings: the client's vector of the key
	vv       VClock    // merge siblings: the write's vector
	sibs     []Sibling // merge siblings: the read's merged set
}

type readAnswer struct {
	store int
	ver   Ver
	nsibs int
}

func (n *node) newCoord(env sim.Env, kind opKind, key uint64, value int64, expect Ver) *coord {
	rs := n.rs
	rs.nextID++
	c := &coord{id: rs.nextID, kind: kind, key: key, value: value, expect: expect, client: sim.None, deadline: rs.cfg.Timeout}
	c.walk = rs.ring.Walk(key)
	n.coords[c.id] = c
	return c
}

// clockVer is a fresh last-writer-wins version from the local clock.
func clockVer(env sim.Env) Ver { return Ver{TS: int64(env.Local()), Node: env.ID() + 1} }

// begin starts the first round.
func (c *coord) begin(env sim.Env, n *node) {
	rs := n.rs
	c.timer = env.After(c.deadline, c.id<<3|tagCoord)
	cfg := rs.cfg
	switch {
	case c.kind == kRead:
		c.readRound(env, n, cfg.R)
	case cfg.Strategy == CP:
		// ABD: learn the newest version from a read quorum first.
		c.cpRead = true
		c.readRound(env, n, cfg.R)
	case cfg.Strategy == Primary:
		c.primaryWrite(env, n)
	default:
		c.ver = clockVer(env)
		if cfg.Merge == Siblings {
			// A fresh dot, above every earlier one of this node (also
			// across restarts: the clock only moves forward).
			n.dot = max(n.dot+1, uint64(env.Now()))
			c.vv = c.ctx.With(env.ID(), n.dot)
		}
		c.writeRound(env, n, cfg.W)
	}
}

// pick returns the stores to contact for a round needing q answers.
func (c *coord) pick(env sim.Env, n *node, q int) []int {
	cfg := n.rs.cfg
	reps := c.walk[:cfg.N]
	if cfg.Fanout == FanoutAll {
		return reps
	}
	// q distinct replicas, uniformly at random (a partial shuffle).
	idx := make([]int, len(reps))
	copy(idx, reps)
	for i := 0; i < q; i++ {
		j := i + env.Rand().IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:q]
}

func (c *coord) resetRound(n *node, targets []int, need int) {
	c.targets = targets
	c.answered = make([]bool, len(n.rs.storeIDs))
	c.need, c.acks, c.rejects = need, 0, 0
	c.resps = c.resps[:0]
	c.nextFb = n.rs.cfg.N
}

func (c *coord) readRound(env sim.Env, n *node, need int) {
	c.resetRound(n, c.pick(env, n, need), need)
	c.best = entry{}
	for _, s := range c.targets {
		n.send(env, n.rs.storeIDs[s], &ReadReq{Op: c.id, Key: c.key}, n.rs.legs[legReadRequest])
	}
	c.armHint(env, n)
}

func (c *coord) writeRound(env sim.Env, n *node, need int) {
	c.resetRound(n, c.pick(env, n, need), need)
	for _, s := range c.targets {
		c.sendWrite(env, n, s, -1)
	}
	c.armHint(env, n)
}

func (c *coord) sendWrite(env sim.Env, n *node, store, hint int) {
	c.applied = true
	n.send(env, n.rs.storeIDs[store], &WriteReq{
		Op: c.id, Key: c.key, Value: c.value, Ver: c.ver, Cond: c.kind == kCAS, Expect: c.expect, Hint: hint, VV: c.vv,
	}, n.rs.legs[legWriteRequest])
}

// primaryWrite runs a write at the primary: check the condition against
// the primary's own copy, apply it there, then replicate.
func (c *coord) primaryWrite(env sim.Env, n *node) {
	rs := n.rs
	if n.store < 0 || rs.primaryOf(c.key) != n.store {
		// Not the primary (a stale route): refuse.
		c.finish(env, n, stUnavailable, 0, Ver{}, false)
		return
	}
	cur := n.data[c.key]
	if c.kind == kCAS && c.expect.Less(cur.ver) {
		c.finish(env, n, stConflict, cur.value, cur.ver, false)
		return
	}
	c.ver = clockVer(env)
	if !cur.ver.Less(c.ver) {
		// The primary's clock went back: order after what it has.
		c.ver = Ver{TS: cur.ver.TS + 1, Node: env.ID() + 1}
	}
	c.applied = true
	n.apply(env, c.key, c.value, c.ver)
	c.resetRound(n, nil, rs.cfg.W)
	c.answered[n.store] = true
	c.acks = 1
	for _, s := range c.walk[:rs.cfg.N] {
		if s != n.store {
			c.targets = append(c.targets, s)
			n.send(env, rs.storeIDs[s], &WriteReq{Op: c.id, Key: c.key, Value: c.value, Ver: c.ver, Hint: -1}, rs.legs[legWriteRequest])
		}
	}
	if c.acks >= c.need {
		c.finish(env, n, stOK, c.value, c.ver, true)
	}
}

// armHint schedules the sloppy-quorum fallback of the ap strategy.
func (c *coord) armHint(env sim.Env, n *node) {
	if n.rs.cfg.Strategy != AP {
		return
	}
	env.Cancel(c.hint)
	c.hint = env.After(n.rs.cfg.HintTimeout, c.id<<3|tagHint)
}

// fallback (ap) sends the round's request to the next nodes of the ring,
// one for each contacted replica that has not answered, with a hint
// naming it.
func (c *coord) fallback(env sim.Env, n *node) {
	if c.done {
		return
	}
	rs := n.rs
	got := c.acks
	if c.readingPhase() {
		got = len(c.resps)
	}
	missing := c.need - got
	if missing <= 0 {
		return
	}
	silent := make([]int, 0, len(c.targets))
	for _, s := range c.targets {
		if !c.answered[s] {
			silent = append(silent, s)
		}
	}
	for _, s := range silent {
		if c.nextFb >= len(c.walk) {
			break
		}
		fb := c.walk[c.nextFb]
		c.nextFb++
		c.targets = append(c.targets, fb)
		if c.readingPhase() {
			n.send(env, rs.storeIDs[fb], &ReadReq{Op: c.id, Key: c.key}, rs.legs[legReadRequest])
		} else {
			c.sendWrite(env, n, fb, s)
		}
	}
	if c.nextFb < len(c.walk) {
		c.armHint(env, n)
	}
}

// readingPhase reports whether the round collects read answers: a read's
// first round, or the version read of a cp write.
func (c *coord) readingPhase() bool { return c.phase == 0 && (c.kind == kRead || c.cpRead) }

func (c *coord) storeOf(n *node, from sim.NodeID) int {
	if i, ok := n.rs.storeIdx[from]; ok {
		return i
	}
	return -1
}

func (c *coord) onReadResp(env sim.Env, n *node, from sim.NodeID, m *ReadResp) {
	s := c.storeOf(n, from)
	if s < 0 {
		return
	}
	if c.done {
		// A late answer: repair it if it is behind.
		if n.rs.cfg.ReadRepair && c.kind == kRead && c.behind(readAnswer{ver: m.Ver, nsibs: len(m.Sibs)}) {
			c.repair(env, n, s)
		}
		return
	}
	if !c.readingPhase() || c.answered[s] {
		return
	}
	c.answered[s] = true
	c.resps = append(c.resps, readAnswer{store: s, ver: m.Ver, nsibs: len(m.Sibs)})
	c.sibs = mergeSiblings(c.sibs, m.Sibs)
	if c.best.ver.Less(m.Ver) {
		c.best = entry{value: m.Value, ver: m.Ver}
	}
	if len(c.resps) < c.need {
		return
	}
	rs := n.rs
	if c.kind != kRead {
		// cp write, first phase done: write above the newest version.
		if c.kind == kCAS && c.best.ver != c.expect && c.expect.Less(c.best.ver) {
			c.finish(env, n, stConflict, c.best.value, c.best.ver, false)
			return
		}
		c.ver = clockVer(env)
		if !c.best.ver.Less(c.ver) {
			c.ver = Ver{TS: c.best.ver.TS + 1, Node: env.ID() + 1}
		}
		c.phase, c.cpRead = 1, false
		c.writeRound(env, n, rs.cfg.W)
		return
	}
	if rs.cfg.ReadRepair {
		for _, r := range c.resps {
			if c.behind(r) {
				c.repair(env, n, r.store)
			}
		}
	}
	if rs.cfg.Strategy == CP {
		agree := true
		for _, r := range c.resps {
			agree = agree && r.ver == c.best.ver
		}
		if !agree {
			// ABD read: write the newest value back to a quorum first.
			c.phase = 1
			c.resetRound(n, c.walk[:rs.cfg.N], rs.cfg.W)
			for _, s := range c.targets {
				n.send(env, rs.storeIDs[s], &WriteReq{Op: c.id, Key: c.key, Value: c.best.value, Ver: c.best.ver, Hint: -1}, rs.legs[legWriteRequest])
			}
			return
		}
	}
	c.finish(env, n, stOK, c.best.value, c.best.ver, false)
}

// behind reports whether a replica's answer lacks something the read
// found: an older version, or (merge siblings) fewer siblings.
func (c *coord) behind(r readAnswer) bool {
	if c.sibs != nil {
		return r.ver.Less(c.best.ver) || r.nsibs != len(c.sibs)
	}
	return r.ver.Less(c.best.ver)
}

func (c *coord) repair(env sim.Env, n *node, s int) {
	n.rs.h.readRepairs.Add(1)
	if c.sibs != nil {
		for _, x := range c.sibs {
			n.send(env, n.rs.storeIDs[s], &WriteReq{Key: c.key, Value: x.Value, Ver: x.Ver, VV: x.VV, Hint: -1, Repair: true}, n.rs.legs[legWriteRequest])
		}
		return
	}
	n.send(env, n.rs.storeIDs[s], &WriteReq{Key: c.key, Value: c.best.value, Ver: c.best.ver, Hint: -1, Repair: true}, n.rs.legs[legWriteRequest])
}

func (c *coord) onWriteAck(env sim.Env, n *node, from sim.NodeID, m *WriteAck) {
	s := c.storeOf(n, from)
	if c.done || s < 0 || c.readingPhase() || c.answered[s] {
		return
	}
	c.answered[s] = true
	if !m.OK {
		c.rejects++
		// Conflict once the quorum is out of reach among the contacted.
		if len(c.targets)-c.rejects < c.need {
			c.finish(env, n, stConflict, 0, m.Cur, c.rejects < len(c.targets))
		}
		return
	}
	c.acks++
	if c.acks < c.need {
		return
	}
	if c.kind == kRead {
		// cp read write-back done.
		c.finish(env, n, stOK, c.best.value, c.best.ver, false)
		return
	}
	c.finish(env, n, stOK, c.value, c.ver, true)
}

// expire ends a coordination whose quorum did not come in time.
func (c *coord) expire(env sim.Env, n *node) {
	if c.done {
		delete(n.coords, c.id)
		return
	}
	c.finish(env, n, stUnavailable, 0, Ver{}, c.applied && c.kind != kRead)
	delete(n.coords, c.id)
}

// finish answers the attempt once; the coordination stays until its
// timer to catch late answers for read repair.
func (c *coord) finish(env sim.Env, n *node, s status, value int64, v Ver, applied bool) {
	if c.done {
		return
	}
	c.done = true
	env.Cancel(c.hint)
	if c.serial {
		defer n.nextSerial(env, c.key)
	}
	if c.kind == kRead && s != stOK {
		applied = false
	}
	ans := answer{s: s, value: value, ver: v, applied: applied}
	if c.kind == kRead {
		ans.ctx, ans.nsibs = context(c.sibs), len(c.sibs)
	} else {
		ans.ctx = c.vv
	}
	if c.local != 0 {
		if a := n.atts[c.local]; a != nil {
			n.attemptDone(env, a, ans)
		}
	} else if c.client != sim.None {
		n.deliver(env, c.client, &ClientResp{ID: c.clientReq, Status: s, Value: value, Ver: v, Applied: applied, Ctx: ans.ctx, NSibs: ans.nsibs})
	}
	if !(n.rs.cfg.ReadRepair && c.kind == kRead) {
		env.Cancel(c.timer)
		delete(n.coords, c.id)
	}
}
