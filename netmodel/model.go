package netmodel

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Flags carried by deliveries (the flags argument of sim.Engine.Deliver).
const (
	// FlagCorrupt marks a corrupted message; Arrive drops it.
	FlagCorrupt uint32 = 1 << iota
	// FlagDuplicate marks the extra copy of a duplicated message.
	FlagDuplicate
	// flagQueued marks a message that already waited in the receiver's
	// processing queue; the bits from epochShift up hold the receiver's
	// crash count then, so a crash loses the inputs it had queued.
	flagQueued
)

const epochShift = 8

// Errors returned by Install.
var (
	ErrInstalled = errors.New("netmodel: model already installed")
	ErrNoSlow    = errors.New("slow faults need network.processing > 0")
)

// cut is an active partition.
type cut struct {
	groupOf []int32 // groups: node -> group, -1 for the implicit group
	pairs   map[uint64]struct{}
	iso     []bool
	drop    bool // drop in-flight messages
}

func pairKey(from, to sim.NodeID) uint64 { return uint64(uint32(from))<<32 | uint64(uint32(to)) }

func lookupGroup(g []int32, id sim.NodeID) int32 {
	if int(id) < len(g) {
		return g[id]
	}
	return -1
}

func (c *cut) cuts(from, to sim.NodeID) bool {
	if from == to {
		return false
	}
	switch {
	case c.groupOf != nil:
		return lookupGroup(c.groupOf, from) != lookupGroup(c.groupOf, to)
	case c.iso != nil:
		return (int(from) < len(c.iso) && c.iso[from]) || (int(to) < len(c.iso) && c.iso[to])
	}
	_, ok := c.pairs[pairKey(from, to)]
	return ok
}

func groupsOf(groups [][]sim.NodeID) []int32 {
	n := 0
	for _, g := range groups {
		for _, id := range g {
			n = max(n, int(id)+1)
		}
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = -1
	}
	for i, g := range groups {
		for _, id := range g {
			out[id] = int32(i)
		}
	}
	return out
}

func setOf(ids []sim.NodeID) []bool {
	n := 0
	for _, id := range ids {
		n = max(n, int(id)+1)
	}
	out := make([]bool, n)
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// action is one resolved fault occurrence.
type action struct {
	kind       FaultKind
	label      string
	start, end sim.Time
	nodes      []sim.NodeID
	cut        *cut
	factor     float64
	jump       time.Duration
	chaos      bool
}

// denseMax is the node count up to which links live in an n×n table
// (8 MiB of pointers at 1024 nodes); beyond it they live in a map.
var denseMax = 1024

// Model is the network and fault model of one run. Build it with New,
// place nodes with SetZone if the config does not, then Install it on an
// engine after the nodes are added and before Run.
type Model struct {
	cfg    Config
	faults FaultsConfig
	base   LinkConfig
	lat    Dist   // base latency
	rules  []rule // zone rules first, then node rules (at Install)
	// ruleLat holds the latency of each Config.Links entry, nil where the
	// rule keeps the latency.
	ruleLat    []Dist
	chaosDists map[FaultKind]Dist // the duration (jump for clock) of each chaos kind

	setZone map[sim.NodeID]string

	e      *sim.Engine
	names  []string
	zoneOf []string
	// Links, built on first use: in an n×n table (dense, denseN = n)
	// up to denseMax nodes, else in a map by pairKey. Links matched by the
	// same rules share one params, found by the rules' indexes.
	dense         []*link
	denseN        int
	sparse        map[uint64]*link
	paramsByRules map[string]*params

	cuts    []*cut
	down    []int32
	paused  []int32
	slow    [][]float64
	factor  []float64
	busy    []sim.Time
	epoch   []uint32 // crashes per node, for the processing queue
	proc    time.Duration
	clocks  []*Clock
	actions []*action
	phases  []Phase

	totals  Counts   // the run's message counts (Counters)
	metrics struct { // the same counts as metrics
		sent, delivered, dup sim.Counter
		drop                 [numCauses]sim.Counter
	}
}

var _ sim.Network = (*Model)(nil)

// New validates the network and fault configs (everything that does not
// need the node list) and builds their distributions, reading empirical
// files.
func New(cfg Config, faults FaultsConfig) (*Model, error) {
	var fe sim.FieldErrors
	fe.Merge("network", cfg.Validate())
	fe.Merge("faults", faults.Validate())
	if cfg.Processing == 0 && usesSlow(faults) {
		fe.Add("network.processing", "%v: the slow faults in the schedule or chaos would have no effect", ErrNoSlow)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, faults: faults, base: cfg.LinkConfig, setZone: map[sim.NodeID]string{}, proc: cfg.Processing.D()}
	var err error
	if m.lat, err = cfg.Latency.Build(); err != nil {
		fe.Merge("network.latency", err)
	}
	for i, r := range cfg.Links {
		var d Dist
		if r.Latency != nil {
			if d, err = r.Latency.Build(); err != nil {
				fe.Merge(fmt.Sprintf("network.links[%d].latency", i), err)
			}
		}
		m.ruleLat = append(m.ruleLat, d)
	}
	if c := faults.Chaos; c != nil {
		m.chaosDists = map[FaultKind]Dist{}
		for _, k := range c.kinds() {
			if k.rate.PerMin > 0 {
				spec, field := k.rate.dist(k.kind)
				d, err := spec.Build()
				if err != nil {
					fe.Merge("faults.chaos."+k.kind.String()+"."+field, err)
				}
				m.chaosDists[k.kind] = d
			}
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func usesSlow(f FaultsConfig) bool {
	var walk func([]Fault) bool
	walk = func(fs []Fault) bool {
		for _, x := range fs {
			if x.Kind == FaultSlow || walk(x.Faults) {
				return true
			}
		}
		return false
	}
	return walk(f.Schedule) || (f.Chaos != nil && f.Chaos.Slow.PerMin > 0)
}

// SetZone places node id in zone, overriding the config's zones. Call it
// before Install; a zone named only here can still be used by link rules.
func (m *Model) SetZone(id sim.NodeID, zone string) error {
	if m.e != nil {
		return fmt.Errorf("set zone of node %d: %w", id, ErrInstalled)
	}
	m.setZone[id] = zone
	return nil
}

// Install validates the node references against e's nodes, resolves zones
// and clocks, expands the fault schedule and the chaos faults (drawn from
// e's seed), schedules them and makes the model e's network. Call it after
// adding the nodes and before Run.
func (m *Model) Install(e *sim.Engine) error {
	if m.e != nil {
		return ErrInstalled
	}
	names, err := m.checkNodes(e)
	if err != nil {
		return err
	}
	m.e, m.names = e, names
	n := len(names)
	zones := m.placeZones(n)
	m.resolveRules(zones)
	m.initState(n)
	m.expandFaults(e)
	m.installClocks(e, n)
	m.bindMetrics(e.Metrics())
	for _, a := range m.actions {
		a := a
		e.At(a.start, func() { m.begin(a) })
		if a.end != sim.Never && a.end > a.start {
			e.At(a.end, func() { m.heal(a) })
		}
	}
	e.SetNetwork(m)
	return nil
}

// checkNodes returns e's node names after checking every node name and
// pattern of the network and fault configs against them.
func (m *Model) checkNodes(e *sim.Engine) ([]string, error) {
	names := make([]string, e.NumNodes())
	for i := range names {
		names[i] = e.NodeName(sim.NodeID(i))
	}
	extra := map[string]bool{}
	for _, z := range m.setZone {
		extra[z] = true
	}
	var fe sim.FieldErrors
	fe.Merge("network", m.cfg.validateNodes(names, extra))
	fe.Merge("faults", m.faults.ValidateNodes(names))
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return names, nil
}

// placeZones puts each of the n nodes in its zone, from the config's zones
// (in name order) then SetZone, and returns the set of zone names.
func (m *Model) placeZones(n int) map[string]bool {
	m.zoneOf = make([]string, n)
	for _, z := range slices.Sorted(maps.Keys(m.cfg.Zones)) {
		for _, pat := range m.cfg.Zones[z] {
			for _, id := range m.match(pat) {
				m.zoneOf[id] = z
			}
		}
	}
	zones := map[string]bool{}
	for z := range m.cfg.Zones {
		zones[z] = true
	}
	for id, z := range m.setZone {
		if int(id) >= 0 && int(id) < n {
			m.zoneOf[id] = z
			zones[z] = true
		}
	}
	return zones
}

// resolveRules turns the link rules into node sets: zone-pair rules
// first, then rules naming a node, each group in list order.
func (m *Model) resolveRules(zones map[string]bool) {
	for pass := 0; pass < 2; pass++ {
		for i, r := range m.cfg.Links {
			if (zones[r.From] && zones[r.To]) != (pass == 0) {
				continue
			}
			m.rules = append(m.rules, rule{
				from: m.endpoint(r.From, zones), to: m.endpoint(r.To, zones),
				oneWay: r.OneWay, patch: r.LinkPatch, lat: m.ruleLat[i],
			})
		}
	}
}

// initState sizes the per-node fault state and the link tables for n
// nodes.
func (m *Model) initState(n int) {
	m.down = make([]int32, n)
	m.paused = make([]int32, n)
	m.slow = make([][]float64, n)
	m.factor = make([]float64, n)
	m.busy = make([]sim.Time, n)
	m.epoch = make([]uint32, n)
	for i := range m.factor {
		m.factor[i] = 1
	}
	if n <= denseMax {
		m.denseN = n
		m.dense = make([]*link, n*n)
	}
	m.sparse = map[uint64]*link{}
	m.paramsByRules = map[string]*params{}
}

// expandFaults expands the fault schedule and draws the chaos faults
// (with a note at the start of each chaos phase), then orders them by
// start time, ties in that order.
func (m *Model) expandFaults(e *sim.Engine) {
	for i, f := range m.faults.Schedule {
		label := f.Label
		if label == "" {
			label = fmt.Sprintf("schedule[%d]", i)
		}
		m.expand(f, 0, label)
	}
	if c := m.faults.Chaos; c != nil {
		cands := m.allNodes()
		if len(c.Nodes) > 0 {
			cands = m.matchAll(c.Nodes)
		}
		m.actions = append(m.actions, c.generate(e.Stream, cands, m.chaosDists)...)
		m.phases = c.phases()
		for _, ph := range m.phases {
			note := "phase_start " + ph.Name
			e.At(ph.Start, func() { e.Trace(sim.KindNote, sim.None, sim.None, nil, note) })
		}
	}
	sort.SliceStable(m.actions, func(i, j int) bool { return m.actions[i].start < m.actions[j].start })
}

// installClocks gives e's nodes their clocks: the configured offsets,
// drifts and steps plus the steps of clock faults.
func (m *Model) installClocks(e *sim.Engine, n int) {
	m.clocks = make([]*Clock, n)
	for _, cs := range m.cfg.Clocks {
		for _, id := range m.matchAll(cs.Nodes) {
			steps := make([]ClockStep, len(cs.Steps))
			for i, s := range cs.Steps {
				steps[i] = ClockStep{At: sim.Time(s.At), Jump: s.Jump.D()}
			}
			m.clocks[id] = NewClock(cs.Offset.D(), cs.DriftPPM, steps...)
		}
	}
	for _, a := range m.actions {
		if a.kind != FaultClock {
			continue
		}
		for _, id := range a.nodes {
			c := m.clocks[id]
			if c == nil {
				c = &Clock{}
				m.clocks[id] = c
			}
			c.Steps = append(c.Steps, ClockStep{At: a.start, Jump: a.jump})
		}
	}
	for id, c := range m.clocks {
		if c != nil {
			sort.SliceStable(c.Steps, func(i, j int) bool { return c.Steps[i].At < c.Steps[j].At })
			c.prepare()
			e.SetClock(sim.NodeID(id), c)
		}
	}
}

// bindMetrics registers the network's counters.
func (m *Model) bindMetrics(mt sim.Metrics) {
	m.metrics.sent = mt.Counter(MetricSent)
	m.metrics.delivered = mt.Counter(MetricDelivered)
	m.metrics.dup = mt.Counter(MetricDuplicated)
	for _, c := range Causes() {
		m.metrics.drop[c] = mt.Counter(MetricDroppedPrefix + c.String())
	}
}

// endpoint returns the membership of a rule endpoint: a zone, else nodes
// matching a name or glob.
func (m *Model) endpoint(s string, zones map[string]bool) []bool {
	set := make([]bool, len(m.names))
	if zones[s] {
		for i, z := range m.zoneOf {
			set[i] = z == s
		}
		return set
	}
	for _, id := range m.match(s) {
		set[id] = true
	}
	return set
}

func (m *Model) match(pat string) []sim.NodeID {
	var out []sim.NodeID
	for _, n := range matchNames(pat, m.names) {
		id, _ := m.e.Lookup(n)
		out = append(out, id)
	}
	return out
}

// matchAll returns the sorted, distinct IDs matched by any pattern.
func (m *Model) matchAll(pats []string) []sim.NodeID {
	seen := make([]bool, len(m.names))
	for _, p := range pats {
		for _, id := range m.match(p) {
			seen[id] = true
		}
	}
	var out []sim.NodeID
	for i, s := range seen {
		if s {
			out = append(out, sim.NodeID(i))
		}
	}
	return out
}

func (m *Model) allNodes() []sim.NodeID {
	out := make([]sim.NodeID, len(m.names))
	for i := range out {
		out[i] = sim.NodeID(i)
	}
	return out
}

// expand appends the occurrences of f starting at base+f.At and returns
// the end of the last one.
func (m *Model) expand(f Fault, base sim.Time, label string) sim.Time {
	reps := max(f.Repeat, 1)
	var end sim.Time
	for r := 0; r < reps; r++ {
		start := base.Add(f.At.D()).Add(time.Duration(r) * f.Every.D())
		lbl := label
		if reps > 1 {
			lbl = fmt.Sprintf("%s#%d", label, r+1)
		}
		if f.Kind == FaultSequence {
			end = m.expandSequence(f.Faults, start, lbl)
			continue
		}
		a := m.occurrence(f, start, lbl)
		m.actions = append(m.actions, a)
		if a.end == sim.Never {
			end = start
		} else {
			end = a.end
		}
	}
	return end
}

// expandSequence expands the faults of a sequence one after the other
// from start, each starting (plus its own at) when the previous one ends,
// and returns the end of the last.
func (m *Model) expandSequence(fs []Fault, start sim.Time, label string) sim.Time {
	t := start
	for i, c := range fs {
		cl := c.Label
		if cl == "" {
			cl = fmt.Sprintf("%s.faults[%d]", label, i)
		}
		t = m.expand(c, t, cl)
	}
	return t
}

// occurrence returns one occurrence of fault f (not a sequence) starting
// at start.
func (m *Model) occurrence(f Fault, start sim.Time, label string) *action {
	a := &action{kind: f.Kind, label: label, start: start, end: sim.Never}
	switch {
	case f.Kind == FaultClock:
		a.end = start
	case f.Duration > 0:
		a.end = start.Add(f.Duration.D())
	}
	switch f.Kind {
	case FaultPartition:
		a.nodes, a.cut = m.partition(f)
	case FaultIsolate:
		a.nodes = m.matchAll(f.Nodes)
		a.cut = &cut{iso: setOf(a.nodes), drop: f.InFlight == InFlightDrop}
	default:
		a.nodes = m.matchAll(f.Nodes)
		a.factor = f.Factor
		a.jump = f.Jump.D()
	}
	return a
}

// partition returns the cut of partition fault f, between its groups or
// along its pairs, and the nodes it involves, sorted.
func (m *Model) partition(f Fault) ([]sim.NodeID, *cut) {
	c := &cut{drop: f.InFlight == InFlightDrop}
	var nodes []sim.NodeID
	if len(f.Groups) > 0 {
		gs := make([][]sim.NodeID, len(f.Groups))
		for i, g := range f.Groups {
			gs[i] = m.matchAll(g)
			nodes = append(nodes, gs[i]...)
		}
		c.groupOf = groupsOf(gs)
		slices.Sort(nodes)
		return slices.Compact(nodes), c
	}
	c.pairs = map[uint64]struct{}{}
	for _, pr := range f.Pairs {
		as, bs := m.matchAll(pr[:1]), m.matchAll(pr[1:])
		nodes = append(append(nodes, as...), bs...)
		for _, x := range as {
			for _, y := range bs {
				if x == y {
					continue
				}
				c.pairs[pairKey(x, y)] = struct{}{}
				if !f.OneWay {
					c.pairs[pairKey(y, x)] = struct{}{}
				}
			}
		}
	}
	slices.Sort(nodes)
	return slices.Compact(nodes), c
}

func (m *Model) note(what string, a *action) {
	node := sim.None
	if len(a.nodes) == 1 {
		node = a.nodes[0]
	}
	m.e.Trace(sim.KindNote, node, sim.None, nil, "fault_"+what+" "+a.kind.String()+" "+a.label)
}

// begin starts a fault.
func (m *Model) begin(a *action) {
	m.note("start", a)
	e := m.e
	switch a.kind {
	case FaultPartition, FaultIsolate:
		m.cuts = append(m.cuts, a.cut)
	case FaultCrash:
		for _, id := range a.nodes {
			m.down[id]++
			if m.down[id] == 1 {
				e.Crash(id)
				m.busy[id] = 0
				m.epoch[id]++
			}
		}
	case FaultPause:
		for _, id := range a.nodes {
			m.paused[id]++
			if m.paused[id] == 1 {
				e.Pause(id)
			}
		}
	case FaultSlow:
		for _, id := range a.nodes {
			m.slow[id] = append(m.slow[id], a.factor)
			m.factor[id] = maxFactor(m.slow[id])
		}
	}
}

// heal ends a fault.
func (m *Model) heal(a *action) {
	e := m.e
	switch a.kind {
	case FaultPartition, FaultIsolate:
		for i, c := range m.cuts {
			if c == a.cut {
				m.cuts = append(m.cuts[:i], m.cuts[i+1:]...)
				break
			}
		}
	case FaultCrash:
		for _, id := range a.nodes {
			m.down[id]--
			if m.down[id] == 0 {
				e.Restart(id)
				if m.paused[id] > 0 {
					e.Pause(id)
				}
			}
		}
	case FaultPause:
		for _, id := range a.nodes {
			m.paused[id]--
			if m.paused[id] == 0 {
				e.Resume(id)
			}
		}
	case FaultSlow:
		for _, id := range a.nodes {
			s := m.slow[id]
			for i, f := range s {
				if f == a.factor {
					m.slow[id] = append(s[:i], s[i+1:]...)
					break
				}
			}
			m.factor[id] = maxFactor(m.slow[id])
		}
	}
	m.note("end", a)
}

func maxFactor(fs []float64) float64 {
	f := 1.0
	for _, v := range fs {
		f = max(f, v)
	}
	return f
}

// Attach is called by the engine; Install has done the work.
func (m *Model) Attach(e *sim.Engine) {
	if m.e != e {
		panic("netmodel: model attached to an engine it was not installed on")
	}
}

// Windows returns every fault occurrence of the run, scheduled and
// chaos, ordered by start time (ties in schedule order, then chaos). It
// is complete as soon as Install returns.
func (m *Model) Windows() []Window {
	out := make([]Window, 0, len(m.actions))
	for _, a := range m.actions {
		w := Window{Window: sim.Window{Kind: a.kind.String(), Label: a.label, Start: a.start, End: a.end},
			Nodes: append([]sim.NodeID(nil), a.nodes...), Chaos: a.chaos}
		for _, id := range a.nodes {
			w.NodeNames = append(w.NodeNames, m.names[id])
		}
		out = append(out, w)
	}
	return out
}

// Phases returns the chaos safety and liveness phases, or nil without
// chaos.
func (m *Model) Phases() []Phase { return append([]Phase(nil), m.phases...) }

// Zone returns the zone of node id ("" for none).
func (m *Model) Zone(id sim.NodeID) string {
	if int(id) < len(m.zoneOf) {
		return m.zoneOf[id]
	}
	return m.setZone[id]
}

// Clock returns node id's clock, or nil for a perfect clock.
func (m *Model) Clock(id sim.NodeID) *Clock {
	if int(id) < len(m.clocks) {
		return m.clocks[id]
	}
	return nil
}

// Link describes the resolved properties of link from->to (for reports
// and tests).
func (m *Model) Link(from, to sim.NodeID) string {
	p := m.getLink(from, to).p
	return fmt.Sprintf("latency %s, bandwidth %g Mbps, queue %g B, loss %g, gilbert_elliott %+v, duplicate %g (+%v), corrupt %g, fifo %v",
		p.lat, p.bytesPerNs*8000, p.queueBytes, p.loss, p.ge, p.dup, p.dupDelay, p.corrupt, p.fifo)
}
