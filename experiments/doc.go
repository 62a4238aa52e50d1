// Package experiments turns experiment files into runs: the YAML schema
// (Config), strict loading with every problem located by file, line and
// column, --set overrides, sweep expansion, run seeds, the protocol
// registry, the parallel runner with resume and sharding, merging of shard
// folders, checks, and the bundled example experiments.
//
// From Go, for example in a test:
//
//	x, err := experiments.Load("echo-regions", experiments.Options{
//		Sets: []string{"seeds=3", "protocol.timeout=250ms"},
//	})
//	if err != nil { ... }                       // errors.Is(err, ErrBadInput)
//	res, err := experiments.Run(ctx, x, experiments.RunOptions{})   // in memory
//	var re *experiments.RunError             // a run failed: re.Seed replays it;
//	if errors.As(err, &re) { ... }           // errors.Is(err, sim.ErrEventLimit), ...
//	for _, r := range res.Runs {
//		p99, _ := r.Run.Metric("rtt_p99_ms")
//		...
//	}
//	for _, c := range experiments.Evaluate(x, res.Runs) {
//		if !c.OK() { t.Errorf("%s: %v", c.Name, c.Failed) }
//	}
//
// With RunOptions.Out the runner writes each finished run to <out>/runs/
// as it completes (so an interrupted sweep resumes without redoing them)
// and the results folder (package results) when all runs are done.
// Runs execute in parallel across RunOptions.Parallel workers, each run
// single-threaded on its own engine; outputs do not depend on the worker
// count, the shard split or interruptions. The first failed run stops the
// others; finished runs stay on disk. Plots that cannot be drawn do not
// fail Run: Result.PlotErr holds them (*results.PlotError each).
//
// Seeds: a run's seed derives from the base seed, its sweep point's
// parameter values and its seed index (RunSeed), so adding a value to a
// sweep list never changes the other runs.
//
// Protocols plug in through package protocols and one line in
// registry.go: Register(echo.Protocol{}).
package experiments
