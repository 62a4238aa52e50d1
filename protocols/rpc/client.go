package rpc

import (
	"time"

	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// minLocalBackoff is how long a closed-loop client waits after a call
// refused locally (circuit open, bulkhead full) when its think time is
// zero, so that a refusing caller cannot spin at one instant.
const minLocalBackoff = time.Millisecond

// client is one workload node: it issues requests to the target service
// as the workload says, open loop (arrivals at a rate, whatever the
// answers) or closed loop (each loop waits for its answer, thinks, and
// sends again).
type client struct {
	d      *Deployment
	cfg    *ClientConfig
	wl     *workload.Config
	index  int // this client's index among n client nodes
	n      int
	gen    *workload.Generator
	caller *caller
	ep     *transport.Endpoint // nil without a transport layer
}

var _ sim.Node = (*client)(nil)

// Start builds the caller and schedules the first requests.
func (c *client) Start(env sim.Env) {
	inc := incarnation(env)
	b, scope := c.d.clientBudget.get(env)
	c.caller = newCaller(env, 0, inc, &c.cfg.Call, c.d.Replicas[c.cfg.Call.Service], b, scope, c.d, c)
	if c.d.tx != nil {
		c.ep = c.d.tx.NewEndpoint(env, c, tagTransport, inc)
		c.caller.attach(env, c.ep)
	}
	c.gen = workload.NewGenerator(*c.wl, 1/float64(c.n), env.Rand())
	if c.wl.Kind == workload.Closed {
		start := max(0, sim.Time(c.wl.Start).Sub(env.Now()))
		for range c.wl.Loops(c.index, c.n) {
			env.After(start, tag(tagArrival, 1))
		}
		return
	}
	c.arm(env)
}

// arm schedules the next open-loop arrival.
func (c *client) arm(env sim.Env) {
	if next := c.gen.Next(env.Now()); next != sim.Never {
		env.After(next.Sub(env.Now()), tag(tagArrival, 0))
	}
}

// Receive hands responses to the caller.
func (c *client) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if s, ok := msg.(*transport.Segment); ok && c.ep != nil {
		c.ep.Receive(env, from, s)
		return
	}
	if m, ok := msg.(*Response); ok {
		c.caller.receive(env, m)
		c.d.msgs.doneResponse(m)
	}
}

// Timer issues requests and drives the caller's timers.
func (c *client) Timer(env sim.Env, t uint64) {
	kind, id := t>>kindBits, t&idMask
	if kind == tagTransport && c.ep != nil {
		c.ep.Timer(env, id)
		return
	}
	if kind != tagArrival {
		c.caller.timer(env, kind, id)
		return
	}
	now := env.Now()
	if c.cfg.Stop != 0 && now >= sim.Time(c.cfg.Stop) {
		return
	}
	if id == 0 {
		c.arm(env)
	}
	c.d.client.requests.inc()
	deadline := sim.Never
	if c.cfg.Deadline > 0 {
		deadline = env.Local().Add(c.cfg.Deadline)
	}
	// The token is the request's start time: no map needed to find it.
	c.caller.start(env, now, uint64(now), deadline)
}

// callDone records a finished request.
func (c *client) callDone(env sim.Env, now sim.Time, token uint64, st Status) {
	start := sim.Time(token)
	m := c.d.client
	m.done[st].inc()
	lat := now.Sub(start)
	m.latency.Record(lat)
	if st == OK {
		m.okLatency.Record(lat)
	}
	if c.d.rec != nil {
		c.d.rec.add(now, st)
	}
	if c.d.Ops != nil {
		c.d.Ops(start, now, st)
	}
	if c.wl.Kind == workload.Closed {
		wait := c.gen.Think()
		if wait < minLocalBackoff && (st == CircuitOpen || st == BulkheadFull) {
			wait = minLocalBackoff
		}
		env.After(wait, tag(tagArrival, 1))
	}
}
