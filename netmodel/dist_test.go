package netmodel

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
	"gopkg.in/yaml.v3"
)

const ms = Duration(time.Millisecond)

// ksCrit is the critical value of the Kolmogorov–Smirnov statistic at
// significance alpha = 0.001 for sample sizes n and m (m = 0 for the
// one-sample test): c(α)·sqrt((n+m)/(n·m)) with c(α) = sqrt(-ln(α/2)/2)
// ≈ 1.949 (asymptotic Kolmogorov distribution; e.g. Press et al.,
// Numerical Recipes, 3rd ed., §14.3.3). The streams are seeded, so a pass
// is reproducible; α only says how unlikely a correct sampler is to fail.
func ksCrit(n, m int) float64 {
	c := math.Sqrt(-math.Log(0.001/2) / 2)
	if m == 0 {
		return c / math.Sqrt(float64(n))
	}
	return c * math.Sqrt(float64(n+m)/float64(n*m))
}

// ksOneSample returns sup |F_n(x) - F(x)| for sorted samples xs, taken
// on both sides of every distinct value so that atoms (constant,
// empirical samples) are handled: F(x-) is read as cdf(x-1), one
// nanosecond below, the resolution of a time.Duration.
func ksOneSample(xs []float64, cdf func(float64) float64) float64 {
	n := float64(len(xs))
	d := 0.0
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j] == xs[i] {
			j++
		}
		d = max(d, math.Abs(float64(i)/n-cdf(xs[i]-1)), math.Abs(float64(j)/n-cdf(xs[i])))
		i = j
	}
	return d
}

func TestDistKS(t *testing.T) {
	const n = 20000
	// ref draws the same distribution through gonum's own samplers, from
	// an independent stream, for a two-sample test.
	src := rand.NewPCG(7, 8)
	tests := []struct {
		name string
		spec DistSpec
		ref  func() float64 // in ns; nil: one-sample test only
	}{
		{"uniform", DistSpec{Dist: DistUniform, Min: 1 * ms, Max: 3 * ms},
			distuv.Uniform{Min: 1e6, Max: 3e6, Src: src}.Rand},
		{"normal", DistSpec{Dist: DistNormal, Mean: 5 * ms, Stddev: 1 * ms},
			distuv.Normal{Mu: 5e6, Sigma: 1e6, Src: src}.Rand},
		{"normal-truncated", DistSpec{Dist: DistNormal, Mean: 1 * ms, Stddev: 2 * ms},
			func() float64 {
				for {
					if x := (distuv.Normal{Mu: 1e6, Sigma: 2e6, Src: src}).Rand(); x >= 0 {
						return x
					}
				}
			}},
		{"exponential", DistSpec{Dist: DistExponential, Mean: 2 * ms, Min: Duration(100 * time.Microsecond)},
			func() float64 { return 1e5 + distuv.Exponential{Rate: 1 / 1.9e6, Src: src}.Rand() }},
		{"lognormal-quantiles", DistSpec{Dist: DistLogNormal, Median: 1 * ms, P99: 8 * ms},
			distuv.LogNormal{Mu: math.Log(1e6), Sigma: math.Log(8) / z99, Src: src}.Rand},
		{"lognormal-params", DistSpec{Dist: DistLogNormal, Mu: math.Log(0.002), Sigma: 0.5},
			distuv.LogNormal{Mu: math.Log(2e6), Sigma: 0.5, Src: src}.Rand},
		{"pareto", DistSpec{Dist: DistPareto, Scale: 1 * ms, Shape: 1.5},
			distuv.Pareto{Xm: 1e6, Alpha: 1.5, Src: src}.Rand},
		{"weibull", DistSpec{Dist: DistWeibull, Scale: 2 * ms, Shape: 0.7},
			distuv.Weibull{Lambda: 2e6, K: 0.7, Src: src}.Rand},
		{"mixture", DistSpec{Dist: DistMixture, Of: []DistSpec{
			{Weight: 0.91, Dist: DistPareto, Scale: 1 * ms, Shape: 2},
			{Weight: 0.09, Dist: DistExponential, Mean: 20 * ms}}},
			func() float64 {
				if rand.New(src).Float64() < 0.91 {
					return distuv.Pareto{Xm: 1e6, Alpha: 2, Src: src}.Rand()
				}
				return distuv.Exponential{Rate: 1 / 20e6, Src: src}.Rand()
			}},
		{"empirical-samples", DistSpec{Dist: DistEmpirical, Samples: []Duration{1 * ms, 2 * ms, 2 * ms, 5 * ms}}, nil},
		{"constant", Const(3 * time.Millisecond), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.spec.Build()
			if err != nil {
				t.Fatal(err)
			}
			r := sim.NewStream(1, "test/"+tt.name)
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(d.Sample(r))
			}
			sort.Float64s(xs)
			d1 := ksOneSample(xs, func(x float64) float64 { return d.CDF(time.Duration(x)) })
			if c := ksCrit(n, 0); d1 > c {
				t.Errorf("%s: one-sample KS D = %.4f > %.4f", d, d1, c)
			}
			if tt.ref == nil {
				return
			}
			ys := make([]float64, n)
			for i := range ys {
				ys[i] = math.Floor(tt.ref()) // Sample truncates to whole ns
			}
			sort.Float64s(ys)
			d2 := stat.KolmogorovSmirnov(xs, nil, ys, nil)
			if c := ksCrit(n, n); d2 > c {
				t.Errorf("%s: two-sample KS D = %.4f > %.4f against gonum's sampler", d, d2, c)
			}
		})
	}
}

func TestLogNormalQuantiles(t *testing.T) {
	d := DistSpec{Dist: DistLogNormal, Median: 1 * ms, P99: 8 * ms}.MustBuild()
	if got := d.CDF(time.Millisecond); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("CDF(median) = %v, want 0.5", got)
	}
	if got := d.CDF(8 * time.Millisecond); math.Abs(got-0.99) > 1e-6 {
		t.Errorf("CDF(p99) = %v, want 0.99", got)
	}
}

func TestEmpiricalCDFFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "rtt.csv")
	csv := "# measured RTTs\nlatency_ms,cdf\n1,0\n2,0.5\n10ms,1\n"
	if err := os.WriteFile(f, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := DistSpec{Dist: DistEmpirical, File: "rtt.csv"}
	spec.ResolveFiles(dir)
	d, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    time.Duration
		want float64
	}{{time.Millisecond, 0}, {1500 * time.Microsecond, 0.25}, {2 * time.Millisecond, 0.5}, {6 * time.Millisecond, 0.75}, {11 * time.Millisecond, 1}} {
		if got := d.CDF(c.x); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("CDF(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	const n = 20000
	r := sim.NewStream(3, "test/empirical")
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(d.Sample(r))
	}
	sort.Float64s(xs)
	if d1, c := ksOneSample(xs, func(x float64) float64 { return d.CDF(time.Duration(x)) }), ksCrit(n, 0); d1 > c {
		t.Errorf("KS D = %.4f > %.4f", d1, c)
	}
}

func TestReadEmpiricalErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"empty", "# nothing\n", "no values"},
		{"negative", "1\n-2\n", "not a finite non-negative span"},
		{"nan", "1\nNaN\n", "not a finite non-negative span"},
		{"inf", "1\n+Inf\n", "not a finite non-negative span"},
		{"nan prob", "1,NaN\n", "not in [0, 1]"},
		{"garbage", "1\nfoo\n", "line 2"},
		{"columns", "1,0.5,3\n", "1 or 2 columns"},
		{"prob", "1,1.5\n", "not in [0, 1]"},
		{"descending", "2,0.5\n1,1\n", "ascend"},
		{"not-one", "1,0.2\n2,0.9\n", "want 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadEmpirical(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDistSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec DistSpec
		want string // substring of the error; "" for valid
	}{
		{"ok", DistSpec{Dist: DistLogNormal, Median: 1 * ms, P99: 8 * ms}, ""},
		{"missing", DistSpec{}, "dist: missing"},
		{"unknown", DistSpec{Dist: "gamma"}, `unknown distribution "gamma"`},
		{"negative constant", Const(-time.Millisecond), "value: must not be negative"},
		{"uniform max<min", DistSpec{Dist: DistUniform, Min: 2 * ms, Max: ms}, "max: must be >= min"},
		{"exp mean<=min", DistSpec{Dist: DistExponential, Mean: ms, Min: 2 * ms}, "mean: must be > min"},
		{"lognormal p99<median", DistSpec{Dist: DistLogNormal, Median: 2 * ms, P99: ms}, "p99: must be > median"},
		{"lognormal both", DistSpec{Dist: DistLogNormal, Median: ms, P99: 2 * ms, Sigma: 1}, "not both"},
		{"pareto shape", DistSpec{Dist: DistPareto, Scale: ms}, "shape: must be > 0"},
		{"foreign field", DistSpec{Dist: DistNormal, Mean: ms, Stddev: ms, Median: ms}, "median: does not apply to dist normal"},
		{"weight outside mixture", DistSpec{Dist: DistUniform, Max: ms, Weight: 0.5}, "weight: only allowed"},
		{"weights sum", DistSpec{Dist: DistMixture, Of: []DistSpec{
			{Weight: 0.5, Dist: DistConstant, Value: ms}, {Weight: 0.4, Dist: DistConstant, Value: ms}}}, "of: weights must sum to 1, got 0.9"},
		{"nested error path", DistSpec{Dist: DistMixture, Of: []DistSpec{
			{Weight: 1, Dist: DistPareto, Scale: ms, Shape: -1}}}, "of[0].shape: must be > 0"},
		{"empirical nothing", DistSpec{Dist: DistEmpirical}, "file: give a CSV file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDistSpecYAML(t *testing.T) {
	src := `
a: 5ms
b: {dist: lognormal, median: 1ms, p99: 8ms}
c: {dist: mixture, of: [{weight: 0.91, dist: pareto, scale: 1ms, shape: 1.5}, {weight: 0.09, dist: exponential, mean: 2ms, min: 100us}]}
`
	var v struct{ A, B, C DistSpec }
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Dist != DistConstant || v.A.Value != 5*ms {
		t.Errorf("a = %+v", v.A)
	}
	for _, s := range []DistSpec{v.A, v.B, v.C} {
		if _, err := s.Build(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	if got := v.C.Of[1].Min; got != Duration(100*time.Microsecond) {
		t.Errorf("c.of[1].min = %v", got)
	}
	var bad struct{ A DistSpec }
	err := yaml.Unmarshal([]byte("a: {dist: normal, mean: 1ms, stdev: 1ms}"), &bad)
	if err == nil || !strings.Contains(err.Error(), `unknown distribution field "stdev"`) {
		t.Errorf("typo not caught: %v", err)
	}
	err = yaml.Unmarshal([]byte("a: 5"), &bad)
	if err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("bare number accepted: %v", err)
	}
	out, err := yaml.Marshal(v.B)
	if err != nil || !strings.Contains(string(out), "median: 1ms") {
		t.Errorf("marshal = %q, %v", out, err)
	}
}

func BenchmarkSample(b *testing.B) {
	for _, s := range []DistSpec{
		Const(time.Millisecond),
		{Dist: DistLogNormal, Median: ms, P99: 8 * ms},
		{Dist: DistMixture, Of: []DistSpec{{Weight: 0.91, Dist: DistPareto, Scale: ms, Shape: 1.5}, {Weight: 0.09, Dist: DistExponential, Mean: 20 * ms}}},
	} {
		d := s.MustBuild()
		b.Run(s.Dist, func(b *testing.B) {
			r := sim.NewStream(1, "bench")
			var sum time.Duration
			for b.Loop() {
				sum += d.Sample(r)
			}
			_ = sum
		})
	}
}

// TestKSDetectsWrongDistribution is the negative control for TestDistKS:
// the same test rejects a log-normal whose median is 5% off and a Pareto
// whose shape is 10% off, so passing there means something.
func TestKSDetectsWrongDistribution(t *testing.T) {
	const n = 20000
	pairs := []struct{ sampled, claimed DistSpec }{
		{DistSpec{Dist: DistLogNormal, Median: ms, P99: 8 * ms}, DistSpec{Dist: DistLogNormal, Median: Duration(1.05 * float64(ms)), P99: 8 * ms}},
		{DistSpec{Dist: DistPareto, Scale: ms, Shape: 1.5}, DistSpec{Dist: DistPareto, Scale: ms, Shape: 1.65}},
	}
	for _, p := range pairs {
		s, c := p.sampled.MustBuild(), p.claimed.MustBuild()
		r := sim.NewStream(1, "test/negative")
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(s.Sample(r))
		}
		sort.Float64s(xs)
		if d := ksOneSample(xs, func(x float64) float64 { return c.CDF(time.Duration(x)) }); d <= ksCrit(n, 0) {
			t.Errorf("KS accepted %s as %s (D = %.4f)", s, c, d)
		}
	}
}

func TestDistString(t *testing.T) {
	tests := []struct {
		spec DistSpec
		want string
	}{
		{Const(time.Millisecond), "constant(1ms)"},
		{DistSpec{Dist: DistUniform, Min: ms, Max: 2 * ms}, "uniform(1ms, 2ms)"},
		{DistSpec{Dist: DistNormal, Mean: ms, Stddev: ms}, "normal(mean 1ms, stddev 1ms, truncated at 0)"},
		{DistSpec{Dist: DistExponential, Mean: 2 * ms, Min: ms}, "exponential(min 1ms, mean 2ms)"},
		{DistSpec{Dist: DistLogNormal, Median: ms, P99: 8 * ms}, "lognormal(median 1ms, p99 8ms)"},
		{DistSpec{Dist: DistPareto, Scale: ms, Shape: 1.5}, "pareto(scale 1ms, shape 1.5)"},
		{DistSpec{Dist: DistWeibull, Scale: ms, Shape: 2}, "weibull(scale 1ms, shape 2)"},
		{DistSpec{Dist: DistEmpirical, Samples: []Duration{ms, ms}}, "empirical(2 samples)"},
		{DistSpec{Dist: DistMixture, Of: []DistSpec{{Weight: 0.5, Dist: DistConstant, Value: ms}, {Weight: 0.5, Dist: DistConstant, Value: 2 * ms}}},
			"mixture(0.5 constant(1ms) + 0.5 constant(2ms))"},
	}
	for _, tt := range tests {
		if got := tt.spec.MustBuild().String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// FuzzReadEmpirical: any input either fails cleanly or yields a
// distribution whose CDF is a probability and whose samples are spans.
func FuzzReadEmpirical(f *testing.F) {
	f.Add("1\n2\n3\n")
	f.Add("latency_ms,cdf\n1,0\n2,0.5\n10ms,1\n")
	f.Add("# c\n\n5us\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ReadEmpirical(strings.NewReader(in))
		if err != nil {
			return
		}
		r := sim.NewStream(1, "fuzz")
		for i := 0; i < 10; i++ {
			x := d.Sample(r)
			if x < 0 {
				t.Fatalf("negative sample %v", x)
			}
			if p := d.CDF(x); !(p >= 0 && p <= 1) {
				t.Fatalf("CDF(%v) = %v", x, p)
			}
		}
	})
}

func TestResolveFiles(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Latency = DistSpec{Dist: DistMixture, Of: []DistSpec{{Weight: 1, Dist: DistEmpirical, File: "a.csv"}}}
	cfg.Links = []LinkRule{{From: "x", To: "y", LinkPatch: LinkPatch{Latency: &DistSpec{Dist: DistEmpirical, File: "/abs/b.csv"}}}}
	faults := FaultsConfig{Chaos: &ChaosConfig{Crash: ChaosRate{Duration: DistSpec{Dist: DistEmpirical, File: "c.csv"}}}}
	cfg.ResolveFiles("/exp")
	faults.ResolveFiles("/exp")
	got := []string{cfg.Latency.Of[0].File, cfg.Links[0].Latency.File, faults.Chaos.Crash.Duration.File}
	want := []string{"/exp/a.csv", "/abs/b.csv", "/exp/c.csv"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("file %d = %q, want %q", i, got[i], want[i])
		}
	}
}
