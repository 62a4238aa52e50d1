package rpc

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// minLocalBackoff is how long a closed-loop client waits after a call
// refused locally (circuit open, bulkhead full) when its think time is
// zero, so that a refusing caller cannot spin at one instant.
const minLocalBackoff = time.Millisecond

// client is one workload node: it issues requests to the target service,
// open-loop (Poisson arrivals) or closed-loop (a fixed number outstanding).
type client struct {
	d      *Deployment
	cfg    *ClientConfig
	rate   float64 // this client's arrivals per second (open loop)
	caller *caller
}

var _ sim.Node = (*client)(nil)

// Start builds the caller and schedules the first requests.
func (c *client) Start(env sim.Env) {
	inc := incarnation(env)
	b, scope := c.d.clientBudget.get(env)
	c.caller = newCaller(env, 0, inc, &c.cfg.Call, c.d.Replicas[c.cfg.Call.Service], b, scope, c.d, c)
	start := c.cfg.Start - env.Now().Duration()
	if start < 0 {
		start = 0
	}
	if c.cfg.Concurrency > 0 {
		for i := 0; i < c.cfg.Concurrency; i++ {
			env.After(start, tag(tagArrival, 0))
		}
		return
	}
	env.After(start+c.gap(env), tag(tagArrival, 0))
}

// gap draws an exponential inter-arrival time.
func (c *client) gap(env sim.Env) time.Duration {
	return time.Duration(env.Rand().ExpFloat64() / c.rate * 1e9)
}

// Receive hands responses to the caller.
func (c *client) Receive(env sim.Env, _ sim.NodeID, msg sim.Message) {
	if m, ok := msg.(*Response); ok {
		c.caller.receive(env, m)
	}
}

// Timer issues requests and drives the caller's timers.
func (c *client) Timer(env sim.Env, t uint64) {
	kind, id := t>>kindBits, t&idMask
	if kind != tagArrival {
		c.caller.timer(env, kind, id)
		return
	}
	now := env.Now()
	if c.cfg.Stop != 0 && now >= sim.Time(c.cfg.Stop) {
		return
	}
	if c.cfg.Concurrency == 0 {
		env.After(c.gap(env), tag(tagArrival, 0))
	}
	c.d.cm.requests.Add(1)
	c.d.stats.Requests++
	deadline := sim.Never
	if c.cfg.Deadline > 0 {
		deadline = env.Local().Add(c.cfg.Deadline)
	}
	// The token is the request's start time: no map needed to find it.
	c.caller.start(env, uint64(now), deadline)
}

// callDone records a finished request.
func (c *client) callDone(env sim.Env, token uint64, st Status) {
	start, now := sim.Time(token), env.Now()
	m := c.d.cm
	m.status[st].Add(1)
	lat := now.Sub(start)
	m.latency.Record(lat)
	if st == OK {
		m.okLatency.Record(lat)
	}
	c.d.stats.Done[st]++
	if c.d.Ops != nil {
		c.d.Ops(start, now, st)
	}
	if c.cfg.Concurrency > 0 {
		wait := c.cfg.Think
		if wait < minLocalBackoff && (st == CircuitOpen || st == BulkheadFull) {
			wait = minLocalBackoff
		}
		env.After(wait, tag(tagArrival, 0))
	}
}
