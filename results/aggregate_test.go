package results

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestWelfordMatchesTwoPass: the streaming mean, sd and CI agree with the
// two-pass Describe on the same values, including large offsets where a
// naive sum of squares loses every digit.
func TestWelfordMatchesTwoPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name         string
		offset, sd   float64
		n            int
		relTolerance float64
	}{
		{"small", 0, 1, 10, 1e-12},
		{"many", 5, 2, 1000, 1e-10},
		{"offset 1e9", 1e9, 1, 200, 1e-6}, // sd relative to an offset of 1e9
	} {
		xs := make([]float64, tc.n)
		var w welford
		for i := range xs {
			xs[i] = tc.offset + tc.sd*rng.NormFloat64()
			w.add(xs[i])
		}
		got, want := w.stat(), Describe(xs, Confidence)
		for _, p := range [][2]float64{{got.Mean, want.Mean}, {got.SD, want.SD}, {got.CILow, want.CILow}, {got.CIHigh, want.CIHigh}} {
			if math.Abs(p[0]-p[1]) > tc.relTolerance*math.Max(1, math.Abs(p[1])) {
				t.Errorf("%s: streaming %+v, two-pass %+v", tc.name, got, want)
				break
			}
		}
	}
}

func seriesRuns(n int) []Run {
	rng := rand.New(rand.NewPCG(7, 7))
	var runs []Run
	for i := 0; i < n; i++ {
		vals := make([]float64, 50)
		for k := range vals {
			vals[k] = math.Round(rng.Float64()*1e6) / 7 // not exact in binary
			if k%9 == 0 {
				vals[k] = math.NaN()
			}
		}
		runs = append(runs, Run{Index: i, Params: []Param{{"p", []string{"a", "b"}[i%2]}},
			Series: []Series{{MetricID: ParseID("x_rps{tier=db}"), Step: 100 * time.Millisecond, Values: vals}, {MetricID: MetricID{Name: "zero"}, Step: 100 * time.Millisecond, Values: make([]float64, 50)}}})
	}
	return runs
}

// TestSeriesSumsAreOrderFree: adding runs in any order, or merging the
// sums of disjoint halves, gives the same bytes; the means and CIs match
// a direct computation.
func TestSeriesSumsAreOrderFree(t *testing.T) {
	runs := seriesRuns(40)
	enc := func(order []int, split int) []byte {
		a, b := NewSeriesAcc(), NewSeriesAcc()
		for k, i := range order {
			acc := a
			if k >= split {
				acc = b
			}
			acc.Add(runs[i].Params, runs[i].Series)
			acc.Included[i] = true
		}
		a.Merge(b)
		out, err := MarshalSeries(a)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	inOrder := make([]int, len(runs))
	for i := range inOrder {
		inOrder[i] = i
	}
	want := enc(inOrder, len(runs))
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 5; trial++ {
		order := append([]int(nil), inOrder...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if got := enc(order, rng.IntN(len(runs))); !bytes.Equal(got, want) {
			t.Fatalf("trial %d: a different order or split gave different sums", trial)
		}
	}
	acc, err := UnmarshalSeries(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Included) != len(runs) {
		t.Errorf("read back %d included runs, want %d", len(acc.Included), len(runs))
	}
	stats := acc.Stats([]Param{{"p", "a"}})
	if len(stats) != 2 || stats[0].FullName() != "x_rps{tier=db}" || !stats[1].Zero || stats[0].Zero {
		t.Fatalf("stats = %+v", stats)
	}
	for k := 0; k < 50; k++ {
		var xs []float64
		for i := 0; i < len(runs); i += 2 {
			xs = append(xs, runs[i].Series[0].Values[k])
		}
		d := Describe(xs, Confidence)
		s := stats[0]
		if d.N == 0 {
			if s.N[k] != 0 || !math.IsNaN(s.Mean[k]) {
				t.Errorf("bucket %d: no values, got n=%d mean=%v", k, s.N[k], s.Mean[k])
			}
			continue
		}
		// Fixed point keeps 1e-6 of a unit: the mean is within that.
		if s.N[k] != d.N || math.Abs(s.Mean[k]-d.Mean) > 1e-6 || math.Abs(s.High[k]-d.CIHigh) > 1e-5 {
			t.Errorf("bucket %d: n=%d mean=%v high=%v, want n=%d mean=%v high=%v", k, s.N[k], s.Mean[k], s.High[k], d.N, d.Mean, d.CIHigh)
		}
	}
}

// TestTidyFiles writes the fixture and checks the shape of every file:
// plain column names, parameters as numbers, labels as columns, zero
// metrics left out of metrics.csv but kept in summary.csv, seeds as
// strings in manifest.json.
func TestTidyFiles(t *testing.T) {
	dir := t.TempDir()
	set := fixtureSet()
	set.Manifest.Plots = fixturePlots()[:1]
	// A metric that is 0 in every run.
	for i := range set.Runs {
		set.Runs[i].Metrics = append(set.Runs[i].Metrics, Metric{MetricID: ParseID("never_rps{tier=db}"), Value: 0})
		set.Runs[i].Seed = 1<<63 + uint64(i) // beyond 2^53
	}
	if err := Write(dir, set); err != nil {
		t.Fatal(err)
	}
	ident := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	for _, name := range []string{RunsFile, MetricsFile, SummaryFile, SeriesFile, LatencyFile, FaultsFile, CoverageFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		head := strings.Split(strings.SplitN(string(b), "\n", 2)[0], ",")
		for _, c := range head {
			if !ident.MatchString(c) {
				t.Errorf("%s: column %q is not a plain identifier", name, c)
			}
		}
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	if got := strings.SplitN(read(RunsFile), "\n", 3)[1]; got != "0,0,naive,9223372036854775808" {
		t.Errorf("runs.csv first row = %q", got)
	}
	if !strings.HasPrefix(read(MetricsFile), "run,metric,tier,value\n") || !strings.Contains(read(MetricsFile), "\n0,attempts_rps,db,") {
		t.Errorf("metrics.csv does not split labels into columns:\n%.200s", read(MetricsFile))
	}
	if strings.Contains(read(MetricsFile), "never_rps") {
		t.Error("metrics.csv keeps a metric that is 0 in every run")
	}
	if !strings.Contains(read(SummaryFile), "\n0,naive,never_rps,db,2,0,0,0,0\n") {
		t.Error("summary.csv lacks the all-zero metric")
	}
	if !strings.Contains(read(ManifestFile), `"9223372036854775808"`) {
		t.Error("manifest.json does not list the seeds as strings")
	}
}

// TestParamColumns: durations become seconds, rates per second, numbers
// numbers; column names are identifiers with the unit.
func TestParamColumns(t *testing.T) {
	for _, tc := range []struct {
		param string
		vals  []string
		col   string
		cells []string
	}{
		{"client.timeout", []string{"160ms", "1s", "1m30s"}, "client_timeout_s", []string{"0.16", "1", "90"}},
		{"workload.rate", []string{"2000/s", "3/ms", "60/min"}, "workload_rate_per_s", []string{"2000", "3000", "1"}},
		{"network.loss", []string{"0", "0.05", "1e-3"}, "network_loss", []string{"0", "0.05", "0.001"}},
		{"protocol.variant", []string{"naive", "budget"}, "protocol_variant", []string{"naive", "budget"}},
		{"mixed", []string{"1s", "2"}, "mixed", []string{"1s", "2"}},
	} {
		var pts [][]string
		for _, v := range tc.vals {
			pts = append(pts, []string{v})
		}
		if got := paramColumns([]string{tc.param}, pts)[0]; got != tc.col {
			t.Errorf("%s: column %q, want %q", tc.param, got, tc.col)
		}
		k := paramKinds([]string{tc.param}, pts)[0]
		for i, v := range tc.vals {
			if got := paramCell(k, v); got != tc.cells[i] {
				t.Errorf("%s=%s: cell %q, want %q", tc.param, v, got, tc.cells[i])
			}
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{2500, "2500"}, {2500.5, "2500"}, {12345.6, "12346"}, {0.5, "0.5"}, {1.25, "1.25"}, {100000, "100000"},
		{0.1 + 0.2, "0.3"}, {-7, "-7"}, {1e-7, "1e-07"}, {0, "0"},
	} {
		if got := FormatNumber(tc.v); got != tc.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestMetricInfo: registered titles and units, derived names, fallbacks.
func TestMetricInfo(t *testing.T) {
	f := &Folder{Manifest: Manifest{Metrics: []MetricInfo{
		{Name: "latency", Title: "Client latency", Unit: "ms"},
		{Name: "attempts", Title: "Attempts"},
		{Name: "success_ratio", Title: "Client success ratio", Unit: "fraction"},
	}}}
	for _, tc := range []struct{ name, title, axis string }{
		{"latency_p99_ms", "Client latency, p99", "Client latency, p99 (ms)"},
		{"attempts_rps{tier=db}", "Attempts per second", "Attempts per second"},
		{"success_ratio", "Client success ratio", "Client success ratio (fraction)"},
		{"queue_wait_ms", "Queue wait", "Queue wait (ms)"},
	} {
		if got := f.Info(tc.name).Title; got != tc.title {
			t.Errorf("Info(%s).Title = %q, want %q", tc.name, got, tc.title)
		}
		if got := f.axisLabel(tc.name); got != tc.axis {
			t.Errorf("axisLabel(%s) = %q, want %q", tc.name, got, tc.axis)
		}
	}
	if got := f.title("attempts_rps{tier=db}"); got != "Attempts per second (tier db)" {
		t.Errorf("title with labels = %q", got)
	}
}

// TestPooledHistograms: merging the seeds' HDR histograms gives the
// distribution of all their samples, which differs from the average of
// the seeds' quantiles when seeds differ in sample count; merging is
// order-free.
func TestPooledHistograms(t *testing.T) {
	mk := func(n int, d time.Duration) []Hist {
		rec := NewRecorder(DefaultConfig())
		h := rec.Histogram("latency")
		for i := 0; i < n; i++ {
			h.Record(d)
		}
		rec.Finish(0)
		return rec.Hists()
	}
	a, b := mk(1000, time.Millisecond), mk(10, 100*time.Millisecond)
	p := []Param{{"x", "1"}}
	acc1, acc2 := NewSeriesAcc(), NewSeriesAcc()
	acc1.AddHists(p, a)
	acc1.AddHists(p, b)
	acc2.AddHists(p, DecodeHists(EncodeHists(b))) // through the stored form
	acc2.AddHists(p, a)
	b1, _ := MarshalSeries(acc1)
	b2, _ := MarshalSeries(acc2)
	if !bytes.Equal(b1, b2) {
		t.Error("the merged histograms depend on the order runs were added")
	}
	back, err := UnmarshalSeries(b1)
	if err != nil {
		t.Fatal(err)
	}
	d := back.Pooled(p)
	if len(d) != 1 || d[0].Name != "latency" {
		t.Fatalf("pooled = %+v", d)
	}
	at := func(q float64) float64 {
		for _, x := range d[0].Points {
			if x.Q == q {
				return x.ValueMs
			}
		}
		return math.NaN()
	}
	// 1010 samples, 10 of them 100 ms: p50 and p99 are 1 ms, p99.9 is
	// 100 ms (HDR keeps 3 significant digits: within 0.1%).
	for _, tc := range []struct{ q, want float64 }{{0.5, 1}, {0.99, 1}, {0.999, 100}, {1, 100}} {
		if got := at(tc.q); math.Abs(got-tc.want) > tc.want*1e-3 {
			t.Errorf("pooled q%v = %v ms, want %v", tc.q, got, tc.want)
		}
	}
}
