package transport

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// testNet is a small sim.Network for the transport's tests: a fixed
// one-way delay, Bernoulli loss, an optional link rate with an unbounded
// FIFO per direction, and a drop predicate for scripted losses.
type testNet struct {
	e     *sim.Engine
	delay time.Duration
	loss  float64
	rate  float64 // bytes per second; 0 = unlimited
	rng   *rand.Rand
	busy  map[[2]sim.NodeID]sim.Time
	drop  func(from, to sim.NodeID, msg sim.Message) bool
	cut   bool // drop everything (a partition)
}

func (n *testNet) Attach(e *sim.Engine) { n.e = e }

func (n *testNet) Send(from, to sim.NodeID, msg sim.Message) {
	if n.cut || n.drop != nil && n.drop(from, to, msg) {
		return
	}
	if n.loss > 0 && n.rng.Float64() < n.loss {
		return
	}
	at := n.e.Now()
	if n.rate > 0 {
		k := [2]sim.NodeID{from, to}
		start := max(at, n.busy[k])
		at = start.Add(time.Duration(float64(sim.MessageSize(msg)) / n.rate * 1e9))
		n.busy[k] = at
	}
	n.e.Deliver(at.Add(n.delay), from, to, msg, 0)
}

func (n *testNet) Arrive(sim.NodeID, sim.NodeID, sim.Message, uint32) bool    { return true }
func (n *testNet) Dropped(sim.NodeID, sim.NodeID, sim.Message, sim.DropCause) {}

// treq and tresp are the test application's messages.
type treq struct{ id uint64 }
type tresp struct{ id uint64 }

// done is one finished request at the test client.
type done struct {
	id    uint64
	at    sim.Time
	cause int // -1 answered, else a Cause
}

// tnode is a test node: a server answers every request at once (or after
// serve); a client sends the requests its script schedules.
type tnode struct {
	l      *Layer
	cfg    *Config
	ep     *Endpoint
	hop    *Hop
	server bool
	serve  time.Duration
	sends  []sim.Time // client: when to send request i+1 to node 0
	got    []done
	sentAt map[uint64]sim.Time
	reqAt  []sim.Time // server: when each request arrived
	queue  []func()
}

const testKind = 15

func (n *tnode) Start(env sim.Env) {
	n.ep = n.l.NewEndpoint(env, n, testKind, 0)
	n.sentAt = map[uint64]sim.Time{}
	if n.server {
		n.l.MarkServer(env.ID())
		return
	}
	n.hop = n.ep.NewHop(env, n.cfg, "svc")
	for i, at := range n.sends {
		env.After(at.Sub(env.Now()), uint64(i+1))
	}
}

func (n *tnode) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if s, ok := msg.(*Segment); ok {
		n.ep.Receive(env, from, s)
		return
	}
	n.Deliver(env, from, msg)
}

func (n *tnode) Deliver(env sim.Env, from sim.NodeID, msg sim.Message) {
	switch m := msg.(type) {
	case *treq:
		n.reqAt = append(n.reqAt, env.Now())
		if n.serve > 0 {
			n.queue = append(n.queue, func() { n.answer(env, from, m.id) })
			env.After(n.serve, 1<<59)
			return
		}
		n.answer(env, from, m.id)
	case *tresp:
		if _, ok := n.sentAt[m.id]; ok && !slices.ContainsFunc(n.got, func(d done) bool { return d.id == m.id }) {
			n.got = append(n.got, done{m.id, env.Now(), -1})
		}
	}
}

func (n *tnode) answer(env sim.Env, to sim.NodeID, id uint64) {
	r := &tresp{id}
	if !n.ep.Respond(env, to, id, r) {
		env.Send(to, r)
	}
}

func (n *tnode) Failed(env sim.Env, to sim.NodeID, id uint64, cause Cause) {
	n.got = append(n.got, done{id, env.Now(), int(cause)})
}

func (n *tnode) Timer(env sim.Env, tag uint64) {
	switch {
	case tag>>60 == testKind:
		n.ep.Timer(env, tag&(1<<60-1))
	case tag == 1<<59:
		f := n.queue[0]
		n.queue = n.queue[1:]
		f()
	default:
		id := tag
		n.sentAt[id] = env.Now()
		n.hop.Request(env, 0, id, &treq{id})
	}
}

// latency returns the answer time of request id minus its send time, or
// -1 when it failed or never finished.
func (n *tnode) latency(id uint64) time.Duration {
	for _, d := range n.got {
		if d.id == id {
			if d.cause >= 0 {
				return -1
			}
			return d.at.Sub(n.sentAt[id])
		}
	}
	return -1
}

// world is a server (node 0) and one client (node 1) on a testNet.
type world struct {
	e      *sim.Engine
	net    *testNet
	l      *Layer
	server *tnode
	client *tnode
}

func newWorld(cfg Config, oneWay time.Duration, sends []sim.Time) *world {
	cfg = cfg.Resolved()
	e := sim.New(sim.Config{Seed: 1})
	w := &world{e: e, net: &testNet{delay: oneWay, rng: rand.New(rand.NewPCG(1, 2)), busy: map[[2]sim.NodeID]sim.Time{}}}
	e.SetNetwork(w.net)
	w.l = NewLayer(e, 0, 100*time.Millisecond)
	w.server = &tnode{l: w.l, server: true}
	w.client = &tnode{l: w.l, cfg: &cfg, sends: sends}
	e.MustAddNode("server", func() sim.Node { return w.server })
	e.MustAddNode("client", func() sim.Node { return w.client })
	return w
}

func (w *world) run(t time.Duration) {
	if err := w.e.Run(sim.Time(t)); err != nil {
		panic(err)
	}
}
