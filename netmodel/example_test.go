package netmodel_test

import (
	"fmt"
	"time"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/sim"
)

// pinger sends a numbered message to its peer every 10 ms.
type pinger struct{ peer string }

func (p *pinger) Start(env sim.Env)                        { env.After(10*time.Millisecond, 0) }
func (p *pinger) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (p *pinger) Timer(env sim.Env, _ uint64) {
	if id, ok := env.Lookup(p.peer); ok {
		env.Send(id, "ping")
	}
	env.After(10*time.Millisecond, 0)
}

// Example runs two nodes over a lossy link, cuts them apart for a second
// and prints the fault windows and the message counts.
func Example() {
	e := sim.New(sim.Config{Seed: 1})
	e.MustAddNode("a", func() sim.Node { return &pinger{peer: "b"} })
	e.MustAddNode("b", func() sim.Node { return &pinger{peer: "a"} })

	cfg := netmodel.DefaultConfig()
	cfg.Latency = netmodel.DistSpec{Dist: netmodel.DistLogNormal,
		Median: netmodel.Duration(time.Millisecond), P99: netmodel.Duration(8 * time.Millisecond)}
	cfg.Loss = 0.01
	faults := netmodel.FaultsConfig{Schedule: []netmodel.Fault{{
		Kind:     netmodel.FaultPartition,
		At:       netmodel.Duration(2 * time.Second),
		Duration: netmodel.Duration(time.Second),
		Groups:   [][]string{{"a"}, {"b"}},
	}}}
	m, err := netmodel.New(cfg, faults)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Install(e); err != nil { // after AddNode, before Run
		fmt.Println(err)
		return
	}
	if err := e.Run(sim.Time(5 * time.Second)); err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range m.Windows() {
		fmt.Printf("%s %s %v from %v to %v\n", w.Label, w.Kind, w.NodeNames, w.Start, w.End)
	}
	c := m.Counters()
	fmt.Printf("sent %d, delivered %d, lost %d, cut %d\n", c.Total.Sent, c.Total.Delivered,
		c.Total.DroppedBy[netmodel.CauseLoss], c.Total.DroppedBy[netmodel.CausePartition])
	for _, l := range c.Links {
		fmt.Printf("%s->%s: sent %d, delivered %d\n", l.FromName, l.ToName, l.Sent, l.Delivered)
	}
	// Output:
	// schedule[0] partition [a b] from 2s to 3s
	// sent 1000, delivered 785, lost 13, cut 200
	// a->b: sent 500, delivered 393
	// b->a: sent 500, delivered 392
}

// ExampleDistSpec_Build builds a heavy-tailed mixture, as written in YAML
// ({dist: mixture, of: [...]}), and draws from a seeded stream.
func ExampleDistSpec_Build() {
	spec := netmodel.DistSpec{Dist: netmodel.DistMixture, Of: []netmodel.DistSpec{
		{Weight: 0.91, Dist: netmodel.DistPareto, Scale: netmodel.Duration(time.Millisecond), Shape: 1.5},
		{Weight: 0.09, Dist: netmodel.DistExponential, Mean: netmodel.Duration(20 * time.Millisecond)},
	}}
	d, err := spec.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	r := sim.NewStream(1, "example")
	fmt.Println(d)
	fmt.Printf("P(X <= 2ms) = %.3f\n", d.CDF(2*time.Millisecond))
	fmt.Println(d.Sample(r) > 0)
	// Output:
	// mixture(0.91 pareto(scale 1ms, shape 1.5) + 0.09 exponential(min 0s, mean 20ms))
	// P(X <= 2ms) = 0.597
	// true
}
