package rpc

import (
	"fmt"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/sim"
)

// Deployment is a service graph placed on an engine: one node per
// replica ("<service>-<i>") and per client ("client-<i>").
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

	stats        Stats
	hops         map[string]*hopMetrics
	cm           *clientMetrics
	clientBudget sharedBudget
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

// ReplicaName is the node name of replica i of a service.
func ReplicaName(service string, i int) string { return fmt.Sprintf("%s-%d", service, i) }

// ClientName is the node name of client i.
func ClientName(i int) string { return fmt.Sprintf("client-%d", i) }

// Build validates cfg and adds its nodes to e: the replicas of every
// service (in name order), then the clients. The engine's metrics receive
// the measurements named in the package documentation.
func Build(e *sim.Engine, cfg Config) (*Deployment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Deployment{
		Config:   cfg,
		Replicas: map[string][]sim.NodeID{},
		stats:    Stats{Tiers: map[string]*TierStats{}},
		hops:     map[string]*hopMetrics{},
		cm:       newClientMetrics(e.Metrics()),
	}
	names := cfg.Names()
	// IDs are dense in the order of AddNode, so every caller can know its
	// callees' IDs before any node exists.
	next := sim.NodeID(e.NumNodes())
	for _, n := range names {
		for i := 0; i < cfg.Services[n].Replicas; i++ {
			d.Replicas[n] = append(d.Replicas[n], next)
			next++
		}
	}
	for _, n := range names {
		sc := cfg.Services[n]
		st, ok := errorStatus(sc.Errors.Status)
		if !ok {
			panic("rpc: unvalidated error status")
		}
		svc := &service{name: n, cfg: sc, dist: sc.dist(), errStatus: st, m: newServerMetrics(e.Metrics(), n), ts: d.stats.tier(n)}
		for i, call := range sc.Calls {
			for k := 0; k < call.Count; k++ {
				svc.calls = append(svc.calls, i)
			}
			svc.callees = append(svc.callees, d.Replicas[call.Service])
			svc.budgets = append(svc.budgets, newSharedBudget(call.Budget, n))
		}
		for i := 0; i < sc.Replicas; i++ {
			id, err := e.AddNode(ReplicaName(n, i), func() sim.Node { return &server{d: d, svc: svc} })
			if err != nil {
				return nil, err
			}
			if id != d.Replicas[n][i] {
				return nil, fmt.Errorf("rpc: node %s got ID %d, expected %d", ReplicaName(n, i), id, d.Replicas[n][i])
			}
		}
	}
	cc := &d.Config.Client
	d.clientBudget = newSharedBudget(cc.Call.Budget, "client")
	rate := cc.Rate / float64(cc.Count)
	for i := 0; i < cc.Count; i++ {
		id, err := e.AddNode(ClientName(i), func() sim.Node { return &client{d: d, cfg: cc, rate: rate} })
		if err != nil {
			return nil, err
		}
		d.Clients = append(d.Clients, id)
	}
	return d, nil
}

func (d *Deployment) hop(m sim.Metrics, callee string) *hopMetrics {
	h := d.hops[callee]
	if h == nil {
		h = newHopMetrics(m, callee)
		d.hops[callee] = h
	}
	return h
}

// Stats returns the run's exact counts so far.
func (d *Deployment) Stats() *Stats { return &d.stats }

// Summarize records the end-of-run figures as gauges: the client success
// ratio, goodput over the given span, and the amplification of every
// tier.
func (d *Deployment) Summarize(m sim.Metrics, span time.Duration) {
	s := &d.stats
	m.Gauge("rpc_client_success_ratio").Set(s.SuccessRate())
	if span > 0 {
		m.Gauge("rpc_goodput_rps").Set(float64(s.Done[OK]) / span.Seconds())
	}
	for _, t := range s.TierNames() {
		m.Gauge(Name("rpc_amplification", t)).Set(s.Amplification(t))
	}
}
