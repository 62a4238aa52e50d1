package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/sim/simtest"
)

// dataFiles are the files whose bytes are golden-tested.
var dataFiles = []string{RunsFile, MetricsFile, SummaryFile, SeriesFile, LatencyFile, FaultsFile, CoverageFile, ManifestFile}

// summaryFiles are the files Read reads and WriteSummary writes.
var summaryFiles = []string{SummaryFile, SeriesFile, LatencyFile, FaultsFile, CoverageFile, ManifestFile}

// TestGoldenFiles writes the fixture experiment and compares the data
// behind every plot with testdata/golden/. Regenerate with -rewrite.
func TestGoldenFiles(t *testing.T) {
	set := fixtureSet()
	set.Manifest.Plots = fixturePlots()
	dir := t.TempDir()
	if err := Write(dir, set); err != nil {
		t.Fatal(err)
	}
	for _, name := range dataFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		simtest.Golden(t, filepath.Join("testdata", "golden", name), got)
	}
}

// TestWriteIsDeterministicAndReplotRoundTrips writes the same set twice
// (same bytes, plots and report included), reads it back, writes the read
// set again (same data files) and re-renders with Replot (same plots).
func TestWriteIsDeterministicAndReplotRoundTrips(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	s1 := fixtureSet()
	s1.Manifest.Plots = fixturePlots()
	s2 := fixtureSet()
	s2.Manifest.Plots = fixturePlots()
	if err := Write(a, s1); err != nil {
		t.Fatal(err)
	}
	if err := Write(b, s2); err != nil {
		t.Fatal(err)
	}
	all := append([]string{ConfigFile, ReportFile}, dataFiles...)
	for _, spec := range fixturePlots() {
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			all = append(all, filepath.Join(PlotsDir, spec.FileName()+ext))
		}
	}
	same := func(x, y, name string) {
		t.Helper()
		bx, err1 := os.ReadFile(filepath.Join(x, name))
		by, err2 := os.ReadFile(filepath.Join(y, name))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bx, by) {
			t.Errorf("%s differs between %s and %s", name, x, y)
		}
	}
	for _, name := range all {
		same(a, b, name)
	}
	read, err := Read(a)
	if err != nil {
		t.Fatal(err)
	}
	if read.Manifest.RunCount != len(s1.Runs) || len(read.Summary.Points) != 6 {
		t.Fatalf("read %d runs at %d points, want %d at 6", read.Manifest.RunCount, len(read.Summary.Points), len(s1.Runs))
	}
	// What was read writes back to the same aggregated files, plots and
	// report.
	if err := WriteSummary(c, read); err != nil {
		t.Fatal(err)
	}
	if err := Render(c, read, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range summaryFiles {
		same(a, c, name)
	}
	for _, name := range all[1:] {
		if name == RunsFile || name == MetricsFile {
			continue
		}
		same(a, c, name)
	}
	// Replot in place: the plots and the report come out the same.
	if err := Replot(b); err != nil {
		t.Fatal(err)
	}
	for _, name := range all {
		same(a, b, name)
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, ErrNotResults) {
		t.Errorf("Read(empty dir) = %v, want ErrNotResults", err)
	}
}

func TestWriteReportsPlotErrorsButWritesTheRest(t *testing.T) {
	set := fixtureSet()
	set.Manifest.Plots = []PlotSpec{{Kind: Line, Metric: "no_such_metric", X: "network.loss"}, {Kind: CDF, Metric: "latency"}}
	dir := t.TempDir()
	err := Write(dir, set)
	if !errors.Is(err, ErrNoData) {
		t.Fatalf("Write = %v, want ErrNoData", err)
	}
	var pe *PlotError
	if !errors.As(err, &pe) || pe.Index != 0 || pe.Spec.Metric != "no_such_metric" || !IsPlotError(err) {
		t.Errorf("Write = %v, want the first plot's *PlotError", err)
	}
	html, rerr := os.ReadFile(filepath.Join(dir, ReportFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(string(html), "no_such_metric") || !strings.Contains(string(html), `class="err"`) {
		t.Error("report does not show the failed plot")
	}
	if _, err := os.Stat(filepath.Join(dir, PlotsDir, "cdf-latency.png")); err != nil {
		t.Errorf("the good plot was not written: %v", err)
	}
}

func TestReadRejectsBrokenFiles(t *testing.T) {
	base := t.TempDir()
	set := fixtureSet()
	set.Manifest.Plots = fixturePlots()[:1]
	if err := Write(base, set); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(base); err != nil {
		t.Fatalf("the intact folder does not read: %v", err)
	}
	for _, tc := range []struct {
		file, content, want string
	}{
		{SummaryFile, "network_loss,client_retry_policy,metric,tier,n,mean,sd,ci_low,ci_high\n0,naive,x,,2,abc,1,1,1\n", "summary.csv:2"},
		{SummaryFile, "network_loss,client_retry_policy,metric,tier,n,mean,sd,ci_low,ci_high\n0.5,naive,x,,2,1,1,1,1\n", "not a sweep point"},
		{SummaryFile, "network_loss,client_retry_policy,metric,tier,n,mean\n0,naive,x,,2,1\n", "fields, want 9"},
		{SeriesFile, "network_loss,client_retry_policy,metric,tier,bucket_s,time_s,n,mean,ci_low,ci_high\n0,naive,x,,0,0,1,1,1,1\n", "bad bucket_s"},
		{LatencyFile, "network_loss,client_retry_policy,metric,tier,n,quantile,pooled_ms,seed_mean_ms\n0,naive,latency,,2,half,1,1\n", "latency.csv:2"},
		{CoverageFile, "network_loss,client_retry_policy,a\n0,naive,1\n", "fields, want 11"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range summaryFiles {
				b, err := os.ReadFile(filepath.Join(base, name))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read with a broken %s = %v, want an error containing %q", tc.file, err, tc.want)
			}
		})
	}
}

func TestIsPlotError(t *testing.T) {
	plot := &PlotError{Index: 2, Spec: PlotSpec{Kind: Line, Metric: "x"}, Err: ErrNoData}
	other := errors.New("disk full")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plot", plot, true},
		{"wrapped plot", fmt.Errorf("render: %w", plot), true},
		{"plots joined", errors.Join(plot, plot), true},
		{"other", other, false},
		{"other wrapping a plot", fmt.Errorf("%w and %w", other, plot), false},
		{"plot joined with other", errors.Join(plot, other), false},
	} {
		if got := IsPlotError(tc.err); got != tc.want {
			t.Errorf("%s: IsPlotError(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
