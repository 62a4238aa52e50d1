package experiments

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
	"golang.org/x/sync/errgroup"
)

// Errors of the runner.
var (
	// ErrInterrupted is returned when the context was cancelled before
	// every run finished; finished runs are kept and --resume continues.
	ErrInterrupted = errors.New("interrupted")
	// ErrNondeterministic is returned by --verify-determinism when a run
	// gives a different event hash the second time. It is
	// sim.ErrNondeterministic, the engine's own.
	ErrNondeterministic = sim.ErrNondeterministic
	// ErrRunFailed matches (errors.Is) every *RunError: a run itself
	// failed.
	ErrRunFailed = errors.New("run failed")
)

// RunError is a run that failed: a bound of limits: exceeded, a protocol
// that cannot build, a network that cannot be installed. It matches
// ErrRunFailed and unwraps to its cause, so errors.Is(err,
// sim.ErrEventLimit) tells a run that hit its event bound, and
// errors.As(err, &re) gives the run's seed to replay it.
type RunError struct {
	// Index, Seed and Params identify the run.
	Index  int
	Seed   uint64
	Params results.Params
	// Err is the cause.
	Err error
}

// Error returns "run failed: run 3 (seed 42, network.loss=0.05): cause".
func (e *RunError) Error() string {
	at := ""
	if len(e.Params) > 0 {
		at = ", " + e.Params.Label()
	}
	return fmt.Sprintf("%v: run %d (seed %d%s): %v", ErrRunFailed, e.Index, e.Seed, at, e.Err)
}

// Unwrap returns the cause.
func (e *RunError) Unwrap() error { return e.Err }

// Is reports whether target is ErrRunFailed.
func (e *RunError) Is(target error) bool { return target == ErrRunFailed }

// RunSpec identifies one run: a sweep point and a seed.
type RunSpec struct {
	// Index numbers the runs from 0: point-major, seed-minor.
	Index int
	// Point is the sweep point.
	Point *Point
	// SeedIndex is the seed's position among the point's seeds.
	SeedIndex int
	// Seed is the run seed.
	Seed uint64
}

// Runs lists every run of the experiment in index order.
func (x *Experiment) Runs() []RunSpec {
	n := x.Config.Seeds.N()
	out := make([]RunSpec, 0, len(x.Points)*n)
	for i := range x.Points {
		p := &x.Points[i]
		for s := 0; s < n; s++ {
			out = append(out, RunSpec{Index: len(out), Point: p, SeedIndex: s, Seed: RunSeed(x.Config, p.Params, s)})
		}
	}
	return out
}

// RunSeed is the seed of one run: an explicit seed from the seeds list, or
// one derived from the base seed, the sweep point's parameter values and
// the seed index. It does not depend on the run's position, so adding a
// value to a sweep list never changes the seeds (nor the results) of the
// other runs.
func RunSeed(cfg Config, params []results.Param, seedIndex int) uint64 {
	if cfg.Seeds.List != nil {
		return cfg.Seeds.List[seedIndex]
	}
	var b strings.Builder
	b.WriteString("run")
	for _, p := range params {
		b.WriteString("|")
		b.WriteString(p.Name)
		b.WriteString("=")
		b.WriteString(p.Value)
	}
	fmt.Fprintf(&b, "|seed#%d", seedIndex)
	return sim.DeriveSeed(cfg.Seed, b.String())
}

// Violation is a protocol invariant that did not hold after a run.
type Violation struct {
	Invariant string
	Msg       string
}

// RunResult is the outcome of one run.
type RunResult struct {
	// Run holds the metrics, series, distributions, faults and fault
	// coverage, with Index, Params and Seed filled.
	Run results.Run
	// Hash is the engine's event hash at the end of the run.
	Hash uint64
	// Events is the number of dispatched events.
	Events uint64
	// Violations are the invariants that failed.
	Violations []Violation
	// TimelineSVG and TimelineTrace hold the run's message sequence
	// diagram and Chrome/Perfetto trace when the experiment's timeline
	// picks this run.
	TimelineSVG, TimelineTrace []byte

	// hists are the run's latency histograms, merged into its sweep
	// point's pooled distributions when the run is stored (not part of
	// the stored run itself).
	hists []results.Hist
}

// Progress reports the runner's state to a progress display.
type Progress struct {
	// Done counts finished runs, including Resumed.
	Done int
	// Resumed counts runs found finished in the output folder.
	Resumed int
	// Total is the number of runs this process is responsible for.
	Total int
	// Writing is set once every run is done and the results folder is
	// being written; Written of ToWrite steps are done.
	Writing          bool
	Written, ToWrite int
}

// RunOptions control a Run.
type RunOptions struct {
	// Out is the output folder; "" keeps results in memory only.
	Out string
	// Parallel is the number of runs executed at once; 0 means
	// GOMAXPROCS. Each run is single-threaded, and results do not depend
	// on Parallel.
	Parallel int
	// Shard and Shards select the runs whose Index % Shards == Shard;
	// Shards 0 or 1 means every run.
	Shard, Shards int
	// Resume continues in an existing output folder, keeping its
	// finished runs.
	Resume bool
	// Force replaces the results in an existing output folder.
	Force bool
	// VerifyDeterminism runs every run twice and fails with
	// ErrNondeterministic when the event hashes differ.
	VerifyDeterminism bool
	// Version is the dsim version recorded in manifest.json.
	Version string
	// Progress, when set, is called after every finished run and every
	// step of writing the results (from one goroutine at a time).
	Progress func(Progress)
	// Discard leaves Result.Runs holding only the runs whose invariants
	// failed when Out is set, so memory does not grow with the number of
	// runs; Result.Count still counts them all.
	// Without it, Result.Runs holds every run's scalars, faults,
	// coverage and violations (not its series nor distributions, which
	// are on disk).
	Discard bool
	// Slim keeps only the scalars, faults, coverage and violations of each
	// run in Result.Runs even without Out (what checks need), so memory
	// grows by a few KB per run instead of the run's series.
	Slim bool
}

// Result is what Run returns.
type Result struct {
	// Experiment is what was run.
	Experiment *Experiment
	// Runs are this process's runs in index order (for a shard, only
	// its runs; after an interruption, only the finished ones).
	Runs []RunResult
	// Count is the number of this process's finished runs (the length
	// of Runs unless RunOptions.Discard).
	Count int
	// Shard is set when Out holds one shard of the runs (lean: runs/
	// only, for dsim merge) rather than a results folder.
	Shard bool
	// Resumed counts runs taken from the output folder.
	Resumed int
	// Out is the output folder ("" when in memory only).
	Out string
	// Complete is true when every run of the experiment (not only of
	// the shard) is in Runs.
	Complete bool
	// PlotErr holds plot rendering problems; the other files were
	// written.
	PlotErr error

	plan plan
}

// Set returns the runs as a results.Set, ready for results.Write.
func (r *Result) Set() *results.Set { return newSet(r.plan, r.Runs) }

// seriesCheckpoint is how many finished runs' series are folded into the
// stored series sums before those runs' series files are removed.
const seriesCheckpoint = 64

// Run executes an experiment: every run of the selected shard, in
// parallel across runs, each run single-threaded. With opts.Out it
// writes each finished run to <out>/runs/ as it completes, and the results
// folder (CSV, plots, report) once all of this process's runs are done.
func Run(ctx context.Context, x *Experiment, opts RunOptions) (_ *Result, err error) {
	specs, err := shardRuns(x.Runs(), opts.Shard, opts.Shards)
	if err != nil {
		return nil, err
	}
	p := x.plan(opts.Version)
	res := &Result{Experiment: x, Out: opts.Out, plan: p}
	c := &collector{opts: opts, res: res, total: len(specs), done: map[int]bool{}, keep: map[int]RunResult{}}
	var od *outDir // the output folder, locked until Run returns
	if opts.Out != "" {
		if od, err = c.resume(specs, p); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, od.release()) }()
	}
	var todo []RunSpec
	for _, s := range specs {
		if !c.done[s.Index] {
			todo = append(todo, s)
		}
	}
	c.report()
	err = runAll(ctx, x, todo, opts, c.add)
	if c.st != nil {
		if cerr := c.st.checkpoint(); err == nil {
			err = cerr
		}
	}
	res.Count = len(c.done)
	var mine []int // this process's finished runs, in index order
	for _, s := range specs {
		if c.done[s.Index] {
			mine = append(mine, s.Index)
		}
	}
	if gerr := c.gather(mine); err == nil {
		err = gerr
	}
	if err != nil {
		return res, err
	}
	if len(c.done) < len(specs) {
		return res, fmt.Errorf("%w: %d of %d runs finished", ErrInterrupted, len(c.done), len(specs))
	}
	res.Complete = len(c.done) == len(x.Runs())
	if od == nil {
		return res, nil
	}
	return res, c.write(od, mine)
}

// shardRuns keeps the runs of shard i of n (Index % n == i); n 0 or 1
// keeps every run.
func shardRuns(specs []RunSpec, i, n int) ([]RunSpec, error) {
	if n <= 1 {
		return specs, nil
	}
	if i < 0 || i >= n {
		return nil, badInput("shard %d/%d: want 0 ≤ I < N", i, n)
	}
	var mine []RunSpec
	for _, s := range specs {
		if s.Index%n == i {
			mine = append(mine, s)
		}
	}
	return mine, nil
}

// finished is a run a worker completed, with its stored form when there
// is an output folder (compressed by the worker, so that the one
// goroutine that stores runs only writes and folds).
type finished struct {
	spec   RunSpec
	result RunResult
	stored encodedRun
}

// runAll executes the runs in todo, at most opts.Parallel at once, and
// hands each finished run to collect as it completes, from the calling
// goroutine only. The first failure, of a run or of collect, stops
// starting runs and abandons those in progress, and is returned; runs that
// finish meanwhile are still collected until collect fails. When ctx is
// cancelled the same happens and runAll returns nil: the runs that did
// not finish are missing from what was collected.
func runAll(ctx context.Context, x *Experiment, todo []RunSpec, opts RunOptions, collect func(finished) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers(opts.Parallel, len(todo)))
	// A run polls a flag, cheaper than a context every thousand events;
	// it is raised once the group is cancelled.
	var stop atomic.Bool
	defer context.AfterFunc(gctx, func() { stop.Store(true) })()
	// A worker's slot is given back only once its run is collected, so
	// that a cancellation made while collecting (a progress callback, a
	// failed store) is seen before the next run starts.
	type handed struct {
		finished
		collected chan struct{}
	}
	out := make(chan handed)
	var runErr error
	go func() {
		defer close(out)
		for _, s := range todo {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				if gctx.Err() != nil {
					return nil // cancelled while waiting for a slot
				}
				f := finished{spec: s}
				var err error
				f.result, err = runVerified(x, s, opts.VerifyDeterminism, &stop)
				if err == nil && opts.Out != "" {
					f.stored, err = encodeForStore(f.result)
				}
				switch {
				case errors.Is(err, ErrInterrupted):
					return nil // abandoned: not finished, done again on --resume
				case err != nil:
					return err
				}
				h := handed{f, make(chan struct{})}
				out <- h
				<-h.collected
				return nil
			})
		}
		runErr = g.Wait()
	}()
	var collectErr error
	for h := range out {
		if collectErr == nil { // else not kept: the run is done again on --resume
			if err := collect(h.finished); err != nil {
				collectErr = err
				cancel()
			}
		}
		close(h.collected)
	}
	if runErr != nil {
		return runErr
	}
	return collectErr
}

// workers is the number of runs executed at once: parallel, or
// GOMAXPROCS when it is 0, and never more than there are runs.
func workers(parallel, runs int) int {
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	return max(1, min(parallel, runs))
}

// collector takes in the finished runs of one Run, one at a time: it
// stores them in the output folder when there is one, keeps what
// Result.Runs offers, and reports progress.
type collector struct {
	opts RunOptions
	res  *Result
	// st is the output folder's store; nil when results stay in memory.
	st *store
	// total is the number of runs this process is responsible for.
	total int
	// done marks the finished runs by index, resumed ones included.
	done map[int]bool
	// keep holds what Result.Runs will offer, by index.
	keep map[int]RunResult
}

// resume opens the output folder (locking it) and its store, and marks
// as done the runs it already holds with the same seed (--resume).
func (c *collector) resume(specs []RunSpec, p plan) (*outDir, error) {
	od, prev, err := openOut(c.opts.Out, p, c.opts)
	if err != nil {
		return nil, err
	}
	st, err := openStore(od.path(), p)
	if err != nil {
		return nil, errors.Join(err, od.release())
	}
	c.st = st
	for _, s := range specs {
		if seed, ok := prev[s.Index]; ok && seed == s.Seed && st.has(s.Index) {
			c.done[s.Index] = true
		}
	}
	c.res.Resumed = len(c.done)
	return od, nil
}

func (c *collector) report() {
	if c.opts.Progress != nil {
		c.opts.Progress(Progress{Done: len(c.done), Resumed: c.res.Resumed, Total: c.total})
	}
}

// add takes in one finished run.
func (c *collector) add(f finished) error {
	i, rr := f.spec.Index, f.result
	switch {
	case c.st != nil:
		if err := c.st.add(rr, f.stored); err != nil {
			return err
		}
		if !c.opts.Discard || len(rr.Violations) > 0 {
			c.keep[i] = slim(rr)
		}
	case c.opts.Slim:
		c.keep[i] = slim(rr)
	default:
		rr.hists = nil // pooled distributions come with an output folder only
		c.keep[i] = rr
	}
	c.done[i] = true
	c.report()
	return nil
}

// gather fills Result.Runs with the runs of mine, in index order: those
// kept, and the slim records of those found on disk (unless Discard).
func (c *collector) gather(mine []int) error {
	if c.st != nil && !c.opts.Discard {
		for _, i := range mine {
			if _, ok := c.keep[i]; ok {
				continue
			}
			rr, err := c.st.read(i)
			if err != nil {
				return err
			}
			c.keep[i] = slim(rr)
		}
	}
	for _, i := range mine {
		if r, ok := c.keep[i]; ok {
			c.res.Runs = append(c.res.Runs, r)
		}
	}
	return nil
}

// write finishes the output folder once every run is done and commits
// it. A shard is lean: its runs/ folder is all that dsim merge reads, and
// merge writes the CSV files, plots and report; a marker says that this
// shard's runs are all there. Otherwise the results folder is written;
// plots that cannot be drawn go to Result.PlotErr.
func (c *collector) write(od *outDir, mine []int) error {
	if c.opts.Shards > 1 {
		c.res.Shard = true
		b := fmt.Appendf(nil, "{\"shard\": %d, \"shards\": %d, \"runs\": %d}\n", c.opts.Shard, c.opts.Shards, len(mine))
		if err := results.WriteFileAtomic(filepath.Join(od.path(), runsDir, shardDoneFile), b); err != nil {
			return err
		}
		return od.commit()
	}
	progress := func(written, steps int) {
		if c.opts.Progress != nil {
			c.opts.Progress(Progress{Done: len(c.done), Resumed: c.res.Resumed, Total: c.total, Writing: true, Written: written, ToWrite: steps})
		}
	}
	return commitResults(od, c.res, c.st, mine, progress)
}

// commitResults writes the results folder of the runs idx from the store
// and commits the output folder. Plots that cannot be drawn do not stop
// it: they go to res.PlotErr.
func commitResults(od *outDir, res *Result, st *store, idx []int, progress func(done, total int)) error {
	p := res.plan
	if err := writeResults(od.path(), p, st, idx, p.checkExperiment(), progress); err != nil {
		if !results.IsPlotError(err) {
			return err
		}
		res.PlotErr = err
	}
	return od.commit()
}

// slim keeps what Result.Runs offers when the runs are on disk: the
// scalars, faults, coverage and violations, not the series nor the
// distributions.
func slim(rr RunResult) RunResult {
	rr.Run.Series, rr.Run.Dists = nil, nil
	rr.TimelineSVG, rr.TimelineTrace = nil, nil
	rr.hists = nil
	return rr
}

// writeResults writes the results folder from the stored runs, in index
// order and one run at a time: a first pass aggregates them, a second
// writes the per-run files; then the aggregated files, the timeline, the
// plots and the report.
func writeResults(dir string, p plan, st *store, idx []int, x *Experiment, progress func(done, total int)) error {
	agg := results.NewAggregator(p.Params)
	agg.SkipSeries()
	agg.SetSeries(st.series)
	nplots := len(p.Plots)
	if nplots == 0 {
		nplots = 4
	}
	total := 2*len(idx) + nplots + 2
	step := 0
	tick := func(n int) {
		step += n
		if progress != nil {
			progress(min(step, total), total)
		}
	}
	every := max(1, len(idx)/20)
	seeds := make([]string, 0, len(idx))
	var checked []RunResult
	checkNames := map[string]bool{} // canonical full names
	if x != nil {
		for _, ch := range x.Config.Checks {
			checkNames[results.ParseID(ch.Metric).Canonical().FullName()] = true
		}
	}
	for k, i := range idx {
		rr, err := st.read(i)
		if err != nil {
			return err
		}
		agg.Add(&rr.Run)
		seeds = append(seeds, strconv.FormatUint(rr.Run.Seed, 10))
		if rr.TimelineSVG != nil {
			if err := results.WriteFileAtomic(filepath.Join(dir, results.TimelineSVG), rr.TimelineSVG); err != nil {
				return err
			}
			if err := results.WriteFileAtomic(filepath.Join(dir, results.TimelineTrace), rr.TimelineTrace); err != nil {
				return err
			}
		}
		if x != nil {
			c := RunResult{Run: results.Run{Index: rr.Run.Index, Params: rr.Run.Params, Seed: rr.Run.Seed}, Violations: rr.Violations}
			for _, m := range rr.Run.Metrics {
				if checkNames[m.Canonical().FullName()] {
					c.Run.Metrics = append(c.Run.Metrics, m)
				}
			}
			checked = append(checked, c)
		}
		if (k+1)%every == 0 {
			tick(every)
		}
	}
	step = len(idx)
	f := &results.Folder{Manifest: newManifest(p), Config: []byte(p.Config), Summary: agg.Summary()}
	f.Manifest.Seeds = seeds
	f.Manifest.RunCount = len(idx)
	if x != nil {
		f.Manifest.Checks = checkRows(x, checked)
	}
	f.Fill()
	err := results.WriteRuns(dir, f, func(yield func(*results.Run) error) error {
		for k, i := range idx {
			rr, err := st.read(i)
			if err != nil {
				return err
			}
			if err := yield(&rr.Run); err != nil {
				return err
			}
			if (k+1)%every == 0 {
				tick(every)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	step = 2 * len(idx)
	if err := results.WriteSummary(dir, f); err != nil {
		return err
	}
	tick(1)
	base := step
	err = results.Render(dir, f, func(d, n int) {
		step = base + d
		total = base + n + 1
		tick(0)
	})
	step = total
	tick(0) // done
	return err
}

// checkRows turns the experiment's check verdicts into report rows.
func checkRows(x *Experiment, runs []RunResult) []results.CheckRow {
	var rows []results.CheckRow
	for _, c := range Evaluate(x, runs) {
		r := results.CheckRow{Name: c.Name, Point: c.Params.Label(), Runs: c.Runs, Failed: len(c.Failed)}
		if !math.IsNaN(c.Value) {
			r.Worst = results.FormatNumber(c.Value)
		}
		if len(c.Failed) > 0 {
			r.Replay = fmt.Sprintf("run %d, seed %d", c.Failed[0].Run, c.Failed[0].Seed)
		}
		rows = append(rows, r)
	}
	return rows
}

// runVerified runs s, twice when verify is set.
func runVerified(x *Experiment, s RunSpec, verify bool, stop *atomic.Bool) (RunResult, error) {
	rr, err := RunOne(x, s, stop)
	if err != nil || !verify {
		return rr, err
	}
	again, err := RunOne(x, s, stop)
	if err != nil {
		return rr, err
	}
	if again.Hash != rr.Hash || again.Events != rr.Events {
		return rr, fmt.Errorf("%w: run %d (seed %d): event hash %016x after %d events, then %016x after %d events",
			ErrNondeterministic, s.Index, s.Seed, rr.Hash, rr.Events, again.Hash, again.Events)
	}
	return rr, nil
}

// RunOne executes one run. stop, when set to true by another goroutine,
// abandons it with ErrInterrupted.
func RunOne(x *Experiment, s RunSpec, stop *atomic.Bool) (RunResult, error) {
	return runOne(x, s, stop, nil)
}

// runOne is RunOne; with focus set, the timeline keeps only the events of
// a violation's messages (see focus.go).
func runOne(x *Experiment, s RunSpec, stop *atomic.Bool, focus *timelineFocus) (RunResult, error) {
	cfg := &s.Point.Config
	mcfg := cfg.Metrics
	mcfg.Warmup = cfg.Warmup
	rec := results.NewRecorder(mcfg)
	e := sim.New(sim.Config{
		Seed:       s.Seed,
		Metrics:    rec,
		MaxEvents:  cfg.Limits.MaxEvents,
		MaxPending: cfg.Limits.MaxPending,
		MaxNodes:   cfg.Limits.MaxNodes,
	})
	rec.Bind(e)
	fail := func(err error) (RunResult, error) {
		return RunResult{}, &RunError{Index: s.Index, Seed: s.Seed, Params: s.Point.Params, Err: err}
	}
	var tl *results.Timeline
	var tlObs sim.Observer
	if t := cfg.Timeline; t != nil && t.Run == s.Index {
		tc := results.DefaultTimelineConfig()
		if t.MaxEvents > 0 {
			tc.MaxEvents = t.MaxEvents
		}
		tc.Timers = t.Timers
		tl = results.NewTimeline(e, tc)
		tlObs = focus.observer(tl, tc.MaxEvents)
		e.Observe(tlObs)
	}
	ops := results.NewOps(nil)
	setup := &protocols.Setup{
		Engine:   e,
		Nodes:    cfg.placements(),
		Workload: cfg.Workload,
		Warmup:   cfg.Warmup,
		Duration: cfg.Duration,
		Ops:      ops,
	}
	if err := cfg.Protocol.Config.Build(setup); err != nil {
		return fail(err)
	}
	windows, err := installNetwork(e, cfg)
	if err != nil {
		return fail(err)
	}
	windows = append(windows, setup.Windows()...)
	sim.SortWindows(windows)
	ops.Watch(windows...)
	setup.Faults = slices.Clone(windows) // a copy: the protocol cannot change the run's
	// Windows protocols open during the run (crash points).
	setup.WatchWindows(func(w sim.Window) {
		windows = append(windows, w)
		ops.Watch(w)
		setup.Faults = append(setup.Faults, w)
	})
	var n uint32
	err = e.RunUntil(sim.Time(cfg.Duration), func() bool {
		n++
		return n&1023 == 0 && stop != nil && stop.Load()
	})
	if err != nil {
		return fail(err)
	}
	if stop != nil && stop.Load() {
		return RunResult{}, ErrInterrupted
	}
	setup.Finish()
	sim.SortWindows(windows)
	run := rec.Finish(e.Now())
	hists := rec.Hists()
	run.Metrics = addScalars(run.Metrics, setup.Scalars())
	run.Metrics = addScalars(run.Metrics, []protocols.Scalar{{Name: "events", Value: float64(e.Events())}})
	run.Index, run.Params, run.Seed = s.Index, s.Point.Params, s.Seed
	run.Faults, run.Coverage = windows, ops.Coverage()
	rr := RunResult{Run: run, Hash: e.Hash(), Events: e.Events()}
	if tl != nil {
		finishTimeline(tlObs, tl, e.Now(), windows)
		var svg, trace bytes.Buffer
		if err := tl.WriteSVG(&svg); err != nil {
			return fail(err)
		}
		if err := tl.WriteTrace(&trace); err != nil {
			return fail(err)
		}
		rr.TimelineSVG, rr.TimelineTrace = svg.Bytes(), trace.Bytes()
	}
	var failed *timelineFocus
	for _, inv := range setup.Invariants() {
		if err := inv.Check(); err != nil {
			rr.Violations = append(rr.Violations, Violation{Invariant: inv.Name, Msg: err.Error()})
			failed = failed.or(err)
		}
	}
	if tl != nil && focus == nil && failed != nil {
		// Replay the run with the timeline centred on the violation.
		again, err := runOne(x, s, stop, failed)
		if err != nil {
			return RunResult{}, err
		}
		rr.TimelineSVG, rr.TimelineTrace = again.TimelineSVG, again.TimelineTrace
	}
	// Round-trip through the stored form, so that a run computed now and
	// one read back by --resume or merge are the same bytes.
	b, err := encodeRun(rr)
	if err != nil {
		return fail(err)
	}
	back, err := decodeRun(b)
	if err != nil {
		return fail(err)
	}
	out := fromStored(toStored(back))
	out.Run.Series = back.Run.Series
	out.hists = hists
	return out, nil
}

// addScalars merges reported scalars into a run's metrics, sorted by full
// name; a scalar replaces a metric of the same name and labels.
func addScalars(ms []results.Metric, sc []protocols.Scalar) []results.Metric {
	for _, s := range sc {
		id := results.MetricID{Name: s.Name, Labels: s.Labels}
		full := id.FullName()
		i := sort.Search(len(ms), func(i int) bool { return ms[i].FullName() >= full })
		if i < len(ms) && ms[i].FullName() == full {
			ms[i].Value = s.Value
			continue
		}
		ms = append(ms, results.Metric{})
		copy(ms[i+1:], ms[i:])
		ms[i] = results.Metric{MetricID: id, Value: s.Value}
	}
	return ms
}

// plan is what a results folder records about the experiment in
// runs/plan.json, so that --resume and merge can check that folders
// belong to the same experiment and rebuild the results files.
type plan struct {
	Format      int                `json:"format"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Version     string             `json:"dsim_version"`
	ConfigHash  string             `json:"config_hash"`
	RunCount    int                `json:"run_count"`
	Params      []string           `json:"params"`
	Plots       []results.PlotSpec `json:"plots"`
	Config      string             `json:"config"`
	// Output, Headline and Metrics feed the results manifest.
	Output   results.OutputConfig `json:"output"`
	Headline []string             `json:"headline"`
	Metrics  []results.MetricInfo `json:"metrics"`
	// Checks, SeedsPerPoint, Points and Pinned let merge evaluate the
	// checks for the report without the experiment file.
	Checks        []Check           `json:"checks"`
	SeedsPerPoint int               `json:"seeds_per_point"`
	Points        [][]results.Param `json:"points"`
	Pinned        map[string]string `json:"pinned,omitempty"`
}

// checkExperiment rebuilds from a plan what Evaluate needs.
func (p plan) checkExperiment() *Experiment {
	x := &Experiment{Config: Config{Checks: p.Checks, Seeds: Seeds{Count: p.SeedsPerPoint}}, pinned: p.Pinned}
	for i, ps := range p.Points {
		x.Points = append(x.Points, Point{Index: i, Params: ps})
	}
	return x
}

const planFormat = 3 // 3: metric labels stored apart from names

func (x *Experiment) plan(version string) plan {
	sum := sha256.Sum256(x.Resolved)
	p := plan{
		Format:        planFormat,
		Name:          x.Config.Name,
		Description:   strings.TrimSpace(x.Config.Description),
		Version:       version,
		ConfigHash:    hex.EncodeToString(sum[:]),
		RunCount:      len(x.Points) * x.Config.Seeds.N(),
		Params:        []string{},
		Plots:         x.Config.Plots,
		Config:        string(x.Resolved),
		Output:        x.Config.Results,
		Headline:      x.Config.Report.Headline,
		Checks:        x.Config.Checks,
		SeedsPerPoint: x.Config.Seeds.N(),
		Pinned:        x.pinned,
	}
	for _, pt := range x.Points {
		p.Points = append(p.Points, pt.Params)
	}
	p.Metrics = familyMetrics(x.Config.Protocol.Name)
	for _, s := range x.Config.Sweep {
		p.Params = append(p.Params, s.Path)
	}
	return p
}

func newManifest(p plan) results.Manifest {
	return results.Manifest{
		Name:        p.Name,
		Description: p.Description,
		Version:     p.Version,
		Params:      append([]string(nil), p.Params...),
		Plots:       append([]results.PlotSpec(nil), p.Plots...),
		Output:      p.Output,
		Headline:    append([]string(nil), p.Headline...),
		Metrics:     append([]results.MetricInfo(nil), p.Metrics...),
	}
}

func newSet(p plan, runs []RunResult) *results.Set {
	s := &results.Set{Manifest: newManifest(p), Config: []byte(p.Config)}
	for _, r := range runs {
		s.Runs = append(s.Runs, r.Run)
	}
	return s
}

// Files of the runs/ folder: one gzip-compressed gob per run (its
// scalars, distributions, faults, coverage, violations), the run's series
// in a file of their own until they are folded into the series sums
// (kept with results.timeseries: per_run), and the series sums of every
// folded run.
const (
	runsDir  = "runs"
	planFile = "plan.json"
	// shardDoneFile marks a shard folder whose runs have all finished.
	shardDoneFile = "shard-done.json"
	seriesFile    = "series.gob.gz"
)

func runFile(dir string, index int) string {
	return filepath.Join(dir, runsDir, fmt.Sprintf("run-%06d.gob.gz", index))
}

func runSeriesFile(dir string, index int) string {
	return filepath.Join(dir, runsDir, fmt.Sprintf("run-%06d.series.gob.gz", index))
}

func gzipGob(v any) ([]byte, error) {
	var b bytes.Buffer
	gz, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(gz).Encode(v); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func gunzipGob(b []byte, v any) error {
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return gob.NewDecoder(results.LimitDecoded(gz, "record", results.MaxDataBytes)).Decode(v)
}

func encodeRun(rr RunResult) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&rr); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeRun(b []byte) (RunResult, error) {
	var rr RunResult
	err := gob.NewDecoder(bytes.NewReader(b)).Decode(&rr)
	return rr, err
}

func encodePlan(p plan) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", planFile, err)
	}
	return append(b, '\n'), nil
}

func readPlan(dir string) (plan, error) {
	var p plan
	b, err := results.ReadInput(filepath.Join(dir, runsDir, planFile), results.MaxMetaBytes)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", filepath.Join(dir, runsDir, planFile), err)
	}
	if p.Format != planFormat {
		return p, fmt.Errorf("%s: format %d, this dsim writes %d", filepath.Join(dir, runsDir, planFile), p.Format, planFormat)
	}
	return p, nil
}

// readSeeds lists the run files of a folder: index → seed.
func readSeeds(dir string) (map[int]uint64, error) {
	out := map[int]uint64{}
	entries, err := os.ReadDir(filepath.Join(dir, runsDir))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		idx, ok := runIndex(e.Name(), ".gob.gz")
		if !ok {
			continue
		}
		rr, err := readRunFile(dir, idx)
		if errors.Is(err, errDamaged) {
			continue // the run is done again
		}
		if err != nil {
			return nil, err
		}
		out[idx] = rr.Run.Seed
	}
	return out, nil
}

// runIndex parses "run-000012<suffix>".
func runIndex(name, suffix string) (int, bool) {
	if !strings.HasPrefix(name, "run-") || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(name, "run-"), suffix)
	if len(digits) < 6 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.Atoi(digits)
	return i, err == nil
}

// storedRun is a run file's content: the run without its series, and
// its distributions as whole nanoseconds, delta-encoded (the quantile
// values are HDR histogram values in ns, so this is lossless and about a
// third of the size).
type storedRun struct {
	RunResult
	Dists []storedDist
}

type storedDist struct {
	results.MetricID
	// Q is the quantile grid, nil when it is results.Quantiles.
	Q []float64
	// DeltaNs are the values in ns, each minus the previous one.
	DeltaNs []int64
}

func init() {
	// gob numbers types in the order a process first meets them, and the
	// numbers are part of the bytes. Meeting the stored types here, in a
	// fixed order, makes a run file the same bytes whether the process
	// ran, resumed or merged before writing it.
	id := results.MetricID{Labels: results.Labels{{}}}
	full := RunResult{Run: results.Run{Params: []results.Param{{}}, Metrics: []results.Metric{{MetricID: id}}, Series: []results.Series{{MetricID: id, Values: []float64{0}}},
		Dists: []results.Dist{{MetricID: id, Points: []results.Quantile{{}}}}, Faults: []sim.Window{{}}, Coverage: []results.Coverage{{}}},
		Violations: []Violation{{}}, TimelineSVG: []byte{0}}
	_, err1 := encodeRun(full)
	_, err2 := gzipGob(runSeries{Series: full.Run.Series, Hists: []results.SparseHist{{Params: []results.Param{{}}, MetricID: id}}})
	_, err3 := gzipGob(toStored(full))
	if err := errors.Join(err1, err2, err3); err != nil {
		panic("experiments: the stored run types do not encode: " + err.Error())
	}
}

func toStored(rr RunResult) storedRun {
	st := storedRun{RunResult: rr}
	st.Run.Series, st.Run.Dists = nil, nil
	for _, d := range rr.Run.Dists {
		sd := storedDist{MetricID: d.MetricID}
		std := len(d.Points) == len(results.Quantiles)
		var prev int64
		for i, q := range d.Points {
			if std && q.Q != results.Quantiles[i] {
				std = false
			}
			ns := int64(math.Round(q.ValueMs * 1e6))
			sd.DeltaNs = append(sd.DeltaNs, ns-prev)
			prev = ns
		}
		if !std {
			for _, q := range d.Points {
				sd.Q = append(sd.Q, q.Q)
			}
		}
		st.Dists = append(st.Dists, sd)
	}
	return st
}

func fromStored(st storedRun) RunResult {
	rr := st.RunResult
	for _, sd := range st.Dists {
		d := results.Dist{MetricID: sd.MetricID, Points: make([]results.Quantile, len(sd.DeltaNs))}
		var ns int64
		for i, delta := range sd.DeltaNs {
			ns += delta
			q := 0.0
			if sd.Q != nil {
				q = sd.Q[i]
			} else if i < len(results.Quantiles) {
				q = results.Quantiles[i]
			}
			d.Points[i] = results.Quantile{Q: q, ValueMs: float64(ns) / 1e6}
		}
		rr.Run.Dists = append(rr.Run.Dists, d)
	}
	return rr
}

func readRunFile(dir string, idx int) (RunResult, error) {
	var st storedRun
	b, err := results.ReadInput(runFile(dir, idx), results.MaxDataBytes)
	if err != nil {
		return RunResult{}, err
	}
	if err := gunzipGob(b, &st); err != nil {
		return RunResult{}, fmt.Errorf("%s: %w: %w", runFile(dir, idx), errDamaged, err)
	}
	rr := fromStored(st)
	if rr.Run.Index != idx {
		return rr, fmt.Errorf("%s: %w: holds run %d", runFile(dir, idx), errDamaged, rr.Run.Index)
	}
	return rr, nil
}

// errDamaged marks a run file that does not decode (cut short by a crash
// of the machine, edited): --resume does the run again, and reading it
// for the results fails with the file's name.
var errDamaged = errors.New("damaged")

// runSeries is a run's series file: its time series and its latency
// histograms (sparse), kept until they are folded into the folder's sums.
type runSeries struct {
	Series []results.Series
	Hists  []results.SparseHist
}

// store keeps a folder's finished runs on disk and the sums of their
// series in memory: memory does not grow with the number of runs. Series
// sums are exact and order-free (results.SeriesAcc), so runs may finish
// in any order, and shards' sums merge into the same bytes.
type store struct {
	dir     string
	perRun  bool
	series  *results.SeriesAcc
	pending []int // folded runs whose series files await the next checkpoint
}

// openStore loads a folder's series sums and folds in the series files
// of runs that finished after the last checkpoint.
func openStore(dir string, p plan) (*store, error) {
	st := &store{dir: dir, perRun: p.Output.Timeseries == results.SeriesPerRun, series: results.NewSeriesAcc()}
	if b, err := results.ReadInput(filepath.Join(dir, runsDir, seriesFile), results.MaxDataBytes); err == nil {
		acc, err := results.UnmarshalSeries(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, runsDir, seriesFile), err)
		}
		st.series = acc
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(dir, runsDir))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		idx, ok := runIndex(e.Name(), ".series.gob.gz")
		if !ok {
			continue
		}
		if st.series.Included[idx] {
			// Folded before a crash kept the checkpoint from removing it.
			if !st.perRun {
				if err := os.Remove(runSeriesFile(dir, idx)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, err
				}
			}
			continue
		}
		rr, err := readRunFile(dir, idx)
		if errors.Is(err, errDamaged) || errors.Is(err, os.ErrNotExist) {
			continue // the run is done again
		}
		if err != nil {
			return nil, err
		}
		var ser runSeries
		b, err := results.ReadInput(runSeriesFile(dir, idx), results.MaxDataBytes)
		if err != nil {
			return nil, err
		}
		if err := gunzipGob(b, &ser); err != nil {
			continue // damaged: the run is done again
		}
		st.series.Add(rr.Run.Params, ser.Series)
		st.series.AddHists(rr.Run.Params, results.DecodeHists(ser.Hists))
		st.series.Included[idx] = true
		st.pending = append(st.pending, idx)
	}
	return st, nil
}

// has reports whether run idx is complete on disk, series included.
func (st *store) has(idx int) bool { return st.series.Included[idx] }

// encodedRun is a finished run in its stored form: the run file and
// the series file.
type encodedRun struct{ run, series []byte }

// encodeForStore compresses a finished run for the store.
func encodeForStore(rr RunResult) (encodedRun, error) {
	var e encodedRun
	var err error
	if e.series, err = gzipGob(runSeries{Series: rr.Run.Series, Hists: results.EncodeHists(rr.hists)}); err != nil {
		return e, err
	}
	e.run, err = gzipGob(toStored(rr))
	return e, err
}

// add stores a finished run (enc is encodeForStore's, or nil to encode
// here): its series file, then its run file, then its series and
// histograms into the sums; every seriesCheckpoint runs the sums are
// saved and the folded series files removed.
func (st *store) add(rr RunResult, enc encodedRun) error {
	idx := rr.Run.Index
	ser := rr.Run.Series
	if enc.run == nil {
		var err error
		if enc, err = encodeForStore(rr); err != nil {
			return err
		}
	}
	if err := results.WriteFileAtomic(runSeriesFile(st.dir, idx), enc.series); err != nil {
		return err
	}
	if err := results.WriteFileAtomic(runFile(st.dir, idx), enc.run); err != nil {
		return err
	}
	st.series.Add(rr.Run.Params, ser)
	st.series.AddHists(rr.Run.Params, rr.hists)
	st.series.Included[idx] = true
	st.pending = append(st.pending, idx)
	if len(st.pending) >= seriesCheckpoint {
		return st.checkpoint()
	}
	return nil
}

// checkpoint saves the series sums and removes the series files they
// now hold (unless per-run series are kept).
func (st *store) checkpoint() error {
	if len(st.pending) == 0 {
		if _, err := os.Stat(filepath.Join(st.dir, runsDir, seriesFile)); err == nil {
			return nil
		}
	}
	b, err := results.MarshalSeries(st.series)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(st.dir, runsDir, seriesFile), b); err != nil {
		return err
	}
	if !st.perRun {
		for _, i := range st.pending {
			if err := os.Remove(runSeriesFile(st.dir, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	st.pending = st.pending[:0]
	return nil
}

// read loads run idx from disk, with its series when they are kept.
func (st *store) read(idx int) (RunResult, error) {
	rr, err := readRunFile(st.dir, idx)
	if err != nil {
		return rr, err
	}
	if st.perRun {
		b, err := results.ReadInput(runSeriesFile(st.dir, idx), results.MaxDataBytes)
		if err != nil {
			return rr, err
		}
		var ser runSeries
		if err := gunzipGob(b, &ser); err != nil {
			return rr, fmt.Errorf("%s: %w", runSeriesFile(st.dir, idx), err)
		}
		rr.Run.Series = ser.Series
	}
	return rr, nil
}

// resultFiles are the files a results folder may hold; --force removes
// only these (and runs/, plots/), never anything else in the folder.
var resultFiles = []string{results.RunsFile, results.MetricsFile, results.RunSeriesFile, results.SummaryFile, results.SeriesFile, results.LatencyFile,
	results.FaultsFile, results.CoverageFile, results.ManifestFile, results.ConfigFile, results.ReportFile,
	results.TimelineSVG, results.TimelineTrace}

// Merge combines the folders of shard runs (dsim run --shard I/N) into
// one results folder holding exactly the bytes a single-process run
// produces. Every folder must come from the same experiment, and together
// they must hold every run.
func Merge(dirs []string, out string, force bool) (_ *Result, err error) {
	if len(dirs) == 0 {
		return nil, badInput("nothing to merge")
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if a, err := filepath.Abs(d); err != nil {
			return nil, err
		} else if a == absOut {
			return nil, badInput("--out %s is one of the folders being merged; merge into a new folder", out)
		}
	}
	var p plan
	from := map[int]string{} // run index → folder holding it
	series := results.NewSeriesAcc()
	for i, d := range dirs {
		q, err := readPlan(d)
		if err != nil {
			return nil, badInput("%s is not a dsim run folder: %w", d, err)
		}
		if i == 0 {
			p = q
		} else if q.ConfigHash != p.ConfigHash {
			return nil, badInput("%s holds a different experiment than %s (config hash %.12s vs %.12s)", d, dirs[0], q.ConfigHash, p.ConfigHash)
		}
		seeds, err := readSeeds(d)
		if err != nil {
			return nil, err
		}
		st, err := openStore(d, q)
		if err != nil {
			return nil, err
		}
		for idx := range st.series.Included {
			if series.Included[idx] {
				return nil, badInput("%s and %s both hold run %d: the folders overlap (shards of different splits, or a folder given twice); merge the shards of one split only", from[idx], d, idx)
			}
		}
		series.Merge(st.series)
		for idx := range seeds {
			if st.series.Included[idx] {
				from[idx] = d
			}
		}
	}
	var missing []int
	for i := 0; i < p.RunCount; i++ {
		if _, ok := from[i]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		return nil, badInput("the folders hold %d of %d runs; missing runs %s (run the missing shards, or --resume them)", len(from), p.RunCount, intList(missing, 10))
	}
	od, _, err := openOut(out, p, RunOptions{Force: force})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, od.release()) }()
	dst := od.path()
	idx := make([]int, 0, p.RunCount)
	for i := 0; i < p.RunCount; i++ {
		idx = append(idx, i)
	}
	for i := range series.Included {
		if i >= p.RunCount {
			delete(series.Included, i)
		}
	}
	ost := &store{dir: dst, perRun: p.Output.Timeseries == results.SeriesPerRun, series: series}
	res := &Result{Out: out, Complete: true, plan: p, Count: len(idx)}
	for _, i := range idx {
		names := []string{runFile(from[i], i)}
		if ost.perRun {
			names = append(names, runSeriesFile(from[i], i))
		}
		for _, name := range names {
			b, err := results.ReadInput(name, results.MaxDataBytes)
			if err != nil {
				return nil, err
			}
			if err := results.WriteFileAtomic(filepath.Join(dst, runsDir, filepath.Base(name)), b); err != nil {
				return nil, err
			}
		}
		rr, err := readRunFile(dst, i)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, slim(rr))
	}
	if err := ost.checkpoint(); err != nil {
		return nil, err
	}
	return res, commitResults(od, res, ost, idx, nil)
}

func intList(xs []int, limit int) string {
	var parts []string
	for i, x := range xs {
		if i == limit {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(xs)-limit))
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ", ")
}
