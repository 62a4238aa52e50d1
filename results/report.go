package results

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// drawnPlot is one plot as the report shows it.
type drawnPlot struct {
	Spec    PlotSpec
	PNG     []byte
	Caption string
	Err     string
}

// reportData is what the report template sees.
type reportData struct {
	Name, Description string
	Version, Hash     string
	Runs, Seeds       int
	Params            []string
	Notes             []string
	Points            []string
	Headline          headlineTable
	Header            []paramRow
	Metrics           []summaryRow
	Hidden            int
	Plots             []reportPlot
	Checks            []CheckRow
	Coverage          []coverageRow
	Timeline          template.HTML
	Config            string
	Files             []string
}

// headlineTable is the report's first table: one row per headline
// metric, one column per sweep point.
type headlineTable struct {
	Rows []headRow
}

type headCol struct {
	Title, Name string
	id          MetricID
}

type headRow struct {
	Title, Name string
	Cells       []string
}

// paramRow is one header row of the summary table: a swept parameter and
// its value at each sweep point.
type paramRow struct {
	Name   string
	Values []string
}

type summaryRow struct {
	Name  string
	Cells []string
}

type reportPlot struct {
	Title, Caption string
	Data           template.URL
	Links          []plotLink
	Err            string
}

type plotLink struct{ Format, Href string }

type coverageRow struct {
	Point, Kind, Label, Start, End string
	Runs                           int
	Attempted, Succeeded, Failed   int64
	TimedOut                       int64
}

// fmtNum formats a number for the report's tables.
func fmtNum(v float64) string { return FormatNumber(v) }

// statCell is "mean ± half-width of the CI".
func statCell(st Stat) string {
	cell := fmtNum(st.Mean)
	if !math.IsNaN(st.CILow) && !math.IsNaN(st.Mean) {
		cell += " ± " + fmtNum(st.CIHigh-st.Mean)
	}
	return cell
}

// headlineColumns expands the headline names into metric names: a name
// stands for each recorded label set that has the labels it gives (a
// base name for each of its labelled variants).
func headlineColumns(f *Folder) []headCol {
	ids := summaryIDs(f.Summary.Points, nil)
	var cols []headCol
	for _, h := range f.Manifest.Headline {
		hid := ParseID(h)
		for _, id := range ids {
			if id.Matches(hid) {
				cols = append(cols, headCol{Title: f.titleOf(id), Name: id.FullName(), id: id})
			}
		}
	}
	return cols
}

// summaryIDs returns the distinct metrics of the points, sorted; zero, if
// not nil, is told for each whether it is zero at every point.
func summaryIDs(pts []Point, zero map[string]bool) []MetricID {
	var ids []MetricID
	seen := map[string]bool{}
	for i := range pts {
		for _, ms := range pts[i].Metrics {
			k := ms.key()
			if !seen[k] {
				seen[k] = true
				ids = append(ids, ms.MetricID)
				if zero != nil {
					zero[k] = true
				}
			}
			if zero != nil && !ms.Zero {
				zero[k] = false
			}
		}
	}
	sortIDs(ids)
	return ids
}

// writeReport renders report.html: one self-contained page, plots inlined
// as PNG data; headline figures and plots first, the full table last.
func writeReport(b *bytes.Buffer, f *Folder, plots []drawnPlot, timeline []byte) error {
	m := &f.Manifest
	pts := f.Summary.Points
	d := reportData{
		Name: m.Name, Description: m.Description, Version: m.Version, Hash: m.ConfigHash,
		Runs: m.RunCount, Seeds: len(m.Seeds), Params: m.Params, Notes: m.Notes,
		Config: string(f.Config), Checks: m.Checks,
	}
	if len(pts) > 0 && d.Seeds > 0 {
		d.Seeds = pts[0].N
	}
	if d.Name == "" {
		d.Name = "dsim results"
	}
	for i := range pts {
		d.Points = append(d.Points, pts[i].Label())
	}
	// Headline figures.
	for _, c := range headlineColumns(f) {
		row := headRow{Title: c.Title, Name: c.Name}
		for i := range pts {
			st, ok := pts[i].MetricOf(c.id)
			if !ok {
				row.Cells = append(row.Cells, "–")
				continue
			}
			row.Cells = append(row.Cells, statCell(st))
		}
		d.Headline.Rows = append(d.Headline.Rows, row)
	}
	// The full table, without rows that are zero or empty everywhere.
	for _, name := range m.Params {
		row := paramRow{Name: name}
		for i := range pts {
			v, _ := pts[i].Param(name)
			row.Values = append(row.Values, v)
		}
		d.Header = append(d.Header, row)
	}
	if len(d.Header) == 0 {
		d.Header = []paramRow{{Name: "metric", Values: d.Points}}
	}
	zero := map[string]bool{}
	for _, id := range summaryIDs(pts, zero) {
		if zero[id.key()] {
			d.Hidden++
			continue
		}
		row := summaryRow{Name: id.FullName()}
		for i := range pts {
			st, ok := pts[i].MetricOf(id)
			if !ok {
				row.Cells = append(row.Cells, "–")
				continue
			}
			row.Cells = append(row.Cells, statCell(st))
		}
		d.Metrics = append(d.Metrics, row)
	}
	for _, p := range plots {
		rp := reportPlot{Title: plotTitle(p.Spec, f), Caption: p.Caption, Err: p.Err}
		if p.Err == "" && len(p.PNG) > 0 {
			rp.Data = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.PNG))
			for _, fm := range m.Output.Formats {
				rp.Links = append(rp.Links, plotLink{Format: strings.ToUpper(fm), Href: PlotsDir + "/" + p.Spec.FileName() + "." + fm})
			}
		}
		d.Plots = append(d.Plots, rp)
	}
	d.Coverage = coverageRows(f)
	if len(timeline) > 0 {
		d.Timeline = template.HTML(stripXMLHeader(timeline))
	}
	d.Files = []string{RunsFile, MetricsFile, SummaryFile, SeriesFile, LatencyFile, FaultsFile, CoverageFile, ManifestFile}
	if m.Output.Timeseries == SeriesPerRun {
		d.Files = append(d.Files, RunSeriesFile)
	}
	if f.Config != nil {
		d.Files = append(d.Files, ConfigFile)
	}
	if len(timeline) > 0 {
		d.Files = append(d.Files, TimelineSVG, TimelineTrace)
	}
	return reportTmpl.Execute(b, d)
}

func plotTitle(s PlotSpec, f *Folder) string {
	if s.Title != "" {
		return s.Title
	}
	t := f.title(s.Metric)
	switch s.Kind {
	case CDF:
		t += ": distribution"
	case TimeSeries:
		t += " over time"
	}
	if s.X != "" {
		t += " by " + strings.ToLower(humanize(s.X))
	}
	if s.Y != "" {
		t += " and " + strings.ToLower(humanize(s.Y))
	}
	if s.By != "" && s.Kind != TimeSeries {
		t += ", per " + strings.ToLower(humanize(s.By))
	}
	if len(s.Where) > 0 {
		t += " (" + Params(whereParams(s.Where)).Label() + ")"
	}
	return t
}

func whereParams(w map[string]string) []Param {
	var ps []Param
	for _, k := range slices.Sorted(maps.Keys(w)) {
		ps = append(ps, Param{Name: k, Value: w[k]})
	}
	return ps
}

// coverageRows lists the fault coverage of each sweep point, summed over
// its seeds, window by window.
func coverageRows(f *Folder) []coverageRow {
	var rows []coverageRow
	for i := range f.Summary.Points {
		p := &f.Summary.Points[i]
		for _, c := range p.Coverage {
			end := timeS(c.Window.End) + " s"
			if c.Window.End == sim.Never {
				end = "end of run"
			}
			rows = append(rows, coverageRow{Point: p.Label(), Kind: c.Window.Kind, Label: c.Window.Label,
				Start: timeS(c.Window.Start) + " s", End: end, Runs: c.Runs, Attempted: c.Attempted,
				Succeeded: c.Succeeded, Failed: c.Failed, TimedOut: c.TimedOut})
		}
	}
	return rows
}

// stripXMLHeader drops an <?xml ...?> prolog so an SVG file can be inlined
// in HTML.
func stripXMLHeader(b []byte) string {
	s := string(b)
	if strings.HasPrefix(s, "<?xml") {
		if i := strings.Index(s, "?>"); i >= 0 {
			s = s[i+2:]
		}
	}
	return strings.TrimSpace(s)
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(n, of int64) string {
		if of == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dsim {{.Version}}">
<title>{{.Name}} — dsim report</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 20px 32px 64px; background: #fff; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin-top: 32px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; font-size: 20px; }
.desc { font-size: 15px; color: #333; margin: 6px 0 10px; }
.facts { color: #555; font-size: 13px; margin: 4px 0; }
.facts code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: 6px 10px; margin: 8px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f2f6fa; }
td.name, th.name { text-align: left; }
td.mono, th.mono { font-family: ui-monospace, "Liberation Mono", monospace; }
#headline-table td, #headline-table th { font-size: 14px; padding: 5px 10px; }
tr:nth-child(even) td { background: #fbfbfb; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #555; }
.err { color: #D55E00; font-weight: 600; }
.ok { color: #009E73; font-weight: 600; }
pre { background: #f6f8fa; padding: 12px; overflow-x: auto; font-size: 12px; border-radius: 4px; }
.timeline { overflow-x: auto; border: 1px solid #eee; }
details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
#metric-filter { font-size: 14px; padding: 4px 8px; width: 320px; margin: 6px 0; }
</style>
</head>
<body>
<main>
<header>
<h1 id="title">{{.Name}}</h1>
{{if .Description}}<p class="desc" id="description">{{.Description}}</p>{{end}}
<p class="facts">{{.Runs}} runs · {{.Seeds}} seeds per point · {{len .Points}} sweep points{{if .Params}} over <code>{{range $i, $p := .Params}}{{if $i}}, {{end}}{{$p}}{{end}}</code>{{end}}{{if .Version}} · dsim {{.Version}}{{end}}{{if .Hash}} · config <code>{{printf "%.12s" .Hash}}</code>{{end}}</p>
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
</header>

{{if .Headline.Rows}}<section id="headline">
<h2>Headline figures</h2>
<div class="scroll">
<table id="headline-table">
<thead>{{range .Header}}<tr><th class="name">{{.Name}}</th>{{range .Values}}<th>{{.}}</th>{{end}}</tr>{{end}}</thead>
<tbody>
{{range .Headline.Rows}}<tr><td class="name" title="{{.Name}}">{{.Title}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
<p class="facts">Mean over the seeds of each sweep point ± half-width of its 95% confidence interval (Student t).</p>
</section>
{{end}}
<section id="plots">
<h2>Plots</h2>
{{range .Plots}}<figure class="plot">
{{if .Err}}<p class="err">{{.Title}}: {{.Err}}</p>{{else}}<img src="{{.Data}}" alt="{{.Title}}">
<figcaption>{{.Title}}{{if .Caption}}. {{.Caption}}.{{end}}{{range .Links}} · <a href="{{.Href}}">{{.Format}}</a>{{end}}</figcaption>{{end}}
</figure>
{{else}}<p>No plots.</p>
{{end}}</section>

{{if .Checks}}<section id="checks">
<h2>Checks</h2>
<div class="scroll">
<table id="checks-table">
<thead><tr><th class="name">check</th><th class="name">sweep point</th><th>runs</th><th>failed</th><th>worst</th><th class="name">replay</th></tr></thead>
<tbody>
{{range .Checks}}<tr><td class="name">{{.Name}}</td><td class="name">{{.Point}}</td><td>{{.Runs}}</td><td>{{if .Failed}}<span class="err">{{.Failed}}</span>{{else}}<span class="ok">0</span>{{end}}</td><td>{{.Worst}}</td><td class="name mono">{{.Replay}}</td></tr>
{{end}}</tbody>
</table>
</div>
</section>
{{end}}
<section id="fault-coverage">
<h2>Fault coverage</h2>
{{if .Coverage}}<p class="facts">Operations in flight during each window (network faults and protocol windows such as injected errors), summed over the seeds of each sweep point. The <code>none</code> row counts operations that overlapped no window.</p>
<div class="scroll">
<table id="coverage-table">
<thead><tr><th class="name">sweep point</th><th class="name">window</th><th class="name">target</th><th>start</th><th>end</th><th>runs</th><th>attempted</th><th>succeeded</th><th>failed</th><th>timed out</th><th>success</th></tr></thead>
<tbody>
{{range .Coverage}}<tr><td class="name">{{.Point}}</td><td class="name">{{.Kind}}</td><td class="name">{{.Label}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Runs}}</td><td>{{.Attempted}}</td><td>{{.Succeeded}}</td><td>{{.Failed}}</td><td>{{.TimedOut}}</td><td>{{pct .Succeeded .Attempted}}</td></tr>
{{end}}</tbody>
</table>
</div>
{{else}}<p>No operations were recorded against fault windows.</p>{{end}}
</section>

{{if .Timeline}}<section id="timeline">
<h2>Timeline</h2>
<div class="timeline">{{.Timeline}}</div>
</section>
{{end}}
<section id="summary">
<h2>All metrics</h2>
<details id="summary-details">
<summary>Full table: {{len .Metrics}} metrics{{if .Hidden}} ({{.Hidden}} more are 0 or empty at every point and left out){{end}}</summary>
<p class="facts">Mean over seeds ± half-width of the 95% confidence interval. Per-run values are in <code>metrics.csv</code>, the full statistics in <code>summary.csv</code>.</p>
<input id="metric-filter" type="search" placeholder="filter metrics by name, e.g. latency or tier=db" aria-label="filter metrics">
<div class="scroll">
<table id="summary-table">
<thead>{{range .Header}}<tr><th class="name">{{.Name}}</th>{{range .Values}}<th>{{.}}</th>{{end}}</tr>{{end}}</thead>
<tbody>
{{range .Metrics}}<tr><td class="name mono">{{.Name}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
</details>
<script>
(function () {
  var box = document.getElementById("metric-filter");
  var rows = document.querySelectorAll("#summary-table tbody tr");
  function apply() {
    var q = box.value.trim().toLowerCase();
    rows.forEach(function (r) {
      r.style.display = r.cells[0].textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
    });
  }
  box.addEventListener("input", apply);
  var m = /^#filter=(.*)$/.exec(location.hash);
  if (m) {
    box.value = decodeURIComponent(m[1]);
    document.getElementById("summary-details").open = true;
    apply();
  }
})();
</script>
</section>

<section id="config">
<h2>Resolved configuration</h2>
{{if .Config}}<details><summary>config.resolved.yaml</summary><pre>{{.Config}}</pre></details>{{else}}<p>Not recorded.</p>{{end}}
</section>

<section id="files">
<h2>Files</h2>
<ul>{{range .Files}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>
</section>
</main>
</body>
</html>
`))

// Render draws plots/ in the manifest's formats and report.html from a
// folder's summary; progress, when set, is called after each plot.
// Timeseries plots of one comparison (same metric and split, different
// sweep points) share their y axis.
func Render(dir string, f *Folder, progress func(done, total int)) error {
	pdir := filepath.Join(dir, PlotsDir)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	formats := []string{"png"}
	for _, fm := range f.Manifest.Output.Formats {
		if fm != "png" {
			formats = append(formats, fm)
		}
	}
	// Shared y ranges, per comparison group.
	type group struct {
		metric, by string
		logY       bool
	}
	ranges := map[group]*[2]float64{}
	counts := map[group]int{}
	for _, spec := range f.Manifest.Plots {
		if spec.Kind == TimeSeries && spec.Title == "" || spec.Kind == TimeSeries {
			counts[group{spec.Metric, spec.By, spec.LogY}]++
		}
	}
	for _, spec := range f.Manifest.Plots {
		g := group{spec.Metric, spec.By, spec.LogY}
		if spec.Kind != TimeSeries || counts[g] < 2 {
			continue
		}
		lo, hi, ok := SeriesRange(spec, f)
		if !ok {
			continue
		}
		r, ok := ranges[g]
		if !ok {
			r = &[2]float64{lo, hi}
			ranges[g] = r
		}
		r[0], r[1] = math.Min(r[0], lo), math.Max(r[1], hi)
	}
	var errs []error
	drawn := make([]drawnPlot, len(f.Manifest.Plots))
	for i, spec := range f.Manifest.Plots {
		d := drawnPlot{Spec: spec}
		var share *[2]float64
		if spec.Kind == TimeSeries {
			share = ranges[group{spec.Metric, spec.By, spec.LogY}]
		}
		c, err := func() (c *chart, err error) {
			defer func() {
				if r := recover(); r != nil {
					c, err = nil, fmt.Errorf("cannot draw: %v", r)
				}
			}()
			if err := spec.Check(f.Manifest.Params); err != nil {
				return nil, err
			}
			return buildPlot(spec, f, share)
		}()
		if err == nil {
			d.Caption = c.caption
			stem := filepath.Join(pdir, spec.FileName())
			for _, fm := range formats {
				var b []byte
				if b, err = encodePlot(c.Plot, fm); err != nil {
					break
				}
				if fm == "png" {
					d.PNG = b
				}
				if err = WriteFileAtomic(stem+"."+fm, b); err != nil {
					break
				}
			}
		}
		if err != nil {
			pe := &PlotError{Index: i, Spec: spec, Err: err}
			errs = append(errs, pe)
			d.Err = pe.Error()
			d.PNG = nil
		}
		drawn[i] = d
		if progress != nil {
			progress(i+1, len(f.Manifest.Plots))
		}
	}
	var timeline []byte
	switch b, err := ReadInput(filepath.Join(dir, TimelineSVG), MaxDataBytes); {
	case err == nil:
		timeline = b
	case !errors.Is(err, fs.ErrNotExist):
		return err // no timeline is fine; one that cannot be read is not
	}
	var b bytes.Buffer
	if err := writeReport(&b, f, drawn, timeline); err != nil {
		return fmt.Errorf("write %s: %w", ReportFile, err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, ReportFile), b.Bytes()); err != nil {
		return err
	}
	return errors.Join(errs...)
}
