// Package netmodel is dsim's network and fault model: it implements
// sim.Network with realistic links and drives node faults through the
// engine.
//
// Links: every directed link has a latency distribution (Dist, built from
// a DistSpec: constant, uniform, truncated normal, shifted exponential,
// log-normal, Pareto, Weibull, empirical, weighted mixtures), an optional
// bandwidth with a finite FIFO queue (tail drops count as congestion),
// Bernoulli and Gilbert–Elliott loss, duplication, corruption (delivered
// flagged, dropped by the receiver's checksum in Arrive) and optional
// FIFO order. Properties are set for all links, then per zone pair and
// per node pair, per direction (Config, LinkRule).
//
// Faults: partitions (groups, pairs, one-way pairs, isolation, with a
// choice for messages in flight), crash and restart, pause, slow node (a
// multiplier on the per-message processing time, Config.Processing), and
// clock steps, as timed, composable values (Fault: sequence, repeat) or
// drawn by a seeded chaos generator with a safety and a liveness phase
// (ChaosConfig). Node clocks (Clock) add offset, drift and steps and
// implement sim.Clock.
//
// The usage loop:
//
//	e := sim.New(sim.Config{Seed: 1})
//	a := e.MustAddNode("a", newNode)
//	b := e.MustAddNode("b", newNode)
//	cfg := netmodel.DefaultConfig()
//	cfg.Loss = 0.01
//	faults := netmodel.FaultsConfig{Schedule: []netmodel.Fault{
//		{Kind: netmodel.FaultPartition, At: netmodel.Duration(time.Second),
//			Duration: netmodel.Duration(2 * time.Second), Groups: [][]string{{"a"}, {"b"}}},
//	}}
//	m, err := netmodel.New(cfg, faults) // validates, builds distributions
//	err = m.Install(e)                  // after AddNode, before Run
//	err = e.Run(sim.Time(10 * time.Second))
//	c := m.Counters()                   // per link and per cause
//	w := m.Windows()                    // every fault occurrence
//
// Randomness: link l draws from stream "net/link/<from>-><to>", the chaos
// generator from "net/chaos/<kind>" and "net/chaos/<kind>/pick", so a run
// is a pure function of its seed and config and adding a node does not
// change other links' draws.
package netmodel
