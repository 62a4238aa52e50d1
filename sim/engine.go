package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Errors returned by Run when a bound is exceeded.
var (
	ErrEventLimit    = errors.New("event limit exceeded")
	ErrQueueLimit    = errors.New("pending event limit exceeded")
	ErrNodeLimit     = errors.New("node limit exceeded")
	ErrUnknownNode   = errors.New("unknown node")
	ErrDuplicateNode = errors.New("duplicate node name")
)

// Default bounds; see Config.
const (
	DefaultMaxEvents  = 1_000_000_000
	DefaultMaxPending = maxSlots - 1
	DefaultMaxNodes   = 100_000
)

// Config holds the parameters of one run.
type Config struct {
	// Seed is the run seed from which every random stream derives.
	Seed uint64
	// MaxEvents bounds the number of dispatched events; Run fails with
	// ErrEventLimit beyond it. 0 means DefaultMaxEvents.
	MaxEvents uint64
	// MaxPending bounds the number of queued events, so a runaway protocol
	// fails cleanly instead of exhausting memory. 0 means DefaultMaxPending.
	MaxPending int
	// MaxNodes bounds the number of nodes. 0 means DefaultMaxNodes.
	MaxNodes int
	// Metrics receives measurements; nil discards them.
	Metrics Metrics
}

// payload is the body of a queued event. Payloads live in a slab and are
// recycled through a free list, so scheduling allocates nothing in steady
// state.
type payload struct {
	kind  EventKind
	dead  bool   // cancelled timer
	gen   uint32 // bumped when the slot is freed; validates TimerIDs
	epoch uint32 // node epoch when a timer was armed
	flags uint32
	node  NodeID
	from  NodeID
	tag   uint64
	msg   Message
	fn    func()
}

type nodeState struct {
	id      NodeID
	name    string
	factory func() Node
	inst    Node
	env     nodeEnv
	up      bool
	paused  bool
	epoch   uint32
	inbox   []int32 // payload slots held while paused
	clock   Clock
	rng     *rand.Rand
	storage Storage
}

// Engine runs one simulation: a clock, an event queue with a total order
// (At, Seq), the hosted nodes and the network between them. An Engine is
// single-threaded; parallelism lives across engines.
type Engine struct {
	cfg      Config
	now      Time
	seq      uint64
	q        radixQueue
	slab     []payload
	free     []int32
	nodes    []*nodeState
	byName   map[string]NodeID
	net      Network
	metrics  Metrics
	obs      []Observer
	ev       Event
	hash     uint64
	events   uint64
	stopped  bool
	started  bool
	attached bool
}

// New returns an engine for one run.
func New(cfg Config) *Engine {
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.MaxNodes == 0 {
		cfg.MaxNodes = DefaultMaxNodes
	}
	m := cfg.Metrics
	if m == nil {
		m = NopMetrics{}
	}
	return &Engine{
		cfg:     cfg,
		byName:  make(map[string]NodeID),
		metrics: m,
		hash:    hashOffset,
		net:     &Direct{},
	}
}

// Seed returns the run seed.
func (e *Engine) Seed() uint64 { return e.cfg.Seed }

// Now returns the current simulated time.
func (e *Engine) Now() Time { return e.now }

// Events returns the number of events dispatched so far.
func (e *Engine) Events() uint64 { return e.events }

// Pending returns the number of queued events (including cancelled timers
// not yet discarded).
func (e *Engine) Pending() int { return e.q.len() }

// Hash returns the running hash of every dispatched event. Two runs of the
// same config and seed must end with the same hash.
func (e *Engine) Hash() uint64 { return e.hash }

// Metrics returns the run's metric recorder.
func (e *Engine) Metrics() Metrics { return e.metrics }

// Stream returns a new generator for the named random stream of this run.
// Call it once per component, at setup.
func (e *Engine) Stream(name string) *rand.Rand { return NewStream(e.cfg.Seed, name) }

// SetNetwork sets the network that carries messages. The default is a
// Direct network with zero delay.
func (e *Engine) SetNetwork(n Network) { e.net = n }

// Network returns the network that carries messages.
func (e *Engine) Network() Network { return e.net }

// Observe registers an observer of every event and trace record.
func (e *Engine) Observe(o Observer) { e.obs = append(e.obs, o) }

// AddNode adds a node built by factory, which is called now and again on
// every restart. The node starts at the current time (time 0 before Run).
func (e *Engine) AddNode(name string, factory func() Node) (NodeID, error) {
	if _, dup := e.byName[name]; dup {
		return None, fmt.Errorf("add node %q: %w", name, ErrDuplicateNode)
	}
	if len(e.nodes) >= e.cfg.MaxNodes {
		return None, fmt.Errorf("add node %q: %w (max %d)", name, ErrNodeLimit, e.cfg.MaxNodes)
	}
	id := NodeID(len(e.nodes))
	n := &nodeState{
		id:      id,
		name:    name,
		factory: factory,
		inst:    factory(),
		up:      true,
		rng:     e.Stream("node/" + name),
		storage: NewMemoryStorage(),
	}
	n.env = nodeEnv{e: e, n: n}
	e.nodes = append(e.nodes, n)
	e.byName[name] = id
	e.schedule(e.now, payload{kind: KindStart, node: id, from: None, epoch: n.epoch})
	return id, nil
}

// MustAddNode is AddNode for setup code where an error is a bug.
func (e *Engine) MustAddNode(name string, factory func() Node) NodeID {
	id, err := e.AddNode(name, factory)
	if err != nil {
		panic(err)
	}
	return id
}

// NumNodes returns the number of nodes.
func (e *Engine) NumNodes() int { return len(e.nodes) }

// Lookup returns the ID of the named node.
func (e *Engine) Lookup(name string) (NodeID, bool) {
	id, ok := e.byName[name]
	return id, ok
}

// NodeName returns the name of node id, or "" if there is none.
func (e *Engine) NodeName(id NodeID) string {
	if id < 0 || int(id) >= len(e.nodes) {
		return ""
	}
	return e.nodes[id].name
}

// Instance returns the current Node instance of id (nil if there is none).
// It is meant for tests and invariant checks that inspect node state.
func (e *Engine) Instance(id NodeID) Node {
	if id < 0 || int(id) >= len(e.nodes) {
		return nil
	}
	return e.nodes[id].inst
}

// SetClock sets node id's clock; nil means a perfect clock.
func (e *Engine) SetClock(id NodeID, c Clock) { e.node(id).clock = c }

// SetStorage replaces node id's durable storage.
func (e *Engine) SetStorage(id NodeID, s Storage) { e.node(id).storage = s }

// Storage returns node id's durable storage.
func (e *Engine) Storage(id NodeID) Storage { return e.node(id).storage }

// Up reports whether node id is running (not crashed). A paused node is up.
func (e *Engine) Up(id NodeID) bool { return e.node(id).up }

// Paused reports whether node id is paused.
func (e *Engine) Paused(id NodeID) bool { return e.node(id).paused }

func (e *Engine) node(id NodeID) *nodeState {
	if id < 0 || int(id) >= len(e.nodes) {
		panic(fmt.Sprintf("sim: %v: %d", ErrUnknownNode, id))
	}
	return e.nodes[id]
}

// Crash stops node id now: its volatile state (the Node instance) is
// discarded, its timers are dropped and inputs waiting for it are lost.
// Messages that arrive while it is down are dropped. Durable storage
// survives. Crashing a crashed node does nothing.
func (e *Engine) Crash(id NodeID) {
	n := e.node(id)
	if !n.up {
		return
	}
	n.up = false
	n.epoch++
	n.inst = nil
	if n.paused {
		n.paused = false
		for _, s := range n.inbox {
			p := &e.slab[s]
			if p.kind == KindDeliver {
				e.net.Dropped(p.from, p.node, p.msg, DropCrashed)
				e.trace(KindDrop, p.node, p.from, p.msg, DropCrashed.String())
			}
			e.release(s)
		}
		n.inbox = n.inbox[:0]
	}
	e.trace(KindCrash, id, None, nil, "")
}

// Restart boots a fresh instance of a crashed node now. It sees only its
// durable storage. Restarting a running node does nothing.
func (e *Engine) Restart(id NodeID) {
	n := e.node(id)
	if n.up {
		return
	}
	n.up = true
	n.inst = n.factory()
	e.trace(KindRestart, id, None, nil, "")
	e.schedule(e.now, payload{kind: KindStart, node: id, from: None, epoch: n.epoch})
}

// Pause stops node id from handling anything: messages and timers that
// come due wait, in order, until Resume. Pausing a paused or crashed node
// does nothing.
func (e *Engine) Pause(id NodeID) {
	n := e.node(id)
	if !n.up || n.paused {
		return
	}
	n.paused = true
	e.trace(KindPause, id, None, nil, "")
}

// Resume lets a paused node run again; everything that waited is handled
// now, in the order it came due.
func (e *Engine) Resume(id NodeID) {
	n := e.node(id)
	if !n.paused {
		return
	}
	n.paused = false
	e.trace(KindResume, id, None, nil, "")
	for _, s := range n.inbox {
		e.pushSlot(e.now, s)
	}
	n.inbox = n.inbox[:0]
}

// At schedules fn to run at time t (not before now). It is for engine-level
// actions such as fault schedules and workload generators, not for node
// logic, which uses Env.After.
func (e *Engine) At(t Time, fn func()) {
	if t < e.now {
		t = e.now
	}
	e.schedule(t, payload{kind: KindControl, node: None, from: None, fn: fn})
}

// Deliver schedules msg from node from to arrive at node to at time at.
// Networks call it from Send; at must not be before Now.
func (e *Engine) Deliver(at Time, from, to NodeID, msg Message, flags uint32) {
	if at < e.now {
		panic(fmt.Sprintf("sim: delivery at %v scheduled in the past (now %v)", at, e.now))
	}
	e.schedule(at, payload{kind: KindDeliver, node: to, from: from, msg: msg, flags: flags})
}

// Trace emits a trace record to the observers. Networks use it to report
// drops and duplicates; experiments use it to mark fault windows.
func (e *Engine) Trace(kind EventKind, node, from NodeID, msg Message, cause string) {
	e.trace(kind, node, from, msg, cause)
}

func (e *Engine) trace(kind EventKind, node, from NodeID, msg Message, cause string) {
	if len(e.obs) == 0 {
		return
	}
	e.ev = Event{At: e.now, Kind: kind, Node: node, From: from, Msg: msg, Cause: cause}
	for _, o := range e.obs {
		o.OnEvent(&e.ev)
	}
}

// schedule queues a payload at time at and returns its slot.
func (e *Engine) schedule(at Time, p payload) int32 {
	var s int32
	if n := len(e.free); n > 0 {
		s = e.free[n-1]
		e.free = e.free[:n-1]
		p.gen = e.slab[s].gen
		e.slab[s] = p
	} else {
		s = int32(len(e.slab))
		p.gen = 1
		e.slab = append(e.slab, p)
	}
	e.pushSlot(at, s)
	return s
}

func (e *Engine) pushSlot(at Time, s int32) {
	e.seq++
	e.q.push(mkitem(at, e.seq, s))
}

func (e *Engine) release(s int32) {
	p := &e.slab[s]
	gen := p.gen + 1
	if gen == 0 {
		gen = 1
	}
	*p = payload{gen: gen}
	e.free = append(e.free, s)
}

// Stop makes Run return once the current event is handled.
func (e *Engine) Stop() { e.stopped = true }

// Run dispatches events in (At, Seq) order until the next event would be
// after until, no events remain, or Stop is called. When it returns without
// error and until is not Never, Now is until (or the stop time). It fails
// if a bound of the Config is exceeded.
func (e *Engine) Run(until Time) error { return e.RunUntil(until, nil) }

// RunUntil is Run with a stop condition checked after every event.
func (e *Engine) RunUntil(until Time, stop func() bool) error {
	if !e.attached {
		e.attached = true
		e.net.Attach(e)
	}
	e.stopped = false
	for e.q.len() > 0 {
		if e.q.len() > e.cfg.MaxPending {
			return fmt.Errorf("at %v: %w (%d queued, max %d)", e.now, ErrQueueLimit, e.q.len(), e.cfg.MaxPending)
		}
		if e.seq >= maxSeq {
			return fmt.Errorf("at %v: %w (sequence space of %d schedules exhausted)", e.now, ErrEventLimit, uint64(maxSeq))
		}
		it, ok := e.q.popUntil(until)
		if !ok {
			break
		}
		e.now = it.at
		if e.dispatch(it) {
			if e.events >= e.cfg.MaxEvents {
				return fmt.Errorf("at %v: %w (max %d)", e.now, ErrEventLimit, e.cfg.MaxEvents)
			}
			if e.stopped || (stop != nil && stop()) {
				return nil
			}
		}
	}
	if until != Never && until > e.now {
		e.now = until
	}
	return nil
}

// dispatch handles one popped event and reports whether it counted as a
// dispatched event (cancelled and stale timers do not).
func (e *Engine) dispatch(it item) bool {
	s := it.slot()
	p := &e.slab[s]
	if p.kind == KindControl {
		fn := p.fn
		e.count(it, p)
		e.release(s)
		fn()
		return true
	}
	n := e.nodes[p.node]
	switch {
	case p.dead:
		e.release(s)
		return false
	case p.kind != KindDeliver && p.epoch != n.epoch:
		// A timer or start from before a crash.
		e.release(s)
		return false
	case !n.up:
		// Only deliveries reach here: the receiver is down.
		e.net.Dropped(p.from, p.node, p.msg, DropCrashed)
		e.trace(KindDrop, p.node, p.from, p.msg, DropCrashed.String())
		e.release(s)
		return false
	case n.paused:
		n.inbox = append(n.inbox, s)
		return false
	}
	switch p.kind {
	case KindDeliver:
		from, msg := p.from, p.msg
		if !e.net.Arrive(from, p.node, msg, p.flags) {
			e.release(s)
			return false
		}
		e.count(it, p)
		e.release(s)
		n.inst.Receive(&n.env, from, msg)
	case KindTimer:
		tag := p.tag
		e.count(it, p)
		e.release(s)
		n.inst.Timer(&n.env, tag)
	case KindStart:
		e.count(it, p)
		e.release(s)
		n.inst.Start(&n.env)
	default:
		panic(fmt.Sprintf("sim: bad event kind %v", p.kind))
	}
	return true
}

// count adds a dispatched event to the hash and tells the observers.
func (e *Engine) count(it item, p *payload) {
	e.events++
	h := e.hash
	h = (h ^ uint64(it.at)) * hashPrime
	h = (h ^ (uint64(p.kind) | uint64(uint32(p.node))<<8 | uint64(uint32(p.from))<<40)) * hashPrime
	h = (h ^ p.tag) * hashPrime
	e.hash = h
	if len(e.obs) > 0 {
		e.ev = Event{At: it.at, Seq: it.seq(), Kind: p.kind, Node: p.node, From: p.from, Tag: p.tag, Msg: p.msg}
		for _, o := range e.obs {
			o.OnEvent(&e.ev)
		}
	}
}

// The event hash is FNV-1a applied to 64-bit words instead of bytes: the
// same xor-then-multiply step, three multiplies per event.
const (
	hashOffset = 14695981039346656037
	hashPrime  = 1099511628211
)

// after arms a timer for node n.
func (e *Engine) after(n *nodeState, d time.Duration, tag uint64) TimerID {
	if d < 0 {
		d = 0
	}
	if n.clock != nil {
		d = n.clock.Span(e.now, d)
	}
	s := e.schedule(e.now.Add(d), payload{kind: KindTimer, node: n.id, from: None, tag: tag, epoch: n.epoch})
	return TimerID(uint64(e.slab[s].gen)<<32 | uint64(uint32(s)+1))
}

func (e *Engine) cancel(n *nodeState, id TimerID) bool {
	if id == 0 {
		return false
	}
	s := int32(uint32(id) - 1)
	gen := uint32(id >> 32)
	if s < 0 || int(s) >= len(e.slab) {
		return false
	}
	p := &e.slab[s]
	if p.gen != gen || p.kind != KindTimer || p.dead || p.node != n.id || p.epoch != n.epoch {
		return false
	}
	p.dead = true
	return true
}
