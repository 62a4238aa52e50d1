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
	DefaultMaxPending = 1<<24 - 1
	DefaultMaxNodes   = 1_000_000
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

// nodeState is the engine's record of one node. Records are allocated in
// blocks (nodeBlock at a time), so nodes added together sit together in
// memory and a node costs one slot of a block rather than an allocation.
// The random stream and the default storage are made on first use: a node
// that never draws or stores costs neither.
type nodeState struct {
	// Fields every dispatch touches come first, within 64 bytes.
	inst   Node
	env    nodeEnv
	rng    *rand.Rand
	id     NodeID
	epoch  uint32
	up     bool
	paused bool
	// starting: the instance exists but its Start has not run yet; inputs
	// that come due meanwhile (in the same instant) wait for it.
	starting bool

	name    string
	factory func() Node
	inbox   []item // inputs that came due while paused or starting
	clock   Clock
	storage Storage
}

// nodeBlock is how many node records are allocated at once.
const nodeBlock = 256

// Engine runs one simulation: a clock, an event queue with a total order
// (At, Seq), the hosted nodes and the network between them. An Engine is
// single-threaded; parallelism lives across engines.
type Engine struct {
	cfg      Config
	now      Time
	seq      uint64
	q        radixQueue
	timers   timerSlab
	nodes    []*nodeState
	block    []nodeState // unused records of the current block
	byName   map[string]NodeID
	net      Network
	metrics  Metrics
	obs      []Observer
	ev       Event
	hash     uint64
	events   uint64
	stopped  bool
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
	e := &Engine{
		cfg:     cfg,
		byName:  make(map[string]NodeID),
		metrics: m,
		hash:    hashOffset,
		net:     &Direct{},
	}
	e.q.timers = &e.timers
	return e
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

// Observed reports whether any observer is registered. Observers may keep
// the messages they see, so a protocol that reuses message values must not
// reuse one while the engine is observed.
func (e *Engine) Observed() bool { return len(e.obs) > 0 }

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
	if len(e.block) == 0 {
		e.block = make([]nodeState, nodeBlock)
	}
	n := &e.block[0]
	e.block = e.block[1:]
	*n = nodeState{
		id:       id,
		name:     name,
		factory:  factory,
		inst:     factory(),
		up:       true,
		starting: true,
	}
	n.env = nodeEnv{e: e, n: n}
	e.nodes = append(e.nodes, n)
	e.byName[name] = id
	e.schedule(&item{at: e.now, key: uint64(KindStart), node: id, from: None, aux: uint64(n.epoch)})
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

// Storage returns node id's durable storage (a MemoryStorage unless
// SetStorage replaced it).
func (e *Engine) Storage(id NodeID) Storage { return e.node(id).store() }

// store returns the node's storage, making the default one on first use.
func (n *nodeState) store() Storage {
	if n.storage == nil {
		n.storage = NewMemoryStorage()
	}
	return n.storage
}

// newStream makes the node's random stream "node/<name>" on its first
// use (Env.Rand); it depends only on the run seed and the name, so when
// it is made does not change its draws.
func (n *nodeState) newStream(e *Engine) *rand.Rand {
	n.rng = e.Stream("node/" + n.name)
	return n.rng
}

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
	n.paused, n.starting = false, false
	if len(n.inbox) > 0 {
		for i := range n.inbox {
			it := &n.inbox[i]
			switch it.kind() {
			case KindDeliver:
				e.net.Dropped(it.from, it.node, it.msg, DropCrashed)
				e.trace(KindDrop, it.node, it.from, it.msg, DropCrashed.String())
			case KindTimer:
				e.timers.release(int32(it.aux))
			}
		}
		clear(n.inbox)
		n.inbox = n.inbox[:0]
	}
	e.trace(KindCrash, id, None, nil, "")
}

// Restart boots a fresh instance of a crashed node now. It sees only its
// durable storage, and its Start runs before any input reaches it: inputs
// due in the same instant wait for Start, in order. Restarting a running
// node does nothing.
func (e *Engine) Restart(id NodeID) {
	n := e.node(id)
	if n.up {
		return
	}
	n.up = true
	n.starting = true
	n.inst = n.factory()
	e.trace(KindRestart, id, None, nil, "")
	e.schedule(&item{at: e.now, key: uint64(KindStart), node: id, from: None, aux: uint64(n.epoch)})
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
	e.requeue(n)
}

// requeue schedules now, in order, the inputs that waited for n.
func (e *Engine) requeue(n *nodeState) {
	for i := range n.inbox {
		it := &n.inbox[i]
		it.at = e.now
		it.key &= kindMask
		e.schedule(it)
	}
	clear(n.inbox)
	n.inbox = n.inbox[:0]
}

// At schedules fn to run at time t (not before now). It is for engine-level
// actions such as fault schedules and workload generators, not for node
// logic, which uses Env.After.
func (e *Engine) At(t Time, fn func()) {
	if t < e.now {
		t = e.now
	}
	e.schedule(&item{at: t, key: uint64(KindControl), node: None, from: None, msg: fn})
}

// Deliver schedules msg from node from to arrive at node to at time at.
// Networks call it from Send; at must not be before Now.
func (e *Engine) Deliver(at Time, from, to NodeID, msg Message, flags uint32) {
	if at < e.now {
		panic(fmt.Sprintf("sim: delivery at %v scheduled in the past (now %v)", at, e.now))
	}
	e.seq++
	it := e.q.slot(at)
	it.at, it.key, it.msg = at, uint64(KindDeliver)|e.seq<<kindBits, msg
	it.node, it.from, it.aux = to, from, uint64(flags)
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

// schedule queues an item whose key holds only its kind, giving it the
// next sequence number. Deliver and after, the hot paths, do the same
// in place: they fill the queue's slot (radixQueue.slot) field by field.
func (e *Engine) schedule(it *item) {
	e.seq++
	it.key |= e.seq << kindBits
	e.q.push(it)
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
		it := e.q.next(until)
		if it == nil {
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
	e.q.popped = item{}
	if until != Never && until > e.now {
		e.now = until
	}
	return nil
}

// dispatch handles one popped event and reports whether it counted as a
// dispatched event (cancelled and stale timers do not). it points into
// the queue: everything needed from it is read before anything that may
// push (the network's Arrive, an observer, the node).
func (e *Engine) dispatch(it *item) bool {
	kind := it.kind()
	if kind == KindControl {
		fn := it.msg.(func())
		it.msg = nil
		e.count(it.at, kind, it.node, it.from, 0)
		if len(e.obs) > 0 {
			e.observe(it.at, it.seq(), kind, it.node, it.from, 0, nil)
		}
		fn()
		return true
	}
	n := e.nodes[it.node]
	switch kind {
	case KindDeliver:
		switch {
		case !n.up:
			// The receiver is down.
			e.net.Dropped(it.from, it.node, it.msg, DropCrashed)
			e.trace(KindDrop, it.node, it.from, it.msg, DropCrashed.String())
			return false
		case n.paused || n.starting:
			n.inbox = append(n.inbox, *it)
			return false
		}
		at, key, from, msg := it.at, it.key, it.from, it.msg
		if !e.net.Arrive(from, n.id, msg, uint32(it.aux)) {
			return false
		}
		e.count(at, kind, n.id, from, 0)
		if len(e.obs) > 0 {
			e.observe(at, key>>kindBits, kind, n.id, from, 0, msg)
		}
		n.inst.Receive(&n.env, from, msg)
	case KindTimer:
		s := int32(it.aux)
		t := &e.timers.t[s]
		if t.dead || t.epoch != n.epoch {
			// Cancelled, or armed before a crash.
			e.timers.release(s)
			return false
		}
		if n.paused || n.starting {
			n.inbox = append(n.inbox, *it)
			return false
		}
		tag := t.tag
		e.timers.release(s)
		e.count(it.at, kind, n.id, it.from, tag)
		if len(e.obs) > 0 {
			e.observe(it.at, it.seq(), kind, n.id, it.from, tag, nil)
		}
		n.inst.Timer(&n.env, tag)
	case KindStart:
		if uint32(it.aux) != n.epoch {
			// A start from before a crash.
			return false
		}
		if n.paused {
			n.inbox = append(n.inbox, *it)
			return false
		}
		n.starting = false
		e.count(it.at, kind, n.id, it.from, 0)
		if len(e.obs) > 0 {
			e.observe(it.at, it.seq(), kind, n.id, it.from, 0, nil)
		}
		n.inst.Start(&n.env)
		if len(n.inbox) > 0 && n.up && !n.paused {
			// Inputs that came due before Start, in the same instant.
			e.requeue(n)
		}
	default:
		panic(fmt.Sprintf("sim: bad event kind %v", kind))
	}
	return true
}

// count adds a dispatched event to the count and the hash; dispatch then
// tells the observers, if any. It is inlined into dispatch.
func (e *Engine) count(at Time, kind EventKind, node, from NodeID, tag uint64) {
	e.events++
	h := e.hash
	h = (h ^ uint64(at)) * hashPrime
	h = (h ^ (uint64(kind) | uint64(uint32(node))<<8 | uint64(uint32(from))<<40)) * hashPrime
	e.hash = (h ^ tag) * hashPrime
}

// observe tells the observers about a dispatched event (msg only for a
// delivery).
func (e *Engine) observe(at Time, seq uint64, kind EventKind, node, from NodeID, tag uint64, msg Message) {
	e.ev = Event{At: at, Seq: seq, Kind: kind, Node: node, From: from, Tag: tag, Msg: msg}
	for _, o := range e.obs {
		o.OnEvent(&e.ev)
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
	s, gen := e.timers.alloc(timer{tag: tag, epoch: n.epoch, node: n.id})
	e.seq++
	at := e.now.Add(d)
	it := e.q.slot(at)
	it.at, it.key, it.msg = at, uint64(KindTimer)|e.seq<<kindBits, nil
	it.node, it.from, it.aux = n.id, None, uint64(s)
	return TimerID(uint64(gen)<<32 | uint64(uint32(s)+1))
}

func (e *Engine) cancel(n *nodeState, id TimerID) bool {
	if id == 0 {
		return false
	}
	s := int32(uint32(id) - 1)
	gen := uint32(id >> 32)
	if s < 0 || int(s) >= len(e.timers.t) {
		return false
	}
	t := &e.timers.t[s]
	if t.gen != gen || !t.armed || t.dead || t.node != n.id || t.epoch != n.epoch {
		return false
	}
	t.dead = true
	return true
}
