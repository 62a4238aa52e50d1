package rpc

import (
	"fmt"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is the rpc protocol family for experiment files; register it
// with experiments.Register(rpc.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "rpc".
func (Protocol) Name() string { return "rpc" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "service graphs over RPC: timeouts, deadlines, retries with backoff and jitter, budgets, breakers, hedging"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

var _ protocols.Config = (*Config)(nil)

// Build places the graph on the experiment's nodes — each service on the
// nodes its `nodes` selects (default: those named "<service>-…"), the
// clients on client.nodes (default: "client-…") — and drives the clients
// with the experiment's workload. At the end of the run it reports the
// scalars success_ratio, goodput_rps and amplification{tier=…} over the
// measured span, and checks the accounting invariant rpc_accounting.
func (c *Config) Build(s *protocols.Setup) error {
	cfg := *c
	cfg.Workload = s.Workload
	if err := cfg.Validate(); err != nil {
		return err
	}
	all := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		all[i] = n.Name
	}
	pick := func(path string, sel []string, prefix string) ([]string, error) {
		if len(sel) == 0 {
			got := selectPrefix(all, prefix)
			if len(got) == 0 {
				return nil, fmt.Errorf("%s: no node is named %q…; list the nodes to use", path, prefix)
			}
			return got, nil
		}
		ps, err := s.Select(sel)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Name
		}
		return out, nil
	}
	pl := placement{replicas: map[string][]string{}}
	for _, n := range cfg.Names() {
		sc := cfg.Services[n]
		nodes, err := pick("services."+n+".nodes", sc.Nodes, n+"-")
		if err != nil {
			return err
		}
		if sc.Replicas != 0 && sc.Replicas != len(nodes) {
			return fmt.Errorf("services.%s.replicas: %d, but nodes selects %d nodes (%v); drop replicas or make them agree", n, sc.Replicas, len(nodes), nodes)
		}
		pl.replicas[n] = nodes
	}
	clients, err := pick("client.nodes", cfg.Client.Nodes, "client-")
	if err != nil {
		return err
	}
	pl.clients = clients
	d, err := build(s.Engine, cfg, pl, s.Warmup)
	if err != nil {
		return err
	}
	ops := s.Ops
	warm := sim.Time(s.Warmup)
	d.Ops = func(start, end sim.Time, st Status) {
		if start < warm {
			return
		}
		out := sim.Failed
		switch st {
		case OK:
			out = sim.OK
		case Timeout:
			out = sim.TimedOut
		}
		ops.Op(start, end, out)
	}
	s.AtEnd(func() {
		for _, f := range d.Figures(s.Duration - s.Warmup) {
			s.Report(f.Name, f.Value, f.Labels...)
		}
	})
	s.Invariant("rpc_accounting", d.checkAccounting)
	for _, n := range cfg.Names() {
		sc := cfg.Services[n]
		if sc.Errors.Rate > 0 {
			s.Window("errors", n, sc.Errors.From, sc.Errors.To)
		}
		if sc.Slow.Factor > 0 && sc.Slow.Factor != 1 {
			s.Window("slow", n, sc.Slow.From, sc.Slow.To)
		}
	}
	return nil
}

// checkAccounting verifies the run's books over the whole run: no request
// finished twice, and no tier answered more requests than reached it.
func (d *Deployment) checkAccounting() error {
	s := d.snapshot()
	var done int64
	for _, v := range s.Done {
		done += v
	}
	if done > s.Requests {
		return fmt.Errorf("%d requests finished but only %d were issued", done, s.Requests)
	}
	for _, n := range s.TierNames() {
		t := s.Tiers[n]
		var answered int64
		for _, v := range t.Answered {
			answered += v
		}
		if answered+t.Expired+t.Cancelled > t.Arrivals {
			return fmt.Errorf("tier %s: %d answered + %d expired + %d cancelled > %d arrivals", n, answered, t.Expired, t.Cancelled, t.Arrivals)
		}
		if t.Retries+t.Hedges > t.Attempts || t.Attempts-t.Retries-t.Hedges > t.Calls {
			return fmt.Errorf("tier %s: attempts %d, retries %d, hedges %d and calls %d disagree", n, t.Attempts, t.Retries, t.Hedges, t.Calls)
		}
	}
	return nil
}
