package rpc

import (
	"fmt"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/sim"
)

// Deployment is a service graph placed on an engine: one node per
// replica and per client.
type Deployment struct {
	// Config is the validated configuration.
	Config Config
	// Replicas lists each service's replica nodes in order.
	Replicas map[string][]sim.NodeID
	// Clients lists the client nodes.
	Clients []sim.NodeID
	// Ops, if set, is told about every finished client request (for fault
	// coverage and custom checks).
	Ops func(start, end sim.Time, st Status)

	tiers        map[string]*tier // by service name
	client       *clientCounts
	base         *Stats // snapshot at the end of the warm-up
	winFrom      *Stats // snapshots at the ends of the error window
	winTo        *Stats
	clientBudget sharedBudget
	rec          *recovery        // client outcomes after the error window
	tx           *transport.Layer // nil when every hop is a datagram without DNS
	msgs         msgSlab          // the messages the nodes send
}

// sharedBudget hands out a retry budget: the same one to every node of a
// tier when shared, else a fresh one per node.
type sharedBudget struct {
	cfg   retry.BudgetConfig
	scope string // tier name for a shared budget's gauge
	b     retry.Budget
}

func (s *sharedBudget) get(env sim.Env) (retry.Budget, string) {
	if s.b != nil {
		return s.b, s.scope
	}
	return retry.NewBudget(s.cfg), env.Name()
}

func newSharedBudget(cfg retry.BudgetConfig, scope string) sharedBudget {
	s := sharedBudget{cfg: cfg, scope: scope}
	if cfg.Shared {
		s.b = retry.NewBudget(cfg)
	}
	return s
}

// ReplicaName is the node name Build gives replica i of a service.
func ReplicaName(service string, i int) string { return fmt.Sprintf("%s-%d", service, i) }

// ClientName is the node name Build gives client i.
func ClientName(i int) string { return fmt.Sprintf("client-%d", i) }

// placement names the nodes of every role.
type placement struct {
	replicas map[string][]string
	clients  []string
}

// Build validates cfg and adds its nodes to e without a topology: the
// replicas of every service in name order ("<service>-<i>", Replicas of
// them, at least one), then Client.Replicas clients ("client-<i>"). The
// engine's metrics receive the measurements named in the package
// documentation.
func Build(e *sim.Engine, cfg Config) (*Deployment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pl := placement{replicas: map[string][]string{}}
	for _, n := range cfg.Names() {
		for i := 0; i < max(1, cfg.Services[n].Replicas); i++ {
			pl.replicas[n] = append(pl.replicas[n], ReplicaName(n, i))
		}
	}
	for i := 0; i < cfg.Client.Replicas; i++ {
		pl.clients = append(pl.clients, ClientName(i))
	}
	return build(e, cfg, pl, 0)
}

func build(e *sim.Engine, cfg Config, pl placement, warmup time.Duration) (*Deployment, error) {
	cfg = cfg.Resolved()
	d := &Deployment{
		Config:   cfg,
		Replicas: map[string][]sim.NodeID{},
		tiers:    map[string]*tier{},
		client:   newClientCounts(e.Metrics()),
	}
	if err := d.assignIDs(e, pl); err != nil {
		return nil, err
	}
	if err := d.addServers(e, pl); err != nil {
		return nil, err
	}
	if err := d.addClients(e, pl); err != nil {
		return nil, err
	}
	if err := d.setupTransport(e, pl, warmup); err != nil {
		return nil, err
	}
	d.msgs.e, d.msgs.reuse = e, d.tx == nil && !noReuse
	d.scheduleSnapshots(e, warmup)
	return d, nil
}

// assignIDs gives every replica its node ID before any node exists (IDs
// are dense in the order of AddNode), so that every caller knows its
// callees' IDs; it refuses a node given two roles.
func (d *Deployment) assignIDs(e *sim.Engine, pl placement) error {
	next := sim.NodeID(e.NumNodes())
	role := map[string]string{}
	claim := func(node, r string) error {
		if prev, dup := role[node]; dup {
			return fmt.Errorf("node %s is given two roles: %s and %s (one role per node)", node, prev, r)
		}
		role[node] = r
		return nil
	}
	for _, n := range d.Config.Names() {
		for _, node := range pl.replicas[n] {
			if err := claim(node, "a replica of "+n); err != nil {
				return err
			}
			d.Replicas[n] = append(d.Replicas[n], next)
			next++
		}
	}
	for _, node := range pl.clients {
		if err := claim(node, "a client"); err != nil {
			return err
		}
	}
	return nil
}

// addServers adds every service's replicas, in service name order, with
// the service's tier counts.
func (d *Deployment) addServers(e *sim.Engine, pl placement) error {
	for _, n := range d.Config.Names() {
		sc := d.Config.Services[n]
		st, ok := errorStatus(sc.Errors.Status)
		if !ok {
			return fmt.Errorf("services.%s.errors.status: unknown status %q", n, sc.Errors.Status)
		}
		t := newTier(e.Metrics(), n)
		d.tiers[n] = t
		svc := &service{name: n, cfg: sc, dist: sc.dist(), errStatus: st, tier: t}
		for i, call := range sc.Calls {
			for k := 0; k < call.Count; k++ {
				svc.calls = append(svc.calls, i)
			}
			svc.callees = append(svc.callees, d.Replicas[call.Service])
			svc.budgets = append(svc.budgets, newSharedBudget(call.Budget, n))
		}
		for i, node := range pl.replicas[n] {
			id, err := e.AddNode(node, func() sim.Node { return &server{d: d, svc: svc, index: i} })
			if err != nil {
				return err
			}
			if id != d.Replicas[n][i] {
				return fmt.Errorf("rpc: node %s got ID %d, expected %d", node, id, d.Replicas[n][i])
			}
		}
	}
	return nil
}

// addClients adds the workload's client nodes.
func (d *Deployment) addClients(e *sim.Engine, pl placement) error {
	cc := &d.Config.Client
	wl := &d.Config.Workload
	d.clientBudget = newSharedBudget(cc.Call.Budget, "client")
	for i, node := range pl.clients {
		id, err := e.AddNode(node, func() sim.Node { return &client{d: d, cfg: cc, wl: wl, index: i, n: len(pl.clients)} })
		if err != nil {
			return err
		}
		d.Clients = append(d.Clients, id)
	}
	return nil
}

// scheduleSnapshots takes the snapshots of the counts that the figures
// subtract: at the end of the warm-up, and at both ends of the error
// window.
func (d *Deployment) scheduleSnapshots(e *sim.Engine, warmup time.Duration) {
	if warmup > 0 {
		e.At(sim.Time(warmup), func() {
			b := d.snapshot()
			d.base = &b
		})
	}
	if from, to, ok := d.Config.ErrorWindow(); ok {
		e.At(sim.Time(from), func() {
			b := d.snapshot()
			d.winFrom = &b
		})
		e.At(sim.Time(to), func() {
			b := d.snapshot()
			d.winTo = &b
		})
		d.rec = &recovery{to: sim.Time(to)}
	}
}

// ErrorWindow returns the span of injected errors that have an end: from
// the earliest errors.from to the latest errors.to of the services whose
// errors.rate is positive and errors.to set. ok is false when there is
// none.
func (c Config) ErrorWindow() (from, to time.Duration, ok bool) {
	for _, n := range c.Names() {
		e := c.Services[n].Errors
		if e.Rate <= 0 || e.To <= e.From {
			continue
		}
		if !ok || e.From < from {
			from = e.From
		}
		if !ok || e.To > to {
			to = e.To
		}
		ok = true
	}
	return from, to, ok
}

// WindowStats returns the exact counts over the error window (see
// Config.ErrorWindow) once the run has passed its end, else nil.
func (d *Deployment) WindowStats() *Stats {
	if d.winFrom == nil || d.winTo == nil {
		return nil
	}
	s := d.winTo.minus(d.winFrom)
	return &s
}

// hop returns the tier a caller calls, its caller-side metrics
// registered.
func (d *Deployment) hop(m sim.Metrics, callee string) *tier {
	t := d.tiers[callee]
	t.registerHop(m)
	return t
}

// snapshot returns the run's counts so far, from its start.
func (d *Deployment) snapshot() Stats {
	c := d.client
	s := Stats{Requests: c.requests.n, Tiers: make(map[string]*TierStats, len(d.tiers))}
	for i := range s.Done {
		s.Done[i] = c.done[i].n
	}
	for name, t := range d.tiers {
		ts := t.stats()
		s.Tiers[name] = &ts
	}
	return s
}

// Stats returns the run's exact counts so far, from the end of the
// warm-up when there is one.
func (d *Deployment) Stats() *Stats {
	s := d.snapshot()
	if d.base != nil {
		s = s.minus(d.base)
	}
	return &s
}

// Figure is one end-of-run figure: a name, its labels (tier=db for
// amplification) and a value.
type Figure struct {
	Name   string
	Labels []sim.Label
	Value  float64
}

// Figures returns the end-of-run figures over the measured span (after
// the warm-up): success_ratio, goodput_rps, and amplification{tier=…} for
// every tier in name order; then, when the services inject errors in a
// window the run has passed, window_success_ratio and
// window_amplification{tier=…} over that window alone (a 20 s storm in
// a 60 s run is diluted threefold in the whole-run figures), and
// recovery_s, the seconds from the window's end until the clients'
// success ratio is back to 95% of what it was before the window (for
// two consecutive 250 ms buckets). It returns nothing before any
// request.
func (d *Deployment) Figures(span time.Duration) []Figure {
	s := d.Stats()
	if s.Requests == 0 {
		return nil
	}
	out := []Figure{{Name: MetricSuccessRatio, Value: s.SuccessRate()}}
	if span > 0 {
		out = append(out, Figure{Name: MetricGoodput, Value: float64(s.Done[OK]) / span.Seconds()})
	}
	for _, t := range s.TierNames() {
		out = append(out, Figure{Name: MetricAmplification, Labels: []sim.Label{d.tiers[t].label}, Value: s.Amplification(t)})
	}
	out = append(out, d.transportFigures(span)...)
	if w := d.WindowStats(); w != nil && w.Requests > 0 {
		out = append(out, Figure{Name: MetricWindowSuccessRatio, Value: w.SuccessRate()})
		for _, t := range w.TierNames() {
			out = append(out, Figure{Name: MetricWindowAmplification, Labels: []sim.Label{d.tiers[t].label}, Value: w.Amplification(t)})
		}
		if f, ok := d.recoveryFigure(); ok {
			out = append(out, f)
		}
	}
	return out
}

// Summarize records Figures as gauges of m.
func (d *Deployment) Summarize(m sim.Metrics, span time.Duration) {
	for _, f := range d.Figures(span) {
		m.Gauge(f.Name, f.Labels...).Set(f.Value)
	}
}

// selectPrefix returns the nodes whose name starts with prefix.
func selectPrefix(nodes []string, prefix string) []string {
	var out []string
	for _, n := range nodes {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
