package protocols

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is one protocol family that experiments can run. An
// implementation is usually an empty struct registered once in
// experiments/registry.go:
//
//	Register(echo.Protocol{})
type Protocol interface {
	// Name is the value of protocol.name in an experiment file
	// ("echo"). Lower case, no spaces.
	Name() string
	// Summary is one line for `dsim examples` and error messages.
	Summary() string
	// DefaultConfig returns a fresh config filled with defaults. It must
	// be a pointer to a struct with yaml tags: the loader decodes the
	// `protocol:` section (minus its name key) into it, rejecting
	// unknown keys, and then calls Validate.
	DefaultConfig() Config
}

// Config is a protocol family's configuration: a pointer to a struct whose
// fields carry yaml tags (snake_case, unit last) and doc comments (they
// become docs/config.md). Durations are time.Duration ("250ms" in YAML).
type Config interface {
	// Validate reports every impossible setting at once as
	// sim.FieldErrors, with paths made of the yaml field names relative
	// to the protocol section ("timeout", "servers[1]").
	Validate() error
	// Build adds the protocol's nodes to s.Engine for one run. It runs
	// after Validate succeeded, once per run, on a fresh Setup. It must
	// not keep state between runs: every run builds from scratch.
	Build(s *Setup) error
}

// Placement is a node declared by the experiment's topology: its name and
// the zone (region, datacenter) it lives in.
type Placement struct {
	Name string
	Zone string
}

// Setup is what a protocol's Build gets from the run: the engine to add
// nodes to, the topology's nodes, the workload, the run's time frame and
// the hooks that report back (operations for fault coverage, invariants,
// end-of-run figures).
type Setup struct {
	// Engine is the run's engine. Build adds nodes with Engine.AddNode
	// (or Setup.AddNode) and may schedule engine-level actions with
	// Engine.At. Metrics are recorded through Engine.Metrics() or each
	// node's Env.Metrics().
	Engine *sim.Engine
	// Nodes are the nodes the topology declares, in file order. A
	// protocol places its roles on them (see Select); the network knows
	// their zones.
	Nodes []Placement
	// Workload is the experiment's workload section, defaults filled.
	Workload workload.Config
	// Warmup is the span at the start of the run excluded from metrics.
	Warmup time.Duration
	// Duration is the simulated length of the run.
	Duration time.Duration
	// Ops records operations for fault coverage; never nil.
	Ops Ops
	// Faults are the run's fault windows (partitions, crashes, ...,
	// and the windows the protocol declared), sorted by sim.SortWindows,
	// filled by the runner once the network is installed, after Build
	// and before the run starts: read it from nodes or AtEnd hooks, not
	// in Build itself.
	Faults []sim.Window

	invariants []Invariant
	atEnd      []func()
	scalars    []Scalar
	windows    []sim.Window
	watch      func(sim.Window)
}

// Window declares a protocol window: a span during which the protocol
// changes the conditions on purpose (an rpc error or slow window, a crash
// point), from start to end in simulated time; end 0 means "until the end
// of the run". Plots shade it like a network fault and fault coverage
// counts the operations it touched. Call it from Build for a window the
// config fixes (an rpc error window), or during the run when a window
// opens at an instant the run decides (a delivery crash point firing:
// start is then the current time).
func (s *Setup) Window(kind, label string, start, end time.Duration) {
	w := sim.Window{Kind: kind, Label: label, Start: sim.Time(start), End: sim.Never}
	if end > 0 {
		w.End = sim.Time(end)
	}
	s.windows = append(s.windows, w)
	if s.watch != nil {
		s.watch(w)
	}
}

// Windows returns the declared windows in declaration order.
func (s *Setup) Windows() []sim.Window { return s.windows }

// WatchWindows makes fn receive every window declared from now on. The
// runner calls it once Build is done, so that the windows protocols open
// during the run are counted from the moment they open.
func (s *Setup) WatchWindows(fn func(sim.Window)) { s.watch = fn }

// Describer is implemented by protocol families that register their
// metrics' titles and units and declare their headline metrics. It is
// optional: without it, titles are made from the metric names.
type Describer interface {
	Metrics() []MetricInfo
}

// Scalar is a run-level figure a protocol computes once the run is over
// (a ratio of counters, a convergence time). It becomes one metric of
// metrics.csv, like the metrics derived from counters and histograms.
type Scalar struct {
	Name   string
	Labels []sim.Label
	Value  float64
}

// Report records a run-level scalar, usually from an AtEnd hook. Names
// follow the metric conventions: snake_case, unit last ("loss_ratio",
// "converge_time_s"); labels are its dimensions, as for sim.Metrics
// ("amplification" with tier=db). Reporting a name and labels twice keeps
// the last value.
func (s *Setup) Report(name string, value float64, labels ...sim.Label) {
	for i := range s.scalars {
		if s.scalars[i].Name == name && slices.Equal(s.scalars[i].Labels, labels) {
			s.scalars[i].Value = value
			return
		}
	}
	s.scalars = append(s.scalars, Scalar{Name: name, Labels: slices.Clone(labels), Value: value})
}

// Scalars returns the reported scalars in report order.
func (s *Setup) Scalars() []Scalar { return s.scalars }

// AddNode adds a node to the engine; it is Engine.AddNode.
func (s *Setup) AddNode(name string, factory func() sim.Node) (sim.NodeID, error) {
	return s.Engine.AddNode(name, factory)
}

// Invariant registers a property checked once the run has ended, after the
// AtEnd hooks. check returns nil when it holds, else an error saying what
// went wrong; `dsim check` reports it with the run's seed.
func (s *Setup) Invariant(name string, check func() error) {
	s.invariants = append(s.invariants, Invariant{Name: name, Check: check})
}

// AtEnd registers fn to run when the simulation has stopped, for example
// to set gauges that summarise the run (ratios of counters).
func (s *Setup) AtEnd(fn func()) { s.atEnd = append(s.atEnd, fn) }

// Invariants returns the registered invariants in registration order.
func (s *Setup) Invariants() []Invariant { return s.invariants }

// Finish runs the AtEnd hooks in registration order. The runner calls it
// once after the engine stopped.
func (s *Setup) Finish() {
	for _, fn := range s.atEnd {
		fn()
	}
}

// Select returns the topology nodes matching any selector, in topology
// order, without repeats. A selector is a node name, a zone name or a
// glob over either (path.Match syntax: "c-*", "eu-[12]"); "*" matches
// every node. It fails if a selector matches nothing or is a malformed
// glob.
func (s *Setup) Select(selectors []string) ([]Placement, error) {
	return Select(s.Nodes, selectors)
}

// Select is Setup.Select over any node list.
func Select(nodes []Placement, selectors []string) ([]Placement, error) {
	picked := make([]bool, len(nodes))
	for _, sel := range selectors {
		if _, err := path.Match(sel, ""); err != nil {
			return nil, fmt.Errorf("%w: %q is not a valid glob: %v", ErrNoMatch, sel, err)
		}
		found := false
		for i, n := range nodes {
			if sel == "*" || sel == n.Name || sel == n.Zone || glob(sel, n.Name) || (n.Zone != "" && glob(sel, n.Zone)) {
				picked[i] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: %q is neither a node nor a zone of the topology", ErrNoMatch, sel)
		}
	}
	var out []Placement
	for i, n := range nodes {
		if picked[i] {
			out = append(out, n)
		}
	}
	return out, nil
}

func glob(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// ErrNoMatch is returned by Select when a selector names no node or zone.
var ErrNoMatch = errors.New("no matching node")

// Invariant is a named property of a finished run.
type Invariant struct {
	Name  string
	Check func() error
}

// Ops records the operations a protocol's clients attempt (one ping, one
// request), so that results can say how many were touched by each fault
// window (fault coverage).
type Ops interface {
	// Op records one operation that started at start and ended at end
	// with the given outcome.
	Op(start, end sim.Time, outcome sim.Outcome)
}

// NopOps discards operations.
type NopOps struct{}

// Op does nothing.
func (NopOps) Op(sim.Time, sim.Time, sim.Outcome) {}
