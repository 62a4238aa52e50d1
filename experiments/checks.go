package experiments

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/results"
)

// CheckResult is the verdict of one check (or one protocol invariant) at
// one sweep point.
type CheckResult struct {
	// Name describes the check: "success_ratio ≥ 0.5 (each run)" or
	// "invariant echo_accounting".
	Name string
	// Params is the sweep point.
	Params results.Params
	// Runs is the number of runs evaluated (1 for a check of the mean).
	Runs int
	// Failed lists the failing runs, in index order.
	Failed []Failure
	// Value is the worst value seen (NaN for invariants).
	Value float64
}

// OK reports whether the check held.
func (c CheckResult) OK() bool { return len(c.Failed) == 0 }

// Failure is one run that violated a check, with what is needed to replay
// it.
type Failure struct {
	Run  int
	Seed uint64
	Msg  string
}

// Evaluate applies the experiment's checks and its protocol invariants to
// finished runs (any subset, e.g. a shard). Results come in check order,
// then sweep-point order; invariants follow the checks.
func Evaluate(x *Experiment, runs []RunResult) []CheckResult {
	byPoint := make([][]RunResult, len(x.Points))
	seedsPerPoint := x.Config.Seeds.N()
	for _, r := range runs {
		p := r.Run.Index / max(1, seedsPerPoint)
		if p < len(byPoint) {
			byPoint[p] = append(byPoint[p], r)
		}
	}
	var out []CheckResult
	for _, ch := range x.Config.Checks {
		for pi, pt := range x.Points {
			if !matches(ch.When, pt.Params, x.pinned) || len(byPoint[pi]) == 0 {
				continue
			}
			out = append(out, evalCheck(ch, pt, byPoint[pi]))
		}
	}
	names := invariantNames(runs)
	for _, name := range names {
		for pi, pt := range x.Points {
			if len(byPoint[pi]) == 0 {
				continue
			}
			cr := CheckResult{Name: "invariant " + name, Params: pt.Params, Runs: len(byPoint[pi]), Value: math.NaN()}
			for _, r := range byPoint[pi] {
				for _, v := range r.Violations {
					if v.Invariant == name {
						cr.Failed = append(cr.Failed, Failure{Run: r.Run.Index, Seed: r.Run.Seed, Msg: v.Msg})
					}
				}
			}
			out = append(out, cr)
		}
	}
	return out
}

// invariantNames returns the invariants that failed in any of the runs,
// sorted.
func invariantNames(runs []RunResult) []string {
	set := map[string]bool{}
	for _, r := range runs {
		for _, v := range r.Violations {
			set[v.Invariant] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func matches(when map[string]string, params []results.Param, pinned map[string]string) bool {
	for k, v := range when {
		found := pinned[k] == v
		for _, p := range params {
			if p.Name == k && p.Value == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Describe returns the check as text: "success_ratio ≥ 0.5 (each run)".
func (c Check) Describe() string {
	var bounds []string
	if c.Min != nil {
		bounds = append(bounds, fmt.Sprintf("≥ %g", *c.Min))
	}
	if c.Max != nil {
		bounds = append(bounds, fmt.Sprintf("≤ %g", *c.Max))
	}
	of := "each run"
	if c.Of == OfMean {
		of = "mean over seeds"
	}
	return fmt.Sprintf("%s %s (%s)", c.Metric, strings.Join(bounds, ", "), of)
}

// violates returns why v breaks the check, or "".
func (c Check) violates(v float64, ok bool) string {
	switch {
	case !ok:
		return fmt.Sprintf("no metric %s", c.Metric)
	case math.IsNaN(v):
		return fmt.Sprintf("%s is NaN (no samples)", c.Metric)
	case c.Min != nil && v < *c.Min:
		return fmt.Sprintf("%s = %.6g < min %.6g", c.Metric, v, *c.Min)
	case c.Max != nil && v > *c.Max:
		return fmt.Sprintf("%s = %.6g > max %.6g", c.Metric, v, *c.Max)
	}
	return ""
}

func evalCheck(ch Check, pt Point, runs []RunResult) CheckResult {
	cr := CheckResult{Name: ch.Describe(), Params: pt.Params, Value: math.NaN()}
	worse := func(v float64) {
		if math.IsNaN(v) {
			return
		}
		switch {
		case math.IsNaN(cr.Value):
			cr.Value = v
		case ch.Min != nil && v < cr.Value:
			cr.Value = v
		case ch.Min == nil && v > cr.Value:
			cr.Value = v
		}
	}
	if ch.Of == OfMean {
		cr.Runs = 1
		var sum float64
		n := 0
		found := true
		for _, r := range runs {
			v, ok := r.Run.Metric(ch.Metric)
			if !ok {
				found = false
				break
			}
			sum += v
			n++
		}
		mean := sum / float64(max(n, 1))
		worse(mean)
		if msg := ch.violates(mean, found && n > 0); msg != "" {
			cr.Failed = append(cr.Failed, Failure{Run: runs[0].Run.Index, Seed: runs[0].Run.Seed, Msg: "mean " + msg})
		}
		return cr
	}
	cr.Runs = len(runs)
	for _, r := range runs {
		v, ok := r.Run.Metric(ch.Metric)
		if ok {
			worse(v)
		}
		if msg := ch.violates(v, ok); msg != "" {
			if !ok {
				msg += knownMetrics(r.Run, ch.Metric)
			}
			cr.Failed = append(cr.Failed, Failure{Run: r.Run.Index, Seed: r.Run.Seed, Msg: msg})
		}
	}
	return cr
}

func knownMetrics(r results.Run, name string) string {
	names := make([]string, len(r.Metrics))
	for i, m := range r.Metrics {
		names[i] = m.FullName()
	}
	s := Suggest(name, names)
	if strings.HasPrefix(s, " (known") {
		return " in the run's metrics"
	}
	return s
}

// CheckMetrics reports, as bad input located in the file, every check
// whose metric none of the finished runs has: a misspelt name. It
// returns nil when runs is empty, and when the protocol declares its
// metrics: the loader has refused misspelt names then, and a declared
// metric that no run recorded (an error window the runs ended before)
// is a failed check, not bad input.
func (x *Experiment) CheckMetrics(runs []RunResult) error {
	if len(runs) == 0 {
		return nil
	}
	if len(x.Points) > 0 {
		if _, ok := declaredMetrics(&x.Points[0].Config); ok {
			return nil
		}
	}
	ps := &problems{file: x.Source}
	for i, ch := range x.Config.Checks {
		found := false
		for _, r := range runs {
			if _, ok := r.Run.Metric(ch.Metric); ok {
				found = true
				break
			}
		}
		if found {
			continue
		}
		p := Problem{File: x.Source, Path: fmt.Sprintf("checks[%d].metric", i)}
		if i < len(x.checkAt) {
			p = x.checkAt[i]
		}
		p.Msg = fmt.Sprintf("%q is not a metric of the runs%s", ch.Metric, knownMetrics(runs[0].Run, ch.Metric))
		ps.list = append(ps.list, p)
	}
	return ps.err()
}

// ReplayDir is the folder a replay command writes to: out/<name>-replay-<seed>.
func (x *Experiment) ReplayDir(seed uint64) string {
	return fmt.Sprintf("out/%s-replay-%d", x.Config.Name, seed)
}

// ReplayCommand returns a one-line command that checks exactly run index
// again: `dsim check FILE --seed S --set path=value ... --out DIR --force`.
// It exits 1 as long as the failure reproduces, writes the run's results
// to a folder of its own (replaced on every replay, so the command can be
// repeated), and a replay's own replay command is the same command.
func (x *Experiment) ReplayCommand(index int) string {
	specs := x.Runs()
	if index < 0 || index >= len(specs) {
		return ""
	}
	s := specs[index]
	parts := []string{"dsim", "check", shellQuote(x.Source), "--seed", fmt.Sprint(s.Seed)}
	for _, set := range x.Sets {
		if strings.HasPrefix(set, "seeds=") || strings.HasPrefix(set, "timeline.run=") {
			continue
		}
		parts = append(parts, "--set", shellQuote(set))
	}
	for _, p := range s.Point.Params {
		parts = append(parts, "--set", shellQuote(p.Name+"="+p.Value))
	}
	if x.Config.Timeline != nil {
		// The replay is a single run: record its timeline.
		parts = append(parts, "--set", "timeline.run=0")
	}
	parts = append(parts, "--out", shellQuote(x.ReplayDir(s.Seed)), "--force")
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
