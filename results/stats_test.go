package results

import (
	"math"
	"testing"
)

// TestDescribeClosedForm checks the t interval against closed forms of
// Student's t quantile: with 1 degree of freedom t is Cauchy, so
// t(p) = tan(π(p-½)); with 2, t(p) = (2p-1)/√(2p(1-p)) (both in e.g.
// Johnson, Kotz & Balakrishnan, "Continuous Univariate Distributions",
// vol. 2, ch. 28).
func TestDescribeClosedForm(t *testing.T) {
	p := 0.975
	t1 := math.Tan(math.Pi * (p - 0.5))    // 12.7062...
	t2 := (2*p - 1) / math.Sqrt(2*p*(1-p)) // 4.3027...
	for _, tc := range []struct {
		name         string
		xs           []float64
		mean, sd, hw float64
		n            int
	}{
		// {0, 2}: mean 1, sd √2, se 1.
		{"n=2", []float64{0, 2}, 1, math.Sqrt2, t1, 2},
		// {1, 2, 3}: mean 2, sd 1, se 1/√3.
		{"n=3", []float64{1, 2, 3}, 2, 1, t2 / math.Sqrt(3), 3},
		// NaNs are skipped.
		{"nan skipped", []float64{1, math.NaN(), 2, 3}, 2, 1, t2 / math.Sqrt(3), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Describe(tc.xs, 0.95)
			if s.N != tc.n || !close(s.Mean, tc.mean) || !close(s.SD, tc.sd) ||
				!close(s.CILow, tc.mean-tc.hw) || !close(s.CIHigh, tc.mean+tc.hw) {
				t.Errorf("Describe(%v) = %+v, want n=%d mean=%v sd=%v ci=[%v, %v]",
					tc.xs, s, tc.n, tc.mean, tc.sd, tc.mean-tc.hw, tc.mean+tc.hw)
			}
		})
	}
	if s := Describe([]float64{5}, 0.95); s.Mean != 5 || !math.IsNaN(s.SD) || !math.IsNaN(s.CILow) {
		t.Errorf("one value: %+v, want mean 5 and NaN sd/ci", s)
	}
	if s := Describe(nil, 0.95); s.N != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("no values: %+v, want NaN mean", s)
	}
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestAggregateGroupsBySweepPoint(t *testing.T) {
	mk := func(idx int, policy string, seed uint64, v float64) Run {
		return Run{Index: idx, Seed: seed, Params: []Param{{"policy", policy}},
			Metrics: []Metric{{MetricID{Name: "goodput_rps"}, v}}}
	}
	runs := []Run{mk(0, "naive", 1, 10), mk(1, "budget", 1, 20), mk(2, "naive", 2, 12), mk(3, "budget", 2, 22)}
	runs[3].Metrics = append(runs[3].Metrics, Metric{MetricID{Name: "extra"}, 1})
	pts := Aggregate([]string{"policy"}, runs).Points
	if len(pts) != 2 || pts[0].Label() != "policy=naive" || pts[1].Label() != "policy=budget" {
		t.Fatalf("points = %+v", pts)
	}
	if pts[0].N != 2 {
		t.Errorf("naive runs = %d, want 2", pts[0].N)
	}
	st, _ := pts[1].Metric("goodput_rps")
	if st.Mean != 21 || st.N != 2 {
		t.Errorf("budget goodput = %+v, want mean 21 over 2", st)
	}
	ex, ok := pts[1].Metric("extra")
	if !ok || ex.N != 1 {
		t.Errorf("extra = %+v, %v; want one value (missing counts as NaN)", ex, ok)
	}
}

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ps    Params
		label string
	}{
		{"no sweep", nil, "all runs"},
		{"one", Params{{"network.loss", "0.05"}}, "network.loss=0.05"},
		{"two", Params{{"protocol.variant", "naive"}, {"network.loss", "0"}}, "protocol.variant=naive, network.loss=0"},
	} {
		if got := tc.ps.Label(); got != tc.label {
			t.Errorf("%s: Label() = %q, want %q", tc.name, got, tc.label)
		}
	}
	ps := Params{{"a", "1"}, {"b", ""}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{{"a", "1", true}, {"b", "", true}, {"c", "", false}} {
		if v, ok := ps.Get(tc.name); v != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}
