package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
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
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// File names inside a results folder.
const (
	RunsFile       = "runs.csv"
	SummaryFile    = "summary.csv"
	SeriesFile     = "timeseries.csv"
	LatencyFile    = "latency.csv"
	FaultsFile     = "faults.csv"
	CoverageFile   = "fault_coverage.csv"
	ManifestFile   = "manifest.json"
	ConfigFile     = "config.resolved.yaml"
	ReportFile     = "report.html"
	PlotsDir       = "plots"
	TimelineSVG    = "timeline.svg"
	TimelineTrace  = "trace.json"
	manifestFormat = 1
)

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
	// Seeds are the distinct run seeds in run order; Write fills them
	// when empty.
	Seeds []uint64 `json:"seeds"`
	// RunCount is the number of runs; Write fills it.
	RunCount int `json:"run_count"`
	// Params are the swept parameters, in column order.
	Params []string `json:"params"`
	// Plots are the plots drawn; Write uses DefaultPlots when empty.
	Plots []PlotSpec `json:"plots"`
	// Notes are shown at the top of the report (for example "timeline
	// truncated to 10000 events").
	Notes []string `json:"notes,omitempty"`
}

// Set is everything a results folder holds.
type Set struct {
	Manifest Manifest
	// Config is the resolved experiment config as YAML.
	Config []byte
	// Runs are the runs in index order.
	Runs []Run
}

// Summary returns the sweep points with their statistics.
func (s *Set) Summary() []Point { return Aggregate(s.Runs) }

// Write writes a complete results folder: the CSV files, manifest.json,
// config.resolved.yaml, plots/ (PNG and SVG) and report.html. Every file
// is written atomically (a temporary file in dir, then a rename), and the
// same Set always gives the same bytes. It fills the Manifest's derived
// fields (ConfigHash, Seeds, RunCount, default Plots) in s.
//
// A plot that cannot be drawn (say, it names a metric no run has) does not
// stop the rest: Write writes everything else, marks the plot in the
// report and returns the plot errors joined.
func Write(dir string, s *Set) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := &s.Manifest
	m.Format = manifestFormat
	if m.ConfigHash == "" && s.Config != nil {
		sum := sha256.Sum256(s.Config)
		m.ConfigHash = hex.EncodeToString(sum[:])
	}
	if len(m.Seeds) == 0 {
		seen := map[uint64]bool{}
		for _, r := range s.Runs {
			if !seen[r.Seed] {
				seen[r.Seed] = true
				m.Seeds = append(m.Seeds, r.Seed)
			}
		}
	}
	m.RunCount = len(s.Runs)
	if len(m.Plots) == 0 {
		m.Plots = DefaultPlots(s)
	}
	writers := []struct {
		name string
		fn   func(*bytes.Buffer, *Set) error
	}{
		{RunsFile, encodeRuns},
		{SummaryFile, encodeSummary},
		{SeriesFile, encodeSeries},
		{LatencyFile, encodeLatency},
		{FaultsFile, encodeFaults},
		{CoverageFile, encodeCoverage},
		{ManifestFile, encodeManifest},
	}
	for _, w := range writers {
		var b bytes.Buffer
		if err := w.fn(&b, s); err != nil {
			return fmt.Errorf("write %s: %w", w.name, err)
		}
		if err := WriteFileAtomic(filepath.Join(dir, w.name), b.Bytes()); err != nil {
			return err
		}
	}
	if s.Config != nil {
		if err := WriteFileAtomic(filepath.Join(dir, ConfigFile), s.Config); err != nil {
			return err
		}
	}
	return render(dir, s)
}

// Replot re-renders plots/ and report.html of a results folder from its
// files, without re-running anything.
func Replot(dir string) error {
	s, err := Read(dir)
	if err != nil {
		return err
	}
	return render(dir, s)
}

// render draws the plots and the report.
func render(dir string, s *Set) error {
	pdir := filepath.Join(dir, PlotsDir)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	var errs []error
	drawn := make([]drawnPlot, len(s.Manifest.Plots))
	for i, spec := range s.Manifest.Plots {
		d := drawnPlot{Spec: spec}
		png, svg, err := RenderPlot(spec, s)
		if err == nil {
			stem := filepath.Join(pdir, spec.FileName())
			if err = WriteFileAtomic(stem+".png", png); err == nil {
				err = WriteFileAtomic(stem+".svg", svg)
			}
		}
		if err != nil {
			err = fmt.Errorf("plot %d (%s %s): %w", i+1, spec.Kind, spec.Metric, err)
			errs = append(errs, err)
			d.Err = err.Error()
		}
		d.PNG = png
		drawn[i] = d
	}
	var timeline []byte
	if b, err := os.ReadFile(filepath.Join(dir, TimelineSVG)); err == nil {
		timeline = b
	}
	var b bytes.Buffer
	if err := writeReport(&b, s, drawn, timeline); err != nil {
		return fmt.Errorf("write %s: %w", ReportFile, err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, ReportFile), b.Bytes()); err != nil {
		return err
	}
	return errors.Join(errs...)
}

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

func writeCSV(b *bytes.Buffer, rows [][]string) error {
	w := csv.NewWriter(b)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return w.Error()
}

func paramValues(r *Run, params []string) []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i], _ = r.Param(p)
	}
	return out
}

func encodeRuns(b *bytes.Buffer, s *Set) error {
	ptrs := make([]*Run, len(s.Runs))
	for i := range s.Runs {
		ptrs[i] = &s.Runs[i]
	}
	names := metricNames(ptrs)
	head := append([]string{"run"}, s.Manifest.Params...)
	head = append(head, "seed")
	head = append(head, names...)
	rows := [][]string{head}
	for i := range s.Runs {
		r := &s.Runs[i]
		row := append([]string{strconv.Itoa(r.Index)}, paramValues(r, s.Manifest.Params)...)
		row = append(row, strconv.FormatUint(r.Seed, 10))
		for _, n := range names {
			v, ok := r.Metric(n)
			if !ok {
				v = math.NaN()
			}
			row = append(row, FormatFloat(v))
		}
		rows = append(rows, row)
	}
	return writeCSV(b, rows)
}

func encodeSummary(b *bytes.Buffer, s *Set) error {
	pts := Aggregate(s.Runs)
	ptrs := make([]*Run, len(s.Runs))
	for i := range s.Runs {
		ptrs[i] = &s.Runs[i]
	}
	names := metricNames(ptrs)
	head := append([]string{}, s.Manifest.Params...)
	head = append(head, "n")
	for _, n := range names {
		head = append(head, WithSuffix(n, "_mean"), WithSuffix(n, "_sd"), WithSuffix(n, "_ci_low"), WithSuffix(n, "_ci_high"))
	}
	rows := [][]string{head}
	for i := range pts {
		p := &pts[i]
		row := make([]string, 0, len(head))
		for _, name := range s.Manifest.Params {
			v, _ := p.Param(name)
			row = append(row, v)
		}
		row = append(row, strconv.Itoa(len(p.Runs)))
		for _, n := range names {
			st, ok := p.Metric(n)
			if !ok {
				st = Describe(nil, Confidence)
			}
			row = append(row, FormatFloat(st.Mean), FormatFloat(st.SD), FormatFloat(st.CILow), FormatFloat(st.CIHigh))
		}
		rows = append(rows, row)
	}
	return writeCSV(b, rows)
}

func encodeSeries(b *bytes.Buffer, s *Set) error {
	rows := [][]string{{"run", "time_s", "series", "value"}}
	for i := range s.Runs {
		r := &s.Runs[i]
		run := strconv.Itoa(r.Index)
		for _, ser := range r.Series {
			for k, v := range ser.Values {
				if math.IsNaN(v) {
					continue
				}
				t := sim.Time(int64(k) * int64(ser.Step))
				rows = append(rows, []string{run, timeS(t), ser.Name, FormatFloat(v)})
			}
		}
	}
	return writeCSV(b, rows)
}

func encodeLatency(b *bytes.Buffer, s *Set) error {
	rows := [][]string{{"run", "histogram", "quantile", "value_ms"}}
	for i := range s.Runs {
		r := &s.Runs[i]
		run := strconv.Itoa(r.Index)
		for _, d := range r.Dists {
			for _, q := range d.Points {
				rows = append(rows, []string{run, d.Name, FormatFloat(q.Q), FormatFloat(q.ValueMs)})
			}
		}
	}
	return writeCSV(b, rows)
}

func encodeFaults(b *bytes.Buffer, s *Set) error {
	rows := [][]string{{"run", "kind", "label", "start_s", "end_s"}}
	for i := range s.Runs {
		r := &s.Runs[i]
		for _, w := range r.Faults {
			rows = append(rows, []string{strconv.Itoa(r.Index), w.Kind, w.Label, timeS(w.Start), timeS(w.End)})
		}
	}
	return writeCSV(b, rows)
}

func encodeCoverage(b *bytes.Buffer, s *Set) error {
	head := append([]string{"run"}, s.Manifest.Params...)
	head = append(head, "seed", "kind", "label", "start_s", "end_s", "attempted", "succeeded", "failed", "timed_out")
	rows := [][]string{head}
	for i := range s.Runs {
		r := &s.Runs[i]
		for _, c := range r.Coverage {
			row := append([]string{strconv.Itoa(r.Index)}, paramValues(r, s.Manifest.Params)...)
			row = append(row, strconv.FormatUint(r.Seed, 10), c.Window.Kind, c.Window.Label,
				timeS(c.Window.Start), timeS(c.Window.End),
				strconv.FormatInt(c.Attempted, 10), strconv.FormatInt(c.Succeeded, 10),
				strconv.FormatInt(c.Failed, 10), strconv.FormatInt(c.TimedOut, 10))
			rows = append(rows, row)
		}
	}
	return writeCSV(b, rows)
}

func encodeManifest(b *bytes.Buffer, s *Set) error {
	m := s.Manifest
	if m.Seeds == nil {
		m.Seeds = []uint64{}
	}
	if m.Params == nil {
		m.Params = []string{}
	}
	enc := json.NewEncoder(b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}

// ErrNotResults is returned by Read for a folder without a manifest.json.
var ErrNotResults = errors.New("not a dsim results folder (no manifest.json)")

// Read loads a results folder written by Write: the manifest, the config
// and every run with its metrics, series, distributions, faults and fault
// coverage.
func Read(dir string) (*Set, error) {
	s := &Set{}
	mb, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", dir, ErrNotResults)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(mb, &s.Manifest); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ConfigFile)); err == nil {
		s.Config = b
	}
	runs, err := ReadRuns(filepath.Join(dir, RunsFile), s.Manifest.Params)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]*Run{}
	for i := range runs {
		byIndex[runs[i].Index] = &runs[i]
	}
	get := func(path string, line int, run string) (*Run, error) {
		i, err := strconv.Atoi(run)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad run %q", path, line, run)
		}
		r, ok := byIndex[i]
		if !ok {
			return nil, fmt.Errorf("%s:%d: run %d is not in %s", path, line, i, RunsFile)
		}
		return r, nil
	}
	// time series
	series, err := ReadSeries(filepath.Join(dir, SeriesFile))
	if err != nil {
		return nil, err
	}
	for _, ts := range series {
		r, ok := byIndex[ts.Run]
		if !ok {
			return nil, fmt.Errorf("%s: run %d is not in %s", SeriesFile, ts.Run, RunsFile)
		}
		r.Series = append(r.Series, ts.Series)
	}
	// latency distributions
	path := filepath.Join(dir, LatencyFile)
	if err := readCSV(path, []string{"run", "histogram", "quantile", "value_ms"}, func(line int, f []string) error {
		r, err := get(path, line, f[0])
		if err != nil {
			return err
		}
		q, err1 := ParseFloat(f[2])
		v, err2 := ParseFloat(f[3])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if n := len(r.Dists); n == 0 || r.Dists[n-1].Name != f[1] {
			r.Dists = append(r.Dists, Dist{Name: f[1]})
		}
		d := &r.Dists[len(r.Dists)-1]
		d.Points = append(d.Points, Quantile{Q: q, ValueMs: v})
		return nil
	}); err != nil {
		return nil, err
	}
	// faults
	path = filepath.Join(dir, FaultsFile)
	if err := readCSV(path, []string{"run", "kind", "label", "start_s", "end_s"}, func(line int, f []string) error {
		r, err := get(path, line, f[0])
		if err != nil {
			return err
		}
		st, err1 := parseTimeS(f[3])
		en, err2 := parseTimeS(f[4])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		r.Faults = append(r.Faults, FaultWindow{Kind: f[1], Label: f[2], Start: st, End: en})
		return nil
	}); err != nil {
		return nil, err
	}
	// fault coverage
	path = filepath.Join(dir, CoverageFile)
	np := len(s.Manifest.Params)
	if err := readCSV(path, nil, func(line int, f []string) error {
		if len(f) != np+10 {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(f), np+10)
		}
		r, err := get(path, line, f[0])
		if err != nil {
			return err
		}
		f = f[np+2:]
		st, err1 := parseTimeS(f[2])
		en, err2 := parseTimeS(f[3])
		var n [4]int64
		var errs []error
		for i := range n {
			n[i], err = strconv.ParseInt(f[4+i], 10, 64)
			errs = append(errs, err)
		}
		if err := errors.Join(append(errs, err1, err2)...); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		r.Coverage = append(r.Coverage, Coverage{Window: FaultWindow{Kind: f[0], Label: f[1], Start: st, End: en},
			Attempted: n[0], Succeeded: n[1], Failed: n[2], TimedOut: n[3]})
		return nil
	}); err != nil {
		return nil, err
	}
	s.Runs = runs
	return s, nil
}

// readCSV reads a CSV file with a header, checks the header against want
// (if non-nil) and calls fn for every record with its 1-based line number.
// A missing file reads as empty.
func readCSV(path string, want []string, fn func(line int, f []string) error) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
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
			return fmt.Errorf("%s: %w", path, err)
		}
		line++
		if err := fn(line, f); err != nil {
			return err
		}
	}
}

// ReadRuns reads runs.csv: the run index, the given sweep parameter
// columns, the seed and every metric. It fills Index, Params, Seed and
// Metrics.
func ReadRuns(path string, params []string) ([]Run, error) {
	var runs []Run
	var names []string
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	head := recs[0]
	np := len(params)
	if len(head) < np+2 || head[0] != "run" || head[np+1] != "seed" {
		return nil, fmt.Errorf("%s: header must be run, %v, seed, metrics...; got %v", path, params, head)
	}
	for i, p := range params {
		if head[1+i] != p {
			return nil, fmt.Errorf("%s: column %d is %q, want parameter %q", path, i+2, head[1+i], p)
		}
	}
	names = head[np+2:]
	for li, f := range recs[1:] {
		line := li + 2
		var run Run
		if run.Index, err = strconv.Atoi(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: bad run %q", path, line, f[0])
		}
		for i, p := range params {
			run.Params = append(run.Params, Param{Name: p, Value: f[1+i]})
		}
		if run.Seed, err = strconv.ParseUint(f[np+1], 10, 64); err != nil {
			return nil, fmt.Errorf("%s:%d: bad seed %q", path, line, f[np+1])
		}
		for i, n := range names {
			v, err := ParseFloat(f[np+2+i])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", path, line, n, err)
			}
			run.Metrics = append(run.Metrics, Metric{Name: n, Value: v})
		}
		sort.Slice(run.Metrics, func(i, j int) bool { return run.Metrics[i].Name < run.Metrics[j].Name })
		runs = append(runs, run)
	}
	return runs, nil
}

// RunSeries is one time series of one run, as read from timeseries.csv.
type RunSeries struct {
	Run int
	Series
}

// ReadSeries reads timeseries.csv. The bucket width of each series is
// the smallest gap between its times; buckets missing from the file (no
// value in them) read as NaN.
func ReadSeries(path string) ([]RunSeries, error) {
	type key struct {
		run  int
		name string
	}
	type pt struct {
		t sim.Time
		v float64
	}
	pts := map[key][]pt{}
	var order []key
	err := readCSV(path, []string{"run", "time_s", "series", "value"}, func(line int, f []string) error {
		run, err := strconv.Atoi(f[0])
		if err != nil {
			return fmt.Errorf("%s:%d: bad run %q", path, line, f[0])
		}
		t, err1 := parseTimeS(f[1])
		v, err2 := ParseFloat(f[3])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		k := key{run, f[2]}
		if _, ok := pts[k]; !ok {
			order = append(order, k)
		}
		pts[k] = append(pts[k], pt{t, v})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]RunSeries, 0, len(order))
	for _, k := range order {
		ps := pts[k]
		var step sim.Time
		for i := 1; i < len(ps); i++ {
			if d := ps[i].t - ps[i-1].t; d > 0 && (step == 0 || d < step) {
				step = d
			}
		}
		if step == 0 {
			step = ps[0].t
			if step == 0 {
				step = sim.Time(100 * time.Millisecond)
			}
		}
		// Times are written rounded to the nanosecond; snap the step to
		// a whole microsecond when it is that close.
		if us := sim.Time(math.Round(float64(step)/1e3)) * 1e3; us > 0 && math.Abs(float64(us-step)) <= 2 {
			step = us
		}
		last := int(math.Round(float64(ps[len(ps)-1].t) / float64(step)))
		vals := make([]float64, last+1)
		for i := range vals {
			vals[i] = math.NaN()
		}
		for _, p := range ps {
			vals[int(math.Round(float64(p.t)/float64(step)))] = p.v
		}
		out = append(out, RunSeries{Run: k.run, Series: Series{Name: k.name, Step: time.Duration(step), Values: vals}})
	}
	return out, nil
}
