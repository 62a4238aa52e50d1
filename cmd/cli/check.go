package cli

import (
	"fmt"
	"math"
	"text/tabwriter"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "check", summary: "run an experiment and evaluate its checks and invariants", run: runCheck})
}

func runCheck(c *cli, args []string) error {
	var f runFlags
	fs := c.newFlags("check", "FILE|NAME [flags]",
		"Run an experiment, then evaluate its checks: entries and the protocol's\n"+
			"invariants. Prints a table; exits 1 on any violation, printing the seed\n"+
			"and a one-line command that replays the failing run. Writes no files\n"+
			"unless --out is given. Takes every flag of 'dsim run'.")
	f.register(fs, "also write the results folder to `DIR`")
	asJSON := fs.Bool("json", false, "print the verdicts as JSON on stdout (progress stays on stderr)")
	arg, err := f.parseOne(fs, args)
	if err != nil {
		return err
	}
	if (f.resume || f.force) && f.out == "" {
		return usagef("--resume and --force need --out")
	}
	x, err := loadExperiment(arg, f.overrides())
	if err != nil {
		return err
	}
	c.warn(x)
	res, _, err := c.execute(x, &f, f.out, false)
	if err != nil {
		return err
	}
	// A check naming a metric that no run has is a mistake in the file,
	// not a failed check.
	if err := x.CheckMetrics(res.Runs); err != nil {
		return inputErr(err)
	}
	rows := experiments.Evaluate(x, res.Runs)
	if *asJSON {
		return c.printChecksJSON(x, rows)
	}
	return c.printChecks(x, rows)
}

// checkJSON is one check at one sweep point in `dsim check --json`.
type checkJSON struct {
	Check    string            `json:"check"`
	OK       bool              `json:"ok"`
	Point    map[string]string `json:"point"`
	Runs     int               `json:"runs"`
	Failed   int               `json:"failed_runs"`
	Worst    *float64          `json:"worst"`
	Failures []failureJSON     `json:"failures,omitempty"`
}

// failureJSON is one failing run with what reproduces it.
type failureJSON struct {
	Run     int    `json:"run"`
	Seed    string `json:"seed"`
	Message string `json:"message"`
	Replay  string `json:"replay"`
}

// printChecksJSON prints every verdict as JSON; it exits like printChecks.
func (c *cli) printChecksJSON(x *experiments.Experiment, rows []experiments.CheckResult) error {
	out := struct {
		Passed int         `json:"passed"`
		Failed int         `json:"failed"`
		Checks []checkJSON `json:"checks"`
	}{Checks: []checkJSON{}}
	for _, r := range rows {
		cj := checkJSON{Check: r.Name, OK: r.OK(), Point: map[string]string{}, Runs: r.Runs, Failed: len(r.Failed)}
		for _, p := range r.Params {
			cj.Point[p.Name] = p.Value
		}
		if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
			v := r.Value
			cj.Worst = &v
		}
		for _, f := range r.Failed {
			cj.Failures = append(cj.Failures, failureJSON{Run: f.Run, Seed: fmt.Sprint(f.Seed), Message: f.Msg, Replay: x.ReplayCommand(f.Run)})
		}
		if cj.OK {
			out.Passed++
		} else {
			out.Failed++
		}
		out.Checks = append(out.Checks, cj)
	}
	if err := writeJSON(c, out); err != nil {
		return err
	}
	if out.Failed > 0 {
		return failError{msg: fmt.Sprintf("%d of %d checks failed", out.Failed, len(rows))}
	}
	return nil
}

// printChecks prints the verdict table and, for failures, the seed and
// replay command of each failing run (at most a few per check).
func (c *cli) printChecks(x *experiments.Experiment, rows []experiments.CheckResult) error {
	if len(rows) == 0 {
		fmt.Fprintln(c.stdout, "no checks: add checks: to the experiment (see docs/config.md)")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCHECK\tPOINT\tRUNS\tWORST")
	failed := 0
	for _, r := range rows {
		verdict := "ok"
		if !r.OK() {
			verdict = "FAIL"
			failed++
		}
		worst := "-"
		if !math.IsNaN(r.Value) {
			worst = fmt.Sprintf("%.6g", r.Value)
		}
		runs := fmt.Sprintf("%d/%d", r.Runs-len(r.Failed), r.Runs)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verdict, r.Name, r.Params.Label(), runs, worst)
	}
	tw.Flush()
	if failed == 0 {
		fmt.Fprintf(c.stdout, "all %d checks passed\n", len(rows))
		return nil
	}
	fmt.Fprintln(c.stdout)
	for _, r := range rows {
		for i, f := range r.Failed {
			if i == 3 {
				fmt.Fprintf(c.stdout, "  ... and %d more failing runs\n", len(r.Failed)-3)
				break
			}
			fmt.Fprintf(c.stdout, "FAIL %s: run %d, seed %d: %s\n  replay: %s\n", r.Name, f.Run, f.Seed, f.Msg, x.ReplayCommand(f.Run))
		}
	}
	return failError{msg: fmt.Sprintf("%d of %d checks failed", failed, len(rows))}
}
