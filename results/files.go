package results

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// File names inside a results folder.
const (
	RunsFile       = "runs.csv"
	MetricsFile    = "metrics.csv"
	SummaryFile    = "summary.csv"
	SeriesFile     = "timeseries.csv"
	RunSeriesFile  = "timeseries_runs.csv.gz"
	LatencyFile    = "latency.csv"
	FaultsFile     = "faults.csv"
	CoverageFile   = "fault_coverage.csv"
	ManifestFile   = "manifest.json"
	ConfigFile     = "config.resolved.yaml"
	ReportFile     = "report.html"
	PlotsDir       = "plots"
	TimelineSVG    = "timeline.svg"
	TimelineTrace  = "trace.json"
	manifestFormat = 2
)

// Time-series output modes (OutputConfig.Timeseries).
const (
	// SeriesAggregate writes timeseries.csv: every series averaged over
	// the seeds of each sweep point, with a confidence band.
	SeriesAggregate = "aggregate"
	// SeriesPerRun also writes every run's raw series to
	// timeseries_runs.csv.gz.
	SeriesPerRun = "per_run"
)

// OutputConfig is the `results:` section of an experiment: what the
// results folder holds beyond its defaults.
type OutputConfig struct {
	// Timeseries is "aggregate" (the default: per sweep point, mean and
	// 95% CI per bucket, in timeseries.csv) or "per_run" (also every
	// run's raw series, gzip-compressed CSV in timeseries_runs.csv.gz,
	// leaving out series that are 0 throughout a run; it grows with the
	// seeds: about 170 KB per run of the bundled retry-storm, plus the
	// run's series kept in runs/, about 130 KB).
	Timeseries string `yaml:"timeseries" json:"timeseries"`
	// Formats are the plot image formats written under plots/: png, svg
	// and pdf. PNG is always written (the report inlines it).
	Formats []string `yaml:"formats" json:"formats"`
}

// DefaultOutputConfig returns aggregated series and PNG, SVG and PDF
// plots.
func DefaultOutputConfig() OutputConfig {
	return OutputConfig{Timeseries: SeriesAggregate, Formats: []string{"png", "svg", "pdf"}}
}

// Validate checks the section; paths use the YAML field names.
func (c OutputConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Timeseries != SeriesAggregate && c.Timeseries != SeriesPerRun {
		fe.Add("timeseries", "must be %s or %s, got %q", SeriesAggregate, SeriesPerRun, c.Timeseries)
	}
	for i, f := range c.Formats {
		if f != "png" && f != "svg" && f != "pdf" {
			fe.Add(fmt.Sprintf("formats[%d]", i), "must be png, svg or pdf, got %q", f)
		}
	}
	return fe.Err()
}

// ReportConfig is the `report:` section of an experiment.
type ReportConfig struct {
	// Headline lists the metrics of the report's headline table, in
	// order: names like "success_ratio" or "window_amplification{tier=db}";
	// a name that leaves out labels of its metric gives a column for each
	// label set it matches ("amplification": one per tier). Empty: the
	// protocol family's headline metrics.
	Headline []string `yaml:"headline" json:"headline"`
}

// MetricInfo describes a metric for people: the title and unit that
// plots and the report show instead of its name. Name is a base name
// without labels ("attempts_rps"); Headline marks the family's key
// figures.
type MetricInfo struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Unit     string `json:"unit,omitempty"`
	Headline bool   `json:"headline,omitempty"`
}

// Manifest describes a results folder; it is written as manifest.json.
type Manifest struct {
	// Format is the version of the folder layout.
	Format int `json:"format"`
	// Name and Description come from the experiment file.
	Name        string `json:"name"`
	Description string `json:"description"`
	// Version is the dsim version that produced the folder.
	Version string `json:"dsim_version"`
	// ConfigHash is the SHA-256 of the resolved config; Write fills it
	// from Set.Config when empty.
	ConfigHash string `json:"config_hash"`
	// Seeds are the run seeds in run order, as decimal strings (JSON
	// readers round integers above 2^53).
	Seeds []string `json:"seeds"`
	// RunCount is the number of runs.
	RunCount int `json:"run_count"`
	// Params are the swept parameters, in column order.
	Params []string `json:"params"`
	// Columns are the CSV column names of Params: plain identifiers,
	// with "_s" for durations (in seconds) and "_per_s" for rates.
	Columns []string `json:"columns"`
	// Points are the sweep points' parameter values as written in the
	// experiment file, in point order.
	Points [][]string `json:"points"`
	// Plots are the plots drawn; DefaultPlots when the experiment has
	// none.
	Plots []PlotSpec `json:"plots"`
	// Output is the results section (series mode, plot formats).
	Output OutputConfig `json:"output"`
	// Headline are the metrics of the report's headline table.
	Headline []string `json:"headline"`
	// Metrics are the titles and units of the metrics the protocol
	// family registered.
	Metrics []MetricInfo `json:"metrics,omitempty"`
	// Checks are the outcomes of the experiment's checks and invariants,
	// shown in the report.
	Checks []CheckRow `json:"checks,omitempty"`
	// Notes are shown at the top of the report (for example "timeline
	// truncated to 10000 events").
	Notes []string `json:"notes,omitempty"`
}

// CheckRow is one check's verdict at one sweep point, for the report.
type CheckRow struct {
	Name   string `json:"name"`
	Point  string `json:"point"`
	Runs   int    `json:"runs"`
	Failed int    `json:"failed"`
	Worst  string `json:"worst,omitempty"`
	Replay string `json:"replay,omitempty"`
}

// Set is a whole experiment in memory: the input of Write.
type Set struct {
	Manifest Manifest
	// Config is the resolved experiment config as YAML.
	Config []byte
	// Runs are the runs in index order.
	Runs []Run
}

// Folder is a results folder's aggregated content: what plots and the
// report are drawn from, and what Read returns.
type Folder struct {
	Manifest Manifest
	Config   []byte
	Summary  *Summary
}

// Summary aggregates the set's runs.
func (s *Set) Summary() *Summary { return Aggregate(s.Manifest.Params, s.Runs) }

// Write writes a complete results folder from runs held in memory; it
// is Aggregate, WriteRuns, WriteSummary and Render in a row. The same Set
// always gives the same bytes. It fills the Manifest's derived fields in
// s. A plot that cannot be drawn does not stop the rest: Write writes
// everything else, marks the plot in the report and returns the plot
// errors joined (see IsPlotError).
func Write(dir string, s *Set) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sum := Aggregate(s.Manifest.Params, s.Runs)
	f := &Folder{Manifest: s.Manifest, Config: s.Config, Summary: sum}
	if len(f.Manifest.Seeds) == 0 {
		for _, r := range s.Runs {
			f.Manifest.Seeds = append(f.Manifest.Seeds, strconv.FormatUint(r.Seed, 10))
		}
	}
	f.Manifest.RunCount = len(s.Runs)
	f.Fill()
	s.Manifest = f.Manifest
	err := WriteRuns(dir, f, func(yield func(*Run) error) error {
		for i := range s.Runs {
			if err := yield(&s.Runs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := WriteSummary(dir, f); err != nil {
		return err
	}
	return Render(dir, f, nil)
}

// Fill completes the manifest's derived fields from the config and the
// summary: format, config hash, parameter columns, points, default plots,
// output settings and headline metrics.
func (f *Folder) Fill() {
	m := &f.Manifest
	m.Format = manifestFormat
	if m.ConfigHash == "" && f.Config != nil {
		sum := sha256.Sum256(f.Config)
		m.ConfigHash = hex.EncodeToString(sum[:])
	}
	if m.Params == nil {
		m.Params = []string{}
	}
	if m.Seeds == nil {
		m.Seeds = []string{}
	}
	if m.Output.Timeseries == "" {
		m.Output.Timeseries = SeriesAggregate
	}
	if len(m.Output.Formats) == 0 {
		m.Output.Formats = DefaultOutputConfig().Formats
	}
	m.Points = nil
	for i := range f.Summary.Points {
		var vals []string
		for _, p := range m.Params {
			v, _ := f.Summary.Points[i].Param(p)
			vals = append(vals, v)
		}
		m.Points = append(m.Points, vals)
	}
	if m.Points == nil {
		m.Points = [][]string{}
	}
	m.Columns = paramColumns(m.Params, m.Points)
	if len(m.Plots) == 0 {
		m.Plots = DefaultPlots(f.Summary, m.Params)
	}
	if len(m.Headline) == 0 {
		for _, mi := range m.Metrics {
			if mi.Headline {
				m.Headline = append(m.Headline, mi.Name)
			}
		}
	}
	if m.Headline == nil {
		m.Headline = []string{}
	}
}

// Replot re-renders plots/ and report.html of a results folder from its
// aggregated files, without re-running anything.
func Replot(dir string) error {
	f, err := Read(dir)
	if err != nil {
		return err
	}
	return Render(dir, f, nil)
}

// IsPlotError reports whether err (from Write or Render) is only about
// plots that could not be drawn, so the other files were written: err is
// a *PlotError, or wraps or joins nothing but *PlotErrors. Take each
// plot's index and cause with errors.As.
func IsPlotError(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *PlotError:
		return true
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if !IsPlotError(inner) {
				return false
			}
		}
		return len(e.Unwrap()) > 0
	case interface{ Unwrap() error }:
		return IsPlotError(e.Unwrap())
	}
	return false
}

// PlotError is a plot that could not be drawn.
type PlotError struct {
	Index int
	Spec  PlotSpec
	Err   error
}

// Error says which plot failed and why.
func (e *PlotError) Error() string {
	return fmt.Sprintf("plot %d (%s %s): %v", e.Index+1, e.Spec.Kind, e.Spec.Metric, e.Err)
}

// Unwrap returns the cause.
func (e *PlotError) Unwrap() error { return e.Err }

// WriteFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// FormatFloat formats a value for the CSV files: the shortest decimal
// that reads back exactly, "NaN" and "Inf"/"-Inf", which pandas and R
// both parse as numbers.
func FormatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ParseFloat parses what FormatFloat writes.
func ParseFloat(s string) (float64, error) {
	switch s {
	case "NaN", "":
		return math.NaN(), nil
	case "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func timeS(t sim.Time) string {
	if t == sim.Never {
		return "Inf"
	}
	return FormatFloat(t.Seconds())
}

func parseTimeS(s string) (sim.Time, error) {
	v, err := ParseFloat(s)
	if err != nil {
		return 0, err
	}
	if math.IsInf(v, 1) {
		return sim.Never, nil
	}
	return sim.Time(math.Round(v * 1e9)), nil
}

// atomicFile is a file written through a temporary file and a rename.
type atomicFile struct {
	f    *os.File
	buf  *bufio.Writer
	gz   *gzip.Writer
	csv  *csv.Writer
	path string
}

func createAtomic(path string, compress bool) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	a := &atomicFile{f: f, buf: bufio.NewWriterSize(f, 1<<16), path: path}
	var w io.Writer = a.buf
	if compress {
		a.gz = gzip.NewWriter(a.buf)
		w = a.gz
	}
	a.csv = csv.NewWriter(w)
	return a, nil
}

func (a *atomicFile) row(fields ...string) error { return a.csv.Write(fields) }

func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

func (a *atomicFile) commit() error {
	a.csv.Flush()
	err := a.csv.Error()
	if a.gz != nil && err == nil {
		err = a.gz.Close()
	}
	if err == nil {
		err = a.buf.Flush()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(a.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

// Parameter value kinds, for their CSV columns.
const (
	kindText = iota
	kindNumber
	kindDuration
	kindRate
)

// columnName makes a plain identifier of a parameter path:
// "client.retry.policy" → "client_retry_policy".
func columnName(p string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(p) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "p_" + s
	}
	return s
}

// parseRate parses "1000/s", "2.5/ms", "60/min" or "10/h" as events per
// second.
func parseRate(s string) (float64, bool) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, false
	}
	per := map[string]float64{"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "m": 60, "h": 3600}
	d, ok := per[strings.TrimSpace(unit)]
	if !ok {
		return 0, false
	}
	return v / d, true
}

// valueKind classifies a parameter by all its values: numbers, durations,
// rates, or text.
func valueKind(vals []string) int {
	if len(vals) == 0 {
		return kindText
	}
	all := func(ok func(string) bool) bool {
		for _, v := range vals {
			if !ok(v) {
				return false
			}
		}
		return true
	}
	switch {
	case all(func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }):
		return kindNumber
	case all(func(v string) bool { _, err := time.ParseDuration(v); return err == nil }):
		return kindDuration
	case all(func(v string) bool { _, ok := parseRate(v); return ok }):
		return kindRate
	}
	return kindText
}

func paramKinds(params []string, points [][]string) []int {
	kinds := make([]int, len(params))
	for i := range params {
		var vals []string
		for _, pt := range points {
			if i < len(pt) {
				vals = append(vals, pt[i])
			}
		}
		kinds[i] = valueKind(vals)
	}
	return kinds
}

// paramColumns names the CSV columns of the swept parameters: durations
// get "_s" (values in seconds), rates "_per_s".
func paramColumns(params []string, points [][]string) []string {
	kinds := paramKinds(params, points)
	cols := make([]string, len(params))
	for i, p := range params {
		cols[i] = columnName(p)
		switch kinds[i] {
		case kindDuration:
			cols[i] += "_s"
		case kindRate:
			cols[i] += "_per_s"
		}
	}
	return cols
}

// paramCell is a parameter value as its column holds it.
func paramCell(kind int, v string) string {
	switch kind {
	case kindNumber:
		f, _ := strconv.ParseFloat(v, 64)
		return FormatFloat(f)
	case kindDuration:
		d, _ := time.ParseDuration(v)
		return FormatFloat(d.Seconds())
	case kindRate:
		r, _ := parseRate(v)
		return FormatFloat(r)
	}
	return v
}

// tidy holds what every tidy file of a folder shares: the parameter
// columns and the label columns.
type tidy struct {
	params  []string
	cols    []string
	kinds   []int
	labels  []string // label keys, sorted
	lcols   []string // their column names
	pointOf map[string][]string
}

func newTidy(f *Folder) *tidy {
	m := &f.Manifest
	t := &tidy{params: m.Params, cols: paramColumns(m.Params, m.Points), kinds: paramKinds(m.Params, m.Points), pointOf: map[string][]string{}}
	seen := map[string]bool{}
	addLabels := func(ls Labels) {
		for _, l := range ls {
			if !seen[l.Key] {
				seen[l.Key] = true
				t.labels = append(t.labels, l.Key)
			}
		}
	}
	for i := range f.Summary.Points {
		p := &f.Summary.Points[i]
		for _, ms := range p.Metrics {
			addLabels(ms.Labels)
		}
		for _, s := range p.Series {
			addLabels(s.Labels)
		}
		for _, d := range p.CDFs {
			addLabels(d.Labels)
		}
	}
	sort.Strings(t.labels)
	fixed := map[string]bool{"run": true, "seed": true, "metric": true, "value": true, "n": true, "mean": true, "sd": true,
		"ci_low": true, "ci_high": true, "time_s": true, "bucket_s": true, "quantile": true, "value_ms": true}
	for _, c := range t.cols {
		fixed[c] = true
	}
	for _, l := range t.labels {
		c := columnName(l)
		if fixed[c] {
			c = "label_" + c
		}
		t.lcols = append(t.lcols, c)
	}
	return t
}

// head is a header: the parameter columns, metric, the label columns,
// then rest.
func (t *tidy) head(rest ...string) []string {
	h := append(append([]string{}, t.cols...), "metric")
	return append(append(h, t.lcols...), rest...)
}

func (t *tidy) paramCells(ps []Param) []string {
	out := make([]string, len(t.params))
	for i, name := range t.params {
		for _, p := range ps {
			if p.Name == name {
				out[i] = paramCell(t.kinds[i], p.Value)
			}
		}
	}
	return out
}

// metricCells returns a metric's name cell and one cell per label column.
func (t *tidy) metricCells(id MetricID) []string {
	out := make([]string, 1+len(t.labels))
	out[0] = id.Name
	for _, l := range id.Labels {
		i := sort.SearchStrings(t.labels, l.Key)
		if i < len(t.labels) && t.labels[i] == l.Key {
			out[1+i] = l.Value
		}
	}
	return out
}

// cellsID reads a metric back from its name cell and label cells (empty
// cells are labels the metric does not have); the labels come out sorted
// by key, as aggregation keeps them.
func (t *tidy) cellsID(cells []string) MetricID {
	id := MetricID{Name: cells[0]}
	for i, v := range cells[1:] {
		if v != "" {
			id.Labels = append(id.Labels, sim.Label{Key: t.labels[i], Value: v})
		}
	}
	return id
}

// WriteRuns writes the per-run files in one streaming pass over the runs
// (each yields them in index order): runs.csv (run, parameters, seed),
// metrics.csv (run, metric, labels, value; metrics that are zero or
// missing in every run are left out, summary.csv still lists them) and,
// with Output.Timeseries "per_run", timeseries_runs.csv.gz (run, metric,
// labels, bucket_s, time_s, value; the bucket width is written, not left
// to be guessed from the gaps between rows, which skip buckets without a
// value; series that are 0 throughout a run left out). f must be
// filled (Folder.Fill) from the summary of the same runs.
func WriteRuns(dir string, f *Folder, each func(yield func(*Run) error) error) error {
	t := newTidy(f)
	zero := map[string]bool{}
	nonZero := map[string]bool{}
	for i := range f.Summary.Points {
		for _, ms := range f.Summary.Points[i].Metrics {
			if ms.Zero {
				zero[ms.key()] = true
			} else {
				nonZero[ms.key()] = true
			}
		}
	}
	runs, err := createAtomic(filepath.Join(dir, RunsFile), false)
	if err != nil {
		return err
	}
	defer runs.abort()
	mets, err := createAtomic(filepath.Join(dir, MetricsFile), false)
	if err != nil {
		return err
	}
	defer mets.abort()
	var sers *atomicFile
	if f.Manifest.Output.Timeseries == SeriesPerRun {
		if sers, err = createAtomic(filepath.Join(dir, RunSeriesFile), true); err != nil {
			return err
		}
		defer sers.abort()
		head := append([]string{"run", "metric"}, t.lcols...)
		if err := sers.row(append(head, "bucket_s", "time_s", "value")...); err != nil {
			return err
		}
	} else {
		os.Remove(filepath.Join(dir, RunSeriesFile))
	}
	head := append([]string{"run"}, t.cols...)
	if err := runs.row(append(head, "seed")...); err != nil {
		return err
	}
	if err := mets.row(append(append([]string{"run", "metric"}, t.lcols...), "value")...); err != nil {
		return err
	}
	err = each(func(r *Run) error {
		run := strconv.Itoa(r.Index)
		row := append([]string{run}, t.paramCells(r.Params)...)
		if err := runs.row(append(row, strconv.FormatUint(r.Seed, 10))...); err != nil {
			return err
		}
		for _, m := range r.Metrics {
			if k := m.key(); zero[k] && !nonZero[k] {
				continue
			}
			row := append([]string{run}, t.metricCells(m.MetricID)...)
			if err := mets.row(append(row, FormatFloat(m.Value))...); err != nil {
				return err
			}
		}
		if sers != nil {
			for _, s := range r.Series {
				if zeroSeries(s.Values) {
					continue // 0 throughout the run
				}
				cells := append([]string{run}, t.metricCells(s.MetricID)...)
				cells = append(cells, FormatFloat(s.Step.Seconds()))
				for k, v := range s.Values {
					if math.IsNaN(v) {
						continue
					}
					row := append(cells[:len(cells):len(cells)], timeS(sim.Time(int64(k)*int64(s.Step))), FormatFloat(v))
					if err := sers.row(row...); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := runs.commit(); err != nil {
		return err
	}
	if sers != nil {
		if err := sers.commit(); err != nil {
			return err
		}
	}
	return mets.commit()
}

// WriteSummary writes the aggregated files (summary.csv, timeseries.csv,
// latency.csv, faults.csv, fault_coverage.csv), manifest.json and the
// resolved config.
func WriteSummary(dir string, f *Folder) error {
	t := newTidy(f)
	lead := func(p *Point) []string { return t.paramCells(p.Params) }
	type file struct {
		name string
		head []string
		rows func(a *atomicFile) error
	}
	files := []file{
		{SummaryFile, t.head("n", "mean", "sd", "ci_low", "ci_high"),
			func(a *atomicFile) error {
				for i := range f.Summary.Points {
					p := &f.Summary.Points[i]
					for _, ms := range p.Metrics {
						row := append(lead(p), t.metricCells(ms.MetricID)...)
						row = append(row, strconv.Itoa(ms.N), FormatFloat(ms.Mean), FormatFloat(ms.SD), FormatFloat(ms.CILow), FormatFloat(ms.CIHigh))
						if err := a.row(row...); err != nil {
							return err
						}
					}
				}
				return nil
			}},
		{SeriesFile, t.head("bucket_s", "time_s", "n", "mean", "ci_low", "ci_high"),
			func(a *atomicFile) error {
				for i := range f.Summary.Points {
					p := &f.Summary.Points[i]
					for _, s := range p.Series {
						if s.Zero {
							continue
						}
						cells := append(lead(p), t.metricCells(s.MetricID)...)
						cells = append(cells, FormatFloat(s.Step.Seconds()))
						for k := range s.Mean {
							if s.N[k] == 0 {
								continue
							}
							row := append(cells[:len(cells):len(cells)], timeS(sim.Time(int64(k)*int64(s.Step))), strconv.Itoa(s.N[k]),
								FormatFloat(s.Mean[k]), FormatFloat(s.Low[k]), FormatFloat(s.High[k]))
							if err := a.row(row...); err != nil {
								return err
							}
						}
					}
				}
				return nil
			}},
		{LatencyFile, t.head("n", "quantile", "pooled_ms", "seed_mean_ms"),
			func(a *atomicFile) error {
				for i := range f.Summary.Points {
					p := &f.Summary.Points[i]
					for _, d := range latencyDists(p) {
						cells := append(lead(p), t.metricCells(d.id)...)
						cells = append(cells, strconv.Itoa(p.N))
						for k, q := range d.q {
							if err := a.row(append(cells[:len(cells):len(cells)], FormatFloat(q), FormatFloat(d.pooled[k]), FormatFloat(d.mean[k]))...); err != nil {
								return err
							}
						}
					}
				}
				return nil
			}},
		{FaultsFile, append(append([]string{}, t.cols...), "kind", "label", "start_s", "end_s"),
			func(a *atomicFile) error {
				for i := range f.Summary.Points {
					p := &f.Summary.Points[i]
					for _, w := range p.Windows {
						if err := a.row(append(lead(p), w.Kind, w.Label, timeS(w.Start), timeS(w.End))...); err != nil {
							return err
						}
					}
				}
				return nil
			}},
		{CoverageFile, append(append([]string{}, t.cols...), "kind", "label", "start_s", "end_s", "runs", "attempted", "succeeded", "failed", "timed_out"),
			func(a *atomicFile) error {
				for i := range f.Summary.Points {
					p := &f.Summary.Points[i]
					for _, c := range p.Coverage {
						row := append(lead(p), c.Window.Kind, c.Window.Label, timeS(c.Window.Start), timeS(c.Window.End), strconv.Itoa(c.Runs),
							strconv.FormatInt(c.Attempted, 10), strconv.FormatInt(c.Succeeded, 10),
							strconv.FormatInt(c.Failed, 10), strconv.FormatInt(c.TimedOut, 10))
						if err := a.row(row...); err != nil {
							return err
						}
					}
				}
				return nil
			}},
	}
	for _, fl := range files {
		a, err := createAtomic(filepath.Join(dir, fl.name), false)
		if err != nil {
			return err
		}
		if err := a.row(fl.head...); err != nil {
			a.abort()
			return err
		}
		if err := fl.rows(a); err != nil {
			a.abort()
			return fmt.Errorf("write %s: %w", fl.name, err)
		}
		if err := a.commit(); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f.Manifest); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, ManifestFile), b.Bytes()); err != nil {
		return err
	}
	if f.Config != nil {
		return WriteFileAtomic(filepath.Join(dir, ConfigFile), f.Config)
	}
	return nil
}

// MarshalSeries encodes a series accumulator (gob, gzip-compressed); the
// same state always gives the same bytes.
func MarshalSeries(s *SeriesAcc) ([]byte, error) {
	var b bytes.Buffer
	gz, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(gz).Encode(s.export()); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalSeries decodes what MarshalSeries wrote.
func UnmarshalSeries(data []byte) (*SeriesAcc, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var f seriesFile
	if err := gob.NewDecoder(LimitDecoded(gz, "series sums", MaxDataBytes)).Decode(&f); err != nil {
		return nil, err
	}
	if f.Format != seriesFormat {
		return nil, fmt.Errorf("series sums format %d, this dsim reads %d (re-run the experiment)", f.Format, seriesFormat)
	}
	return importSeries(f), nil
}

// ErrNotResults is returned by Read for a folder without a manifest.json.
var ErrNotResults = errors.New("not a dsim results folder (no manifest.json)")

// Read loads a results folder's aggregated content: manifest.json, the
// config and the summary from summary.csv, timeseries.csv, latency.csv,
// faults.csv and fault_coverage.csv.
func Read(dir string) (*Folder, error) {
	f := &Folder{Summary: &Summary{}}
	mb, err := ReadInput(filepath.Join(dir, ManifestFile), MaxMetaBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", dir, ErrNotResults)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(mb, &f.Manifest); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	m := &f.Manifest
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("read %s: folder layout %d, this dsim reads %d (re-run the experiment)", dir, m.Format, manifestFormat)
	}
	switch b, err := ReadInput(filepath.Join(dir, ConfigFile), MaxMetaBytes); {
	case err == nil:
		f.Config = b
	case errors.Is(err, ErrBadFile):
		return nil, err
	}
	s := f.Summary
	s.Params = m.Params
	s.Runs = m.RunCount
	kinds := paramKinds(m.Params, m.Points)
	byKey := map[string]int{}
	for _, vals := range m.Points {
		p := Point{}
		var cells []string
		for i, name := range m.Params {
			p.Params = append(p.Params, Param{Name: name, Value: vals[i]})
			cells = append(cells, paramCell(kinds[i], vals[i]))
		}
		byKey[strings.Join(cells, "\x00")] = len(s.Points)
		s.Points = append(s.Points, p)
	}
	np := len(m.Params)
	var t *tidy
	pointOf := func(path string, line int, rec []string) (*Point, error) {
		j, ok := byKey[strings.Join(rec[:np], "\x00")]
		if !ok {
			return nil, fmt.Errorf("%s:%d: parameters %v are not a sweep point of %s", path, line, rec[:np], ManifestFile)
		}
		return &s.Points[j], nil
	}
	labelsOf := func(head []string) error {
		// The label columns sit between "metric" and the value columns.
		if t != nil {
			return nil
		}
		t = &tidy{params: m.Params, kinds: kinds}
		for _, c := range head[np+1:] {
			if c == "n" {
				break
			}
			t.labels = append(t.labels, strings.TrimPrefix(c, "label_"))
		}
		return nil
	}
	num := func(path string, line int, fs ...string) ([]float64, error) {
		out := make([]float64, len(fs))
		for i, x := range fs {
			v, err := ParseFloat(x)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			out[i] = v
		}
		return out, nil
	}
	path := filepath.Join(dir, SummaryFile)
	err = readCSV(path, nil, func(line int, rec []string, head []string) error {
		labelsOf(head)
		nl := len(t.labels)
		if len(rec) != np+1+nl+5 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(rec), np+1+nl+5)
		}
		p, err := pointOf(path, line, rec)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(rec[np+1+nl])
		if err != nil {
			return fmt.Errorf("%s:%d: bad n %q", path, line, rec[np+1+nl])
		}
		v, err := num(path, line, rec[np+2+nl:]...)
		if err != nil {
			return err
		}
		st := Stat{N: n, Mean: v[0], SD: v[1], CILow: v[2], CIHigh: v[3]}
		p.Metrics = append(p.Metrics, MetricStat{MetricID: t.cellsID(rec[np : np+1+nl]), Stat: st, Zero: isZeroStat(st)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range s.Points {
		p := &s.Points[i]
		sort.Slice(p.Metrics, func(a, b int) bool { return p.Metrics[a].less(p.Metrics[b].MetricID) })
		if len(p.Metrics) > 0 {
			p.N = 0
			for _, ms := range p.Metrics {
				p.N = max(p.N, ms.N)
			}
		}
	}
	path = filepath.Join(dir, SeriesFile)
	err = readCSV(path, nil, func(line int, rec []string, head []string) error {
		labelsOf(head)
		nl := len(t.labels)
		if len(rec) != np+1+nl+6 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(rec), np+1+nl+6)
		}
		p, err := pointOf(path, line, rec)
		if err != nil {
			return err
		}
		id := t.cellsID(rec[np : np+1+nl])
		v, err := num(path, line, rec[np+1+nl:]...)
		if err != nil {
			return err
		}
		step := time.Duration(math.Round(v[0] * 1e9))
		if step <= 0 {
			return fmt.Errorf("%s:%d: bad bucket_s %q", path, line, rec[np+1+nl])
		}
		k := int(math.Round(v[1] * 1e9 / float64(step)))
		if k < 0 || k > 10_000_000 {
			return fmt.Errorf("%s:%d: bad time_s %q", path, line, rec[np+2+nl])
		}
		j := len(p.Series) - 1
		if j < 0 || !p.Series[j].Same(id) || p.Series[j].Step != step {
			p.Series = append(p.Series, SeriesStat{MetricID: id, Step: step})
			j++
		}
		ss := &p.Series[j]
		for len(ss.Mean) <= k {
			ss.N = append(ss.N, 0)
			ss.Mean, ss.Low, ss.High = append(ss.Mean, math.NaN()), append(ss.Low, math.NaN()), append(ss.High, math.NaN())
		}
		ss.N[k] = int(v[2])
		ss.Mean[k], ss.Low[k], ss.High[k] = v[3], v[4], v[5]
		return nil
	})
	if err != nil {
		return nil, err
	}
	path = filepath.Join(dir, LatencyFile)
	err = readCSV(path, nil, func(line int, rec []string, head []string) error {
		labelsOf(head)
		nl := len(t.labels)
		if len(rec) != np+1+nl+4 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(rec), np+1+nl+4)
		}
		p, err := pointOf(path, line, rec)
		if err != nil {
			return err
		}
		id := t.cellsID(rec[np : np+1+nl])
		v, err := num(path, line, rec[np+2+nl:]...)
		if err != nil {
			return err
		}
		add := func(ds *[]Dist, val float64) {
			if math.IsNaN(val) {
				return
			}
			if j := len(*ds) - 1; j < 0 || !(*ds)[j].Same(id) {
				*ds = append(*ds, Dist{MetricID: id})
			}
			d := &(*ds)[len(*ds)-1]
			d.Points = append(d.Points, Quantile{Q: v[0], ValueMs: val})
		}
		add(&p.Pooled, v[1])
		add(&p.CDFs, v[2])
		return nil
	})
	if err != nil {
		return nil, err
	}
	path = filepath.Join(dir, FaultsFile)
	err = readCSV(path, nil, func(line int, rec []string, head []string) error {
		if len(rec) != np+4 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(rec), np+4)
		}
		p, err := pointOf(path, line, rec)
		if err != nil {
			return err
		}
		w, err := readWindow(path, line, rec[np:])
		if err != nil {
			return err
		}
		p.Windows = append(p.Windows, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	path = filepath.Join(dir, CoverageFile)
	err = readCSV(path, nil, func(line int, rec []string, head []string) error {
		if len(rec) != np+9 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(rec), np+9)
		}
		p, err := pointOf(path, line, rec)
		if err != nil {
			return err
		}
		w, err := readWindow(path, line, rec[np:])
		if err != nil {
			return err
		}
		var n [5]int64
		for i := range n {
			if n[i], err = strconv.ParseInt(rec[np+4+i], 10, 64); err != nil {
				return fmt.Errorf("%s:%d: bad count %q", path, line, rec[np+4+i])
			}
		}
		p.Coverage = append(p.Coverage, PointCoverage{Runs: int(n[0]), Coverage: Coverage{Window: w,
			Attempted: n[1], Succeeded: n[2], Failed: n[3], TimedOut: n[4]}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// latencyDist is one histogram's rows of latency.csv.
type latencyDist struct {
	id              MetricID
	q, pooled, mean []float64
}

// latencyDists pairs a point's pooled and seed-averaged distributions by
// name and quantile (NaN where one is missing).
func latencyDists(p *Point) []latencyDist {
	var out []latencyDist
	byName := map[string]int{}
	get := func(id MetricID, qs []Quantile) *latencyDist {
		j, ok := byName[id.key()]
		if !ok {
			j = len(out)
			byName[id.key()] = j
			d := latencyDist{id: id}
			for _, q := range qs {
				d.q = append(d.q, q.Q)
				d.pooled = append(d.pooled, math.NaN())
				d.mean = append(d.mean, math.NaN())
			}
			out = append(out, d)
		}
		return &out[j]
	}
	for _, d := range p.Pooled {
		ld := get(d.MetricID, d.Points)
		if len(ld.q) == len(d.Points) {
			for k, q := range d.Points {
				ld.pooled[k] = q.ValueMs
			}
		}
	}
	for _, d := range p.CDFs {
		ld := get(d.MetricID, d.Points)
		if len(ld.q) == len(d.Points) {
			for k, q := range d.Points {
				ld.mean[k] = q.ValueMs
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].id.less(out[j].id) })
	return out
}

// zeroSeries reports whether every value is 0 or missing.
func zeroSeries(vs []float64) bool {
	for _, v := range vs {
		if v != 0 && !math.IsNaN(v) {
			return false
		}
	}
	return true
}

func isZeroStat(st Stat) bool {
	return st.N == 0 || st.Mean == 0 && (st.N < 2 || st.SD == 0)
}

func readWindow(path string, line int, f []string) (sim.Window, error) {
	st, err1 := parseTimeS(f[2])
	en, err2 := parseTimeS(f[3])
	if err := errors.Join(err1, err2); err != nil {
		return sim.Window{}, fmt.Errorf("%s:%d: %w", path, line, err)
	}
	return sim.Window{Kind: f[0], Label: f[1], Start: st, End: en}, nil
}

// csvErr places a CSV error in its file (a bound's error names it
// already).
func csvErr(path string, err error) error {
	if errors.Is(err, ErrBadFile) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// readCSV reads a CSV file with a header, checks the header against want
// (if non-nil) and calls fn for every record with its 1-based line number and the header.
// A missing file reads as empty.
func readCSV(path string, want []string, fn func(line int, f, head []string) error) error {
	in, err := OpenInput(path, MaxDataBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<16))
	r.ReuseRecord = true
	h, err := r.Read()
	if err != nil {
		return csvErr(path, err)
	}
	head := append([]string(nil), h...)
	if want != nil {
		if len(head) != len(want) {
			return fmt.Errorf("%s: header has %d columns, want %v", path, len(head), want)
		}
		for i := range want {
			if head[i] != want[i] {
				return fmt.Errorf("%s: column %d is %q, want %q", path, i+1, head[i], want[i])
			}
		}
	}
	line := 1
	for {
		f, err := r.Read()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return csvErr(path, err)
		}
		line++
		if err := fn(line, f, head); err != nil {
			return err
		}
	}
}
