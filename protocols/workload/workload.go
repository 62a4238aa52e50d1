package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind,Arrival -linecomment -output=workload_string.go

// Kind is the shape of a workload.
type Kind uint8

// Workload kinds.
const (
	// Open: requests arrive at a rate whatever the system does (the
	// arrival process of users on the internet).
	Open Kind = iota // open
	// Closed: a fixed number of clients each send one request, wait for
	// the answer (or its timeout), think, and send the next.
	Closed // closed
)

// UnmarshalYAML parses "open" or "closed".
func (k *Kind) UnmarshalYAML(n *yaml.Node) error { return enum.Set(k, "value", n.Value) }

// MarshalYAML writes the name.
func (k Kind) MarshalYAML() (any, error) { return k.String(), nil }

// Arrival is the spacing of open-loop arrivals (and of closed-loop think
// times).
type Arrival uint8

// Arrival processes.
const (
	// Poisson: exponential gaps with mean 1/rate (memoryless arrivals).
	Poisson Arrival = iota // poisson
	// Constant: gaps of exactly 1/rate.
	Constant // constant
)

// UnmarshalYAML parses "poisson" or "constant".
func (a *Arrival) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(a, "value", n.Value)
}

// MarshalYAML writes the name.
func (a Arrival) MarshalYAML() (any, error) { return a.String(), nil }

// Rate is a number of events per second. In YAML it is written "1000/s";
// "/ms", "/min" and "/h" are accepted too, and a bare number means per
// second.
type Rate float64

// ParseRate parses "1000/s", "2.5/ms", "60/min", "10/h" or "1000".
func ParseRate(s string) (Rate, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bad rate %q: want a number per time unit, like \"1000/s\"", s)
	}
	if !hasUnit {
		return Rate(v), nil
	}
	per := map[string]float64{"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "m": 60, "h": 3600}
	d, ok := per[strings.TrimSpace(unit)]
	if !ok {
		return 0, fmt.Errorf("bad rate %q: unknown unit %q (use /s, /ms, /min or /h)", s, unit)
	}
	return Rate(v / d), nil
}

// String formats the rate as "1000/s".
func (r Rate) String() string { return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s" }

// Interval returns the mean gap between events, 1/r (0 for a zero rate).
func (r Rate) Interval() time.Duration {
	if r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / float64(r))
}

// UnmarshalYAML parses a rate string or number.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a rate like \"1000/s\"")
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML writes "1000/s".
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// Burst raises the open-loop rate for a window of time.
type Burst struct {
	// At is when the burst starts, from the start of the run.
	At time.Duration `yaml:"at"`
	// Duration is how long the burst lasts.
	Duration time.Duration `yaml:"duration"`
	// Rate is the total arrival rate during the burst (it replaces the
	// base rate, it is not added to it).
	Rate Rate `yaml:"rate"`
}

// Config is a workload: who sends requests, how many and how often. A
// protocol's client nodes drive it with a Generator from their own
// timers.
type Config struct {
	// Kind is open (arrivals at a rate, independent of answers) or
	// closed (a fixed number of clients, each waiting for its answer).
	Kind Kind `yaml:"kind"`
	// Rate is the total open-loop arrival rate across every client
	// node, e.g. "1000/s". Higher rates cost proportionally more
	// simulation time.
	Rate Rate `yaml:"rate"`
	// Arrival is the spacing of open-loop arrivals and closed-loop think
	// times: poisson (exponential gaps) or constant.
	Arrival Arrival `yaml:"arrival"`
	// Bursts raise the open-loop rate during windows, e.g. to provoke
	// overload.
	Bursts []Burst `yaml:"bursts"`
	// Clients is the number of closed-loop clients, spread round-robin
	// over the protocol's client nodes.
	Clients int `yaml:"clients"`
	// Think is the mean pause of a closed-loop client between an answer
	// and its next request (0: none).
	Think time.Duration `yaml:"think"`
	// Start delays the first request, from the start of the run.
	Start time.Duration `yaml:"start"`
}

// DefaultConfig is an open-loop Poisson workload of 100 requests/s.
func DefaultConfig() Config {
	return Config{Kind: Open, Rate: 100, Arrival: Poisson, Clients: 1}
}

// MaxRate bounds Rate and burst rates so that a typo cannot ask for an
// effectively endless run.
const MaxRate Rate = 1e9

// Validate reports every impossible setting, with yaml field paths.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	if c.Kind > Closed {
		fe.Add("kind", "must be open or closed")
	}
	if c.Arrival > Constant {
		fe.Add("arrival", "must be poisson or constant")
	}
	if c.Kind == Open && (c.Rate <= 0 || c.Rate > MaxRate) {
		fe.Add("rate", "must be positive and at most %v for an open workload, got %v", MaxRate, c.Rate)
	}
	if c.Kind == Closed && c.Clients < 1 {
		fe.Add("clients", "must be at least 1 for a closed workload, got %d", c.Clients)
	}
	if c.Clients < 0 {
		fe.Add("clients", "must not be negative, got %d", c.Clients)
	}
	if c.Think < 0 {
		fe.Add("think", "must not be negative, got %v", c.Think)
	}
	if c.Start < 0 {
		fe.Add("start", "must not be negative, got %v", c.Start)
	}
	for i, b := range c.Bursts {
		p := fmt.Sprintf("bursts[%d]", i)
		if b.At < 0 {
			fe.Add(p+".at", "must not be negative, got %v", b.At)
		}
		if b.Duration <= 0 {
			fe.Add(p+".duration", "must be positive, got %v", b.Duration)
		}
		if b.Rate < 0 || b.Rate > MaxRate {
			fe.Add(p+".rate", "must be in [0, %v], got %v", MaxRate, b.Rate)
		}
		if i > 0 {
			prev := c.Bursts[i-1]
			if b.At < prev.At+prev.Duration {
				fe.Add(p+".at", "bursts must be in time order without overlap: starts at %v, before the previous burst ends at %v", b.At, prev.At+prev.Duration)
			}
		}
	}
	return fe.Err()
}

// Generator produces the request times of one client node. It is pure:
// everything random comes from the stream it is given, so a node that
// drives it from its own timers stays deterministic.
//
//	g := workload.NewGenerator(cfg, 1.0/float64(nClientNodes), env.Rand())
//	next := g.Next(env.Now())     // open loop: arm a timer for next-now
//	pause := g.Think()            // closed loop: pause before the next request
type Generator struct {
	cfg   Config
	share float64
	rng   *rand.Rand
}

// NewGenerator returns a generator for a node that carries share (0 <
// share ≤ 1) of the open-loop rate.
func NewGenerator(cfg Config, share float64, rng *rand.Rand) *Generator {
	if share <= 0 || share > 1 {
		share = 1
	}
	return &Generator{cfg: cfg, share: share, rng: rng}
}

// RateAt returns this generator's arrival rate at time t, bursts included.
func (g *Generator) RateAt(t sim.Time) Rate {
	r, _ := g.segment(t)
	return r
}

// segment returns the rate at t and the time the rate next changes (Never
// if it never does).
func (g *Generator) segment(t sim.Time) (Rate, sim.Time) {
	base := g.cfg.Rate
	for _, b := range g.cfg.Bursts {
		start := sim.Time(b.At)
		end := start.Add(b.Duration)
		switch {
		case t < start:
			return Rate(float64(base) * g.share), start
		case t < end:
			return Rate(float64(b.Rate) * g.share), end
		}
	}
	return Rate(float64(base) * g.share), sim.Never
}

// Next returns the time of the first open-loop arrival after now (the
// first one at or after Start when now is before it). With bursts the
// rate is piecewise constant: a gap that would cross a rate change is
// redrawn from the change, which is exact for Poisson arrivals (they are
// memoryless) and restarts the beat for constant ones. It returns
// sim.Never when the rate is zero from now on.
func (g *Generator) Next(now sim.Time) sim.Time {
	t := now
	if start := sim.Time(g.cfg.Start); t < start {
		t = start
		if r, _ := g.segment(t); r > 0 && g.cfg.Arrival == Constant {
			return t
		}
	}
	for {
		r, change := g.segment(t)
		if r <= 0 {
			if change == sim.Never {
				return sim.Never
			}
			t = change
			continue
		}
		gap := g.gap(float64(r))
		next := t.Add(gap)
		if next < change {
			if next <= now {
				next = now + 1
			}
			return next
		}
		t = change
	}
}

// gap draws one spacing at rate r per second.
func (g *Generator) gap(r float64) time.Duration {
	mean := float64(time.Second) / r
	if g.cfg.Arrival == Constant {
		return time.Duration(mean)
	}
	return time.Duration(g.rng.ExpFloat64() * mean)
}

// Think returns a closed-loop client's pause before its next request:
// exponential with mean Think (poisson arrival) or exactly Think
// (constant).
func (g *Generator) Think() time.Duration {
	if g.cfg.Think <= 0 {
		return 0
	}
	if g.cfg.Arrival == Constant {
		return g.cfg.Think
	}
	return time.Duration(g.rng.ExpFloat64() * float64(g.cfg.Think))
}

// Loops returns the closed-loop client indices that client node i of n
// runs: clients are dealt round-robin, so node i gets i, i+n, i+2n, ...
func (c Config) Loops(i, n int) []int {
	var out []int
	for k := i; k < c.Clients; k += n {
		out = append(out, k)
	}
	return out
}
