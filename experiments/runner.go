package experiments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// Errors of the runner.
var (
	// ErrInterrupted is returned when the context was cancelled before
	// every run finished; finished runs are kept and --resume continues.
	ErrInterrupted = errors.New("interrupted")
	// ErrNondeterministic is returned by --verify-determinism when a run
	// gives a different event hash the second time.
	ErrNondeterministic = errors.New("run is not deterministic")
	// ErrRunFailed is returned when a run itself fails (a bound of
	// limits: exceeded, a protocol that cannot build).
	ErrRunFailed = errors.New("run failed")
)

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
}

// Progress reports the runner's state to a progress display.
type Progress struct {
	// Done counts finished runs, including Resumed.
	Done int
	// Resumed counts runs found finished in the output folder.
	Resumed int
	// Total is the number of runs this process is responsible for.
	Total int
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
	// Progress, when set, is called after every finished run (from one
	// goroutine at a time).
	Progress func(Progress)
}

// Result is what Run returns.
type Result struct {
	// Experiment is what was run.
	Experiment *Experiment
	// Runs are this process's runs in index order (for a shard, only
	// its runs; after an interruption, only the finished ones).
	Runs []RunResult
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

// Run executes an experiment: every run of the selected shard, in
// parallel across runs, each run single-threaded. With opts.Out it
// writes each finished run to <out>/runs/ as it completes, and the results
// folder (CSV, plots, report) once all of this process's runs are done.
func Run(ctx context.Context, x *Experiment, opts RunOptions) (*Result, error) {
	specs := x.Runs()
	if opts.Shards > 1 {
		if opts.Shard < 0 || opts.Shard >= opts.Shards {
			return nil, badInput("shard %d/%d: want 0 ≤ I < N", opts.Shard, opts.Shards)
		}
		var mine []RunSpec
		for _, s := range specs {
			if s.Index%opts.Shards == opts.Shard {
				mine = append(mine, s)
			}
		}
		specs = mine
	}
	plan := x.plan(opts.Version)
	res := &Result{Experiment: x, Out: opts.Out, plan: plan}
	done := map[int]RunResult{}
	var od *outDir // the output folder, locked until Run returns
	if opts.Out != "" {
		o, prev, err := openOut(opts.Out, plan, opts)
		if err != nil {
			return nil, err
		}
		od = o
		defer od.release()
		for _, s := range specs {
			if r, ok := prev[s.Index]; ok && r.Run.Seed == s.Seed {
				done[s.Index] = r
			}
		}
		res.Resumed = len(done)
	}
	var todo []RunSpec
	for _, s := range specs {
		if _, ok := done[s.Index]; !ok {
			todo = append(todo, s)
		}
	}
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	par = max(1, min(par, len(todo)))

	var stop atomic.Bool
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		stop.Store(true)
	}()
	type outcome struct {
		spec RunSpec
		rr   RunResult
		err  error
	}
	jobs := make(chan RunSpec)
	outs := make(chan outcome)
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				rr, err := runVerified(x, s, opts.VerifyDeterminism, &stop)
				outs <- outcome{s, rr, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, s := range todo {
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(outs)
	}()
	report := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Done: len(done), Resumed: res.Resumed, Total: len(specs)})
		}
	}
	report()
	var firstErr error
	for o := range outs {
		if o.err != nil {
			if firstErr == nil && !errors.Is(o.err, ErrInterrupted) {
				firstErr = o.err
				cancel()
			}
			continue
		}
		if od != nil {
			if err := writeRun(od.path(), o.rr); err != nil && firstErr == nil {
				firstErr = err
				cancel()
				continue
			}
		}
		done[o.spec.Index] = o.rr
		report()
	}
	for _, s := range specs {
		if r, ok := done[s.Index]; ok {
			res.Runs = append(res.Runs, r)
		}
	}
	if firstErr != nil {
		return res, firstErr
	}
	if len(done) < len(specs) {
		return res, fmt.Errorf("%w: %d of %d runs finished", ErrInterrupted, len(done), len(specs))
	}
	res.Complete = len(res.Runs) == len(x.Runs())
	if od != nil {
		if err := writeResults(od.path(), plan, res.Runs); err != nil {
			if !isPlotErr(err) {
				return res, err
			}
			res.PlotErr = err
		}
		if err := od.commit(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// writeResults writes the timeline files of the recorded run (if this
// process has it) and then the results folder, whose report shows them.
func writeResults(dir string, p plan, runs []RunResult) error {
	for _, r := range runs {
		if r.TimelineSVG == nil {
			continue
		}
		if err := results.WriteFileAtomic(filepath.Join(dir, results.TimelineSVG), r.TimelineSVG); err != nil {
			return err
		}
		if err := results.WriteFileAtomic(filepath.Join(dir, results.TimelineTrace), r.TimelineTrace); err != nil {
			return err
		}
	}
	return results.Write(dir, newSet(p, runs))
}

func isPlotErr(err error) bool { return strings.Contains(err.Error(), "plot ") }

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
		return RunResult{}, fmt.Errorf("%w: run %d (seed %d%s): %w", ErrRunFailed, s.Index, s.Seed, paramText(s.Point.Params), err)
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
		Ops:      opsAdapter{ops},
	}
	if err := cfg.Protocol.Config.Build(setup); err != nil {
		return fail(err)
	}
	windows, err := installNetwork(e, cfg)
	if err != nil {
		return fail(err)
	}
	ops.Watch(windows...)
	for _, w := range windows {
		setup.Faults = append(setup.Faults, protocols.FaultWindow{Kind: w.Kind, Label: w.Label, Start: w.Start, End: w.End})
	}
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
	run := rec.Finish(e.Now())
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
	return decodeRun(b)
}

// addScalars merges reported scalars into a run's sorted metrics; a
// scalar replaces a metric of the same name.
func addScalars(ms []results.Metric, sc []protocols.Scalar) []results.Metric {
	for _, s := range sc {
		i := sort.Search(len(ms), func(i int) bool { return ms[i].Name >= s.Name })
		if i < len(ms) && ms[i].Name == s.Name {
			ms[i].Value = s.Value
			continue
		}
		ms = append(ms, results.Metric{})
		copy(ms[i+1:], ms[i:])
		ms[i] = results.Metric{Name: s.Name, Value: s.Value}
	}
	return ms
}

func paramText(ps []results.Param) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, ", %s=%s", p.Name, p.Value)
	}
	return b.String()
}

// opsAdapter feeds protocol operations to fault coverage.
type opsAdapter struct{ o *results.Ops }

func (a opsAdapter) Op(start, end sim.Time, out protocols.Outcome) {
	var ro results.Outcome
	switch out {
	case protocols.OK:
		ro = results.OK
	case protocols.Failed:
		ro = results.Failed
	default:
		ro = results.Timeout
	}
	a.o.Record(start, end, ro)
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
}

const planFormat = 1

func (x *Experiment) plan(version string) plan {
	sum := sha256.Sum256(x.Resolved)
	p := plan{
		Format:      planFormat,
		Name:        x.Config.Name,
		Description: strings.TrimSpace(x.Config.Description),
		Version:     version,
		ConfigHash:  hex.EncodeToString(sum[:]),
		RunCount:    len(x.Points) * x.Config.Seeds.N(),
		Params:      []string{},
		Plots:       x.Config.Plots,
		Config:      string(x.Resolved),
	}
	for _, s := range x.Config.Sweep {
		p.Params = append(p.Params, s.Path)
	}
	return p
}

func newSet(p plan, runs []RunResult) *results.Set {
	s := &results.Set{
		Manifest: results.Manifest{
			Name:        p.Name,
			Description: p.Description,
			Version:     p.Version,
			Params:      append([]string(nil), p.Params...),
			Plots:       append([]results.PlotSpec(nil), p.Plots...),
		},
		Config: []byte(p.Config),
	}
	for _, r := range runs {
		s.Runs = append(s.Runs, r.Run)
	}
	return s
}

// Files of the runs/ folder.
const (
	runsDir  = "runs"
	planFile = "plan.json"
)

func runFile(dir string, index int) string {
	return filepath.Join(dir, runsDir, fmt.Sprintf("run-%06d.gob", index))
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

func writeRun(dir string, rr RunResult) error {
	b, err := encodeRun(rr)
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(runFile(dir, rr.Run.Index), b)
}

func encodePlan(p plan) []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}

func readPlan(dir string) (plan, error) {
	var p plan
	b, err := os.ReadFile(filepath.Join(dir, runsDir, planFile))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", filepath.Join(dir, runsDir, planFile), err)
	}
	return p, nil
}

// readRuns loads every run file of a folder, by index.
func readRuns(dir string) (map[int]RunResult, error) {
	out := map[int]RunResult{}
	entries, err := os.ReadDir(filepath.Join(dir, runsDir))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		var idx int
		if _, err := fmt.Sscanf(e.Name(), "run-%06d.gob", &idx); err != nil || !strings.HasSuffix(e.Name(), ".gob") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, runsDir, e.Name()))
		if err != nil {
			return nil, err
		}
		rr, err := decodeRun(b)
		if err != nil || rr.Run.Index != idx {
			continue // a damaged file: the run is done again
		}
		out[idx] = rr
	}
	return out, nil
}

// resultFiles are the files a results folder may hold; --force removes
// only these (and runs/, plots/), never anything else in the folder.
var resultFiles = []string{results.RunsFile, results.SummaryFile, results.SeriesFile, results.LatencyFile,
	results.FaultsFile, results.CoverageFile, results.ManifestFile, results.ConfigFile, results.ReportFile,
	results.TimelineSVG, results.TimelineTrace}

// Merge combines the folders of shard runs (dsim run --shard I/N) into
// one results folder holding exactly the bytes a single-process run
// produces. Every folder must come from the same experiment, and together
// they must hold every run.
func Merge(dirs []string, out string, force bool) (*Result, error) {
	if len(dirs) == 0 {
		return nil, badInput("nothing to merge")
	}
	absOut, _ := filepath.Abs(out)
	for _, d := range dirs {
		if a, _ := filepath.Abs(d); a == absOut {
			return nil, badInput("--out %s is one of the folders being merged; merge into a new folder", out)
		}
	}
	var p plan
	all := map[int]RunResult{}
	from := map[int]string{}
	for i, d := range dirs {
		q, err := readPlan(d)
		if err != nil {
			return nil, badInput("%s is not a dsim run folder: %v", d, err)
		}
		if i == 0 {
			p = q
		} else if q.ConfigHash != p.ConfigHash {
			return nil, badInput("%s holds a different experiment than %s (config hash %.12s vs %.12s)", d, dirs[0], q.ConfigHash, p.ConfigHash)
		}
		runs, err := readRuns(d)
		if err != nil {
			return nil, err
		}
		for idx, r := range runs {
			if prev, dup := from[idx]; dup {
				return nil, badInput("%s and %s both hold run %d: the folders overlap (shards of different splits, or a folder given twice); merge the shards of one split only", prev, d, idx)
			}
			all[idx] = r
			from[idx] = d
		}
	}
	var missing []int
	for i := 0; i < p.RunCount; i++ {
		if _, ok := all[i]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		return nil, badInput("the folders hold %d of %d runs; missing runs %s (run the missing shards, or --resume them)", len(all), p.RunCount, intList(missing, 10))
	}
	od, _, err := openOut(out, p, RunOptions{Force: force})
	if err != nil {
		return nil, err
	}
	defer od.release()
	idx := make([]int, 0, len(all))
	for i := range all {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	res := &Result{Out: out, Complete: true, plan: p}
	for _, i := range idx {
		if i >= p.RunCount {
			continue
		}
		if err := writeRun(od.path(), all[i]); err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, all[i])
	}
	if err := writeResults(od.path(), p, res.Runs); err != nil {
		if !isPlotErr(err) {
			return res, err
		}
		res.PlotErr = err
	}
	if err := od.commit(); err != nil {
		return res, err
	}
	return res, nil
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
