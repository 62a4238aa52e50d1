package rpc

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// TestRetrySuccessClosedForm checks independent failures with immediate
// retries. With failure probability p per attempt and r retries (r+1
// attempts), a call succeeds with probability 1−p^(r+1), and the attempts
// per call are the truncated geometric mean Σ_{k=0..r} p^k =
// (1−p^(r+1))/(1−p). Tolerance: 4 standard errors of the sample mean for
// the n calls made, from the exact variance of each quantity.
func TestRetrySuccessClosedForm(t *testing.T) {
	for _, tc := range []struct {
		p float64
		r int
	}{{0.1, 0}, {0.3, 2}, {0.5, 3}, {0.8, 4}} {
		t.Run(fmt.Sprintf("p=%v,r=%d", tc.p, tc.r), func(t *testing.T) {
			cfg := DefaultConfig()
			s := DefaultServiceConfig()
			s.Workers = 64
			s.ServiceTime = DistConfig{Dist: "constant", Value: ms}
			s.Errors = ErrorConfig{Rate: tc.p}
			cfg.Services["s"] = s
			cfg.Client.Call = callTo("s")
			cfg.Client.Call.Retry = retry.Policy{Kind: retry.Immediate, MaxAttempts: tc.r + 1}
			if tc.r == 0 {
				cfg.Client.Call.Retry = retry.NoRetry()
			}
			cfg.Workload.Rate = workload.Rate(2000)
			cfg.Client.Stop = 10 * time.Second
			d, _ := run(t, cfg, 11, ms, 11*time.Second)
			st := d.Stats()
			n := float64(st.Requests)
			if int64(n) != st.Done[OK]+st.Done[Internal] {
				t.Fatalf("%v requests but %d finished", n, st.Done[OK]+st.Done[Internal])
			}
			pr := math.Pow(tc.p, float64(tc.r+1))
			wantS := 1 - pr
			gotS := st.SuccessRate()
			seS := math.Sqrt(wantS * (1 - wantS) / n)
			if math.Abs(gotS-wantS) > 4*seS+1e-12 {
				t.Errorf("success rate %.5f, want %.5f ± %.5f", gotS, wantS, 4*seS)
			}
			// Attempts K: P(K=k) = p^(k-1)(1-p) for k ≤ r, P(K=r+1) = p^r.
			var ek, ek2 float64
			for k := 1; k <= tc.r+1; k++ {
				pk := math.Pow(tc.p, float64(k-1)) * (1 - tc.p)
				if k == tc.r+1 {
					pk = math.Pow(tc.p, float64(k-1))
				}
				ek += float64(k) * pk
				ek2 += float64(k*k) * pk
			}
			wantA := (1 - pr) / (1 - tc.p)
			if math.Abs(ek-wantA) > 1e-12 {
				t.Fatalf("closed form disagrees with its own distribution: %v vs %v", ek, wantA)
			}
			seA := math.Sqrt((ek2 - ek*ek) / n)
			gotA := st.Amplification("s")
			t.Logf("n=%v success %.5f (want %.5f), attempts/request %.5f (want %.5f)", n, gotS, wantS, gotA, wantA)
			if math.Abs(gotA-wantA) > 4*seA+1e-12 {
				t.Errorf("attempts per request %.5f, want %.5f ± %.5f", gotA, wantA, 4*seA)
			}
		})
	}
}

// TestAmplificationPowerLaw checks the retry-storm arithmetic: when every
// call fails and each of L layers makes k attempts per call it receives,
// the bottom layer sees k^L attempts per client request (e.g. M. Nygard,
// "Release It!", and the AWS Builders' Library article "Timeouts, retries,
// and backoff with jitter"). The count is exact.
func TestAmplificationPowerLaw(t *testing.T) {
	for _, tc := range []struct{ layers, k int }{{1, 3}, {2, 3}, {3, 3}, {4, 2}, {3, 5}} {
		t.Run(fmt.Sprintf("L=%d,k=%d", tc.layers, tc.k), func(t *testing.T) {
			cfg := DefaultConfig()
			pol := retry.Policy{Kind: retry.Immediate, MaxAttempts: tc.k}
			name := func(i int) string { return fmt.Sprintf("s%d", i) }
			for i := 1; i <= tc.layers; i++ {
				s := DefaultServiceConfig()
				s.Workers = 1000
				s.Queue = 100000
				s.ServiceTime = DistConfig{Dist: "constant", Value: 0}
				if i < tc.layers {
					c := callTo(name(i + 1))
					c.Retry = pol
					s.Calls = []CallConfig{c}
				} else {
					s.Errors = ErrorConfig{Rate: 1}
				}
				cfg.Services[name(i)] = s
			}
			cfg.Client.Call = callTo(name(1))
			cfg.Client.Call.Retry = pol
			cfg.Workload.Rate = workload.Rate(100)
			cfg.Client.Stop = time.Second
			d, _ := run(t, cfg, 5, ms, 2*time.Second)
			st := d.Stats()
			if st.Requests == 0 || st.Done[Internal] != st.Requests {
				t.Fatalf("requests %d, failed %d", st.Requests, st.Done[Internal])
			}
			want := st.Requests
			for i := 1; i <= tc.layers; i++ {
				want *= int64(tc.k)
				if got := st.Tiers[name(i)].Attempts; got != want {
					t.Errorf("layer %d: %d attempts, want %d (= %d requests × %d^%d)", i, got, want, st.Requests, tc.k, i)
				}
			}
			if a := st.Amplification(name(tc.layers)); a != math.Pow(float64(tc.k), float64(tc.layers)) {
				t.Errorf("bottom amplification %v, want %d^%d", a, tc.k, tc.layers)
			}
		})
	}
}

// queueRun runs a single c-worker server with Poisson arrivals at rate
// lambda and exponential service of mean 1/mu, with no network delay, and
// returns the recorded queue waits and sojourn times after a warm-up.
func queueRun(t *testing.T, c int, lambda, mu float64, span time.Duration, seed uint64) (waits, sojourns []float64) {
	t.Helper()
	cfg := DefaultConfig()
	s := DefaultServiceConfig()
	s.Workers = c
	s.Queue = 1_000_000
	s.ServiceTime = DistConfig{Dist: "exponential", Mean: time.Duration(float64(time.Second) / mu)}
	cfg.Services["q"] = s
	cfg.Client.Call = callTo("q")
	cfg.Workload.Rate = workload.Rate(lambda)
	m := newTestMetrics()
	e := sim.New(sim.Config{Seed: seed, Metrics: m})
	e.SetNetwork(&sim.Direct{})
	if _, err := Build(e, cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(span)); err != nil {
		t.Fatal(err)
	}
	w := m.hists["server_queue_wait{tier=q}"].samples
	l := m.hists["server_latency{tier=q}"].samples
	skip := len(l) / 20 // warm-up: the queue starts empty
	for _, d := range w[skip:] {
		waits = append(waits, d.Seconds())
	}
	for _, d := range l[skip:] {
		sojourns = append(sojourns, d.Seconds())
	}
	return waits, sojourns
}

// TestMM1 checks a one-worker server under Poisson arrivals (λ) and
// exponential service (μ): the mean time in system of an M/M/1 queue is
// 1/(μ−λ) (Kleinrock, "Queueing Systems" vol. 1, §3.2). The tolerance is
// 4 standard errors estimated by batch means over the run itself, since
// successive sojourn times are correlated.
func TestMM1(t *testing.T) {
	for _, tc := range []struct{ lambda, mu float64 }{{500, 1000}, {700, 1000}} {
		t.Run(fmt.Sprintf("rho=%.1f", tc.lambda/tc.mu), func(t *testing.T) {
			_, soj := queueRun(t, 1, tc.lambda, tc.mu, 300*time.Second, 3)
			mean, se := batchMeans(soj, 30)
			want := 1 / (tc.mu - tc.lambda)
			t.Logf("mean sojourn %.4fms (1/(μ−λ) = %.4fms, se %.4fms, n=%d)", mean*1e3, want*1e3, se*1e3, len(soj))
			if math.Abs(mean-want) > 4*se {
				t.Errorf("mean sojourn %.4fms, want %.4fms ± %.4fms (n=%d)", mean*1e3, want*1e3, 4*se*1e3, len(soj))
			}
			if se/want > 0.03 {
				t.Errorf("standard error %.2f%% of the mean: run too short to be a test", 100*se/want)
			}
		})
	}
}

// TestErlangC checks a c-worker server: the mean wait in queue of an
// M/M/c queue is C(c, a)/(cμ−λ), with a = λ/μ and C the Erlang C
// probability of waiting (Kleinrock vol. 1, §3.5). Tolerance as in
// TestMM1.
func TestErlangC(t *testing.T) {
	for _, tc := range []struct {
		c          int
		lambda, mu float64
	}{{2, 1500, 1000}, {4, 3000, 1000}, {8, 6000, 1000}} {
		t.Run(fmt.Sprintf("c=%d,rho=%.2f", tc.c, tc.lambda/(float64(tc.c)*tc.mu)), func(t *testing.T) {
			waits, _ := queueRun(t, tc.c, tc.lambda, tc.mu, 200*time.Second, 4)
			mean, se := batchMeans(waits, 30)
			a := tc.lambda / tc.mu
			want := erlangC(tc.c, a) / (float64(tc.c)*tc.mu - tc.lambda)
			t.Logf("mean wait %.4fms (Erlang C %.4fms, se %.4fms, n=%d)", mean*1e3, want*1e3, se*1e3, len(waits))
			if math.Abs(mean-want) > 4*se {
				t.Errorf("mean wait %.4fms, want %.4fms ± %.4fms (n=%d)", mean*1e3, want*1e3, 4*se*1e3, len(waits))
			}
			if se/want > 0.05 {
				t.Errorf("standard error %.2f%% of the mean: run too short to be a test", 100*se/want)
			}
		})
	}
}

func TestErlangCFormula(t *testing.T) {
	// Known values: C(1, a) = a (M/M/1: P(wait) = ρ); C(2, 1) = 1/3.
	for _, tc := range []struct {
		c    int
		a, p float64
	}{{1, 0.5, 0.5}, {1, 0.9, 0.9}, {2, 1, 1.0 / 3}} {
		if got := erlangC(tc.c, tc.a); math.Abs(got-tc.p) > 1e-12 {
			t.Errorf("C(%d, %v) = %v, want %v", tc.c, tc.a, got, tc.p)
		}
	}
}

// TestStackedRetriesInWindow checks the retry-storm arithmetic with
// independent failures, per tier and inside the error window. Clients
// call a, a calls b, b calls c, each hop retrying at once up to k = 3
// attempts; c fails with p = 0.5 during [2s, 6s). A call to c fails with
// q = p^k, so b's calls to c take (1−p^k)/(1−p) = 1.75 attempts each,
// a's calls to b take (1−q^k)/(1−q) ≈ 1.1406, and c sees their product,
// ≈ 1.996 attempts per client request. attempts{tier=X} counts what
// arrives at X (it equals X's server arrivals), so amplification rises
// tier by tier. About 8,000 requests fall in the window and the attempts
// per request at c have a standard deviation under 1.5, so the standard
// error is under 0.017; the tolerance is 0.06.
func TestStackedRetriesInWindow(t *testing.T) {
	const p, k = 0.5, 3
	cfg := DefaultConfig()
	pol := retry.Policy{Kind: retry.Immediate, MaxAttempts: k}
	for _, n := range []string{"a", "b", "c"} {
		s := DefaultServiceConfig()
		s.Workers = 10000
		s.Queue = 10000
		s.ServiceTime = DistConfig{Dist: "constant", Value: 0}
		cfg.Services[n] = s
	}
	for _, e := range [][2]string{{"a", "b"}, {"b", "c"}} {
		s := cfg.Services[e[0]]
		c := callTo(e[1])
		c.Retry = pol
		s.Calls = []CallConfig{c}
		cfg.Services[e[0]] = s
	}
	c := cfg.Services["c"]
	c.Errors = ErrorConfig{Rate: p, From: 2 * time.Second, To: 6 * time.Second}
	cfg.Services["c"] = c
	cfg.Client.Call = callTo("a")
	cfg.Workload.Rate = workload.Rate(2000)
	d, _ := run(t, cfg, 11, 100*time.Microsecond, 8*time.Second)
	w := d.WindowStats()
	if w == nil {
		t.Fatal("no window stats")
	}
	perHop := (1 - math.Pow(p, k)) / (1 - p)
	q := math.Pow(p, k)
	want := map[string]float64{"a": 1, "b": (1 - math.Pow(q, k)) / (1 - q)}
	want["c"] = want["b"] * perHop
	for _, n := range []string{"a", "b", "c"} {
		if got := w.Amplification(n); math.Abs(got-want[n]) > 0.06 {
			t.Errorf("tier %s: window amplification %.4f, want %.4f ± 0.06", n, got, want[n])
		}
		if ts := d.Stats().Tiers[n]; ts.Attempts != ts.Arrivals {
			t.Errorf("tier %s: %d attempts sent but %d arrived; attempts{tier=X} must be the load arriving at X", n, ts.Attempts, ts.Arrivals)
		}
	}
	if a := d.Stats().Amplification("c"); a >= w.Amplification("c") {
		t.Errorf("whole-run amplification %.3f should be diluted below the window's %.3f", a, w.Amplification("c"))
	}
	var names []string
	for _, f := range d.Figures(8 * time.Second) {
		names = append(names, fullName(f.Name, f.Labels))
	}
	if !slices.Contains(names, "window_amplification{tier=c}") || !slices.Contains(names, "window_success_ratio") {
		t.Errorf("figures %v lack the window figures", names)
	}
}
