package results

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/dsim-dev/dsim/sim"
)

// ErrNoData is returned for a plot whose metric no selected run recorded.
var ErrNoData = errors.New("no data")

// Plot geometry: 16 × 10 cm, PNG at 150 dpi.
const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
	pngDPI     = 150
)

// OkabeIto is the colour-blind-safe palette of Okabe and Ito, "Color
// Universal Design" (2002), in the order lines take it. Yellow comes last:
// it is the hardest to see on white.
var OkabeIto = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

// dashes cycle once the colours run out, so lines stay distinguishable.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{
		Color:  OkabeIto[i%len(OkabeIto)],
		Width:  vg.Points(1.5),
		Dashes: dashes[(i/len(OkabeIto))%len(dashes)],
	}
}

// faultColors shade fault windows by kind: light tints that keep lines
// readable on top.
var faultColors = []color.NRGBA{
	{0x99, 0x99, 0x99, 0x50},
	{0xD5, 0x5E, 0x00, 0x38},
	{0x56, 0xB4, 0xE9, 0x50},
	{0xCC, 0x79, 0xA7, 0x50},
}

// RenderPlot draws one plot of the set and returns it as PNG and SVG.
func RenderPlot(spec PlotSpec, s *Set) (pngData, svgData []byte, err error) {
	defer func() {
		// gonum/plot panics on impossible axes (say, a log axis over
		// zero); report that as this plot's error, not a crash.
		if r := recover(); r != nil {
			pngData, svgData, err = nil, nil, fmt.Errorf("cannot draw: %v", r)
		}
	}()
	if err := spec.Check(s.Manifest.Params); err != nil {
		return nil, nil, err
	}
	p, err := buildPlot(spec, s)
	if err != nil {
		return nil, nil, err
	}
	return encodePlot(p)
}

func encodePlot(p *plot.Plot) (pngData, svgData []byte, err error) {
	ic := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(ic))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	sc := vgsvg.New(plotWidth, plotHeight)
	p.Draw(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}

func buildPlot(spec PlotSpec, s *Set) (*plot.Plot, error) {
	p := &chart{Plot: plot.New()}
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(20)
	p.Title.Padding = vg.Points(6)
	var err error
	switch spec.Kind {
	case CDF:
		err = plotCDF(p, spec, s)
	case Line:
		err = plotLine(p, spec, s)
	case Bars:
		err = plotBars(p, spec, s)
	case TimeSeries:
		err = plotSeries(p, spec, s)
	case Heatmap:
		err = plotHeatmap(p, spec, s)
	default:
		err = fmt.Errorf("unknown plot kind %v", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	if spec.Kind == Line || spec.Kind == Bars || spec.Kind == TimeSeries {
		legendRoom(p, spec.LogY)
	}
	if spec.Title != "" {
		p.Title.Text = spec.Title
	}
	if spec.LogX && !p.linearX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if spec.LogY && spec.Kind != Heatmap {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p.Plot, nil
}

// chart is a plot being built; it counts its legend entries.
type chart struct {
	*plot.Plot
	entries  int
	roomMade bool // the plot made room for the legend itself
	linearX  bool // the x axis is categorical: log_x does not apply
}

// legend adds a legend entry.
func (c *chart) legend(name string, thumbs ...plot.Thumbnailer) {
	c.Legend.Add(name, thumbs...)
	c.entries++
}

// legendRoom raises the top of the y axis so the legend, drawn in the
// top-right corner, does not cover the data.
func legendRoom(p *chart, logY bool) {
	if p.entries == 0 || p.roomMade {
		return
	}
	frac := math.Min(0.09*float64(p.entries), 0.6)
	if logY && p.Y.Min > 0 {
		p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, frac)
		return
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * frac
}

// selectRuns returns the runs at sweep points matching where.
func selectRuns(s *Set, where map[string]string) []Run {
	var out []Run
	for _, r := range s.Runs {
		ok := true
		for k, v := range where {
			if pv, _ := r.Param(k); pv != v {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// unitOf returns the unit a metric name ends with, for axis labels.
func unitOf(name string) string {
	base, _ := SplitName(name)
	base = strings.TrimSuffix(base, "_mean")
	for _, u := range []struct{ suffix, unit string }{
		{"_ms", "ms"}, {"_us", "µs"}, {"_ns", "ns"}, {"_s", "s"},
		{"_rps", "per second"}, {"_bps", "bytes per second"}, {"_bytes", "bytes"},
		{"_ratio", "fraction"}, {"_pct", "%"},
	} {
		if strings.HasSuffix(base, u.suffix) {
			return u.unit
		}
	}
	return ""
}

func axisLabel(name string) string {
	if u := unitOf(name); u != "" {
		return name + " (" + u + ")"
	}
	return name
}

// xValues interprets a parameter's values as numbers: plain numbers, or
// durations (in ms). Anything else is categorical (ok false).
func xValues(vals []string) (xs []float64, unit string, ok bool) {
	xs = make([]float64, len(vals))
	allNum, allDur := true, true
	for i, v := range vals {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil {
			allNum = false
		}
		xs[i] = f
	}
	if allNum && len(vals) > 0 {
		return xs, "", true
	}
	for i, v := range vals {
		d, err := time.ParseDuration(v)
		if err != nil {
			allDur = false
			break
		}
		xs[i] = float64(d) / 1e6
	}
	if allDur && len(vals) > 0 {
		return xs, "ms", true
	}
	return nil, "", false
}

// distinct returns the distinct values in first-seen order.
func distinct(vals []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// orderValues sorts parameter values numerically when they are numbers
// or durations, else keeps their sweep order.
func orderValues(vals []string) []string {
	vals = distinct(vals)
	xs, _, ok := xValues(vals)
	if !ok {
		return vals
	}
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	out := make([]string, len(vals))
	for i, j := range idx {
		out[i] = vals[j]
	}
	return out
}

// withoutParams returns a point's label without the named parameters.
func withoutParams(ps []Param, drop ...string) string {
	var keep []Param
	for _, p := range ps {
		skip := false
		for _, d := range drop {
			if p.Name == d {
				skip = true
			}
		}
		if !skip {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return paramsLabel(keep)
}

// pointLabel labels a sweep point by its parameters, leaving out those
// that where fixes (they are the same on every line).
func pointLabel(ps []Param, where map[string]string) string {
	l := withoutParams(ps, sortedKeys(where)...)
	if l == "" {
		return "all runs"
	}
	return l
}

// CDFPoints returns, for each sweep point of the set matching where, the
// CDF of histogram name averaged over the point's seeds quantile by
// quantile (the Vincent average: each seed weighs the same, whatever its
// sample count). Points without the histogram are left out.
func CDFPoints(s *Set, name string, where map[string]string) (labels []string, dists [][]Quantile) {
	runs := selectRuns(s, where)
	for _, pt := range Aggregate(runs) {
		var sum []Quantile
		n := 0
		for _, idx := range pt.Runs {
			for _, r := range runs {
				if r.Index != idx {
					continue
				}
				for _, d := range r.Dists {
					if d.Name != name {
						continue
					}
					if sum == nil {
						sum = make([]Quantile, len(d.Points))
						copy(sum, d.Points)
						for i := range sum {
							sum[i].ValueMs = 0
						}
					}
					if len(d.Points) != len(sum) {
						continue
					}
					for i, q := range d.Points {
						sum[i].ValueMs += q.ValueMs
					}
					n++
				}
			}
		}
		if n == 0 {
			continue
		}
		for i := range sum {
			sum[i].ValueMs /= float64(n)
		}
		labels = append(labels, pointLabel(pt.Params, where))
		dists = append(dists, sum)
	}
	return labels, dists
}

func plotCDF(p *chart, spec PlotSpec, s *Set) error {
	labels, dists := CDFPoints(s, spec.Metric, spec.Where)
	if len(dists) == 0 {
		return fmt.Errorf("%w: no run has a latency histogram %q", ErrNoData, spec.Metric)
	}
	for i, d := range dists {
		xys := make(plotter.XYs, 0, len(d))
		for _, q := range d {
			x := q.ValueMs
			if spec.LogX && x <= 0 || spec.LogY && q.Q <= 0 {
				continue // log axes cannot show 0
			}
			xys = append(xys, plotter.XY{X: x, Y: q.Q})
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.LineStyle = lineStyle(i)
		l.StepStyle = plotter.PostStep
		p.Add(l)
		if len(dists) > 1 || labels[i] != "all runs" {
			p.legend(labels[i], l)
		}
	}
	p.Title.Text = "Latency distribution: " + spec.Metric
	p.X.Label.Text = spec.Metric + " (ms)"
	p.Y.Label.Text = "fraction of samples ≤ x"
	p.Y.Max = 1
	if !spec.LogY {
		p.Y.Min = 0
	}
	p.Legend.Top = false // bottom right, clear of the curves' rise
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(8)
	p.Add(plotter.NewGrid())
	return nil
}

// lineData is one line of a line or bar plot: a value per x category.
type lineData struct {
	label string
	stats map[string]Stat // by x value
}

// groupStats collects metric statistics per (by value, x value).
func groupStats(spec PlotSpec, s *Set) (xs []string, lines []lineData, err error) {
	pts := Aggregate(selectRuns(s, spec.Where))
	var xv []string
	found := false
	byIdx := map[string]int{}
	for i := range pts {
		pt := &pts[i]
		st, ok := pt.Metric(spec.Metric)
		if !ok {
			continue
		}
		found = true
		x := pt.Label()
		if spec.X != "" {
			x, _ = pt.Param(spec.X)
		}
		label := ""
		if spec.By != "" {
			v, _ := pt.Param(spec.By)
			label = spec.By + "=" + v
		} else if spec.X != "" {
			label = withoutParams(pt.Params, spec.X)
		}
		j, ok := byIdx[label]
		if !ok {
			j = len(lines)
			byIdx[label] = j
			lines = append(lines, lineData{label: label, stats: map[string]Stat{}})
		}
		if _, dup := lines[j].stats[x]; dup {
			return nil, nil, fmt.Errorf("several sweep points give %s=%s for %q; add by: or where: to pick one", spec.X, x, label)
		}
		lines[j].stats[x] = st
		xv = append(xv, x)
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: no run has a metric %q", ErrNoData, spec.Metric)
	}
	if spec.X != "" {
		return orderValues(xv), lines, nil
	}
	return distinct(xv), lines, nil
}

func plotLine(p *chart, spec PlotSpec, s *Set) error {
	xcats, lines, err := groupStats(spec, s)
	if err != nil {
		return err
	}
	xnum, xunit, numeric := xValues(xcats)
	pos := map[string]float64{}
	for i, x := range xcats {
		if numeric {
			pos[x] = xnum[i]
		} else {
			pos[x] = float64(i)
		}
	}
	for i, ld := range lines {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, x := range xcats {
			st, ok := ld.stats[x]
			if !ok || math.IsNaN(st.Mean) || spec.LogX && numeric && pos[x] <= 0 || spec.LogY && st.Mean <= 0 {
				continue // log axes cannot show 0
			}
			xys = append(xys, plotter.XY{X: pos[x], Y: st.Mean})
			lo, hi := 0.0, 0.0
			if !math.IsNaN(st.CILow) {
				lo, hi = st.Mean-st.CILow, st.CIHigh-st.Mean
			}
			if spec.LogY && st.Mean-lo <= 0 {
				lo = st.Mean * 0.999 // the interval reaches 0: draw it to 1/1000 of the mean
			}
			errs = append(errs, struct{ Low, High float64 }{lo, hi})
		}
		if len(xys) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.LineStyle = lineStyle(i)
		sc.GlyphStyle = draw.GlyphStyle{Color: OkabeIto[i%len(OkabeIto)], Radius: vg.Points(3), Shape: glyphs[i%len(glyphs)]}
		eb, err := plotter.NewYErrorBars(yErrs{xys, errs})
		if err != nil {
			return err
		}
		eb.LineStyle = draw.LineStyle{Color: OkabeIto[i%len(OkabeIto)], Width: vg.Points(1)}
		eb.CapWidth = vg.Points(6)
		p.Add(l, sc, eb)
		if ld.label != "" {
			p.legend(ld.label, l, sc)
		}
	}
	if !numeric {
		p.NominalX(xcats...)
		p.linearX = true
	}
	p.Title.Text = spec.Metric + " vs " + spec.X
	p.X.Label.Text = spec.X
	if xunit != "" {
		p.X.Label.Text += " (" + xunit + ")"
	}
	p.Y.Label.Text = axisLabel(spec.Metric) + ", mean and 95% CI"
	p.Add(plotter.NewGrid())
	return nil
}

// yErrs adapts points and their errors to plotter.NewYErrorBars.
type yErrs struct {
	plotter.XYs
	plotter.YErrors
}

func plotBars(p *chart, spec PlotSpec, s *Set) error {
	xcats, lines, err := groupStats(spec, s)
	if err != nil {
		return err
	}
	g := len(lines)
	w := 0.8 / float64(g)
	ymin := 0.0
	for i, ld := range lines {
		col := OkabeIto[i%len(OkabeIto)]
		var first *plotter.Polygon
		var xys plotter.XYs
		var errs plotter.YErrors
		for c, x := range xcats {
			st, ok := ld.stats[x]
			if !ok || math.IsNaN(st.Mean) {
				continue
			}
			x0 := float64(c) - 0.4 + float64(i)*w
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x0 + w, Y: 0}, {X: x0 + w, Y: st.Mean}, {X: x0, Y: st.Mean}})
			if err != nil {
				return err
			}
			poly.Color = col
			poly.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
			p.Add(poly)
			if first == nil {
				first = poly
			}
			ymin = math.Min(ymin, st.Mean)
			if !math.IsNaN(st.CILow) {
				xys = append(xys, plotter.XY{X: x0 + w/2, Y: st.Mean})
				errs = append(errs, struct{ Low, High float64 }{st.Mean - st.CILow, st.CIHigh - st.Mean})
			}
		}
		if len(xys) > 0 {
			eb, err := plotter.NewYErrorBars(yErrs{xys, errs})
			if err != nil {
				return err
			}
			eb.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
			eb.CapWidth = vg.Points(5)
			p.Add(eb)
		}
		if first != nil && ld.label != "" && g > 1 {
			p.legend(ld.label, first)
		}
	}
	p.NominalX(xcats...)
	p.X.Min, p.X.Max = -0.6, float64(len(xcats))-0.4
	p.Y.Min = ymin
	p.Title.Text = spec.Metric
	if spec.X != "" {
		p.Title.Text += " by " + spec.X
		p.X.Label.Text = spec.X
	} else {
		p.X.Label.Text = "sweep point"
	}
	p.Y.Label.Text = axisLabel(spec.Metric) + ", mean and 95% CI"
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	return nil
}

// SeriesLine is one line of a timeseries plot: a series averaged over the
// seeds of one sweep point.
type SeriesLine struct {
	Label  string
	Step   time.Duration
	Values []float64
}

// SeriesLines returns the lines of a timeseries plot: every series whose
// base name is metric, for each sweep point matching where, averaged over
// the point's seeds bucket by bucket (NaN buckets skipped). With by, lines
// are labelled with the value of that label key.
func SeriesLines(s *Set, metric, by string, where map[string]string) []SeriesLine {
	runs := selectRuns(s, where)
	pts := Aggregate(runs)
	type acc struct {
		sum  []float64
		n    []int
		step time.Duration
	}
	var out []SeriesLine
	for _, pt := range pts {
		in := map[int]bool{}
		for _, idx := range pt.Runs {
			in[idx] = true
		}
		accs := map[string]*acc{}
		var names []string
		for _, r := range runs {
			if !in[r.Index] {
				continue
			}
			for _, ser := range r.Series {
				base, labels := SplitName(ser.Name)
				if base != metric {
					continue
				}
				label := ser.Name
				if by != "" {
					label = ""
					for _, l := range labels {
						if l.Name == by {
							label = by + "=" + l.Value
						}
					}
					if label == "" {
						continue
					}
				} else if len(labels) == 0 {
					label = ""
				}
				a, ok := accs[label]
				if !ok {
					a = &acc{step: ser.Step}
					accs[label] = a
					names = append(names, label)
				}
				if ser.Step != a.step {
					continue // a run whose buckets were widened; skip rather than mix
				}
				for len(a.sum) < len(ser.Values) {
					a.sum = append(a.sum, 0)
					a.n = append(a.n, 0)
				}
				for i, v := range ser.Values {
					if !math.IsNaN(v) {
						a.sum[i] += v
						a.n[i]++
					}
				}
			}
		}
		sort.Strings(names)
		for _, name := range names {
			a := accs[name]
			vals := make([]float64, len(a.sum))
			for i := range vals {
				vals[i] = math.NaN()
				if a.n[i] > 0 {
					vals[i] = a.sum[i] / float64(a.n[i])
				}
			}
			label := name
			if len(pts) > 1 {
				if label != "" {
					label += " · "
				}
				label += pointLabel(pt.Params, where)
			}
			out = append(out, SeriesLine{Label: label, Step: a.step, Values: vals})
		}
	}
	return out
}

// windowsOf returns the distinct fault windows of the runs at the points
// matching where, sorted.
func windowsOf(s *Set, where map[string]string) []FaultWindow {
	seen := map[FaultWindow]bool{}
	var ws []FaultWindow
	for _, r := range selectRuns(s, where) {
		for _, w := range r.Faults {
			if !seen[w] {
				seen[w] = true
				ws = append(ws, w)
			}
		}
	}
	SortWindows(ws)
	return ws
}

func plotSeries(p *chart, spec PlotSpec, s *Set) error {
	lines := SeriesLines(s, spec.Metric, spec.By, spec.Where)
	if len(lines) == 0 {
		return fmt.Errorf("%w: no run has a time series %q", ErrNoData, spec.Metric)
	}
	ymin, ymax, tmax := math.Inf(1), math.Inf(-1), 0.0
	var built []*plotter.Line
	for i, ln := range lines {
		var xys plotter.XYs
		for k, v := range ln.Values {
			if math.IsNaN(v) || spec.LogY && v <= 0 {
				continue
			}
			t := (float64(k) + 0.5) * ln.Step.Seconds() // bucket midpoint
			xys = append(xys, plotter.XY{X: t, Y: v})
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
		tmax = math.Max(tmax, float64(len(ln.Values))*ln.Step.Seconds())
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.LineStyle = lineStyle(i)
		l.LineStyle.Width = vg.Points(1.2)
		built = append(built, l)
		if ln.Label != "" {
			p.legend(ln.Label, l)
		}
	}
	if len(built) == 0 {
		return fmt.Errorf("%w: time series %q has no values", ErrNoData, spec.Metric)
	}
	if ymin > 0 && !spec.LogY {
		ymin = 0
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	// Fault windows first, so lines draw over them. The bands reach the
	// top of the axis, leaving room for the legend above the data.
	windows := windowsOf(s, spec.Where)
	nk := map[string]bool{}
	for _, w := range windows {
		nk[w.Kind] = true
	}
	if n := p.entries + len(nk); n > 0 && len(windows) > 0 {
		if spec.LogY && ymin > 0 {
			ymax *= math.Pow(ymax/ymin, math.Min(0.09*float64(n), 0.6))
		} else {
			ymax += (ymax - ymin) * math.Min(0.09*float64(n), 0.6)
		}
		p.roomMade = true
	}
	kinds := map[string]int{}
	for _, w := range windows {
		st, en := w.Start.Seconds(), tmax
		if w.End != sim.Never {
			en = w.End.Seconds()
		}
		if en <= st {
			continue
		}
		k, ok := kinds[w.Kind]
		if !ok {
			k = len(kinds)
			kinds[w.Kind] = k
		}
		lo, hi := ymin, ymax
		if spec.LogY && lo <= 0 {
			lo = ymax / 1e6
		}
		band, err := plotter.NewPolygon(plotter.XYs{{X: st, Y: lo}, {X: en, Y: lo}, {X: en, Y: hi}, {X: st, Y: hi}})
		if err != nil {
			return err
		}
		band.Color = faultColors[k%len(faultColors)]
		band.LineStyle.Width = 0
		p.Add(band)
		if !ok {
			p.legend("fault: "+w.Kind, band)
		}
	}
	for _, l := range built {
		p.Add(l)
	}
	p.Title.Text = spec.Metric + " over time"
	p.X.Label.Text = "simulated time (s)"
	p.Y.Label.Text = axisLabel(spec.Metric)
	if !spec.LogX {
		p.X.Min = 0
	}
	p.Add(plotter.NewGrid())
	return nil
}

// grid is a heatmap's data: Z[r][c] for column c (x) and row r (y).
type grid struct {
	z [][]float64
}

func (g grid) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g grid) Z(c, r int) float64 { return g.z[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

func plotHeatmap(p *chart, spec PlotSpec, s *Set) error {
	pts := Aggregate(selectRuns(s, spec.Where))
	var xv, yv []string
	type key struct{ x, y string }
	cells := map[key]float64{}
	for i := range pts {
		st, ok := pts[i].Metric(spec.Metric)
		if !ok {
			continue
		}
		x, _ := pts[i].Param(spec.X)
		y, _ := pts[i].Param(spec.Y)
		if _, dup := cells[key{x, y}]; dup {
			return fmt.Errorf("several sweep points give %s=%s, %s=%s; add where: to pick one", spec.X, x, spec.Y, y)
		}
		cells[key{x, y}] = st.Mean
		xv, yv = append(xv, x), append(yv, y)
	}
	if len(cells) == 0 {
		return fmt.Errorf("%w: no run has a metric %q", ErrNoData, spec.Metric)
	}
	xs, ys := orderValues(xv), orderValues(yv)
	g := grid{z: make([][]float64, len(ys))}
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, y := range ys {
		g.z[r] = make([]float64, len(xs))
		for c, x := range xs {
			v, ok := cells[key{x, y}]
			if !ok {
				v = math.NaN()
			}
			g.z[r][c] = v
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	// Kindlmann's map rises monotonically in luminance, so it reads in
	// grey scale and to colour-blind eyes; its black and white ends are
	// cut off so no cell vanishes into the page or its labels.
	if hi <= lo {
		hi = lo + 1
	}
	pmin, pmax := lo-0.15*(hi-lo), hi+0.25*(hi-lo)
	cm := moreland.Kindlmann()
	cm.SetMin(pmin)
	cm.SetMax(pmax)
	hm := plotter.NewHeatMap(g, cm.Palette(255))
	hm.Min, hm.Max = pmin, pmax
	hm.NaN = color.RGBA{0xEE, 0xEE, 0xEE, 0xFF}
	p.Add(hm)
	// Print each cell's value, light on dark cells and dark on light.
	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	for r := range ys {
		for c := range xs {
			v := g.z[r][c]
			if math.IsNaN(v) {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(r)})
			labels = append(labels, strconv.FormatFloat(v, 'g', 4, 64))
			sty := text.Style{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler,
				XAlign: draw.XCenter, YAlign: draw.YCenter}
			sty.Font.Size = vg.Points(9)
			if (v-pmin)/(pmax-pmin) < 0.55 {
				sty.Color = color.White
			}
			styles = append(styles, sty)
		}
	}
	if len(xys) > 0 {
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return err
		}
		for i := range styles {
			styles[i].Font = lb.TextStyle[i].Font
			styles[i].Font.Size = vg.Points(9)
		}
		lb.TextStyle = styles
		p.Add(lb)
	}
	p.NominalX(xs...)
	p.NominalY(ys...)
	p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(ys))-0.5
	p.Title.Text = fmt.Sprintf("%s (mean over seeds; range %s–%s)", spec.Metric,
		strconv.FormatFloat(lo, 'g', 4, 64), strconv.FormatFloat(hi, 'g', 4, 64))
	p.X.Label.Text = spec.X
	p.Y.Label.Text = spec.Y
	return nil
}

// DefaultPlots returns the plots drawn when an experiment declares none:
// a latency CDF per histogram; with a sweep, each histogram's p99 against
// the first swept parameter (a line when its values are numbers or
// durations, else bars), split by the second; and a time series per
// counter-rate series.
func DefaultPlots(s *Set) []PlotSpec {
	if len(s.Runs) == 0 {
		return nil
	}
	r := &s.Runs[0]
	var specs []PlotSpec
	for _, d := range r.Dists {
		specs = append(specs, PlotSpec{Kind: CDF, Metric: d.Name, LogX: true})
	}
	params := s.Manifest.Params
	for _, d := range r.Dists {
		m := WithSuffix(d.Name, "_p99_ms")
		switch {
		case len(params) == 0:
			specs = append(specs, PlotSpec{Kind: Bars, Metric: m})
		default:
			var vals []string
			for i := range s.Runs {
				v, _ := s.Runs[i].Param(params[0])
				vals = append(vals, v)
			}
			kind := Bars
			if _, _, ok := xValues(distinct(vals)); ok {
				kind = Line
			}
			spec := PlotSpec{Kind: kind, Metric: m, X: params[0]}
			if len(params) > 1 {
				spec.By = params[1]
			}
			specs = append(specs, spec)
		}
	}
	seen := map[string]bool{}
	for _, ser := range r.Series {
		base, labels := SplitName(ser.Name)
		if seen[base] || !strings.HasSuffix(base, "_rps") {
			continue
		}
		seen[base] = true
		spec := PlotSpec{Kind: TimeSeries, Metric: base}
		if len(labels) > 0 {
			spec.By = labels[0].Name
		}
		if len(params) > 0 {
			// One line per sweep point would crowd the chart; show the
			// first point.
			spec.Where = map[string]string{}
			for _, p := range r.Params {
				spec.Where[p.Name] = p.Value
			}
		}
		specs = append(specs, spec)
	}
	return specs
}
