package results

import (
	"encoding/csv"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// TestGoldenPlotData pins the data behind the fixture's plots, one or
// more of every kind, as CSV-like text in testdata/golden/plotdata/ (one
// file per plot): the CDF quantiles averaged over seeds or pooled, the
// statistics per line and x value of line and bar plots, the series lines
// and fault windows of a timeseries, the cells of a heatmap. Pixels are
// not compared (they differ across architectures); what they are drawn
// from is. Regenerate with go test ./results -run GoldenPlotData -rewrite.
func TestGoldenPlotData(t *testing.T) {
	f := fixtureFolder()
	specs := append(fixturePlots(),
		PlotSpec{Kind: CDF, Metric: "latency", Name: "cdf-latency-all"},                               // one line per point
		PlotSpec{Kind: Line, Metric: "latency_p99_ms", X: "client.retry.policy", By: "network.loss"},  // categorical x
		PlotSpec{Kind: Bars, Metric: "latency_mean_ms"},                                               // one bar per point
		PlotSpec{Kind: TimeSeries, Metric: "inflight", Where: map[string]string{"network.loss": "0"}}, // a line per point, no labels
	)
	seen := map[string]bool{}
	for _, spec := range specs {
		name := spec.FileName()
		if seen[name] {
			t.Fatalf("two plots named %s: give one a Name", name)
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			simtest.Golden(t, filepath.Join("testdata", "golden", "plotdata", name+".csv"), plotData(t, spec, f))
		})
	}
}

// plotData prints what plot spec draws from folder f.
func plotData(t *testing.T, spec PlotSpec, f *Folder) string {
	var b strings.Builder
	num := FormatFloat
	w := csv.NewWriter(&b)
	row := func(cells ...string) {
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	}
	fmt.Fprintf(&b, "# %s %s", spec.Kind, spec.Metric)
	for _, k := range slices.Sorted(maps.Keys(spec.Where)) {
		fmt.Fprintf(&b, " %s=%s", k, spec.Where[k])
	}
	b.WriteString("\n")
	switch spec.Kind {
	case CDF:
		labels, dists, ns, pooled := CDFPoints(f, spec.Metric, spec.Where)
		fmt.Fprintf(&b, "# pooled %v\n", pooled)
		row("line", "n", "quantile", "value_ms")
		for i, d := range dists {
			for _, q := range d {
				row(labels[i], strconv.Itoa(ns[i]), num(q.Q), num(q.ValueMs))
			}
		}
	case Line, Bars:
		xs, lines, _, err := groupStats(spec, f)
		if err != nil {
			t.Fatal(err)
		}
		row("line", "x", "n", "mean", "ci_low", "ci_high")
		for _, ld := range lines {
			for _, x := range xs {
				if st, ok := ld.stats[x]; ok {
					row(ld.label, x, strconv.Itoa(st.N), num(st.Mean), num(st.CILow), num(st.CIHigh))
				}
			}
		}
	case TimeSeries:
		row("line", "bucket_s", "n", "time_s", "mean", "ci_low", "ci_high")
		for _, ln := range SeriesLines(f, spec.Metric, spec.By, spec.Where) {
			for k, v := range ln.Mean {
				row(ln.Label, num(ln.Step.Seconds()), strconv.Itoa(ln.N), timeS(sim.Time(int64(k)*int64(ln.Step))),
					num(v), num(ln.Low[k]), num(ln.High[k]))
			}
		}
		row("window", "label", "start_s", "end_s")
		for _, win := range windowsOf(f, spec.Where) {
			row(win.Kind, win.Label, timeS(win.Start), timeS(win.End))
		}
	case Heatmap:
		xs, ys, g, _, _, _, err := heatmapCells(spec, f)
		if err != nil {
			t.Fatal(err)
		}
		row(spec.X, spec.Y, "mean")
		for r, y := range ys {
			for c, x := range xs {
				row(x, y, num(g.z[r][c]))
			}
		}
	}
	return b.String()
}
