// Package netmodel is dsim's network and fault model: it implements
// sim.Network with realistic links and drives node faults through the
// engine. The runnable Example shows the whole loop.
//
//	e := sim.New(sim.Config{Seed: 1})
//	e.MustAddNode("a", newNode)                 // add every node first
//	e.MustAddNode("b", newNode)
//	cfg := netmodel.DefaultConfig()             // YAML "network:"
//	cfg.Loss = 0.01
//	faults := netmodel.FaultsConfig{Schedule: []netmodel.Fault{{ // YAML "faults:"
//		Kind: netmodel.FaultPartition, At: netmodel.Duration(time.Second),
//		Duration: netmodel.Duration(2 * time.Second), Groups: [][]string{{"a"}, {"b"}},
//	}}}
//	m, err := netmodel.New(cfg, faults) // validates, builds distributions, reads CSVs
//	err = m.Install(e)                  // checks node names, schedules faults, e.SetNetwork(m)
//	err = e.Run(sim.Time(10 * time.Second))
//	c := m.Counters()                   // per link and per cause
//	w := m.Windows()                    // every fault occurrence, chaos included
//
// # Configuration
//
// The experiment file has two sections: "network:" is Config (links,
// zones, clocks, processing time) and "faults:" is FaultsConfig (a timed
// schedule and/or a chaos generator). Both have Validate (no node list
// needed) and ValidateNodes(names) (names must exist, zones and groups
// must not overlap), returning sim.FieldErrors whose paths use the YAML
// names; New and Install run them with "network." and "faults." prefixes.
// Durations are Duration values, written "250ms" in YAML.
//
// # Links
//
// Every directed link has a latency Dist built from a DistSpec: constant,
// uniform, normal truncated at 0, exponential with a minimum, log-normal
// (by median and p99 or by mu and sigma), Pareto, Weibull, empirical
// (samples or CDF points from a CSV) and weighted mixtures of these. The
// samplers draw from the link's stream; gonum's distuv types supply the
// CDFs (and the Weibull quantile), and the tests compare both with gonum's
// own samplers. A message then goes through, in order: partitions,
// Gilbert–Elliott and Bernoulli loss, the bandwidth queue (serialization
// of sim.MessageSize bytes, FIFO, tail drop when QueueBytes would be
// exceeded), the latency draw, FIFO clamping if asked, corruption (the
// delivery carries FlagCorrupt and Arrive drops it, as a receiver's
// checksum would) and duplication (a copy DuplicateDelay after the
// original, flagged FlagDuplicate). The copy is the same message value
// delivered again; a sim.Retainer message is told of it by sim.Retain.
//
// # Placement
//
// Nodes are created by the experiment with Engine.AddNode; netmodel learns
// their zone from Config.Zones (zone -> node names or globs such as
// "db-*") or from Model.SetZone before Install. Link rules name zones or
// nodes; zone rules apply first, then node rules, each in list order, a
// later rule overriding the fields an earlier one set; a rule covers both
// directions unless one_way is set.
//
// # Faults
//
// A Fault is a value with a start and a duration that maps 1:1 to YAML;
// sequences and repeats compose them. Kinds:
//
//   - partition: groups (nodes in different groups cannot talk; unlisted
//     nodes form one more group) or pairs (each pair cut, or only
//     first->second with one_way). in_flight chooses whether messages
//     already on the wire when the cut starts are dropped (default) or
//     delivered.
//   - isolate: cut every link to and from each listed node.
//   - crash: Engine.Crash at the start, Engine.Restart at the end (no
//     restart if the duration is 0). Volatile state, timers and inputs
//     waiting for the node are lost, including those in its processing
//     queue; durable storage survives.
//   - pause: Engine.Pause/Resume, a stop-the-world pause: messages and
//     timers that come due wait and are handled in order at resume.
//   - slow: multiplies the node's per-message processing time. The
//     engine treats handling as instantaneous, so netmodel models it:
//     with Config.Processing = p > 0 every delivered message occupies its
//     receiver for p (a FIFO single server per node, in Arrive) before
//     Receive runs; a slow fault with factor k makes that k·p. Timers
//     and sends are not slowed. Slow faults need Processing > 0.
//   - clock: steps the nodes' clocks by jump (negative goes back).
//
// Overlapping crashes or pauses of a node nest: it comes back when the
// last one ends. Faults act through Install's own schedule; if other code
// crashes a node directly, netmodel does not know about it.
//
// ChaosConfig generates faults from the run seed: during the safety phase
// each kind arrives as a Poisson process at its per-minute rate, with
// durations from a Dist, cut at the end of the phase (clock faults draw
// a step size and a sign instead); the liveness phase
// after it has no faults, so the system must converge. MaxDown bounds
// the nodes crashed or paused at once (default: a minority). Windows
// lists every fault occurrence, scheduled or chaotic, as soon as Install
// returns; Phases lists the two chaos phases.
//
// # Clocks
//
// Clock implements sim.Clock with an offset, a drift in ppm and steps:
// Env.Local reads it and Env.After spans are local, while metrics use true
// time. Config.Clocks sets static clocks; clock faults add steps.
//
// # Counters, metrics and traces
//
// Counters reports, per link in (from, to) order and in total, messages
// sent, delivered (copies included), duplicated and dropped per Cause:
// loss, partition, congestion, corruption, crashed_receiver. The totals
// also go to the engine's Metrics as net_sent, net_delivered,
// net_duplicated and net_dropped_<cause> (net_dropped_loss,
// net_dropped_partition, net_dropped_congestion, net_dropped_corruption,
// net_dropped_crashed_receiver). Drops are traced as sim.KindDrop with the
// cause name, copies as sim.KindDuplicate, and fault boundaries as
// sim.KindNote records "fault_start <kind> <label>", "fault_end <kind>
// <label>" and "phase_start safety|liveness".
//
// # Randomness
//
// Link from->to draws from stream "net/link/<from>-><to>" and the chaos
// generator from "net/chaos/<kind>" and "net/chaos/<kind>/pick", so a run
// is a pure function of its seed and config, adding a node does not
// change other links' draws, and changing one chaos kind's rate does not
// move the others' arrivals.
package netmodel
