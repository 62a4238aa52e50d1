package swim

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/detector"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is the SWIM membership family; register it with
// experiments.Register(swim.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "swim".
func (Protocol) Name() string { return "swim" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "SWIM membership with suspicion and Lifeguard: detection time, false deaths, load"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=State -linecomment -output=swim_string.go

// State is a member's state in a membership list.
type State uint8

// Member states.
const (
	// StateUnknown: not in the list.
	StateUnknown State = iota // unknown
	// StateAlive: a member in good standing.
	StateAlive // alive
	// StateSuspect: suspected; still a member until the suspicion times
	// out or is refuted.
	StateSuspect // suspect
	// StateDead: declared dead (or left).
	StateDead // dead
)

// entry is one member in a membership list, packed in 32 bits:
// incarnation << 2 | state. Lists are slices of entries indexed by node
// ID, so a member's view of 10,000 members takes 40 kB.
type entry uint32

func mkEntry(s State, inc uint32) entry { return entry(inc<<2 | uint32(s)) }
func (e entry) state() State            { return State(e & 3) }
func (e entry) inc() uint32             { return uint32(e >> 2) }

// maxInc is the largest incarnation an entry holds.
const maxInc = 1<<30 - 1

// Update is one membership change carried by a message: member Member is
// in State at incarnation Inc, as said by From.
type Update struct {
	Member int32
	Inc    uint32
	State  State
	From   int32
}

// Ping is a direct probe. When Relay is set it is an indirect probe sent
// on behalf of a ping-req.
type Ping struct {
	Seq    uint32
	Target int32
	Piggy  []Update
	size   int
}

// Ack answers a Ping (or relays the answer to a ping-req).
type Ack struct {
	Seq   uint32
	From  int32
	Piggy []Update
	size  int
}

// PingReq asks a member to probe Target and relay its ack.
type PingReq struct {
	Seq    uint32
	Target int32
	Piggy  []Update
	size   int
}

// Nack tells a prober that an indirect probe got no ack in time
// (Lifeguard): the intermediary itself is reachable.
type Nack struct {
	Seq  uint32
	size int
}

// PushPull carries a whole membership list: a join request, the answer
// to it, or a periodic anti-entropy exchange.
type PushPull struct {
	Join  bool
	Reply bool
	Inc   uint32 // the sender's incarnation
	List  []entry
	size  int
}

// Size returns the size on the wire.
func (m *Ping) Size() int { return m.size }

// Size returns the size on the wire.
func (m *Ack) Size() int { return m.size }

// Size returns the size on the wire.
func (m *PingReq) Size() int { return m.size }

// Size returns the size on the wire.
func (m *Nack) Size() int { return m.size }

// Size returns the size on the wire.
func (m *PushPull) Size() int { return m.size }

// Counter names recorded by swim.
const (
	// MetricProbes counts probes started.
	MetricProbes = "swim_probes"
	// MetricProbeFailures counts probes that got no ack, direct or
	// indirect, within the period.
	MetricProbeFailures = "swim_probe_failures"
	// MetricIndirect counts probes that fell back to ping-req.
	MetricIndirect = "swim_indirect_probes"
	// MetricRefutes counts members refuting a suspicion or death of
	// themselves.
	MetricRefutes = "swim_refutes"
	// MetricHealthMax is the largest local health score any member
	// reached (run scalar).
	MetricHealthMax = "swim_health_max"
)

// run is what the nodes of one run share.
type run struct {
	cfg      Config
	n        int
	tr       *detector.Tracker
	seeds    []int32 // initial members: whom a joiner contacts
	initial  []bool
	joinAt   []sim.Time // per node: when it joins (Never: initial or never)
	leaveAt  []sim.Time
	healthHi int

	probes, failures, indirect, refutes sim.Counter
}

// Build adds every topology node; the members run SWIM.
func (c *Config) Build(s *protocols.Setup) error {
	if err := c.ValidateNodes(s.Nodes); err != nil {
		return err
	}
	if c.Variant == Heartbeat {
		h := c.heartbeat()
		return h.Build(s)
	}
	r := &run{cfg: *c, n: len(s.Nodes)}
	r.cfg.resolveVariant()
	r.initial = make([]bool, r.n)
	r.joinAt = make([]sim.Time, r.n)
	r.leaveAt = make([]sim.Time, r.n)
	index := map[string]int32{}
	for i, p := range s.Nodes {
		index[p.Name] = int32(i)
		r.joinAt[i], r.leaveAt[i] = sim.Never, sim.Never
	}
	for _, j := range c.Joins {
		js, _ := s.Select(j.Nodes)
		for k, m := range js {
			r.joinAt[index[m.Name]] = sim.Time(j.At + time.Duration(k)*j.Every)
		}
	}
	ms, _ := c.members(s.Nodes)
	for _, m := range ms {
		if i := index[m.Name]; r.joinAt[i] == sim.Never {
			r.initial[i] = true
			r.seeds = append(r.seeds, i)
		}
	}
	if len(r.seeds) == 0 {
		return fmt.Errorf("members: every member is listed in joins: nobody to join")
	}
	for _, l := range c.Leaves {
		ls, _ := s.Select(l.Nodes)
		for k, m := range ls {
			r.leaveAt[index[m.Name]] = sim.Time(l.At + time.Duration(k)*l.Every)
		}
	}
	m := s.Engine.Metrics()
	r.probes, r.failures = m.Counter(MetricProbes), m.Counter(MetricProbeFailures)
	r.indirect, r.refutes = m.Counter(MetricIndirect), m.Counter(MetricRefutes)
	for i, p := range s.Nodes {
		id, err := s.AddNode(p.Name, func() sim.Node { return &node{r: r} })
		if err != nil {
			return err
		}
		if int(id) != i {
			return fmt.Errorf("swim: node %s got ID %d, want %d: swim must add every node of the run", p.Name, id, i)
		}
	}
	r.tr = detector.NewTracker(s.Engine, r.n, nil, s.Warmup)
	var boot []int
	for _, id := range r.seeds {
		boot = append(boot, int(id))
	}
	r.tr.Bootstrap(boot)
	s.AtEnd(func() {
		r.tr.Report(s, c.Period)
		s.Report(MetricHealthMax, float64(r.healthHi))
	})
	s.Invariant("membership_accounting", r.tr.Consistent)
	return nil
}

// resolveVariant turns the variant into mechanism switches.
func (c *Config) resolveVariant() {
	if c.Variant != Lifeguard {
		c.Lifeguard.LocalHealth, c.Lifeguard.DynamicSuspicion, c.Lifeguard.Buddy = false, false, false
	}
}

// Timer tags: the low four bits say what for; the rest is a sequence
// number or a member.
const (
	tagTick     = 0
	tagProbeTO  = 1 // seq << 4
	tagSuspect  = 2 // member << 4
	tagRelay    = 3 // seq << 4
	tagJoin     = 4
	tagLeave    = 5
	tagSilence  = 6
	tagPushPull = 7
)

type suspicion struct {
	member   int32
	inc      uint32
	start    sim.Time
	timer    sim.TimerID
	confirms []int32
}

type relay struct {
	seq       uint32
	requester sim.NodeID
	reqSeq    uint32
	timer     sim.TimerID
}

type bcast struct {
	u  Update
	tx int32
}

// node is one SWIM member.
type node struct {
	r      *run
	env    sim.Env
	me     int32
	inc    uint32
	view   []entry
	nIn    int // members this node counts in (alive or suspect), itself excluded
	joined bool
	left   bool
	silent bool
	seq    uint32
	health int

	// the probe of the current period
	target   int32
	probeSeq uint32
	acked    bool
	nackWant int
	nacks    int

	// shuffled round robin: position i of a pass maps to (a·i + b) mod n
	rrA, rrB, rrI int

	susp   []suspicion
	relays []relay
	queue  []bcast
}

func (n *node) Start(env sim.Env) {
	r := n.r
	n.env = env
	n.me = int32(env.ID())
	n.target = -1
	now := env.Now()
	if r.initial[n.me] && now == 0 {
		n.view = make([]entry, r.n)
		for _, s := range r.seeds {
			n.view[s] = mkEntry(StateAlive, 0)
		}
		n.nIn = len(r.seeds) - 1
		n.joined = true
		n.storeInc()
		n.startProtocol(env)
	} else if r.initial[n.me] || (r.joinAt[n.me] != sim.Never && r.joinAt[n.me] <= now) {
		// A restart (or a late joiner's restart): rejoin.
		n.join(env)
	} else if r.joinAt[n.me] != sim.Never {
		env.After(r.joinAt[n.me].Sub(now), tagJoin)
	}
	if at := r.leaveAt[n.me]; at != sim.Never && at >= now {
		env.After(at.Sub(now), tagLeave)
	}
}

// storeInc keeps the incarnation in durable storage, so that a restarted
// member comes back with a higher one and can refute its own death.
func (n *node) storeInc() {
	n.env.Storage().Put("swim/inc", binary.BigEndian.AppendUint32(nil, n.inc))
}

func (n *node) startProtocol(env sim.Env) {
	c := &n.r.cfg
	first := c.Period
	if c.Stagger {
		first = time.Duration(env.Rand().Int64N(int64(c.Period))) + 1
	}
	env.After(first, tagTick)
	if c.PushPullInterval > 0 {
		env.After(time.Duration(env.Rand().Int64N(int64(c.PushPullInterval)))+1, tagPushPull)
	}
}

// join starts (or restarts) membership: a fresh list with only itself,
// an incarnation above any it used before, and a join request to a seed.
func (n *node) join(env sim.Env) {
	r := n.r
	if b, ok := env.Storage().Get("swim/inc"); ok && len(b) == 4 {
		n.inc = min(binary.BigEndian.Uint32(b)+1, maxInc)
	}
	n.storeInc()
	n.view = make([]entry, r.n)
	n.view[n.me] = mkEntry(StateAlive, n.inc)
	n.nIn = 0
	n.joined = true
	r.tr.Join(int(n.me))
	n.enqueue(Update{Member: n.me, Inc: n.inc, State: StateAlive, From: n.me})
	n.sendJoin(env)
	n.startProtocol(env)
}

func (n *node) sendJoin(env sim.Env) {
	r := n.r
	var seed int32 = -1
	for try := 0; try < 8 && seed < 0; try++ {
		s := r.seeds[env.Rand().IntN(len(r.seeds))]
		if s != n.me {
			seed = s
		}
	}
	if seed < 0 {
		return // a group of one
	}
	n.send(env, seed, &PushPull{Join: true, Inc: n.inc, List: n.snapshot()})
}

// send counts and sends one message, sizing it first.
func (n *node) send(env sim.Env, to int32, msg sim.Message) {
	c := &n.r.cfg
	switch m := msg.(type) {
	case *Ping:
		m.size = c.HeaderBytes + len(m.Piggy)*c.UpdateBytes
	case *Ack:
		m.size = c.HeaderBytes + len(m.Piggy)*c.UpdateBytes
	case *PingReq:
		m.size = c.HeaderBytes + len(m.Piggy)*c.UpdateBytes
	case *Nack:
		m.size = c.HeaderBytes
	case *PushPull:
		known := 0
		for _, e := range m.List {
			if e.state() != StateUnknown {
				known++
			}
		}
		m.size = c.HeaderBytes + known*c.UpdateBytes
	}
	n.r.tr.Sent(int(n.me), sim.MessageSize(msg))
	env.Send(sim.NodeID(to), msg)
}

// mult is the local-health multiplier of the period and probe timeout.
func (n *node) mult() time.Duration {
	if !n.r.cfg.Lifeguard.LocalHealth {
		return 1
	}
	return time.Duration(n.health + 1)
}

func (n *node) setHealth(h int) {
	hi := n.r.cfg.Lifeguard.MaxHealth - 1
	n.health = max(0, min(h, hi))
	if n.health > n.r.healthHi {
		n.r.healthHi = n.health
	}
}

// in reports whether member m is alive or suspect in this node's list.
func (n *node) in(m int32) bool {
	s := n.view[m].state()
	return s == StateAlive || s == StateSuspect
}

// pickTarget chooses the member to probe this period, -1 if none.
func (n *node) pickTarget(env sim.Env) int32 {
	if n.nIn == 0 {
		return -1
	}
	N := n.r.n
	if n.r.cfg.Target == Random {
		return n.randomMember(env, -1)
	}
	for tries := 0; tries < 2*N+2; tries++ {
		if n.rrI == 0 || n.rrI >= N {
			n.newPass(env)
		}
		m := int32((n.rrA*n.rrI + n.rrB) % N)
		n.rrI++
		if m != n.me && n.in(m) {
			return m
		}
	}
	return -1
}

// newPass draws a fresh affine permutation i ↦ (a·i + b) mod N, a coprime
// with N: a random order that visits every member once per pass in O(1)
// memory.
func (n *node) newPass(env sim.Env) {
	N := n.r.n
	n.rrI = 0
	n.rrB = env.Rand().IntN(N)
	n.rrA = 1
	if N > 2 {
		for {
			a := 1 + env.Rand().IntN(N-1)
			if gcd(a, N) == 1 {
				n.rrA = a
				break
			}
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// randomMember picks a member that is in, other than this node and not
// excluded, uniformly; -1 if there is none.
func (n *node) randomMember(env sim.Env, exclude int32) int32 {
	N := n.r.n
	avail := n.nIn
	if exclude >= 0 && exclude != n.me && n.in(exclude) {
		avail--
	}
	if avail <= 0 {
		return -1
	}
	if avail*4 >= N {
		for tries := 0; tries < 64; tries++ {
			m := int32(env.Rand().IntN(N))
			if m != n.me && m != exclude && n.in(m) {
				return m
			}
		}
	}
	k := env.Rand().IntN(avail)
	for m := int32(0); m < int32(N); m++ {
		if m != n.me && m != exclude && n.in(m) {
			if k == 0 {
				return m
			}
			k--
		}
	}
	return -1
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if !n.joined || n.silent {
		return
	}
	switch m := msg.(type) {
	case *Ping:
		n.merge(env, m.Piggy)
		if m.Target != n.me {
			return // meant for an earlier life of this node ID
		}
		n.send(env, int32(from), &Ack{Seq: m.Seq, From: n.me, Piggy: n.piggyback(nil)})
	case *Ack:
		n.merge(env, m.Piggy)
		n.ack(env, m)
	case *PingReq:
		n.merge(env, m.Piggy)
		n.seq++
		rl := relay{seq: n.seq, requester: from, reqSeq: m.Seq}
		if n.r.cfg.Lifeguard.LocalHealth {
			// Nack at 80% of the probe timeout (Lifeguard §4.1), so
			// that a healthy requester hears it before its period ends.
			rl.timer = env.After(n.r.cfg.ProbeTimeout*4/5, uint64(n.seq)<<4|tagRelay)
		}
		n.relays = append(n.relays, rl)
		if len(n.relays) > 64 { // forget the oldest: its answer is long overdue
			env.Cancel(n.relays[0].timer)
			n.relays = n.relays[1:]
		}
		n.send(env, m.Target, &Ping{Seq: n.seq, Target: m.Target, Piggy: n.piggyback(nil)})
	case *Nack:
		if m.Seq == n.probeSeq && n.target >= 0 {
			n.nacks++
		}
	case *PushPull:
		n.pushPull(env, from, m)
	}
}

// ack handles an answer to one of this node's probes or relayed probes.
func (n *node) ack(env sim.Env, m *Ack) {
	if m.Seq == n.probeSeq && n.target >= 0 && !n.acked {
		n.acked = true
		n.setHealth(n.health - 1)
		return
	}
	for i, rl := range n.relays {
		if rl.seq == m.Seq {
			env.Cancel(rl.timer)
			n.relays = append(n.relays[:i], n.relays[i+1:]...)
			n.send(env, int32(rl.requester), &Ack{Seq: rl.reqSeq, From: m.From, Piggy: n.piggyback(nil)})
			return
		}
	}
}

func (n *node) Timer(env sim.Env, tag uint64) {
	if n.silent {
		return
	}
	c := &n.r.cfg
	switch tag & 15 {
	case tagTick:
		n.endProbe(env)
		if n.left {
			return
		}
		n.startProbe(env)
		env.After(c.Period*n.mult(), tagTick)
	case tagProbeTO:
		if uint32(tag>>4) != n.probeSeq || n.acked || n.target < 0 || !n.in(n.target) {
			return // answered, or declared dead meanwhile
		}
		n.r.indirect.Add(1)
		var picked []int32
		for len(picked) < c.IndirectChecks && len(picked) < n.nIn-1 {
			m := n.randomMember(env, n.target)
			if m < 0 {
				break
			}
			dup := false
			for _, p := range picked {
				dup = dup || p == m
			}
			if dup {
				continue
			}
			picked = append(picked, m)
			n.send(env, m, &PingReq{Seq: n.probeSeq, Target: n.target, Piggy: n.piggyback(nil)})
		}
		if c.Lifeguard.LocalHealth {
			n.nackWant = len(picked)
		}
	case tagSuspect:
		n.suspicionExpired(env, int32(tag>>4))
	case tagRelay:
		seq := uint32(tag >> 4)
		for i, rl := range n.relays {
			if rl.seq == seq {
				n.relays = append(n.relays[:i], n.relays[i+1:]...)
				n.send(env, int32(rl.requester), &Nack{Seq: rl.reqSeq})
				return
			}
		}
	case tagJoin:
		if !n.joined {
			n.join(env)
		}
	case tagLeave:
		n.leave(env)
	case tagSilence:
		n.silent = true
	case tagPushPull:
		if n.left {
			return
		}
		if m := n.pushPullPeer(env); m >= 0 {
			n.send(env, m, &PushPull{Inc: n.inc, List: n.snapshot()})
		}
		// A member that still knows nobody keeps asking its seeds.
		if n.nIn == 0 {
			n.sendJoin(env)
		}
		env.After(c.PushPullInterval, tagPushPull)
	}
}

// startProbe begins this period's probe.
func (n *node) startProbe(env sim.Env) {
	c := &n.r.cfg
	n.target = n.pickTarget(env)
	if n.target < 0 {
		if n.nIn == 0 && n.r.n > 1 {
			n.sendJoin(env) // alone: keep knocking
		}
		return
	}
	n.seq++
	n.probeSeq, n.acked, n.nacks, n.nackWant = n.seq, false, 0, 0
	n.r.probes.Add(1)
	var first []Update
	if c.Lifeguard.Buddy && n.view[n.target].state() == StateSuspect {
		// Buddy system: tell the suspect it is suspected, first thing.
		first = append(first, Update{Member: n.target, Inc: n.view[n.target].inc(), State: StateSuspect, From: n.me})
	}
	n.send(env, n.target, &Ping{Seq: n.seq, Target: n.target, Piggy: n.piggyback(first)})
	env.After(c.ProbeTimeout*n.mult(), uint64(n.seq)<<4|tagProbeTO)
}

// endProbe concludes the probe of the period that just ended.
func (n *node) endProbe(env sim.Env) {
	t := n.target
	if t < 0 {
		return
	}
	n.target = -1
	if n.acked {
		return
	}
	if n.r.cfg.Lifeguard.LocalHealth {
		n.setHealth(n.health + 1 + max(0, n.nackWant-n.nacks))
	}
	if !n.in(t) {
		return // declared or refuted meanwhile
	}
	n.r.failures.Add(1)
	inc := n.view[t].inc()
	if n.r.cfg.Variant == Basic {
		n.apply(env, Update{Member: t, Inc: inc, State: StateDead, From: n.me}, true)
	} else {
		n.apply(env, Update{Member: t, Inc: inc, State: StateSuspect, From: n.me}, true)
	}
}

// suspicionExpired declares a suspect dead when its timeout ran out.
func (n *node) suspicionExpired(env sim.Env, m int32) {
	for i, s := range n.susp {
		if s.member != m {
			continue
		}
		n.susp = append(n.susp[:i], n.susp[i+1:]...)
		if e := n.view[m]; e.state() == StateSuspect && e.inc() == s.inc {
			n.apply(env, Update{Member: m, Inc: s.inc, State: StateDead, From: n.me}, true)
		}
		return
	}
}

// leave announces a graceful departure and falls silent two periods later.
func (n *node) leave(env sim.Env) {
	if !n.joined || n.left {
		return
	}
	n.left = true
	n.r.tr.Leave(int(n.me))
	n.enqueue(Update{Member: n.me, Inc: n.inc, State: StateDead, From: n.me})
	// Keep answering and piggybacking so the news gets out.
	for i := 0; i < 3; i++ {
		if m := n.randomMember(env, -1); m >= 0 {
			n.send(env, m, &Ping{Seq: 0, Target: m, Piggy: n.piggyback(nil)})
		}
	}
	env.After(2*n.r.cfg.Period, tagSilence)
}

// pushPullPeer picks a random member for anti-entropy: alive, suspect or
// dead (a dead member may be alive on the far side of a healed
// partition), but not one that left.
func (n *node) pushPullPeer(env sim.Env) int32 {
	N := int32(n.r.n)
	for tries := 0; tries < 64; tries++ {
		m := int32(env.Rand().IntN(int(N)))
		if m != n.me && n.view[m].state() != StateUnknown {
			return m
		}
	}
	return -1
}

// snapshot copies this node's list.
func (n *node) snapshot() []entry {
	out := make([]entry, len(n.view))
	copy(out, n.view)
	return out
}

// pushPull merges a remote list, answering a join or an exchange with
// this node's own list.
func (n *node) pushPull(env sim.Env, from sim.NodeID, m *PushPull) {
	if n.left {
		return
	}
	if !m.Reply {
		n.send(env, int32(from), &PushPull{Reply: true, Inc: n.inc, List: n.snapshot()})
	}
	for i, e := range m.List {
		if e.state() == StateUnknown {
			continue
		}
		u := Update{Member: int32(i), Inc: e.inc(), State: e.state(), From: int32(from)}
		if u.State == StateDead && u.Member != int32(from) && n.r.cfg.Variant != Basic {
			// memberlist prefers suspicion to death when merging lists:
			// the member gets the chance to refute.
			u.State = StateSuspect
		}
		// The sender's own entry is news worth gossiping (a joiner, a
		// refutation); the rest of the list is not re-broadcast.
		n.apply(env, u, u.Member == int32(from))
	}
}

// merge applies piggybacked updates.
func (n *node) merge(env sim.Env, us []Update) {
	for _, u := range us {
		n.apply(env, u, true)
	}
}

// apply is the heart of SWIM's dissemination: it applies one update under
// the incarnation-number precedence rules (DSN 2002 §4.2) and, if it
// changed this node's list, gossips it further.
//
//	alive(i)   overrides alive(j), suspect(j), dead(j)  when i > j
//	suspect(i) overrides alive(j) when i ≥ j, suspect(j) when i > j
//	dead(i)    overrides alive(j), suspect(j)           when i ≥ j
//
// News about a member this node has never heard of is taken only if it
// says alive (memberlist ignores suspicions and deaths of unknown
// members). gossip false applies without re-broadcasting (list merges).
func (n *node) apply(env sim.Env, u Update, gossip bool) {
	if u.Member < 0 || int(u.Member) >= n.r.n {
		return
	}
	if u.Member == n.me {
		n.aboutMe(env, u)
		return
	}
	cur := n.view[u.Member]
	cs, ci := cur.state(), cur.inc()
	accept := false
	switch u.State {
	case StateAlive:
		accept = cs == StateUnknown || u.Inc > ci
	case StateSuspect:
		switch cs {
		case StateAlive:
			accept = u.Inc >= ci
		case StateSuspect:
			accept = u.Inc > ci
			if u.Inc == ci {
				n.confirm(env, u)
			}
		}
	case StateDead:
		accept = (cs == StateAlive || cs == StateSuspect) && u.Inc >= ci
	}
	if !accept {
		return
	}
	wasIn := n.in(u.Member)
	n.view[u.Member] = mkEntry(u.State, u.Inc)
	isIn := n.in(u.Member)
	if wasIn != isIn {
		if isIn {
			n.nIn++
		} else {
			n.nIn--
		}
	}
	n.clearSuspicion(env, u.Member)
	if u.State == StateSuspect {
		n.suspect(env, u)
	}
	op := detector.Alive
	switch u.State {
	case StateSuspect:
		op = detector.Suspect
	case StateDead:
		op = detector.Dead
	}
	n.r.tr.View(int(n.me), int(u.Member), op)
	if gossip {
		n.enqueue(Update{Member: u.Member, Inc: u.Inc, State: u.State, From: u.From})
	}
}

// aboutMe handles news about this node itself: refute a suspicion or a
// death by raising the incarnation (a member that left stays dead).
func (n *node) aboutMe(env sim.Env, u Update) {
	if n.left || u.State == StateAlive || u.Inc < n.inc {
		return
	}
	n.inc = min(u.Inc+1, maxInc)
	n.storeInc()
	n.view[n.me] = mkEntry(StateAlive, n.inc)
	n.r.refutes.Add(1)
	if n.r.cfg.Lifeguard.LocalHealth {
		n.setHealth(n.health + 1)
	}
	n.enqueue(Update{Member: n.me, Inc: n.inc, State: StateAlive, From: n.me})
}

// suspect starts the suspicion timer of a newly suspected member.
func (n *node) suspect(env sim.Env, u Update) {
	c := &n.r.cfg
	base := suspicionTimeout(c.SuspicionMult, n.nIn+1, c.Period)
	d := base
	if c.Lifeguard.DynamicSuspicion {
		d = time.Duration(c.Lifeguard.SuspicionMaxMult) * base
	}
	s := suspicion{member: u.Member, inc: u.Inc, start: env.Now()}
	if u.From != n.me {
		s.confirms = append(s.confirms, u.From)
	}
	if c.Lifeguard.DynamicSuspicion {
		d = dynamicTimeout(base, d, len(s.confirms), n.expectedConfirms())
	}
	s.timer = env.After(d, uint64(u.Member)<<4|tagSuspect)
	n.susp = append(n.susp, s)
}

// expectedConfirms is Lifeguard's k: suspicion_mult − 2 independent
// confirmations bring the timeout down to its base (none in tiny groups).
func (n *node) expectedConfirms() int {
	k := n.r.cfg.SuspicionMult - 2
	if n.nIn+1-2 < k {
		return 0
	}
	return max(k, 0)
}

// confirm counts an independent confirmation of a suspicion and, with
// dynamic suspicion, shortens its timeout.
func (n *node) confirm(env sim.Env, u Update) {
	c := &n.r.cfg
	if !c.Lifeguard.DynamicSuspicion || u.From == n.me {
		return
	}
	for i := range n.susp {
		s := &n.susp[i]
		if s.member != u.Member || s.inc != u.Inc {
			continue
		}
		k := n.expectedConfirms()
		if len(s.confirms) >= k {
			return
		}
		for _, f := range s.confirms {
			if f == u.From {
				return
			}
		}
		s.confirms = append(s.confirms, u.From)
		base := suspicionTimeout(c.SuspicionMult, n.nIn+1, c.Period)
		d := dynamicTimeout(base, time.Duration(c.Lifeguard.SuspicionMaxMult)*base, len(s.confirms), k)
		left := s.start.Add(d).Sub(env.Now())
		env.Cancel(s.timer)
		s.timer = env.After(max(left, 0), uint64(u.Member)<<4|tagSuspect)
		// Pass the confirmation on, so others can count it too.
		n.enqueue(u)
		return
	}
}

func (n *node) clearSuspicion(env sim.Env, m int32) {
	for i, s := range n.susp {
		if s.member == m {
			env.Cancel(s.timer)
			n.susp = append(n.susp[:i], n.susp[i+1:]...)
			return
		}
	}
}

// enqueue queues an update for piggybacking, replacing older news about
// the same member (the same member and origin, for confirmations).
func (n *node) enqueue(u Update) {
	for i := range n.queue {
		q := &n.queue[i].u
		if q.Member == u.Member && (q.State != StateSuspect || u.State != StateSuspect || q.Inc != u.Inc || q.From == u.From) {
			n.queue[i] = bcast{u: u}
			return
		}
	}
	n.queue = append(n.queue, bcast{u: u})
}

// piggyback picks up to max_piggyback queued updates, least transmitted
// first, counts the transmission and drops updates that reached the
// retransmit limit λ·⌈log10(N+1)⌉.
func (n *node) piggyback(first []Update) []Update {
	if len(n.queue) == 0 {
		return first
	}
	c := &n.r.cfg
	limit := int32(retransmitLimit(c.RetransmitMult, n.nIn+1))
	out := first
	for len(out) < c.MaxPiggyback {
		best := -1
		for i := range n.queue {
			if n.queue[i].tx < 0 {
				continue // taken for this message
			}
			if best < 0 || n.queue[i].tx < n.queue[best].tx {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, n.queue[best].u)
		n.queue[best].tx = -(n.queue[best].tx + 1) // mark taken
	}
	keep := n.queue[:0]
	for _, b := range n.queue {
		if b.tx < 0 {
			b.tx = -b.tx
		}
		if b.tx < limit {
			keep = append(keep, b)
		}
	}
	n.queue = keep
	return out
}
