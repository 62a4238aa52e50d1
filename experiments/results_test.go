package experiments

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// TestProtocolWindowsAreFaults: rpc's error window is a window like a
// network fault: listed with the run's faults, counted in fault coverage
// (with the failures it caused) and shaded in the report's plots.
func TestProtocolWindowsAreFaults(t *testing.T) {
	x, err := Load("retry-storm", Options{Sets: []string{"duration=3s", "warmup=0s", "seeds=1", "workload.rate=200/s",
		"protocol.variant=naive", "protocol.services.db.errors.from=1s", "protocol.services.db.errors.to=2s"}})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, x, RunOptions{Parallel: 1})
	r := res.Runs[0].Run
	want := sim.Window{Kind: "errors", Label: "db", Start: sim.Time(1e9), End: sim.Time(2e9)}
	found := false
	for _, w := range r.Faults {
		found = found || w == want
	}
	if !found {
		t.Fatalf("faults %v lack %v", r.Faults, want)
	}
	for _, c := range r.Coverage {
		if c.Window == want {
			// 200/s for 1 s, half the db calls failing: hundreds of
			// operations touched, some failed.
			if c.Attempted < 100 || c.Failed == 0 && c.TimedOut == 0 {
				t.Errorf("coverage of the error window: %+v", c)
			}
			return
		}
	}
	t.Errorf("coverage %v has no row for %v", r.Coverage, want)
}

// TestPerRunSeriesAndRecovery: with results.timeseries per_run the raw
// series are written (gzip CSV); a folder whose series sums were lost
// (a crash before the checkpoint) resumes from the runs' series files,
// and runs that lost both are run again, to the same bytes.
func TestPerRunSeriesAndRecovery(t *testing.T) {
	src := small + "results: {timeseries: per_run}\n"
	x := mustParse(t, src)
	base := t.TempDir()
	full := filepath.Join(base, "full")
	mustRun(t, x, RunOptions{Out: full, Version: "test"})
	f, err := os.Open(filepath.Join(full, results.RunSeriesFile))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(gz)
	f.Close()
	if err != nil || !strings.HasPrefix(string(body), "run,metric,bucket_s,time_s,value\n") || strings.Count(string(body), "\n") < 100 {
		t.Fatalf("per-run series: %v\n%.200s", err, body)
	}
	// Lose the sums: they are rebuilt from the series files.
	lost := filepath.Join(base, "lost")
	copyTree(t, full, lost)
	os.Remove(filepath.Join(lost, runsDir, seriesFile))
	os.Remove(filepath.Join(lost, results.SummaryFile))
	// Lose the sums and one run's series: that run is done again.
	os.Remove(runSeriesFile(lost, 2))
	res := mustRun(t, x, RunOptions{Out: lost, Resume: true, Version: "test"})
	if res.Resumed != 3 {
		t.Errorf("resumed %d runs, want 3 (run 2 lost its series)", res.Resumed)
	}
	sameTree(t, full, lost)
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReportHeadlineAndChecks: the protocol family's headline metrics,
// or the experiment's report.headline, head the report; the checks'
// verdicts are in the manifest and the report.
func TestReportHeadlineAndChecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	mustRun(t, mustParse(t, small+"report: {headline: [rtt_p50_ms]}\n"), RunOptions{Out: dir, Version: "test"})
	f, err := results.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Manifest.Headline, ",") != "rtt_p50_ms" {
		t.Errorf("headline = %v, want the override", f.Manifest.Headline)
	}
	if len(f.Manifest.Checks) != 2 || f.Manifest.Checks[0].Runs != 2 {
		t.Errorf("checks = %+v, want success_ratio at both points", f.Manifest.Checks)
	}
	html, _ := os.ReadFile(filepath.Join(dir, results.ReportFile))
	h, p := bytes.Index(html, []byte(`id="headline-table"`)), bytes.Index(html, []byte(`id="plots"`))
	if h < 0 || p < h || !bytes.Contains(html[h:p], []byte("Round-trip time, p50")) {
		t.Error("the report does not open with the headline table of rtt_p50_ms")
	}
	if !bytes.Contains(html, []byte(`id="checks-table"`)) {
		t.Error("the report has no checks table")
	}
	// Without the override, the family's own headline metrics.
	x := mustParse(t, small)
	if p := x.plan("t"); len(p.Metrics) == 0 || len(p.Headline) != 0 {
		t.Errorf("plan metrics %d, headline %v", len(p.Metrics), p.Headline)
	}
}
