// Package sim is dsim's deterministic discrete-event engine.
//
// An Engine holds simulated time, an event queue totally ordered by
// (At, Seq), the nodes of one run and the network between them. Nodes are
// state machines (Node) driven by messages and timers through an Env
// handle; they never see the wall clock, global randomness or goroutines,
// so one seed and one config always produce the same run. A running hash
// over dispatched events (Engine.Hash) checks that claim.
//
//	e := sim.New(sim.Config{Seed: 42})
//	e.SetNetwork(&sim.Direct{Delay: time.Millisecond})
//	a := e.MustAddNode("a", func() sim.Node { return &pinger{} })
//	e.At(sim.Time(5*time.Second), func() { e.Crash(a) })
//	if err := e.Run(sim.Time(10 * time.Second)); err != nil { ... }
//	fmt.Printf("%d events, hash %016x\n", e.Events(), e.Hash())
//
// Randomness comes from named streams (NewStream, Engine.Stream,
// Env.Rand): each is seeded from (run seed, name), so adding a component
// never changes another component's draws.
//
// Faults act on nodes through Crash/Restart (volatile state lost, durable
// Storage kept), Pause/Resume (inputs wait) and per-node Clocks; package
// netmodel drives them from fault schedules. Observers see every
// dispatched event plus trace records (sends, drops, crashes) for metrics,
// timelines and checks.
//
// Window and Outcome are the vocabulary the layers above share: a Window is
// a span during which something was going on (a network fault, a
// protocol's error window), whatever produced it; an Outcome is how an
// operation ended. Protocols report them, results shade and count them.
package sim
