package results

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// fakeClock is a settable Clock.
type fakeClock struct{ t sim.Time }

func (c *fakeClock) Now() sim.Time { return c.t }

func at(d time.Duration) sim.Time { return sim.Time(d) }

func metric(t *testing.T, r Run, name string) float64 {
	t.Helper()
	v, ok := r.Metric(name)
	if !ok {
		t.Fatalf("metric %q missing; have %v", name, r.Metrics)
	}
	return v
}

// nearestRank is the exact percentile of sorted samples with the rank
// rule the HDR histogram uses: rank = ⌊q·n + ½⌋, at least 1.
func nearestRank(sorted []int64, q float64) int64 {
	rank := int64(q*float64(len(sorted)) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > int64(len(sorted)) {
		rank = int64(len(sorted))
	}
	return sorted[rank-1]
}

// TestPercentilesMatchSortedSamples checks every reported percentile
// against the exact nearest-rank value of the sorted samples. With 3
// significant digits the histogram's buckets are at most 2^-10 of their
// value wide (sub-bucket count 2048), and it reports a bucket's highest
// value, so hdr ∈ [exact, exact·(1+2^-10)+1ns].
func TestPercentilesMatchSortedSamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"lognormal", func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()*1.2) * float64(2*time.Millisecond))
		}},
		{"uniform_us", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(5000)) * time.Microsecond }},
		{"bimodal", func(r *rand.Rand) time.Duration {
			if r.Float64() < 0.98 {
				return time.Millisecond + time.Duration(r.Int64N(int64(time.Millisecond)))
			}
			return 200*time.Millisecond + time.Duration(r.Int64N(int64(50*time.Millisecond)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := NewRecorder(DefaultConfig())
			h := rec.Histogram("latency")
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 100_000
			samples := make([]int64, n)
			var sum int64
			for i := range samples {
				d := tc.gen(rng)
				samples[i] = int64(d)
				sum += int64(d)
				h.Record(d)
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			run := rec.Finish(at(time.Second))
			for _, c := range []struct {
				name string
				q    float64
			}{{"latency_p50_ms", 0.5}, {"latency_p90_ms", 0.9}, {"latency_p95_ms", 0.95}, {"latency_p99_ms", 0.99}, {"latency_p999_ms", 0.999}} {
				exact := nearestRank(samples, c.q)
				got := metric(t, run, c.name) * 1e6
				lo, hi := float64(exact), float64(exact)*(1+1.0/1024)+1
				if got < lo-0.5 || got > hi+0.5 {
					t.Errorf("%s = %.0f ns, exact %d ns, want within [%.0f, %.0f]", c.name, got, exact, lo, hi)
				}
			}
			if got, want := metric(t, run, "latency_max_ms"), float64(samples[n-1])/1e6; got != want {
				t.Errorf("max = %v ms, want %v (exact)", got, want)
			}
			if got, want := metric(t, run, "latency_mean_ms"), float64(sum)/n/1e6; math.Abs(got-want) > 1e-9*want {
				t.Errorf("mean = %v ms, want %v (exact)", got, want)
			}
			if got := metric(t, run, "latency_count"); got != n {
				t.Errorf("count = %v, want %d", got, n)
			}
			// The CDF points agree with the percentiles and end at the max.
			d := run.Dists[0]
			if d.Points[len(d.Points)-1].Q != 1 || d.Points[len(d.Points)-1].ValueMs != metric(t, run, "latency_max_ms") {
				t.Errorf("CDF does not end at (1, max): %v", d.Points[len(d.Points)-1])
			}
			for i := 1; i < len(d.Points); i++ {
				if d.Points[i].ValueMs < d.Points[i-1].ValueMs || d.Points[i].Q <= d.Points[i-1].Q {
					t.Fatalf("CDF not monotone at %d: %v then %v", i, d.Points[i-1], d.Points[i])
				}
			}
		})
	}
}

func TestCountersGaugesAndWarmup(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Warmup = time.Second
	rec := NewRecorder(cfg)
	clk := &fakeClock{}
	rec.Bind(clk)
	req := rec.Counter("requests")
	q := rec.Gauge("queue_len")
	lat := rec.Histogram("latency")
	if rec.Counter("requests") != req {
		t.Fatal("Counter returned a new handle for the same name")
	}
	// 10 requests per 100 ms for 3 s; latency 1 ms before the warm-up
	// ends and 2 ms after.
	for ms := 0; ms < 3000; ms += 10 {
		clk.t = at(time.Duration(ms) * time.Millisecond)
		req.Add(1)
		if clk.t < at(time.Second) {
			lat.Record(time.Millisecond)
		} else {
			lat.Record(2 * time.Millisecond)
		}
	}
	// Gauge: 100 during warm-up, 4 from 1 s, 8 from 2.5 s.
	for _, g := range []struct {
		at time.Duration
		v  float64
	}{{0, 100}, {time.Second, 4}, {2500 * time.Millisecond, 8}} {
		clk.t = at(g.at)
		q.Set(g.v)
	}
	run := rec.Finish(at(3 * time.Second))
	for _, c := range []struct {
		name string
		want float64
	}{
		{"requests", 200},
		{"requests_rps", 100},
		{"latency_count", 200},
		{"latency_p50_ms", 2},
		{"latency_max_ms", 2},
		{"latency_mean_ms", 2},
		{"queue_len_last", 8},
		{"queue_len_max", 8},
		{"queue_len_mean", (4*1.5 + 8*0.5) / 2},
	} {
		if got := metric(t, run, c.name); math.Abs(got-c.want) > 1e-3*math.Abs(c.want) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	for i := 1; i < len(run.Metrics); i++ {
		if run.Metrics[i-1].FullName() >= run.Metrics[i].FullName() {
			t.Fatalf("metrics not sorted: %q before %q", run.Metrics[i-1].FullName(), run.Metrics[i].FullName())
		}
	}
	// Series cover the whole run, warm-up included.
	var rps, qs, lm *Series
	for i := range run.Series {
		switch run.Series[i].Name {
		case "requests_rps":
			rps = &run.Series[i]
		case "queue_len":
			qs = &run.Series[i]
		case "latency_mean_ms":
			lm = &run.Series[i]
		}
	}
	if rps == nil || qs == nil || lm == nil {
		t.Fatalf("missing series: %v", run.Series)
	}
	if len(rps.Values) != 30 || rps.Step != 100*time.Millisecond {
		t.Fatalf("requests_rps: %d buckets of %v, want 30 of 100ms", len(rps.Values), rps.Step)
	}
	for i, v := range rps.Values {
		if v != 100 {
			t.Fatalf("requests_rps[%d] = %v, want 100", i, v)
		}
	}
	if qs.Values[5] != 100 || qs.Values[12] != 4 || qs.Values[29] != 8 {
		t.Errorf("queue_len series not carried forward: %v", qs.Values)
	}
	if lm.Values[0] != 1 || lm.Values[29] != 2 {
		t.Errorf("latency_mean_ms series = %v...%v, want 1 then 2", lm.Values[0], lm.Values[29])
	}
}

func TestEmptyHistogramIsNaN(t *testing.T) {
	rec := NewRecorder(DefaultConfig())
	rec.Histogram("latency")
	run := rec.Finish(at(time.Second))
	if v := metric(t, run, "latency_p99_ms"); !math.IsNaN(v) {
		t.Errorf("p99 of no samples = %v, want NaN", v)
	}
	if v := metric(t, run, "latency_count"); v != 0 {
		t.Errorf("count = %v, want 0", v)
	}
}

func TestSeriesWidenWhenRunOutgrowsMaxBuckets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBuckets = 16
	rec := NewRecorder(cfg)
	clk := &fakeClock{}
	rec.Bind(clk)
	c := rec.Counter("requests")
	for ms := 0; ms < 10_000; ms += 10 { // 100 rps for 10 s
		clk.t = at(time.Duration(ms) * time.Millisecond)
		c.Add(1)
	}
	run := rec.Finish(at(10 * time.Second))
	s := run.Series[0]
	if len(s.Values) > 16 {
		t.Fatalf("%d buckets, want at most 16", len(s.Values))
	}
	if s.Step != 800*time.Millisecond {
		t.Fatalf("step = %v, want 800ms (100ms doubled three times)", s.Step)
	}
	var total float64
	for i, v := range s.Values {
		total += v * s.Step.Seconds()
		if i < len(s.Values)-1 && math.Abs(v-100) > 1e-9 {
			t.Errorf("bucket %d = %v rps, want 100", i, v)
		}
	}
	if math.Abs(total-1000) > 1e-6 {
		t.Errorf("series sums to %v requests, want 1000", total)
	}
}

func TestMetricIDs(t *testing.T) {
	l := func(k, v string) sim.Label { return sim.Label{Key: k, Value: v} }
	for _, tc := range []struct {
		name      string   // as a user writes it
		id        MetricID // what ParseID makes of it
		canonical string   // FullName of Canonical
	}{
		{"latency_p99_ms", MetricID{Name: "latency_p99_ms"}, "latency_p99_ms"},
		{"attempts_rps{tier=api}", MetricID{"attempts_rps", Labels{l("tier", "api")}}, "attempts_rps{tier=api}"},
		{"x{b=2, a=1}", MetricID{"x", Labels{l("b", "2"), l("a", "1")}}, "x{a=1,b=2}"},
		{"x{a=1", MetricID{Name: "x{a=1"}, "x{a=1"},
	} {
		id := ParseID(tc.name)
		if id.Name != tc.id.Name || len(id.Labels) != len(tc.id.Labels) {
			t.Errorf("ParseID(%q) = %+v, want %+v", tc.name, id, tc.id)
			continue
		}
		for i := range id.Labels {
			if id.Labels[i] != tc.id.Labels[i] {
				t.Errorf("ParseID(%q) label %d = %v, want %v", tc.name, i, id.Labels[i], tc.id.Labels[i])
			}
		}
		if got := id.Canonical().FullName(); got != tc.canonical {
			t.Errorf("ParseID(%q).Canonical().FullName() = %q, want %q", tc.name, got, tc.canonical)
		}
		if !id.Same(id.Canonical()) {
			t.Errorf("%q: not the same metric as its canonical form", tc.name)
		}
	}
	a := MetricID{"attempts", Labels{l("tier", "db")}}
	for _, tc := range []struct {
		b    MetricID
		less bool
	}{
		{MetricID{"attempts_rps", Labels{l("tier", "api")}}, true},             // by name first
		{MetricID{"attempts", Labels{l("tier", "db"), l("zone", "a")}}, false}, // as written: '}' after ','
		{MetricID{"attempts", Labels{l("tier", "dc")}}, true},
		{MetricID{"attempts", nil}, false},
		{MetricID{"attempts", Labels{l("tier", "api")}}, false},
	} {
		if got := a.less(tc.b); got != tc.less {
			t.Errorf("%s less %s = %v, want %v", a.FullName(), tc.b.FullName(), got, tc.less)
		}
	}
	if a.Same(MetricID{"attempts", Labels{l("tier", "api")}}) || a.Same(MetricID{Name: "attempts"}) {
		t.Error("Same ignores label values or counts")
	}
}

func TestRecorderKeepsLabelsApart(t *testing.T) {
	rec := NewRecorder(DefaultConfig())
	tier, st := sim.Label{Key: "tier", Value: "db"}, sim.Label{Key: "status", Value: "ok"}
	c := rec.Counter("attempt_status", tier, st)
	if rec.Counter("attempt_status", st, tier) != c {
		t.Error("the same labels in another order gave another counter")
	}
	if rec.Counter("attempt_status", tier) == c {
		t.Error("fewer labels gave the same counter")
	}
	c.Add(3)
	run := rec.Finish(sim.Time(time.Second))
	v, ok := run.Metric("attempt_status_rps{status=ok,tier=db}")
	if !ok || v != 3 {
		t.Fatalf("attempt_status_rps = %v, %v; metrics %+v", v, ok, run.Metrics)
	}
	for _, m := range run.Metrics {
		if m.Name == "attempt_status" && len(m.Labels) == 2 {
			if m.FullName() != "attempt_status{tier=db,status=ok}" {
				t.Errorf("labels lost their recorded order: %s", m.FullName())
			}
			return
		}
	}
	t.Error("no attempt_status with two labels")
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	bad := Config{Bucket: 0, Warmup: -1, SignificantDigits: 9, MaxLatency: 0, MaxBuckets: 1}
	err := bad.Validate()
	fe, ok := err.(sim.FieldErrors)
	if !ok || len(fe) != 5 {
		t.Fatalf("Validate = %v, want 5 field errors", err)
	}
	want := []string{"bucket", "warmup", "significant_digits", "max_latency", "max_buckets"}
	for i, f := range fe {
		if f.Path != want[i] {
			t.Errorf("error %d path %q, want %q", i, f.Path, want[i])
		}
	}
}

// TestMemoryBoundedAt10MillionRequests records ten million requests
// (latency, counter, gauge, spread over 1000 s of simulated time) and
// checks the recorder's heap stays under 50 MB. It measures memory, not
// speed.
func TestMemoryBoundedAt10MillionRequests(t *testing.T) {
	n := 10_000_000
	if testing.Short() {
		n = 1_000_000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := NewRecorder(DefaultConfig())
	clk := &fakeClock{}
	rec.Bind(clk)
	lat := rec.Histogram("latency")
	req := rec.Counter("requests")
	ok := rec.Counter("responses", sim.Label{Key: "outcome", Value: "ok"})
	q := rec.Gauge("inflight")
	rng := rand.New(rand.NewPCG(3, 4))
	step := int64(1000*time.Second) / int64(n)
	for i := 0; i < n; i++ {
		clk.t = sim.Time(int64(i) * step)
		req.Add(1)
		lat.Record(time.Duration(rng.Int64N(int64(100 * time.Millisecond))))
		ok.Add(1)
		if i%100 == 0 {
			q.Set(float64(i % 1000))
		}
	}
	run := rec.Finish(clk.t)
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d requests: recorder heap %.2f MB", n, float64(used)/1e6)
	if used > 50e6 {
		t.Errorf("recorder uses %.1f MB, want < 50 MB", float64(used)/1e6)
	}
	if v := metric(t, run, "requests"); v != float64(n) {
		t.Errorf("requests = %v, want %d", v, n)
	}
	runtime.KeepAlive(rec)
}

// BenchmarkRecordLatency measures recording one latency sample through the
// sim.Histogram interface: the hot path of every protocol. Target: no
// allocation, under 50 ns.
func BenchmarkRecordLatency(b *testing.B) {
	rec := NewRecorder(DefaultConfig())
	clk := &fakeClock{t: at(5 * time.Second)}
	rec.Bind(clk)
	var h sim.Histogram = rec.Histogram("latency")
	h.Record(time.Millisecond) // create the current bucket
	ds := make([]time.Duration, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range ds {
		ds[i] = time.Duration(math.Exp(rng.NormFloat64()) * float64(time.Millisecond))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Record(ds[i&1023])
	}
}

// BenchmarkCounterAdd measures one counter increment.
func BenchmarkCounterAdd(b *testing.B) {
	rec := NewRecorder(DefaultConfig())
	rec.Bind(&fakeClock{t: at(5 * time.Second)})
	var c sim.Counter = rec.Counter("requests")
	c.Add(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Add(1)
	}
}

// TestRecordDoesNotAllocate pins the zero-allocation promise outside the
// benchmarks.
func TestRecordDoesNotAllocate(t *testing.T) {
	rec := NewRecorder(DefaultConfig())
	clk := &fakeClock{t: at(time.Second)}
	rec.Bind(clk)
	h := rec.Histogram("latency")
	c := rec.Counter("requests")
	g := rec.Gauge("inflight")
	h.Record(time.Millisecond)
	c.Add(1)
	g.Set(1)
	if n := testing.AllocsPerRun(1000, func() {
		h.Record(3 * time.Millisecond)
		c.Add(1)
		g.Set(2)
	}); n != 0 {
		t.Errorf("recording allocates %v times per sample, want 0", n)
	}
}
