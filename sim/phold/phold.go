package phold

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Config is a PHOLD workload.
type Config struct {
	// LPs is the number of logical processes (nodes).
	LPs int
	// PerLP is the number of events each process starts with; LPs*PerLP
	// events are pending at all times.
	PerLP int
	// Events is how many events to dispatch before stopping.
	Events uint64
	// Lookahead is the minimum delay of every new event.
	Lookahead time.Duration
	// Mean is the mean of the exponential delay added to Lookahead.
	Mean time.Duration
	// Seed is the run seed.
	Seed uint64
}

// DefaultConfig returns the classic setting: 1,000 processes with one
// event each, lookahead 1µs and mean 1ms.
func DefaultConfig() Config {
	return Config{LPs: 1000, PerLP: 1, Events: 5_000_000, Lookahead: time.Microsecond, Mean: time.Millisecond, Seed: 1}
}

// Validate reports impossible settings.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	if c.LPs < 1 {
		fe.Add("lps", "must be at least 1, got %d", c.LPs)
	}
	if c.PerLP < 1 {
		fe.Add("per-lp", "must be at least 1, got %d", c.PerLP)
	}
	if c.Events < 1 {
		fe.Add("events", "must be at least 1")
	}
	if c.Lookahead < 0 {
		fe.Add("lookahead", "must not be negative, got %v", c.Lookahead)
	}
	if c.Mean < 0 {
		fe.Add("mean", "must not be negative, got %v", c.Mean)
	}
	return fe.Err()
}

// token is the message every PHOLD event carries. Sending a pointer to a
// package-level value boxes into the Message interface without allocating.
type token struct{}

var tok = &token{}

// lp is one logical process: on every arriving event it forwards one
// event to a random process.
type lp struct {
	perLP int
	n     int
}

func (p *lp) Start(env sim.Env) {
	for i := 0; i < p.perLP; i++ {
		p.forward(env)
	}
}

func (p *lp) Receive(env sim.Env, _ sim.NodeID, _ sim.Message) { p.forward(env) }

func (p *lp) Timer(sim.Env, uint64) {}

func (p *lp) forward(env sim.Env) {
	env.Send(sim.NodeID(env.Rand().IntN(p.n)), tok)
}

// network delays each message by Lookahead + Exp(Mean), drawn from its
// own stream.
type network struct {
	e         *sim.Engine
	rng       *rand.Rand
	lookahead time.Duration
	mean      float64
}

func (n *network) Attach(e *sim.Engine) {
	n.e = e
	n.rng = e.Stream("net/phold")
}

func (n *network) Send(from, to sim.NodeID, msg sim.Message) {
	d := n.lookahead + time.Duration(n.rng.ExpFloat64()*n.mean)
	n.e.Deliver(n.e.Now().Add(d), from, to, msg, 0)
}

func (n *network) Arrive(sim.NodeID, sim.NodeID, sim.Message, uint32) bool    { return true }
func (n *network) Dropped(sim.NodeID, sim.NodeID, sim.Message, sim.DropCause) {}

// Build returns an engine set up for the workload, not yet run. The
// engine's event bound is Events plus the start-up events, so Run stops
// with ErrEventLimit exactly after Events PHOLD events; use Run instead
// to get that handled.
func Build(c Config) (*sim.Engine, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := sim.New(sim.Config{Seed: c.Seed, MaxNodes: c.LPs, MaxEvents: c.Events + uint64(c.LPs)})
	e.SetNetwork(&network{lookahead: c.Lookahead, mean: float64(c.Mean)})
	for i := 0; i < c.LPs; i++ {
		p := &lp{perLP: c.PerLP, n: c.LPs}
		if _, err := e.AddNode(fmt.Sprintf("lp%d", i), func() sim.Node { return p }); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Result is what one PHOLD run reports about itself (timing is measured
// by the caller, outside the simulation).
type Result struct {
	Events uint64
	Hash   uint64
	End    sim.Time
}

// Run builds and runs the workload to completion.
func Run(c Config) (Result, error) {
	e, err := Build(c)
	if err != nil {
		return Result{}, err
	}
	return Drive(e)
}

// Drive runs a built engine until its event bound and returns the result.
func Drive(e *sim.Engine) (Result, error) {
	err := e.Run(sim.Never)
	if err != nil && !isLimit(err) {
		return Result{}, err
	}
	return Result{Events: e.Events(), Hash: e.Hash(), End: e.Now()}, nil
}

func isLimit(err error) bool { return errors.Is(err, sim.ErrEventLimit) }
