package results

import "bytes"

type drawnPlot struct {
	Spec PlotSpec
	PNG  []byte
	Err  string
}

func writeReport(b *bytes.Buffer, s *Set, plots []drawnPlot, timeline []byte) error { return nil }
