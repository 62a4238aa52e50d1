// Package protocols is the plugin API between protocol families and the
// experiment runner. A protocol family is one package under protocols/
// plus one registration line in experiments/registry.go:
//
//	func init() { Register(echo.Protocol{}) }
//
// The family provides a Protocol (name, summary, default config). Its
// Config is a pointer to a struct with yaml tags that the loader decodes
// from the experiment's protocol: section, strictly (unknown keys are
// errors with file:line:column and a suggestion), and then validates:
//
//	protocol:
//	  name: echo          # picks the Protocol
//	  timeout: 250ms      # the rest decodes into its Config
//
// For each run the runner makes a fresh engine and calls Config.Build
// with a Setup: the engine to add nodes to, the topology's nodes (names
// and zones), the workload, the warm-up and duration, and hooks to report
// back. A typical Build:
//
//	func (c *Config) Build(s *protocols.Setup) error {
//		servers, err := s.Select(c.Servers) // node or zone names
//		if err != nil {
//			return err
//		}
//		for _, n := range s.Nodes {
//			s.AddNode(n.Name, func() sim.Node { return &node{cfg: c, ops: s.Ops} })
//		}
//		s.AtEnd(func() { s.Report("loss_ratio", lost/sent) })
//		s.Invariant("no_duplicate_reply", func() error { ... })
//		return nil
//	}
//
// Nodes record metrics through env.Metrics() (counters, gauges, latency
// histograms; see package results for the names derived from them),
// report each client operation to Setup.Ops for fault coverage, and drive
// their workload with a workload.Generator from their own timers.
// Packages under protocols/ import only sim (and each other); never
// experiments, netmodel or results. docs/writing-a-protocol.md walks
// through a complete example.
package protocols
