package netmodel

import (
	"fmt"
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=FaultKind,InFlight -linecomment -output=faults_string.go

// FaultKind says what a fault does.
type FaultKind uint8

// Fault kinds.
const (
	// FaultPartition cuts links between groups of nodes or listed pairs.
	FaultPartition FaultKind = iota + 1 // partition
	// FaultIsolate cuts every link to and from each listed node.
	FaultIsolate // isolate
	// FaultCrash crashes nodes and restarts them when the fault ends.
	FaultCrash // crash
	// FaultPause stops nodes (stop-the-world, e.g. a GC pause): inputs and
	// timers wait until the fault ends.
	FaultPause // pause
	// FaultSlow multiplies the nodes' per-message processing time.
	FaultSlow // slow
	// FaultClock steps the nodes' clocks by Jump at the fault's start.
	FaultClock // clock
	// FaultSequence runs its Faults one after another.
	FaultSequence // sequence
)

// ParseFaultKind returns the kind with the given YAML name.
func ParseFaultKind(s string) (FaultKind, error) { return enum.Parse[FaultKind]("fault kind", s) }

// UnmarshalYAML parses a kind name.
func (k *FaultKind) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseFaultKind(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*k = v
	return nil
}

// MarshalYAML writes the kind name.
func (k FaultKind) MarshalYAML() (any, error) { return k.String(), nil }

// InFlight says what happens to messages already in flight on a link when
// a partition cuts it.
type InFlight uint8

// In-flight policies.
const (
	// InFlightDrop drops a message that arrives while its link is cut
	// (the default): nothing crosses a cut link. A message sent before
	// the cut that arrives after the heal is delivered.
	InFlightDrop InFlight = iota // drop
	// InFlightDeliver delivers messages sent before the cut, even while
	// the cut lasts; only messages sent into the cut are dropped.
	InFlightDeliver // deliver
)

// UnmarshalYAML parses "drop" or "deliver".
func (f *InFlight) UnmarshalYAML(n *yaml.Node) error {
	if err := enum.Set(f, "in_flight policy", n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalYAML writes the policy name.
func (f InFlight) MarshalYAML() (any, error) { return f.String(), nil }

// Fault is one timed fault, or a sequence of them, possibly repeated. It
// maps 1:1 to YAML:
//
//	schedule:
//	  - {kind: partition, at: 10s, duration: 5s, groups: [[n1, n2], [n3, n4, n5]]}
//	  - {kind: partition, at: 20s, duration: 5s, pairs: [[n1, n2]], one_way: true}
//	  - {kind: isolate, at: 30s, duration: 2s, nodes: [n3]}
//	  - {kind: crash, at: 40s, duration: 3s, nodes: [n1]}        # restart after 3s
//	  - {kind: pause, at: 50s, duration: 300ms, nodes: ["n*"], repeat: 5, every: 2s}
//	  - {kind: slow, at: 60s, duration: 10s, nodes: [n2], factor: 20}
//	  - {kind: clock, at: 70s, nodes: [n4], jump: -2s}
//	  - kind: sequence
//	    at: 80s
//	    faults: [{kind: crash, duration: 1s, nodes: [n1]}, {kind: crash, at: 500ms, duration: 1s, nodes: [n2]}]
type Fault struct {
	// Kind says what the fault does.
	Kind FaultKind `yaml:"kind"`
	// Label names the fault in windows and traces; default: its YAML path.
	Label string `yaml:"label,omitempty"`
	// At is the start time; inside a sequence, the gap after the previous
	// item ends.
	At Duration `yaml:"at,omitempty"`
	// Duration is how long the fault lasts; 0 means until the end of the
	// run (a crash without restart). Ignored by clock.
	Duration Duration `yaml:"duration,omitempty"`
	// Nodes lists the nodes (names or globs) of isolate, crash, pause,
	// slow and clock.
	Nodes []string `yaml:"nodes,omitempty"`
	// Groups splits nodes for a partition: nodes in different groups
	// cannot talk. Nodes in no group form one more, implicit group, so
	// [[a, b]] cuts {a, b} from everyone else.
	Groups [][]string `yaml:"groups,omitempty"`
	// Pairs lists node pairs [a, b] whose link a partition cuts.
	Pairs [][]string `yaml:"pairs,omitempty"`
	// OneWay makes each pair cut a->b only; b->a keeps working.
	OneWay bool `yaml:"one_way,omitempty"`
	// InFlight says whether messages in flight when a partition or
	// isolation starts are dropped (default) or delivered.
	InFlight InFlight `yaml:"in_flight,omitempty"`
	// Factor multiplies the processing time of a slow node (> 1).
	Factor float64 `yaml:"factor,omitempty"`
	// Jump is a clock step; negative sets the clock back.
	Jump Duration `yaml:"jump,omitempty"`
	// Repeat is how many times the fault occurs (0 and 1 mean once).
	Repeat int `yaml:"repeat,omitempty"`
	// Every is the time between the starts of repetitions; it must cover
	// one occurrence.
	Every Duration `yaml:"every,omitempty"`
	// Faults are a sequence's items.
	Faults []Fault `yaml:"faults,omitempty"`
}

// FaultsConfig is the fault section of an experiment (YAML "faults:"): a
// fixed schedule, a seeded random generator, or both.
type FaultsConfig struct {
	// Schedule lists timed faults.
	Schedule []Fault `yaml:"schedule,omitempty"`
	// Chaos generates random faults from the run seed; nil means none.
	Chaos *ChaosConfig `yaml:"chaos,omitempty"`
}

// DefaultFaultsConfig returns no faults: a fault-free run.
func DefaultFaultsConfig() FaultsConfig { return FaultsConfig{} }

// MaxFaultActions bounds the faults one schedule expands to (repeats of
// sequences multiply), so a typo cannot exhaust memory.
const MaxFaultActions = 1_000_000

// span returns the length of one occurrence of f: its duration, or for a
// sequence the sum of its items' gaps and spans.
func (f Fault) span() time.Duration {
	if f.Kind == FaultSequence {
		var s time.Duration
		for _, c := range f.Faults {
			s += c.At.D() + c.total()
		}
		return s
	}
	if f.Kind == FaultClock {
		return 0
	}
	return f.Duration.D()
}

// total returns the span from the first occurrence's start to the last
// occurrence's end.
func (f Fault) total() time.Duration {
	if f.Repeat > 1 {
		return time.Duration(f.Repeat-1)*f.Every.D() + f.span()
	}
	return f.span()
}

// count returns how many leaf faults f expands to, saturating.
func (f Fault) count() int {
	n := 1
	if f.Kind == FaultSequence {
		n = 0
		for _, c := range f.Faults {
			n += c.count()
			if n > MaxFaultActions {
				return MaxFaultActions + 1
			}
		}
	}
	if f.Repeat > 1 {
		if n > 0 && f.Repeat > (MaxFaultActions+1)/n {
			return MaxFaultActions + 1
		}
		n *= f.Repeat
	}
	return n
}

// Validate checks the schedule and chaos settings that do not depend on
// the node list.
func (c FaultsConfig) Validate() error {
	var fe sim.FieldErrors
	total := 0
	for i, f := range c.Schedule {
		p := fmt.Sprintf("schedule[%d]", i)
		f.validate(&fe, p)
		total += f.count()
		if total > MaxFaultActions {
			fe.Add(p, "the schedule expands to more than %d faults", MaxFaultActions)
			break
		}
	}
	if c.Chaos != nil {
		fe.Merge("chaos", c.Chaos.Validate())
	}
	return fe.Err()
}

func (f Fault) validate(fe *sim.FieldErrors, p string) {
	at := func(field string) string { return p + "." + field }
	if f.Kind == 0 {
		fe.Add(at("kind"), "missing; one of partition, isolate, crash, pause, slow, clock, sequence")
		return
	}
	if f.At < 0 {
		fe.Add(at("at"), "must not be negative, got %v", f.At)
	}
	if f.Duration < 0 {
		fe.Add(at("duration"), "must not be negative, got %v", f.Duration)
	}
	if f.Repeat < 0 {
		fe.Add(at("repeat"), "must not be negative, got %d", f.Repeat)
	}
	if f.Repeat > 1 {
		if f.Every <= 0 {
			fe.Add(at("every"), "must be > 0 when repeat > 1")
		} else if sp := f.span(); f.Every.D() < sp || (sp == 0 && f.Kind != FaultClock && f.Kind != FaultSequence) {
			fe.Add(at("every"), "repeats would overlap: every (%v) must be at least one occurrence (%v), and a repeated fault needs a duration", f.Every, sp)
		}
	} else if f.Every != 0 {
		fe.Add(at("every"), "only applies with repeat > 1")
	}
	// Which fields apply to which kind.
	type use struct {
		name string
		set  bool
		ok   bool
	}
	k := f.Kind
	uses := []use{
		{"nodes", len(f.Nodes) > 0, k == FaultIsolate || k == FaultCrash || k == FaultPause || k == FaultSlow || k == FaultClock},
		{"groups", len(f.Groups) > 0, k == FaultPartition},
		{"pairs", len(f.Pairs) > 0, k == FaultPartition},
		{"one_way", f.OneWay, k == FaultPartition},
		{"in_flight", f.InFlight != InFlightDrop, k == FaultPartition || k == FaultIsolate},
		{"factor", f.Factor != 0, k == FaultSlow},
		{"jump", f.Jump != 0, k == FaultClock},
		{"faults", len(f.Faults) > 0, k == FaultSequence},
		{"duration", f.Duration != 0, k != FaultClock && k != FaultSequence},
	}
	for _, u := range uses {
		if u.set && !u.ok {
			fe.Add(at(u.name), "does not apply to kind %s", k)
		}
	}
	switch k {
	case FaultPartition:
		switch {
		case len(f.Groups) == 0 && len(f.Pairs) == 0:
			fe.Add(p, "a partition needs groups or pairs")
		case len(f.Groups) > 0 && len(f.Pairs) > 0:
			fe.Add(at("pairs"), "give either groups or pairs, not both")
		}
		for i, g := range f.Groups {
			if len(g) == 0 {
				fe.Add(fmt.Sprintf("%s.groups[%d]", p, i), "empty group")
			}
		}
		for i, pr := range f.Pairs {
			if len(pr) != 2 {
				fe.Add(fmt.Sprintf("%s.pairs[%d]", p, i), "a pair has 2 nodes, got %d", len(pr))
			}
		}
		if f.OneWay && len(f.Pairs) == 0 {
			fe.Add(at("one_way"), "only applies to pairs")
		}
	case FaultIsolate, FaultCrash, FaultPause, FaultSlow, FaultClock:
		if len(f.Nodes) == 0 {
			fe.Add(at("nodes"), "name at least one node")
		}
	case FaultSequence:
		if len(f.Faults) == 0 {
			fe.Add(at("faults"), "a sequence needs at least one fault")
		}
		for i, c := range f.Faults {
			c.validate(fe, fmt.Sprintf("%s.faults[%d]", p, i))
		}
	}
	if k == FaultSlow && (!(f.Factor >= 1) || math.IsInf(f.Factor, 0)) {
		fe.Add(at("factor"), "must be >= 1 (a multiplier of the processing time), got %v", f.Factor)
	}
	if k == FaultClock && f.Jump == 0 {
		fe.Add(at("jump"), "must not be 0")
	}
	for i, pat := range f.Nodes {
		checkPattern(fe, fmt.Sprintf("%s.nodes[%d]", p, i), pat)
	}
}

// ValidateNodes checks that every node named by the schedule exists and
// that partition groups do not overlap.
func (c FaultsConfig) ValidateNodes(names []string) error {
	var fe sim.FieldErrors
	for i, f := range c.Schedule {
		f.validateNodes(&fe, fmt.Sprintf("schedule[%d]", i), names)
	}
	if c.Chaos != nil {
		for i, pat := range c.Chaos.Nodes {
			if len(matchNames(pat, names)) == 0 {
				fe.Add(fmt.Sprintf("chaos.nodes[%d]", i), "%q matches no node", pat)
			}
		}
	}
	return fe.Err()
}

func (f Fault) validateNodes(fe *sim.FieldErrors, p string, names []string) {
	check := func(path, pat string) []string {
		m := matchNames(pat, names)
		if len(m) == 0 {
			fe.Add(path, "%q matches no node", pat)
		}
		return m
	}
	for i, pat := range f.Nodes {
		check(fmt.Sprintf("%s.nodes[%d]", p, i), pat)
	}
	group := map[string]int{}
	for i, g := range f.Groups {
		for j, pat := range g {
			for _, n := range check(fmt.Sprintf("%s.groups[%d][%d]", p, i, j), pat) {
				if prev, ok := group[n]; ok && prev != i {
					fe.Add(fmt.Sprintf("%s.groups[%d][%d]", p, i, j), "node %q is already in groups[%d]", n, prev)
				}
				group[n] = i
			}
		}
	}
	for i, pr := range f.Pairs {
		for j, pat := range pr {
			check(fmt.Sprintf("%s.pairs[%d][%d]", p, i, j), pat)
		}
	}
	for i, c := range f.Faults {
		c.validateNodes(fe, fmt.Sprintf("%s.faults[%d]", p, i), names)
	}
}

// Window is one fault occurrence as it happens in a run: the sim.Window
// that results shade in plots and count for fault coverage (Kind is the
// FaultKind's name, never "sequence": sequences are expanded; End is
// sim.Never for a fault never healed and Start for an instantaneous clock
// step), plus whom it hit.
type Window struct {
	sim.Window
	// Nodes are the affected nodes in ID order (for partitions, every
	// node named by the groups or pairs).
	Nodes []sim.NodeID
	// NodeNames are the names of Nodes.
	NodeNames []string
	// Chaos marks faults made by the chaos generator.
	Chaos bool
}
