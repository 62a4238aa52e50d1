package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dsim-dev/dsim/experiments"
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"github.com/schollz/progressbar/v3"
)

func init() {
	register(&command{name: "run", summary: "run an experiment (a YAML file or a bundled name)", run: runRun})
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// runFlags are the flags shared by run and check.
type runFlags struct {
	out      string
	seeds    int
	seed     uint64
	seedSet  bool
	sets     multiFlag
	parallel int
	resume   bool
	force    bool
	quiet    bool
	verify   bool
	shard    string
	shardI   int
	shardN   int
	// given holds the names of the flags given on the command line.
	given map[string]bool
}

func (f *runFlags) register(fs *flag.FlagSet, outHelp string) {
	fs.StringVar(&f.out, "out", "", outHelp)
	fs.IntVar(&f.seeds, "seeds", 0, "run `N` seeds per sweep point (overrides seeds:)")
	fs.Func("seed", "run the single seed `S` (as printed by a replay command)", func(s string) error {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return fmt.Errorf("want a non-negative integer")
		}
		f.seed, f.seedSet = v, true
		return nil
	})
	fs.Var(&f.sets, "set", "override a config field, `path=value` (repeatable), e.g. protocol.timeout=250ms")
	fs.IntVar(&f.parallel, "parallel", 0, "runs at once, `P` (default GOMAXPROCS); results do not depend on it")
	fs.BoolVar(&f.resume, "resume", false, "continue an interrupted run in the output folder, keeping finished runs")
	fs.BoolVar(&f.force, "force", false, "replace the results in an existing output folder")
	fs.BoolVar(&f.quiet, "quiet", false, "print no progress")
	fs.BoolVar(&f.verify, "verify-determinism", false, "run every run twice and compare event hashes")
	fs.StringVar(&f.shard, "shard", "", "run only shard `I/N` of the runs (I from 0); combine the folders with dsim merge")
}

// check validates the flag combination.
func (f *runFlags) check() error {
	if f.seeds < 0 || (f.seeds == 0 && f.given["seeds"]) {
		return usagef("--seeds must be at least 1, got %d", f.seeds)
	}
	if f.given["out"] && strings.TrimSpace(f.out) == "" {
		return usagef("--out must name a folder (leave it out for the default)")
	}
	if f.seeds > 0 && f.seedSet {
		return usagef("--seeds and --seed exclude each other")
	}
	if f.parallel < 0 || (f.parallel == 0 && f.given["parallel"]) {
		return usagef("--parallel must be at least 1 (leave it out for one run per core), got %d", f.parallel)
	}
	if f.resume && f.force {
		return usagef("--resume and --force exclude each other")
	}
	f.shardN = 1
	if f.shard != "" {
		i, n, ok := strings.Cut(f.shard, "/")
		iv, err1 := strconv.Atoi(strings.TrimSpace(i))
		nv, err2 := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err1 != nil || err2 != nil || nv < 1 || iv < 0 || iv >= nv {
			return usagef("--shard %q: want I/N with 0 ≤ I < N, e.g. 0/3", f.shard)
		}
		f.shardI, f.shardN = iv, nv
	}
	return nil
}

// overrides returns the --set list with --seeds/--seed folded in.
func (f *runFlags) overrides() []string {
	sets := append([]string(nil), f.sets...)
	if f.seeds > 0 {
		sets = append(sets, "seeds="+strconv.Itoa(f.seeds))
	}
	if f.seedSet {
		sets = append(sets, "seeds=["+strconv.FormatUint(f.seed, 10)+"]")
	}
	return sets
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`dsim run FILE --seed 3`). "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadExperiment loads FILE|NAME with the overrides, mapping bad input to
// exit code 2.
func loadExperiment(source string, sets []string) (*experiments.Experiment, error) {
	x, err := experiments.Load(source, experiments.Options{Sets: sets})
	if err != nil {
		return nil, inputErr(err)
	}
	return x, nil
}

// inputErr turns the experiments package's bad-input errors into usage
// errors (exit 2).
func inputErr(err error) error {
	// A protocol selector that matches no node is a mistake in the file
	// even when only the run finds it (a family whose config does not
	// tag its selectors for the loader).
	// An input file that is not a regular file or is over its bound
	// (a FIFO, a device, a huge file in a results folder) is bad input too.
	if errors.Is(err, experiments.ErrBadInput) || errors.Is(err, protocols.ErrNoMatch) || errors.Is(err, results.ErrBadFile) {
		return usageError{err}
	}
	return err
}

func runRun(c *cli, args []string) error {
	var f runFlags
	fs := c.newFlags("run", "FILE|NAME [flags]",
		"Run an experiment: every sweep point × seed, in parallel across runs, each run\n"+
			"single-threaded and deterministic. Results go to --out (default out/<name>/):\n"+
			"runs.csv, metrics.csv, summary.csv, timeseries.csv, plots/, report.html, manifest.json.\n"+
			"NAME is a bundled experiment (see 'dsim examples'). Ctrl-C stops cleanly and\n"+
			"keeps finished runs; --resume continues.")
	f.register(fs, "output `DIR` (default out/<name>/, or out/<name>-shard-I-of-N/)")
	arg, err := f.parseOne(fs, args)
	if err != nil {
		return err
	}
	x, err := loadExperiment(arg, f.overrides())
	if err != nil {
		return err
	}
	c.warn(x)
	out := f.out
	if out == "" {
		out = filepath.Join("out", x.Config.Name)
		if f.shardN > 1 {
			out += fmt.Sprintf("-shard-%d-of-%d", f.shardI, f.shardN)
		}
	}
	res, elapsed, err := c.execute(x, &f, out, true)
	if err != nil {
		return err
	}
	c.printDone(res, elapsed, f.quiet)
	return invariantFailures(res)
}

// invariantFailures makes a run whose protocol invariants failed exit 1,
// naming them; the results are written all the same.
func invariantFailures(res *experiments.Result) error {
	runs := 0
	count := map[string]int{}
	for _, r := range res.Runs {
		if len(r.Violations) > 0 {
			runs++
		}
		for _, v := range r.Violations {
			count[v.Invariant]++
		}
	}
	if runs == 0 {
		return nil
	}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, fmt.Sprintf("%s (%d runs)", n, count[n]))
	}
	return failError{msg: fmt.Sprintf("invariants failed in %d of %d runs: %s; 'dsim check' prints each failing seed and a replay command",
		runs, max(res.Count, len(res.Runs)), strings.Join(parts, ", "))}
}

// warn prints the experiment's warnings (legal settings that do nothing).
func (c *cli) warn(x *experiments.Experiment) {
	for _, w := range x.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", w)
	}
}

// execute runs x with the flags, with a progress display and Ctrl-C
// handling. discard drops the finished runs from memory (dsim run);
// otherwise their scalars and violations are kept for the checks.
func (c *cli) execute(x *experiments.Experiment, f *runFlags, out string, discard bool) (*experiments.Result, time.Duration, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(c, f.quiet)
	start := time.Now()
	res, err := experiments.Run(ctx, x, experiments.RunOptions{
		Out:               out,
		Parallel:          f.parallel,
		Shard:             f.shardI,
		Shards:            f.shardN,
		Resume:            f.resume,
		Force:             f.force,
		VerifyDeterminism: f.verify,
		Version:           version,
		Progress:          prog.update,
		Discard:           discard,
		Slim:              true,
	})
	prog.finish()
	// The rate counts the runs only, not writing the results folder.
	elapsed := prog.lastRun.Sub(start)
	if prog.lastRun.IsZero() {
		elapsed = time.Since(start)
	}
	switch {
	case err == nil:
		if res.PlotErr != nil && !f.quiet {
			fmt.Fprintf(c.stderr, "warning: %v\n", res.PlotErr)
		}
		return res, elapsed, nil
	case errors.Is(err, experiments.ErrInterrupted):
		msg := err.Error()
		switch {
		case out != "" && f.force:
			msg += fmt.Sprintf("; the results in %s are unchanged (--force replaces them only with a complete run)", out)
		case out != "":
			msg += fmt.Sprintf("; finished runs are kept in %s\ncontinue with: %s --resume", out, commandLine(x, f, out))
		}
		return res, elapsed, interruptedError{msg: msg}
	case errors.Is(err, experiments.ErrNondeterministic):
		return res, elapsed, failError{msg: err.Error()}
	}
	if f.force && out != "" && !errors.Is(err, experiments.ErrBadInput) {
		err = fmt.Errorf("%w\nthe previous results in %s are unchanged (--force replaces them only with a complete run)", err, out)
	}
	return res, elapsed, inputErr(err)
}

// commandLine rebuilds the run command for a resume hint.
func commandLine(x *experiments.Experiment, f *runFlags, out string) string {
	parts := []string{"dsim", "run", x.Source, "--out", out}
	for _, s := range f.sets {
		parts = append(parts, "--set", s)
	}
	if f.seeds > 0 {
		parts = append(parts, "--seeds", strconv.Itoa(f.seeds))
	}
	if f.seedSet {
		parts = append(parts, "--seed", strconv.FormatUint(f.seed, 10))
	}
	if f.shardN > 1 {
		parts = append(parts, "--shard", f.shard)
	}
	return strings.Join(parts, " ")
}

// printDone reports the run count and rate on stderr (unless quiet) and
// the results folder on stdout.
func (c *cli) printDone(res *experiments.Result, elapsed time.Duration, quiet bool) {
	if !quiet {
		n := res.Count - res.Resumed
		rate := float64(n) / elapsed.Seconds()
		fmt.Fprintf(c.stderr, "%d runs in %v (%.1f runs/s)", n, elapsed.Round(time.Millisecond), rate)
		if res.Resumed > 0 {
			fmt.Fprintf(c.stderr, ", %d resumed", res.Resumed)
		}
		fmt.Fprintln(c.stderr)
	}
	switch {
	case res.Out != "" && res.Shard:
		fmt.Fprintf(c.stdout, "shard runs in %s (combine the shards with dsim merge for the results and report)\n", res.Out)
	case res.Out != "":
		fmt.Fprintf(c.stdout, "results in %s (open %s)\n", res.Out, filepath.Join(res.Out, "report.html"))
	}
}

// progress shows the runner's progress: a bar on a terminal, a plain line
// every few seconds otherwise, nothing when quiet.
type progress struct {
	// lastRun is when the last run finished.
	lastRun time.Time
	w       io.Writer
	bar     *progressbar.ProgressBar
	wbar    *progressbar.ProgressBar
	wstart  time.Time
	quiet   bool
	plain   bool
	start   time.Time
	last    time.Time
	total   int
	done    int
	base    int
}

func newProgress(c *cli, quiet bool) *progress {
	return &progress{w: c.stderr, quiet: quiet, plain: !c.interactive, start: time.Now()}
}

func (p *progress) update(s experiments.Progress) {
	if s.Writing {
		p.writing(s)
		return
	}
	if s.Done > s.Resumed {
		p.lastRun = time.Now()
	}
	if p.quiet {
		return
	}
	if p.bar == nil && !p.plain {
		p.bar = progressbar.NewOptions(s.Total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("runs"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("runs"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		)
		if s.Resumed > 0 {
			p.draw(p.bar.Set(s.Resumed))
		}
	}
	if p.total == 0 {
		p.base = s.Resumed
	}
	p.total, p.done = s.Total, s.Done
	if p.bar != nil {
		p.draw(p.bar.Set(s.Done))
		return
	}
	now := time.Now()
	if s.Done < s.Total && now.Sub(p.last) < 2*time.Second && s.Done > s.Resumed {
		return
	}
	if s.Done == s.Resumed && s.Done < s.Total && !p.last.IsZero() {
		return
	}
	p.last = now
	p.line(now)
}

func (p *progress) line(now time.Time) {
	el := now.Sub(p.start)
	fresh := p.done - p.base
	rate := float64(fresh) / el.Seconds()
	eta := "?"
	if fresh > 0 && p.done < p.total {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	} else if p.done >= p.total {
		eta = "0s"
	}
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	fmt.Fprintf(p.w, "runs %d/%d (%.0f%%)  %.1f runs/s  eta %s\n", p.done, p.total, pct, rate, eta)
}

// writing shows the write phase: a bar on a terminal, a line every few
// seconds and at the end otherwise.
func (p *progress) writing(s experiments.Progress) {
	if p.quiet {
		return
	}
	now := time.Now()
	if p.wbar == nil && !p.plain {
		if p.bar != nil {
			p.draw(p.bar.Finish())
		}
		if p.quiet {
			return
		}
		p.wbar = progressbar.NewOptions(s.ToWrite,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("writing results"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		)
	}
	if p.wbar != nil {
		p.wbar.ChangeMax(s.ToWrite)
		p.draw(p.wbar.Set(s.Written))
		return
	}
	if p.wstart.IsZero() {
		p.wstart = now
		fmt.Fprintf(p.w, "writing results (%d steps)\n", s.ToWrite)
		p.last = now
		return
	}
	if s.Written >= s.ToWrite {
		fmt.Fprintf(p.w, "wrote results in %v\n", now.Sub(p.wstart).Round(time.Millisecond))
		return
	}
	if now.Sub(p.last) >= 2*time.Second {
		p.last = now
		fmt.Fprintf(p.w, "writing results %d/%d\n", s.Written, s.ToWrite)
	}
}

func (p *progress) finish() {
	if p.quiet {
		return
	}
	if p.wbar != nil {
		p.draw(p.wbar.Finish())
		return
	}
	if p.bar != nil {
		p.draw(p.bar.Finish())
		return
	}
}

// draw handles the error of drawing a progress bar: stderr cannot take
// it (closed, full), so the display stops for the rest of the command
// rather than failing it; the runs and their results go on.
func (p *progress) draw(err error) {
	if err != nil {
		p.quiet = true
	}
}

// parseOne parses the flags of run or check, which take exactly one
// experiment file or bundled name, and checks the flags' values.
func (f *runFlags) parseOne(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("want exactly one experiment file or bundled name, got %d arguments", len(pos))
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	if err := f.check(); err != nil {
		return "", err
	}
	return pos[0], nil
}
