package dist

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

const ms = time.Millisecond

// TestDistMeans checks each distribution's sample mean against its
// closed form (Pareto: αx_m/(α−1); Weibull: λΓ(1+1/k); log-normal:
// median·exp(σ²/2)), within 5 standard errors of 200,000 draws (the
// standard deviations are computed from the same closed forms).
func TestDistMeans(t *testing.T) {
	sigma := math.Log(8) / 2.3263478740408408 // median 1ms, p99 8ms
	cases := []struct {
		c        Config
		mean, sd float64 // in ms
	}{
		{Config{Dist: "constant", Value: 3 * ms}, 3, 0},
		{Config{Dist: "uniform", Min: ms, Max: 3 * ms}, 2, 2 / math.Sqrt(12)},
		{Config{Dist: "exponential", Mean: 5 * ms, Min: ms}, 5, 4},
		{Config{Dist: "pareto", Scale: ms, Shape: 3}, 1.5, math.Sqrt(3 / (4.0 * 1))},
		{Config{Dist: "weibull", Scale: 2 * ms, Shape: 2}, 2 * math.Gamma(1.5), 2 * math.Sqrt(math.Gamma(2)-math.Pow(math.Gamma(1.5), 2))},
		{Config{Dist: "lognormal", Median: ms, P99: 8 * ms}, math.Exp(sigma * sigma / 2), math.Sqrt((math.Exp(sigma*sigma) - 1) * math.Exp(sigma*sigma))},
		{Config{Dist: "normal", Mean: 10 * ms, Stddev: ms}, 10, 1},
		{Config{Dist: "empirical", Samples: []time.Duration{ms, 2 * ms, 6 * ms}}, 3, math.Sqrt(14.0 / 3)},
		{Config{Dist: "mixture", Of: []Config{{Weight: 0.5, Dist: "constant", Value: ms}, {Weight: 0.5, Dist: "constant", Value: 3 * ms}}}, 2, 1},
	}
	rng := sim.NewStream(3, "dist")
	const n = 200000
	for _, tc := range cases {
		if err := tc.c.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.c.Dist, err)
		}
		d := tc.c.Build()
		sum := 0.0
		for i := 0; i < n; i++ {
			sum += float64(d.Sample(rng)) / float64(ms)
		}
		got := sum / n
		if tol := 5*tc.sd/math.Sqrt(n) + 1e-6; math.Abs(got-tc.mean) > tol {
			t.Errorf("%s: mean %.4f ms, want %.4f ± %.4f", tc.c.Dist, got, tc.mean, tol)
		}
	}
}

// TestValidate: each impossible setting is reported at its path.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		path string
	}{
		{Config{Dist: "gamma"}, "dist"},
		{Config{Dist: "constant", Value: -ms}, "value"},
		{Config{Dist: "uniform", Min: 2 * ms, Max: ms}, "max"},
		{Config{Dist: "exponential", Mean: ms, Min: ms}, "mean"},
		{Config{Dist: "lognormal", Median: 2 * ms, P99: ms}, "p99"},
		{Config{Dist: "pareto", Shape: 1}, "scale"},
		{Config{Dist: "weibull", Scale: ms, Shape: math.Inf(1)}, "shape"},
		{Config{Dist: "empirical"}, "samples"},
		{Config{Dist: "empirical", Samples: []time.Duration{ms, -ms}}, "samples[1]"},
		{Config{Dist: "constant", Weight: 0.5}, "weight"},
		{Config{Dist: "mixture"}, "of"},
		{Config{Dist: "mixture", Of: []Config{{Weight: 0.5, Dist: "constant"}}}, "of"},
		{Config{Dist: "mixture", Of: []Config{{Weight: 1}}}, "of[0].dist"},
		{Config{Dist: "mixture", Of: []Config{{Weight: 1, Dist: "mixture"}}}, "of[0].dist"},
	} {
		err := tc.c.Validate()
		var fe sim.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.path+":") {
			t.Errorf("%+v: want a problem at %s, got %v", tc.c, tc.path, err)
		}
	}
	for _, c := range []Config{{}, {Dist: "uniform", Min: ms, Max: ms}, {Dist: "constant"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if (Config{}).Build() != nil {
		t.Error("an empty config builds a distribution")
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Dist: "constant", Value: 5 * ms}, "constant(5ms)"},
		{Config{Dist: "exponential", Mean: 2 * ms}, "exponential(mean 2ms)"},
		{Config{Dist: "exponential", Mean: 2 * ms, Min: ms}, "exponential(mean 2ms, min 1ms)"},
		{Config{Dist: "uniform", Min: ms, Max: 9 * ms}, "uniform(1ms, 9ms)"},
		{Config{Dist: "lognormal", Median: 5 * ms, P99: 40 * ms}, "lognormal(median 5ms, p99 40ms)"},
		{Config{Dist: "pareto", Scale: ms, Shape: 1.5}, "pareto(scale 1ms, shape 1.5)"},
		{Config{Dist: "mixture", Of: []Config{{Weight: 0.5, Dist: "constant", Value: ms}, {Weight: 0.5, Dist: "empirical", Samples: []time.Duration{ms}}}},
			"mixture(0.5 constant(1ms), 0.5 empirical(1 samples))"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
