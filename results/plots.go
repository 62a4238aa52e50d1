package results

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
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
	"gonum.org/v1/plot/vg/vgpdf"
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
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}, {vg.Points(12), vg.Points(4)}}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

// lineStyle gives line i its own colour and dash pattern, so that lines
// drawn over each other (equal values) stay visible and the plot reads in
// grey scale.
func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{
		Color:  OkabeIto[i%len(OkabeIto)],
		Width:  vg.Points(1.5),
		Dashes: dashes[i%len(dashes)],
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

// RenderPlot draws one plot of a folder and returns it in each of the
// formats ("png", "svg", "pdf"), in order. yShare, when not nil, is the
// y range the plot shares with the other plots of its comparison.
func RenderPlot(spec PlotSpec, f *Folder, formats []string, yShare *[2]float64) (out [][]byte, err error) {
	defer func() {
		// gonum/plot panics on impossible axes (say, a log axis over
		// zero); report that as this plot's error, not a crash.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("cannot draw: %v", r)
		}
	}()
	if err := spec.Check(f.Manifest.Params); err != nil {
		return nil, err
	}
	c, err := buildPlot(spec, f, yShare)
	if err != nil {
		return nil, err
	}
	for _, fm := range formats {
		b, err := encodePlot(c.Plot, fm)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func encodePlot(p *plot.Plot, format string) ([]byte, error) {
	var b bytes.Buffer
	switch format {
	case "png":
		ic := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
		p.Draw(draw.New(ic))
		if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&b); err != nil {
			return nil, err
		}
	case "svg":
		sc := vgsvg.New(plotWidth, plotHeight)
		p.Draw(draw.New(sc))
		if _, err := sc.WriteTo(&b); err != nil {
			return nil, err
		}
	case "pdf":
		pc := vgpdf.New(plotWidth, plotHeight)
		pc.EmbedFonts(true)
		p.Draw(draw.New(pc))
		if _, err := pc.WriteTo(&b); err != nil {
			return nil, err
		}
		// The PDF library stamps the creation time; drop it so the same
		// data gives the same bytes.
		return stripPDFDate(b.Bytes()), nil
	default:
		return nil, fmt.Errorf("unknown plot format %q", format)
	}
	return b.Bytes(), nil
}

// stripPDFDate blanks the /CreationDate and /ModDate values of a PDF's
// info dictionary, keeping the byte length (the xref offsets stay valid).
func stripPDFDate(b []byte) []byte {
	for _, key := range []string{"/CreationDate (", "/ModDate ("} {
		for off := 0; ; {
			i := bytes.Index(b[off:], []byte(key))
			if i < 0 {
				break
			}
			i += off + len(key)
			j := bytes.IndexByte(b[i:], ')')
			if j < 0 {
				break
			}
			for k := i; k < i+j; k++ {
				b[k] = '0'
			}
			off = i + j
		}
	}
	return b
}

func init() {
	// A sans-serif face, like the report's text. One face only: the PDF
	// library lists several fonts in map order, which would make the
	// bytes differ from run to run.
	plot.DefaultFont.Variant = "Sans"
	plotter.DefaultFont.Variant = "Sans"
}

func buildPlot(spec PlotSpec, f *Folder, yShare *[2]float64) (*chart, error) {
	p := &chart{Plot: plot.New(), f: f}
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(24)
	p.Title.Padding = vg.Points(6)
	p.X.Tick.Marker = numTicks{}
	p.Y.Tick.Marker = numTicks{}
	var err error
	switch spec.Kind {
	case CDF:
		err = plotCDF(p, spec, f)
	case Line:
		err = plotLine(p, spec, f)
	case Bars:
		err = plotBars(p, spec, f)
	case TimeSeries:
		err = plotSeries(p, spec, f, yShare)
	case Heatmap:
		err = plotHeatmap(p, spec, f)
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
	if (spec.LogX || p.autoLogX) && !p.linearX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if spec.LogY && spec.Kind != Heatmap {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p, nil
}

// numTicks are gonum's default ticks labelled without trailing zeros
// ("2500", "0.5", not "2500.00"), thousands and up without an exponent.
type numTicks struct{}

// Ticks returns the default ticks with shorter labels.
func (numTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = FormatNumber(ts[i].Value)
		}
	}
	return ts
}

// FormatNumber formats a number for people: at most 4 significant
// digits, no trailing zeros, no exponent between 0.001 and a trillion.
func FormatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case a >= 1e4 && a < 1e12:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a >= 1e-3 && a < 1e4:
		// 4 significant digits, then the shortest form of that.
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
		return strconv.FormatFloat(r, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// chart is a plot being built; it counts its legend entries.
type chart struct {
	*plot.Plot
	f        *Folder
	autoLogX bool   // the data span more than a decade: log x (CDFs)
	caption  string // what the plot shows, under it in the report
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
	p.Y.Max = raisedTop(p.Y.Min, p.Y.Max, p.entries, logY)
}

// raisedTop returns the top of a y axis running from lo to hi, raised by
// 9% of the range per legend entry (at most 60%; on a log axis, of the
// decades) to leave room for a legend of n entries above the data.
func raisedTop(lo, hi float64, n int, logY bool) float64 {
	frac := math.Min(0.09*float64(n), 0.6)
	if logY && lo > 0 {
		return hi * math.Pow(hi/lo, frac)
	}
	return hi + (hi-lo)*frac
}

// selectPoints returns the sweep points matching where, in point order.
func selectPoints(f *Folder, where map[string]string) []*Point {
	var out []*Point
	for i := range f.Summary.Points {
		p := &f.Summary.Points[i]
		ok := true
		for k, v := range where {
			if pv, _ := p.Param(k); !sameValue(pv, v) {
				ok = false
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// sameValue compares parameter values as written ("0.5s" matches
// "500ms").
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, _, ok1 := xValues([]string{a})
	y, _, ok2 := xValues([]string{b})
	return ok1 && ok2 && x[0] == y[0]
}

// unitOf returns the unit a metric name (without labels) ends with, for
// axis labels.
func unitOf(base string) string {
	base = strings.TrimSuffix(base, "_mean")
	for _, u := range unitSuffixes {
		if strings.HasSuffix(base, u.suffix) {
			return u.unit
		}
	}
	return ""
}

var unitSuffixes = []struct{ suffix, unit string }{
	{"_ms", "ms"}, {"_us", "µs"}, {"_ns", "ns"}, {"_s", "s"},
	{"_rps", "per second"}, {"_bps", "bytes per second"}, {"_bytes", "bytes"},
	{"_ratio", "fraction"}, {"_pct", "%"},
}

// Info returns the title and unit of a metric: the registered ones
// (Manifest.Metrics) for its base name or the name it derives from
// ("attempts" for "attempts_rps", "latency" for "latency_p99_ms"), else
// ones made from the name ("latency_p99_ms" → "Latency p99", "ms").
// name is as experiment files write it; labels do not matter.
func (f *Folder) Info(name string) MetricInfo {
	base := ParseID(name).Name
	for _, mi := range f.Manifest.Metrics {
		if mi.Name == base {
			if mi.Title == "" {
				mi.Title = humanize(base)
			}
			return mi
		}
	}
	unit := unitOf(base)
	stem := base
	for _, u := range unitSuffixes {
		if strings.HasSuffix(stem, u.suffix) {
			stem = strings.TrimSuffix(stem, u.suffix)
			break
		}
	}
	for _, mi := range f.Manifest.Metrics {
		if stem == mi.Name {
			return MetricInfo{Name: base, Title: mi.Title + rateWord(base), Unit: unit}
		}
		for _, q := range []string{"_count", "_mean", "_p50", "_p90", "_p95", "_p99", "_p999", "_max", "_last"} {
			if stem == mi.Name+q && mi.Title != "" {
				return MetricInfo{Name: base, Title: mi.Title + ", " + strings.TrimPrefix(q, "_"), Unit: unit}
			}
		}
	}
	return MetricInfo{Name: base, Title: humanize(stem), Unit: unit}
}

func rateWord(base string) string {
	if strings.HasSuffix(base, "_rps") {
		return " per second"
	}
	return ""
}

// humanize turns a name into words: "window_success" → "Window success",
// "protocol.variant" → "Variant".
func humanize(name string) string {
	name = strings.TrimPrefix(name, "protocol.")
	name = strings.NewReplacer("_", " ", ".", " ").Replace(name)
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// title is a metric's title with its labels: "Attempts per second (tier
// db)". name is as experiment files write it.
func (f *Folder) title(name string) string { return f.titleOf(ParseID(name)) }

// titleOf is title for a metric ID.
func (f *Folder) titleOf(id MetricID) string {
	t := f.Info(id.Name).Title
	if len(id.Labels) > 0 {
		var parts []string
		for _, l := range id.Labels {
			parts = append(parts, l.Key+" "+l.Value)
		}
		t += " (" + strings.Join(parts, ", ") + ")"
	}
	return t
}

// axisLabel is a metric's title with its unit: "Latency p99 (ms)".
func (f *Folder) axisLabel(name string) string {
	mi := f.Info(name)
	if mi.Unit != "" && mi.Unit != "per second" {
		return mi.Title + " (" + mi.Unit + ")"
	}
	return mi.Title
}

// paramLabel is a swept parameter's axis label.
func paramLabel(name, unit string) string {
	l := humanize(name)
	if unit != "" {
		l += " (" + unit + ")"
	}
	return l
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
	return Params(keep).Label()
}

// pointLabel labels a sweep point by its parameters, leaving out those
// that where fixes (they are the same on every line).
func pointLabel(ps []Param, where map[string]string) string {
	var keep []Param
	for _, p := range ps {
		if _, fixed := where[p.Name]; !fixed {
			keep = append(keep, p)
		}
	}
	if len(keep) == 1 {
		return keep[0].Value // the plot's title or caption names the parameter
	}
	l := withoutParams(ps, slices.Sorted(maps.Keys(where))...)
	if l == "" {
		return "all runs"
	}
	return l
}

// CDFPoints returns, for each sweep point matching where, the CDF of
// histogram name averaged over the point's seeds quantile by quantile
// (the Vincent average: each seed weighs the same, whatever its sample
// count). Points without the histogram are left out.
//
// Where the runs' HDR histograms were merged (Point.Pooled), the pooled
// distribution of all the point's samples is used instead, and pooled is
// true.
func CDFPoints(f *Folder, name string, where map[string]string) (labels []string, dists [][]Quantile, n []int, pooled bool) {
	id := ParseID(name)
	pts := selectPoints(f, where)
	pooled = len(pts) > 0
	for _, pt := range pts {
		found := false
		for _, d := range pt.Pooled {
			found = found || d.Same(id)
		}
		pooled = pooled && found
	}
	for _, pt := range pts {
		ds := pt.CDFs
		if pooled {
			ds = pt.Pooled
		}
		for _, d := range ds {
			if d.Same(id) {
				labels = append(labels, pointLabel(pt.Params, where))
				dists = append(dists, d.Points)
				n = append(n, pt.N)
			}
		}
	}
	return labels, dists, n, pooled
}

func plotCDF(p *chart, spec PlotSpec, f *Folder) error {
	labels, dists, ns, pooled := CDFPoints(f, spec.Metric, spec.Where)
	if len(dists) == 0 {
		return fmt.Errorf("%w: no run has a latency histogram %q", ErrNoData, spec.Metric)
	}
	lo, hi := math.Inf(1), 0.0
	for _, d := range dists {
		for _, q := range d {
			if q.ValueMs > 0 {
				lo, hi = math.Min(lo, q.ValueMs), math.Max(hi, q.ValueMs)
			}
		}
	}
	p.autoLogX = hi > 10*lo
	logX := spec.LogX || p.autoLogX
	for i, d := range dists {
		xys := make(plotter.XYs, 0, len(d))
		for _, q := range d {
			x := q.ValueMs
			if logX && x <= 0 || spec.LogY && q.Q <= 0 {
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
	p.Title.Text = f.Info(spec.Metric).Title + ": distribution"
	p.X.Label.Text = f.Info(spec.Metric).Title + " (ms)"
	if logX {
		p.X.Label.Text += ", log scale"
	}
	p.Y.Label.Text = "Fraction of samples ≤ x"
	p.caption = fmt.Sprintf("Quantiles averaged over %s", seedsText(ns))
	if pooled {
		p.caption = fmt.Sprintf("All samples of %s pooled (merged HDR histograms)", seedsText(ns))
	}
	p.Y.Max = 1
	if !spec.LogY {
		p.Y.Min = 0
	}
	p.Legend.Top = false // bottom right, clear of the curves' rise
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(8)
	p.Add(plotter.NewGrid())
	return nil
}

// seedsText says how many seeds a plot averages: "3 seeds", "3–5 seeds".
func seedsText(ns []int) string {
	if len(ns) == 0 {
		return "0 seeds"
	}
	lo, hi := ns[0], ns[0]
	for _, n := range ns {
		lo, hi = min(lo, n), max(hi, n)
	}
	w := "seeds"
	if hi == 1 {
		w = "seed"
	}
	if lo == hi {
		return fmt.Sprintf("%d %s", lo, w)
	}
	return fmt.Sprintf("%d–%d %s", lo, hi, w)
}

// lineData is one line of a line or bar plot: a value per x category.
type lineData struct {
	label string
	stats map[string]Stat // by x value
}

// groupStats collects metric statistics per (by value, x value).
func groupStats(spec PlotSpec, f *Folder) (xs []string, lines []lineData, ns []int, err error) {
	var xv []string
	found := false
	byIdx := map[string]int{}
	metric := ParseID(spec.Metric)
	for _, pt := range selectPoints(f, spec.Where) {
		st, ok := pt.MetricOf(metric)
		if !ok {
			continue
		}
		found = true
		ns = append(ns, pt.N)
		x := pt.Label()
		if spec.X != "" {
			x, _ = pt.Param(spec.X)
		}
		label := ""
		if spec.By != "" {
			v, _ := pt.Param(spec.By)
			label = humanize(spec.By) + " " + v
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
			return nil, nil, nil, fmt.Errorf("several sweep points give %s=%s for %q; add by: or where: to pick one", spec.X, x, label)
		}
		lines[j].stats[x] = st
		xv = append(xv, x)
	}
	if !found {
		return nil, nil, nil, fmt.Errorf("%w: no run has a metric %q", ErrNoData, spec.Metric)
	}
	if spec.X != "" {
		return orderValues(xv), lines, ns, nil
	}
	return distinct(xv), lines, ns, nil
}

func plotLine(p *chart, spec PlotSpec, f *Folder) error {
	xcats, lines, ns, err := groupStats(spec, f)
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
	p.Title.Text = f.title(spec.Metric) + " by " + strings.ToLower(humanize(spec.X))
	p.X.Label.Text = paramLabel(spec.X, xunit)
	p.Y.Label.Text = f.axisLabel(spec.Metric)
	p.caption = "Mean of " + seedsText(ns) + " per point; error bars: 95% confidence interval"
	p.Add(plotter.NewGrid())
	return nil
}

// yErrs adapts points and their errors to plotter.NewYErrorBars.
type yErrs struct {
	plotter.XYs
	plotter.YErrors
}

func plotBars(p *chart, spec PlotSpec, f *Folder) error {
	xcats, lines, ns, err := groupStats(spec, f)
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
	p.Title.Text = f.title(spec.Metric)
	if spec.X != "" {
		p.Title.Text += " by " + strings.ToLower(humanize(spec.X))
		p.X.Label.Text = paramLabel(spec.X, "")
	} else {
		p.X.Label.Text = "Sweep point"
	}
	p.Y.Label.Text = f.axisLabel(spec.Metric)
	p.caption = "Mean of " + seedsText(ns) + " per bar; whiskers: 95% confidence interval"
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	return nil
}

// SeriesLine is one line of a timeseries plot: a series averaged over the
// seeds of one sweep point, with its confidence band.
type SeriesLine struct {
	Label           string
	Step            time.Duration
	Mean, Low, High []float64
	// N is the largest number of seeds behind a bucket.
	N int
}

// SeriesLines returns the lines of a timeseries plot: every series that
// metric names and that is not zero everywhere, for each sweep point
// matching where. metric is as experiment files write it; it names every
// series of its base name that has the labels it gives
// ("attempt_status_rps{tier=db}": one per status at db), all of them
// when it gives none. With by, lines are labelled with the value of that
// label key.
func SeriesLines(f *Folder, metric, by string, where map[string]string) []SeriesLine {
	var out []SeriesLine
	id := ParseID(metric)
	pts := selectPoints(f, where)
	for _, pt := range pts {
		var lines []SeriesLine
		for _, ser := range pt.Series {
			if !ser.MetricID.Matches(id) || ser.Zero {
				continue
			}
			label := ""
			if by != "" {
				label, _ = ser.Labels.Get(by)
				if label == "" {
					continue
				}
			} else if len(ser.Labels) > 0 {
				label = ser.FullName()
			}
			n := 0
			for _, k := range ser.N {
				n = max(n, k)
			}
			lines = append(lines, SeriesLine{Label: label, Step: ser.Step, Mean: ser.Mean, Low: ser.Low, High: ser.High, N: n})
		}
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].Label < lines[j].Label })
		for _, l := range lines {
			if len(pts) > 1 {
				if l.Label != "" {
					l.Label += " · "
				}
				l.Label += pointLabel(pt.Params, where)
			}
			out = append(out, l)
		}
	}
	return out
}

// windowsOf returns the distinct fault windows of the points matching
// where, sorted.
func windowsOf(f *Folder, where map[string]string) []sim.Window {
	set := map[sim.Window]bool{}
	for _, p := range selectPoints(f, where) {
		for _, w := range p.Windows {
			set[w] = true
		}
	}
	return slices.SortedFunc(maps.Keys(set), sim.CompareWindows)
}

// SeriesRange returns the y range a timeseries plot's lines and bands
// cover, so plots of one comparison can share it.
func SeriesRange(spec PlotSpec, f *Folder) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, ln := range SeriesLines(f, spec.Metric, spec.By, spec.Where) {
		for _, v := range ln.Mean {
			if !math.IsNaN(v) && !(spec.LogY && v <= 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi, hi >= lo
}

// seriesXYs is one timeseries line as plot points: the mean at each
// bucket's midpoint and, where known, its confidence interval.
type seriesXYs struct {
	mean, low, high plotter.XYs
}

// seriesPoints turns lines into plot points, leaving out NaN buckets
// and, on a log y axis, values ≤ 0. It returns the range of the means,
// the end of the last bucket drawn (s) and the most seeds behind a line.
func seriesPoints(lines []SeriesLine, logY bool) (pts []seriesXYs, ymin, ymax, tmax float64, seeds int) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, ln := range lines {
		var xy seriesXYs
		for k, v := range ln.Mean {
			if math.IsNaN(v) || logY && v <= 0 {
				continue
			}
			t := (float64(k) + 0.5) * ln.Step.Seconds() // bucket midpoint
			xy.mean = append(xy.mean, plotter.XY{X: t, Y: v})
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
			tmax = math.Max(tmax, float64(k+1)*ln.Step.Seconds())
			if lo, hi := ln.Low[k], ln.High[k]; !math.IsNaN(lo) {
				xy.low, xy.high = append(xy.low, plotter.XY{X: t, Y: lo}), append(xy.high, plotter.XY{X: t, Y: hi})
			}
		}
		seeds = max(seeds, ln.N)
		pts = append(pts, xy)
	}
	return pts, ymin, ymax, tmax, seeds
}

func plotSeries(p *chart, spec PlotSpec, f *Folder, yShare *[2]float64) error {
	lines := SeriesLines(f, spec.Metric, spec.By, spec.Where)
	if len(lines) == 0 {
		return fmt.Errorf("%w: no run has a time series %q with a value other than 0", ErrNoData, spec.Metric)
	}
	pts, ymin, ymax, tmax, seeds := seriesPoints(lines, spec.LogY)
	built, banded, err := seriesLines(p, lines, pts)
	if err != nil {
		return err
	}
	if len(built) == 0 {
		return fmt.Errorf("%w: time series %q has no values", ErrNoData, spec.Metric)
	}
	if yShare != nil {
		ymin, ymax = math.Min(ymin, yShare[0]), math.Max(ymax, yShare[1])
	}
	if ymin > 0 && !spec.LogY {
		ymin = 0
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	// The axis follows the means; confidence bands are clipped to it (with
	// few seeds they can be far wider than the data).
	bands, err := confidenceBands(pts, banded, ymin, ymax)
	if err != nil {
		return err
	}
	// Fault windows first, so lines draw over them. The bands reach the
	// top of the axis, leaving room for the legend above the data.
	windows := windowsOf(f, spec.Where)
	kinds := map[string]bool{}
	for _, w := range windows {
		kinds[w.Kind] = true
	}
	if n := p.entries + len(kinds); n > 0 {
		ymax = raisedTop(ymin, ymax, n, spec.LogY)
		p.roomMade = true
	}
	if err := shadeWindows(p, windows, ymin, ymax, tmax, spec.LogY); err != nil {
		return err
	}
	p.Add(bands...)
	p.Add(built...)
	p.Y.Min, p.Y.Max = ymin, ymax
	p.Title.Text = f.title(spec.Metric) + " over time"
	p.X.Label.Text = "Simulated time (s)"
	p.Y.Label.Text = f.axisLabel(spec.Metric)
	p.caption = "Mean of " + seedsText([]int{seeds}) + " per 100 ms bucket; shaded band: 95% confidence interval"
	if len(lines) > 0 && lines[0].Step != 100*time.Millisecond {
		p.caption = fmt.Sprintf("Mean of %s per %v bucket; shaded band: 95%% confidence interval", seedsText([]int{seeds}), lines[0].Step)
	}
	if !spec.LogX {
		p.X.Min = 0
	}
	p.Add(plotter.NewGrid())
	return nil
}

// seriesLines returns a line for each of lines that has points (pts),
// in its own style, with a legend entry when it has a label, and the
// indexes of the lines that have a confidence band to shade.
func seriesLines(p *chart, lines []SeriesLine, pts []seriesXYs) (built []plot.Plotter, banded []int, err error) {
	for i, ln := range lines {
		if len(pts[i].mean) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts[i].mean)
		if err != nil {
			return nil, nil, err
		}
		l.LineStyle = lineStyle(i)
		l.LineStyle.Width = vg.Points(1.2)
		built = append(built, l)
		if len(pts[i].low) > 1 {
			banded = append(banded, i)
		}
		if ln.Label != "" {
			p.legend(ln.Label, l)
		}
	}
	return built, banded, nil
}

// confidenceBands returns the shaded confidence band of each line of
// pts listed in banded, in the line's colour, clipped to [lo, hi].
func confidenceBands(pts []seriesXYs, banded []int, lo, hi float64) ([]plot.Plotter, error) {
	clip := func(v float64) float64 { return math.Max(lo, math.Min(hi, v)) }
	var bands []plot.Plotter
	for _, i := range banded {
		lows, highs := pts[i].low, pts[i].high
		poly := make(plotter.XYs, 0, 2*len(lows))
		for _, q := range lows {
			poly = append(poly, plotter.XY{X: q.X, Y: clip(q.Y)})
		}
		for k := len(highs) - 1; k >= 0; k-- {
			poly = append(poly, plotter.XY{X: highs[k].X, Y: clip(highs[k].Y)})
		}
		band, err := plotter.NewPolygon(poly)
		if err != nil {
			return nil, err
		}
		c := OkabeIto[i%len(OkabeIto)]
		band.Color = color.NRGBA{c.R, c.G, c.B, 0x30}
		band.LineStyle.Width = 0
		bands = append(bands, band)
	}
	return bands, nil
}

// shadeWindows shades each fault window over the full height [ymin,
// ymax] of a timeseries plot, one colour and one legend entry per kind of
// window; a window still open at the end runs to tmax.
func shadeWindows(p *chart, windows []sim.Window, ymin, ymax, tmax float64, logY bool) error {
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
		if logY && lo <= 0 {
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
			p.legend("window: "+strings.ReplaceAll(w.Kind, "_", " "), band)
		}
	}
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

// heatmapCells returns a heatmap's data: the metric's mean for each
// (x, y) pair of parameter values (NaN where no sweep point has it), with
// the values in axis order, their range and the seeds behind each cell.
func heatmapCells(spec PlotSpec, f *Folder) (xs, ys []string, g grid, lo, hi float64, ns []int, err error) {
	pts := selectPoints(f, spec.Where)
	var xv, yv []string
	type key struct{ x, y string }
	cells := map[key]float64{}
	metric := ParseID(spec.Metric)
	for i := range pts {
		st, ok := pts[i].MetricOf(metric)
		if !ok {
			continue
		}
		ns = append(ns, pts[i].N)
		x, _ := pts[i].Param(spec.X)
		y, _ := pts[i].Param(spec.Y)
		if _, dup := cells[key{x, y}]; dup {
			return nil, nil, grid{}, 0, 0, nil, fmt.Errorf("several sweep points give %s=%s, %s=%s; add where: to pick one", spec.X, x, spec.Y, y)
		}
		cells[key{x, y}] = st.Mean
		xv, yv = append(xv, x), append(yv, y)
	}
	if len(cells) == 0 {
		return nil, nil, grid{}, 0, 0, nil, fmt.Errorf("%w: no run has a metric %q", ErrNoData, spec.Metric)
	}
	xs, ys = orderValues(xv), orderValues(yv)
	g = grid{z: make([][]float64, len(ys))}
	lo, hi = math.Inf(1), math.Inf(-1)
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
	return xs, ys, g, lo, hi, ns, nil
}

func plotHeatmap(p *chart, spec PlotSpec, f *Folder) error {
	xs, ys, g, lo, hi, ns, err := heatmapCells(spec, f)
	if err != nil {
		return err
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
			labels = append(labels, FormatNumber(v))
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
	p.Title.Text = f.title(spec.Metric)
	if u := f.Info(spec.Metric).Unit; u != "" {
		p.Title.Text += " (" + u + ")"
	}
	p.caption = fmt.Sprintf("Mean of %s per cell; range %s–%s", seedsText(ns), FormatNumber(lo), FormatNumber(hi))
	p.X.Label.Text = paramLabel(spec.X, "")
	p.Y.Label.Text = paramLabel(spec.Y, "")
	return nil
}

// DefaultPlots returns the plots drawn when an experiment declares none:
// a latency CDF per histogram; with a sweep, each histogram's p99 against
// the first swept parameter (a line when its values are numbers or
// durations, else bars), split by the second; and a time series per
// counter-rate series, for the first sweep point.
func DefaultPlots(sum *Summary, params []string) []PlotSpec {
	if len(sum.Points) == 0 {
		return nil
	}
	first := &sum.Points[0]
	var specs []PlotSpec
	for _, d := range first.CDFs {
		specs = append(specs, PlotSpec{Kind: CDF, Metric: d.FullName()})
	}
	for _, d := range first.CDFs {
		m := d.suffixed("_p99_ms").FullName()
		switch {
		case len(params) == 0:
			specs = append(specs, PlotSpec{Kind: Bars, Metric: m})
		default:
			var vals []string
			for i := range sum.Points {
				v, _ := sum.Points[i].Param(params[0])
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
	for _, ser := range first.Series {
		base := ser.Name
		if seen[base] || !strings.HasSuffix(base, "_rps") || ser.Zero {
			continue
		}
		seen[base] = true
		spec := PlotSpec{Kind: TimeSeries, Metric: base}
		if len(ser.Labels) > 0 {
			spec.By = ser.Labels[0].Key
		}
		if len(params) > 0 {
			// One line per sweep point would crowd the chart; show the
			// first point.
			spec.Where = map[string]string{}
			for _, p := range first.Params {
				spec.Where[p.Name] = p.Value
			}
		}
		specs = append(specs, spec)
	}
	return specs
}
