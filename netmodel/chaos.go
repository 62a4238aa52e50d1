package netmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// ChaosConfig generates random faults from the run seed. The run is split
// into a safety phase [Start, Start+Safety), in which faults of each kind
// arrive as a Poisson process at their rate, and a liveness phase
// [Start+Safety, Start+Safety+Liveness), in which every fault has healed
// (durations are cut at the end of the safety phase) and the system is
// expected to converge. The same seed always yields the same faults, and
// each kind draws from its own stream ("net/chaos/<kind>"), so changing
// one kind's rate does not move the others' arrival times.
//
//	chaos:
//	  safety: 60s
//	  liveness: 30s
//	  crash: {per_min: 2, duration: {dist: uniform, min: 1s, max: 5s}}
//	  partition: {per_min: 1, duration: {dist: exponential, mean: 5s, min: 1s}}
//	  clock: {per_min: 1, jump: {dist: uniform, min: 10ms, max: 1s}, backwards: 0.5}
type ChaosConfig struct {
	// Start is when the safety phase begins.
	Start Duration `yaml:"start,omitempty"`
	// Safety is the length of the phase with faults.
	Safety Duration `yaml:"safety"`
	// Liveness is the length of the fault-free phase after it.
	Liveness Duration `yaml:"liveness,omitempty"`
	// Nodes limits faults to these nodes (names or globs); default all.
	Nodes []string `yaml:"nodes,omitempty"`
	// MaxDown bounds how many of those nodes are crashed or paused at
	// once; faults that would exceed it are skipped. 0 means a minority:
	// (n-1)/2 of n nodes, which is 0 for one or two nodes, so there crash
	// and pause need an explicit max_down.
	MaxDown int `yaml:"max_down,omitempty"`
	// Crash crashes one node; it restarts when the fault ends.
	Crash ChaosRate `yaml:"crash,omitempty"`
	// Pause pauses one node.
	Pause ChaosRate `yaml:"pause,omitempty"`
	// Partition splits the nodes in two: a random minority of 1..n/2
	// nodes against the rest.
	Partition ChaosRate `yaml:"partition,omitempty"`
	// Isolate cuts one node off from all others.
	Isolate ChaosRate `yaml:"isolate,omitempty"`
	// Slow slows one node by Factor.
	Slow ChaosRate `yaml:"slow,omitempty"`
	// Clock steps one node's clock by a Jump drawn from its distribution,
	// backwards with probability Backwards. Clock faults have no duration.
	Clock ChaosRate `yaml:"clock,omitempty"`
}

// ChaosRate is the arrival rate and length of one kind of chaos fault.
type ChaosRate struct {
	// PerMin is the mean number of faults per minute of safety phase.
	PerMin float64 `yaml:"per_min"`
	// Duration is the distribution of fault lengths.
	Duration DistSpec `yaml:"duration"`
	// Factor is the slow-down factor (slow only).
	Factor float64 `yaml:"factor,omitempty"`
	// InFlight is the in-flight policy (partition and isolate only).
	InFlight InFlight `yaml:"in_flight,omitempty"`
	// Jump is the distribution of clock step sizes (clock only).
	Jump DistSpec `yaml:"jump,omitempty"`
	// Backwards is the probability that a clock step goes back (clock
	// only).
	Backwards float64 `yaml:"backwards,omitempty"`
}

// dist returns the spec of the kind's random quantity: the jump for
// clock, else the duration.
func (r *ChaosRate) dist(k FaultKind) (DistSpec, string) {
	if k == FaultClock {
		return r.Jump, "jump"
	}
	return r.Duration, "duration"
}

// DefaultChaosConfig returns one minute of safety phase with about one
// crash, two short pauses, one partition and one isolation, then 30 s of
// liveness phase.
func DefaultChaosConfig() ChaosConfig {
	return ChaosConfig{
		Safety:   Duration(time.Minute),
		Liveness: Duration(30 * time.Second),
		Crash:    ChaosRate{PerMin: 1, Duration: DistSpec{Dist: DistUniform, Min: Duration(time.Second), Max: Duration(5 * time.Second)}},
		Pause:    ChaosRate{PerMin: 2, Duration: DistSpec{Dist: DistUniform, Min: Duration(100 * time.Millisecond), Max: Duration(time.Second)}},
		Partition: ChaosRate{PerMin: 1, Duration: DistSpec{Dist: DistExponential,
			Mean: Duration(5 * time.Second), Min: Duration(time.Second)}},
		Isolate: ChaosRate{PerMin: 1, Duration: DistSpec{Dist: DistUniform, Min: Duration(time.Second), Max: Duration(5 * time.Second)}},
	}
}

// kinds returns the chaos kinds in their fixed generation order.
func (c *ChaosConfig) kinds() []struct {
	kind FaultKind
	rate *ChaosRate
} {
	return []struct {
		kind FaultKind
		rate *ChaosRate
	}{{FaultCrash, &c.Crash}, {FaultPause, &c.Pause}, {FaultPartition, &c.Partition}, {FaultIsolate, &c.Isolate}, {FaultSlow, &c.Slow}, {FaultClock, &c.Clock}}
}

// Validate checks the chaos settings.
func (c ChaosConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Start < 0 {
		fe.Add("start", "must not be negative, got %v", c.Start)
	}
	if c.Safety <= 0 {
		fe.Add("safety", "must be > 0, got %v", c.Safety)
	}
	if c.Liveness < 0 {
		fe.Add("liveness", "must not be negative, got %v", c.Liveness)
	}
	if c.MaxDown < 0 {
		fe.Add("max_down", "must not be negative, got %d", c.MaxDown)
	}
	for i, pat := range c.Nodes {
		checkPattern(&fe, fmt.Sprintf("nodes[%d]", i), pat)
	}
	for _, k := range c.kinds() {
		p := k.kind.String()
		r := k.rate
		if !(r.PerMin >= 0) || math.IsInf(r.PerMin, 0) {
			fe.Add(p+".per_min", "must be >= 0, got %v", r.PerMin)
			continue
		}
		if r.PerMin == 0 {
			continue
		}
		if exp := r.PerMin * c.Safety.D().Minutes(); exp > MaxFaultActions/10 {
			fe.Add(p+".per_min", "expects %.0f faults; at most %d", exp, MaxFaultActions/10)
		}
		spec, field := r.dist(k.kind)
		if spec.IsZero() {
			fe.Add(p+"."+field, "missing; e.g. {dist: uniform, min: 1s, max: 5s}")
		} else {
			fe.Merge(p+"."+field, spec.Validate())
		}
		if k.kind == FaultClock && !r.Duration.IsZero() {
			fe.Add(p+".duration", "does not apply to clock (a step has no duration; see jump)")
		}
		if k.kind != FaultClock && (!r.Jump.IsZero() || r.Backwards != 0) {
			fe.Add(p+".jump", "jump and backwards only apply to clock")
		}
		checkProb(&fe, p+".backwards", r.Backwards)
		if k.kind == FaultSlow && !(r.Factor >= 1) {
			fe.Add(p+".factor", "must be >= 1, got %v", r.Factor)
		}
		if k.kind != FaultSlow && r.Factor != 0 {
			fe.Add(p+".factor", "only applies to slow")
		}
		if r.InFlight != InFlightDrop && k.kind != FaultPartition && k.kind != FaultIsolate {
			fe.Add(p+".in_flight", "only applies to partition and isolate")
		}
	}
	return fe.Err()
}

// Phase is a named span of a run.
type Phase struct {
	// Name is "safety" or "liveness".
	Name string
	// Start and End bound the phase: [Start, End).
	Start, End sim.Time
}

// phases returns the safety and liveness phases.
func (c *ChaosConfig) phases() []Phase {
	s := sim.Time(c.Start)
	m := s.Add(c.Safety.D())
	return []Phase{{"safety", s, m}, {"liveness", m, m.Add(c.Liveness.D())}}
}

// chaosEvent is a generated fault before node selection.
type chaosEvent struct {
	kind  FaultKind
	order int // kind order, for ties
	rate  *ChaosRate
	start sim.Time
	dur   time.Duration
	jump  time.Duration
	pick  *rand.Rand
}

// generate returns the chaos faults of a run over the candidate nodes.
func (c *ChaosConfig) generate(stream func(string) *rand.Rand, cands []sim.NodeID, dists map[FaultKind]Dist) []*action {
	if len(cands) == 0 {
		return nil
	}
	return c.place(c.arrivals(stream, dists), cands)
}

// arrivals draws the faults of the safety phase, kind by kind from the
// kind's own stream: Poisson arrivals at the kind's rate, each with a
// duration (cut at the end of the phase) or, for clock, a jump. It returns
// them in time order, ties in kind order.
func (c *ChaosConfig) arrivals(stream func(string) *rand.Rand, dists map[FaultKind]Dist) []chaosEvent {
	begin := sim.Time(c.Start)
	end := begin.Add(c.Safety.D())
	var evs []chaosEvent
	for order, k := range c.kinds() {
		if k.rate.PerMin == 0 {
			continue
		}
		r := stream("net/chaos/" + k.kind.String())
		pick := stream("net/chaos/" + k.kind.String() + "/pick")
		mean := float64(time.Minute) / k.rate.PerMin
		t := begin
		for {
			t = t.Add(time.Duration(r.ExpFloat64() * mean))
			if t >= end {
				break
			}
			ev := chaosEvent{kind: k.kind, order: order, rate: k.rate, start: t, pick: pick}
			d := dists[k.kind].Sample(r)
			if k.kind == FaultClock {
				if r.Float64() < k.rate.Backwards {
					d = -d
				}
				ev.jump = d
			} else {
				ev.dur = min(max(d, 1), end.Sub(t))
			}
			evs = append(evs, ev)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].start != evs[j].start {
			return evs[i].start < evs[j].start
		}
		return evs[i].order < evs[j].order
	})
	return evs
}

// place picks the nodes of each drawn fault among cands, in time order,
// and labels the faults "chaos/<kind>#<n>". Crash and pause faults that
// would take more than MaxDown nodes down at once are skipped, as are
// partitions of fewer than two nodes.
func (c *ChaosConfig) place(evs []chaosEvent, cands []sim.NodeID) []*action {
	maxDown := c.MaxDown
	if maxDown == 0 {
		maxDown = (len(cands) - 1) / 2
	}
	var down []*action // accepted crash and pause faults
	var out []*action
	seq := map[FaultKind]int{}
	for _, ev := range evs {
		a := &action{kind: ev.kind, start: ev.start, end: ev.start.Add(ev.dur), chaos: true}
		pickOne := func() []sim.NodeID { return []sim.NodeID{cands[ev.pick.IntN(len(cands))]} }
		switch ev.kind {
		case FaultCrash, FaultPause:
			// Events come in time order: forget faults that have ended,
			// so down holds at most maxDown faults.
			down = stillDown(down, ev.start)
			if len(down) >= maxDown {
				continue
			}
			free := upNodes(cands, down)
			a.nodes = []sim.NodeID{free[ev.pick.IntN(len(free))]}
			down = append(down, a)
		case FaultSlow:
			a.nodes = pickOne()
			a.factor = ev.rate.Factor
		case FaultClock:
			a.nodes = pickOne()
			a.jump = ev.jump
			a.end = a.start
		case FaultIsolate:
			a.nodes = pickOne()
			a.cut = &cut{iso: setOf(a.nodes), drop: ev.rate.InFlight == InFlightDrop}
		case FaultPartition:
			if len(cands) < 2 {
				continue
			}
			a.nodes = append([]sim.NodeID(nil), cands...)
			a.cut = &cut{groupOf: groupsOf([][]sim.NodeID{minority(cands, ev.pick)}), drop: ev.rate.InFlight == InFlightDrop}
		}
		seq[ev.kind]++
		a.label = fmt.Sprintf("chaos/%s#%d", ev.kind, seq[ev.kind])
		out = append(out, a)
	}
	return out
}

// stillDown returns the faults of down that have not ended at t, reusing
// down's array.
func stillDown(down []*action, t sim.Time) []*action {
	live := down[:0]
	for _, d := range down {
		if t < d.end {
			live = append(live, d)
		}
	}
	return live
}

// upNodes returns the candidates that no fault of down holds.
func upNodes(cands []sim.NodeID, down []*action) []sim.NodeID {
	var free []sim.NodeID
	for _, id := range cands {
		busy := false
		for _, d := range down {
			busy = busy || d.nodes[0] == id
		}
		if !busy {
			free = append(free, id)
		}
	}
	return free
}

// minority returns a random side of 1..n/2 of the n candidates, sorted.
func minority(cands []sim.NodeID, pick *rand.Rand) []sim.NodeID {
	perm := append([]sim.NodeID(nil), cands...)
	pick.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	k := 1 + pick.IntN(len(perm)/2)
	side := append([]sim.NodeID(nil), perm[:k]...)
	sort.Slice(side, func(i, j int) bool { return side[i] < side[j] })
	return side
}

// ResolveFiles makes relative empirical file paths in the chaos
// distributions relative to dir.
func (c *FaultsConfig) ResolveFiles(dir string) {
	if c.Chaos == nil {
		return
	}
	for _, k := range c.Chaos.kinds() {
		k.rate.Duration.ResolveFiles(dir)
		k.rate.Jump.ResolveFiles(dir)
	}
}
