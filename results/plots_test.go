package results

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim"
)

// TestEveryPlotKindRendersPNGAndSVG draws one plot of each kind (and the
// log-axis variants) and checks both encodings are real images. Pixels are
// not compared: they differ across architectures; the data behind the
// plots is golden-tested instead.
func TestEveryPlotKindRendersPNGAndSVG(t *testing.T) {
	set := fixtureFolder()
	specs := fixturePlots()
	specs = append(specs,
		PlotSpec{Kind: Line, Metric: "latency_p99_ms", X: "network.loss", LogY: true, Where: map[string]string{"client.retry.policy": "budget"}},
		PlotSpec{Kind: Line, Metric: "latency_p99_ms", X: "client.retry.policy", By: "network.loss"}, // categorical x
		PlotSpec{Kind: Bars, Metric: "latency_mean_ms"},                                              // one bar per sweep point
		PlotSpec{Kind: TimeSeries, Metric: "latency_mean_ms", LogY: true},                            // every point, no by
		PlotSpec{Kind: TimeSeries, Metric: "inflight", Where: map[string]string{"network.loss": "0"}},
		// Log axes over zeros: the zero points are left out, not a panic.
		PlotSpec{Kind: Line, Metric: "inflight_last", X: "network.loss", By: "client.retry.policy", LogX: true, LogY: true},
		PlotSpec{Kind: Line, Metric: "latency_p99_ms", X: "client.retry.policy", By: "network.loss", LogX: true},
		PlotSpec{Kind: TimeSeries, Metric: "inflight", LogX: true, LogY: true, Where: map[string]string{"network.loss": "0"}},
		PlotSpec{Kind: CDF, Metric: "latency", LogX: true, LogY: true, Name: "cdf-loglog"},
	)
	kinds := map[PlotKind]bool{}
	for _, spec := range specs {
		t.Run(spec.FileName(), func(t *testing.T) {
			out, err := RenderPlot(spec, set, []string{"png", "svg", "pdf"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			png, svg, pdf := out[0], out[1], out[2]
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[max(0, len(pdf)-64):], []byte("%%EOF")) {
				t.Errorf("PDF: %d bytes, not a complete PDF document", len(pdf))
			}
			if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 5000 {
				t.Errorf("PNG: %d bytes, bad header %q", len(png), png[:min(8, len(png))])
			}
			if !bytes.Contains(svg[:min(200, len(svg))], []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(svg), []byte("</svg>")) {
				t.Errorf("SVG is not a complete <svg> document (%d bytes)", len(svg))
			}
			kinds[spec.Kind] = true
		})
	}
	for k := CDF; k <= Heatmap; k++ {
		if !kinds[k] {
			t.Errorf("no plot of kind %v rendered", k)
		}
	}
}

func TestPlotErrors(t *testing.T) {
	set := fixtureFolder()
	for _, tc := range []struct {
		spec PlotSpec
		want string
	}{
		{PlotSpec{Kind: CDF, Metric: "nope"}, "no data"},
		{PlotSpec{Kind: Line, Metric: "nope", X: "network.loss"}, "no data"},
		{PlotSpec{Kind: TimeSeries, Metric: "nope"}, "no data"},
		{PlotSpec{Kind: Heatmap, Metric: "nope", X: "network.loss", Y: "client.retry.policy"}, "no data"},
		{PlotSpec{Kind: Line, Metric: "latency_p99_ms", X: "client.timeout"}, "swept parameters"},
	} {
		_, err := RenderPlot(tc.spec, set, []string{"png"}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RenderPlot(%+v) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
		if tc.want == "no data" && !errors.Is(err, ErrNoData) {
			t.Errorf("RenderPlot(%+v) = %v, want ErrNoData", tc.spec, err)
		}
	}
}

func TestPlotSpecValidate(t *testing.T) {
	params := []string{"network.loss", "client.timeout"}
	for _, tc := range []struct {
		yaml  string
		paths []string // field paths of the expected errors
	}{
		{"{kind: cdf, metric: latency, log_x: true}", nil},
		{"{kind: line, metric: latency_p99_ms, x: network.loss, by: client.timeout}", nil},
		{"{kind: bars, metric: amplification}", nil},
		{"{kind: timeseries, metric: attempts_rps, by: tier}", nil},
		{"{kind: heatmap, metric: goodput_rps, x: network.loss, y: client.timeout}", nil},
		{"{kind: line, metric: latency_p99_ms}", []string{"x"}},
		{"{kind: heatmap, metric: m, x: network.loss, y: network.loss}", []string{"y"}},
		{"{kind: heatmap, metric: m, x: network.loss}", []string{"y"}},
		{"{kind: line, x: network.loss, y: client.timeout}", []string{"metric", "y"}},
		{"{kind: cdf, metric: latency, x: network.loss}", []string{"x"}},
		{"{kind: bars, metric: m, x: seeds, where: {zone: a}}", []string{"x", "where.zone"}},
		{"{kind: bars, metric: m, by: nope}", []string{"by"}},
		{"{kind: bars, metric: m, name: a/b}", []string{"name"}},
		{"{kind: bars, metric: m, log_x: true, log_y: true}", []string{"log_x", "log_y"}},
	} {
		var spec PlotSpec
		if err := yaml.Unmarshal([]byte(tc.yaml), &spec); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := spec.Check(params)
		var got []string
		if fe, ok := err.(sim.FieldErrors); ok {
			for _, f := range fe {
				got = append(got, f.Path)
			}
		} else if err != nil {
			t.Fatalf("%s: %T %v, want sim.FieldErrors", tc.yaml, err, err)
		}
		if strings.Join(got, ",") != strings.Join(tc.paths, ",") {
			t.Errorf("%s: error paths %v, want %v (%v)", tc.yaml, got, tc.paths, err)
		}
	}
	var spec PlotSpec
	if err := yaml.Unmarshal([]byte("{kind: pie, metric: m}"), &spec); err == nil || !strings.Contains(err.Error(), "unknown plot kind") {
		t.Errorf("kind pie: %v, want unknown plot kind", err)
	}
	out, err := yaml.Marshal(PlotSpec{Kind: TimeSeries, Metric: "m", LogX: true})
	if err != nil || string(out) != "kind: timeseries\nmetric: m\nlog_x: true\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
}

func TestDefaultPlotsRender(t *testing.T) {
	set := fixtureFolder()
	specs := DefaultPlots(set.Summary, set.Manifest.Params)
	want := []string{"cdf latency", "line latency_p99_ms", "timeseries attempts_rps"}
	var got []string
	for _, s := range specs {
		got = append(got, s.Kind.String()+" "+s.Metric)
		if _, err := RenderPlot(s, set, []string{"png"}, nil); err != nil {
			t.Errorf("default plot %+v: %v", s, err)
		}
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("DefaultPlots = %v, want %v", got, want)
	}
}
