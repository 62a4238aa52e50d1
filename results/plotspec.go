package results

import (
	"maps"
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=PlotKind -linecomment -output=plotspec_string.go

// PlotKind is the kind of a plot.
type PlotKind uint8

// Kinds of plot.
const (
	// CDF overlays latency distributions, one line per sweep point.
	CDF PlotKind = iota + 1 // cdf
	// Line draws a metric against a swept parameter with 95% CI error
	// bars, one line per value of By (the comparison chart).
	Line // line
	// Bars draws a metric per value of X as bars with CI whiskers, grouped
	// by the value of By.
	Bars // bars
	// TimeSeries draws a time series over simulated time, one line per
	// series (label value of By, or sweep point), fault windows shaded.
	TimeSeries // timeseries
	// Heatmap colours a metric over two swept parameters, X and Y.
	Heatmap // heatmap
)

// ParsePlotKind returns the kind named s.
func ParsePlotKind(s string) (PlotKind, error) { return enum.Parse[PlotKind]("plot kind", s) }

// MarshalText returns the kind's name, for YAML and JSON.
func (k PlotKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind name.
func (k *PlotKind) UnmarshalText(b []byte) error { return enum.Set(k, "plot kind", string(b)) }

// PlotSpec declares one plot. Experiment files list them under `plots:`:
//
//	plots:
//	  - {kind: cdf, metric: latency, log_x: true}
//	  - {kind: line, metric: latency_p99_ms, x: network.loss, by: client.retry.policy}
//	  - {kind: bars, metric: amplification, x: client.retry.policy}
//	  - {kind: timeseries, metric: attempts_rps, by: tier}
//	  - {kind: heatmap, metric: goodput_rps, x: network.loss, y: client.timeout}
type PlotSpec struct {
	// Kind is cdf, line, bars, timeseries or heatmap.
	Kind PlotKind `yaml:"kind" json:"kind"`
	// Metric is what is plotted: a histogram name for cdf ("latency"), a
	// run metric for line, bars and heatmap ("latency_p99_ms"), each with
	// a value of every label of its metric ("call_latency{tier=db}"); a
	// series for timeseries, a line per label set it matches
	// ("attempts_rps": one per tier; "attempts_rps{tier=db}": one).
	Metric string `yaml:"metric" json:"metric"`
	// X is the swept parameter on the x axis (line, bars, heatmap).
	X string `yaml:"x,omitempty" json:"x,omitempty"`
	// Y is the second swept parameter of a heatmap.
	Y string `yaml:"y,omitempty" json:"y,omitempty"`
	// By splits lines or bar groups: a swept parameter for line and bars,
	// a series label key ("tier" for "attempts_rps{tier=api}") for
	// timeseries.
	By string `yaml:"by,omitempty" json:"by,omitempty"`
	// Where keeps only the sweep points whose parameters have these
	// values.
	Where map[string]string `yaml:"where,omitempty" json:"where,omitempty"`
	// LogX and LogY use logarithmic axes.
	LogX bool `yaml:"log_x,omitempty" json:"log_x,omitempty"`
	LogY bool `yaml:"log_y,omitempty" json:"log_y,omitempty"`
	// Title overrides the default title.
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
	// Name is the file stem under plots/; it defaults to kind-metric[-x].
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// Validate checks the spec on its own; paths use the YAML field names.
func (s PlotSpec) Validate() error {
	var fe sim.FieldErrors
	if s.Kind < CDF || s.Kind > Heatmap {
		fe.Add("kind", "must be one of %s", strings.Join(enum.Names[PlotKind](), ", "))
	}
	if s.Metric == "" {
		fe.Add("metric", "is required")
	}
	switch s.Kind {
	case Line, Heatmap:
		if s.X == "" {
			fe.Add("x", "is required for a %s plot (the swept parameter on the x axis)", s.Kind)
		}
	}
	if s.Kind == Heatmap {
		if s.Y == "" {
			fe.Add("y", "is required for a heatmap (the second swept parameter)")
		} else if s.Y == s.X {
			fe.Add("y", "must differ from x")
		}
	} else if s.Y != "" {
		fe.Add("y", "is only used by heatmaps")
	}
	if s.Kind == Bars || s.Kind == Heatmap {
		if s.LogX {
			fe.Add("log_x", "is not used by %s plots (the x axis is categorical)", s.Kind)
		}
		if s.LogY {
			fe.Add("log_y", "is not supported by %s plots", s.Kind)
		}
	}
	if s.Kind == CDF && s.X != "" {
		fe.Add("x", "is not used by cdf plots (one line per sweep point)")
	}
	if s.Name != "" && strings.ContainsAny(s.Name, `/\ `) {
		fe.Add("name", "must be a plain file stem, got %q", s.Name)
	}
	return fe.Err()
}

// Check validates the spec against the experiment's swept parameters:
// X, Y, Where keys and (except for timeseries) By must name one of them.
func (s PlotSpec) Check(params []string) error {
	var fe sim.FieldErrors
	fe.Merge("", s.Validate())
	has := func(p string) bool {
		for _, q := range params {
			if q == p {
				return true
			}
		}
		return false
	}
	want := "one of the swept parameters (" + strings.Join(params, ", ") + ")"
	if len(params) == 0 {
		want = "a swept parameter, but nothing is swept"
	}
	if s.X != "" && !has(s.X) {
		fe.Add("x", "%q must be %s", s.X, want)
	}
	if s.Y != "" && !has(s.Y) {
		fe.Add("y", "%q must be %s", s.Y, want)
	}
	if s.By != "" && s.Kind != TimeSeries && !has(s.By) {
		fe.Add("by", "%q must be %s", s.By, want)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Where)) {
		if !has(k) {
			fe.Add("where."+k, "must be %s", want)
		}
	}
	return fe.Err()
}

// FileName returns the file stem of the plot's images.
func (s PlotSpec) FileName() string {
	if s.Name != "" {
		return s.Name
	}
	parts := []string{s.Kind.String(), s.Metric}
	if s.X != "" {
		parts = append(parts, s.X)
	}
	if s.Y != "" {
		parts = append(parts, s.Y)
	}
	if s.By != "" {
		parts = append(parts, "by", s.By)
	}
	stem := strings.Join(parts, "-")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, stem)
}
