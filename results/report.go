package results

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// drawnPlot is one plot as the report shows it.
type drawnPlot struct {
	Spec PlotSpec
	PNG  []byte
	Err  string
}

// reportData is what the report template sees.
type reportData struct {
	Name, Description string
	Version, Hash     string
	Runs, Seeds       int
	Params            []string
	Notes             []string
	Points            []string
	Header            []paramRow
	Metrics           []summaryRow
	Plots             []reportPlot
	Coverage          []coverageRow
	Timeline          template.HTML
	Config            string
	Files             []string
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
	Title string
	Data  template.URL
	SVG   string
	Err   string
}

type coverageRow struct {
	Point, Kind, Label, Start, End string
	Runs                           int
	Attempted, Succeeded, Failed   int64
	TimedOut                       int64
}

// fmtNum formats a number for the report's tables: 4 significant digits,
// whole numbers up to a trillion without an exponent.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 1e4 && a < 1e12:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// writeReport renders report.html: one self-contained page, plots inlined
// as PNG data, no scripts.
func writeReport(b *bytes.Buffer, s *Set, plots []drawnPlot, timeline []byte) error {
	m := &s.Manifest
	d := reportData{
		Name: m.Name, Description: m.Description, Version: m.Version, Hash: m.ConfigHash,
		Runs: len(s.Runs), Seeds: len(m.Seeds), Params: m.Params, Notes: m.Notes,
		Config: string(s.Config),
	}
	if d.Name == "" {
		d.Name = "dsim results"
	}
	pts := Aggregate(s.Runs)
	for i := range pts {
		d.Points = append(d.Points, pts[i].Label())
	}
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
	ptrs := make([]*Run, len(s.Runs))
	for i := range s.Runs {
		ptrs[i] = &s.Runs[i]
	}
	for _, name := range metricNames(ptrs) {
		row := summaryRow{Name: name}
		for i := range pts {
			st, _ := pts[i].Metric(name)
			cell := fmtNum(st.Mean)
			if !math.IsNaN(st.CILow) {
				cell += " ± " + fmtNum(st.CIHigh-st.Mean)
			}
			row.Cells = append(row.Cells, cell)
		}
		d.Metrics = append(d.Metrics, row)
	}
	for _, p := range plots {
		rp := reportPlot{Title: plotTitle(p.Spec), Err: p.Err}
		if p.Err == "" && len(p.PNG) > 0 {
			rp.Data = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.PNG))
			rp.SVG = PlotsDir + "/" + p.Spec.FileName() + ".svg"
		}
		d.Plots = append(d.Plots, rp)
	}
	d.Coverage = coverageRows(s, pts)
	if len(timeline) > 0 {
		d.Timeline = template.HTML(stripXMLHeader(timeline))
	}
	d.Files = []string{RunsFile, SummaryFile, SeriesFile, LatencyFile, FaultsFile, CoverageFile, ManifestFile}
	if s.Config != nil {
		d.Files = append(d.Files, ConfigFile)
	}
	if len(timeline) > 0 {
		d.Files = append(d.Files, TimelineSVG, TimelineTrace)
	}
	return reportTmpl.Execute(b, d)
}

func plotTitle(s PlotSpec) string {
	if s.Title != "" {
		return s.Title
	}
	t := s.Kind.String() + ": " + s.Metric
	if s.X != "" {
		t += " vs " + s.X
	}
	if s.Y != "" {
		t += " and " + s.Y
	}
	if s.By != "" {
		t += " by " + s.By
	}
	return t
}

// coverageRows sums fault coverage over the seeds of each sweep point,
// window by window.
func coverageRows(s *Set, pts []Point) []coverageRow {
	var rows []coverageRow
	for i := range pts {
		in := map[int]bool{}
		for _, r := range pts[i].Runs {
			in[r] = true
		}
		idx := map[FaultWindow]int{}
		for _, r := range s.Runs {
			if !in[r.Index] {
				continue
			}
			for _, c := range r.Coverage {
				j, ok := idx[c.Window]
				if !ok {
					j = len(rows)
					idx[c.Window] = j
					end := timeS(c.Window.End) + " s"
					if c.Window.End == sim.Never {
						end = "end of run"
					}
					rows = append(rows, coverageRow{Point: pts[i].Label(), Kind: c.Window.Kind, Label: c.Window.Label,
						Start: timeS(c.Window.Start) + " s", End: end})
				}
				row := &rows[j]
				row.Runs++
				row.Attempted += c.Attempted
				row.Succeeded += c.Succeeded
				row.Failed += c.Failed
				row.TimedOut += c.TimedOut
			}
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
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2 { margin-top: 40px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; font-size: 20px; }
.desc { font-size: 16px; color: #333; margin: 8px 0 16px; }
.facts { color: #555; font-size: 13px; }
.facts code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: 6px 10px; margin: 8px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f2f6fa; }
td.name, th.name { text-align: left; font-family: ui-monospace, monospace; }
tr:nth-child(even) td { background: #fbfbfb; }
figure { margin: 24px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #555; }
.err { color: #D55E00; font-weight: 600; }
pre { background: #f6f8fa; padding: 12px; overflow-x: auto; font-size: 12px; border-radius: 4px; }
.timeline { overflow-x: auto; border: 1px solid #eee; }
</style>
</head>
<body>
<main>
<header>
<h1 id="title">{{.Name}}</h1>
{{if .Description}}<p class="desc" id="description">{{.Description}}</p>{{end}}
<p class="facts">{{.Runs}} runs · {{.Seeds}} seeds · {{len .Points}} sweep points{{if .Params}} over <code>{{range $i, $p := .Params}}{{if $i}}, {{end}}{{$p}}{{end}}</code>{{end}}{{if .Version}} · dsim {{.Version}}{{end}}{{if .Hash}} · config <code>{{printf "%.12s" .Hash}}</code>{{end}}</p>
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
</header>

<section id="summary">
<h2>Summary</h2>
<p class="facts">Mean over seeds ± half-width of the 95% confidence interval (Student t). Per-run values are in <code>runs.csv</code>, the full statistics in <code>summary.csv</code>.</p>
<div class="scroll">
<table id="summary-table">
<thead>{{range .Header}}<tr><th class="name">{{.Name}}</th>{{range .Values}}<th>{{.}}</th>{{end}}</tr>{{end}}</thead>
<tbody>
{{range .Metrics}}<tr><td class="name">{{.Name}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
</section>

<section id="plots">
<h2>Plots</h2>
{{range .Plots}}<figure class="plot">
{{if .Err}}<p class="err">{{.Title}}: {{.Err}}</p>{{else}}<img src="{{.Data}}" alt="{{.Title}}">
<figcaption>{{.Title}} · <a href="{{.SVG}}">SVG</a></figcaption>{{end}}
</figure>
{{else}}<p>No plots.</p>
{{end}}</section>

<section id="fault-coverage">
<h2>Fault coverage</h2>
{{if .Coverage}}<p class="facts">Operations in flight during each fault window, summed over the seeds of each sweep point. The <code>none</code> row counts operations that overlapped no fault.</p>
<div class="scroll">
<table id="coverage-table">
<thead><tr><th class="name">sweep point</th><th class="name">fault</th><th class="name">target</th><th>start</th><th>end</th><th>runs</th><th>attempted</th><th>succeeded</th><th>failed</th><th>timed out</th><th>success</th></tr></thead>
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
<section id="config">
<h2>Resolved configuration</h2>
{{if .Config}}<pre>{{.Config}}</pre>{{else}}<p>Not recorded.</p>{{end}}
</section>

<section id="files">
<h2>Files</h2>
<ul>{{range .Files}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>
</section>
</main>
</body>
</html>
`))
