package results

import "errors"

// ErrNoData is returned for a plot whose metric no run recorded.
var ErrNoData = errors.New("no data")

// RenderPlot draws one plot of the set and returns it as PNG and SVG.
func RenderPlot(spec PlotSpec, s *Set) (png, svg []byte, err error) {
	return nil, nil, errors.New("not implemented")
}

// DefaultPlots returns the plots drawn when an experiment declares none:
// a latency CDF per histogram, the p99 of each histogram against the first
// swept parameter (or as bars per sweep point), and a time series per
// series base name.
func DefaultPlots(s *Set) []PlotSpec { return nil }
