package retry

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestQuotaScript scripts the AWS standard-mode quota (capacity 20 to
// keep it short; costs 5 and 10, refill 1).
func TestQuotaScript(t *testing.T) {
	q := NewQuota(20, 5, 10, 1)
	steps := []struct {
		op     string // "e" retry after error, "t" after timeout, "ok0" success without retry, "okN" success after a retry of cost N, "fail" call failed
		cost   float64
		allow  bool
		tokens float64
	}{
		{"e", 5, true, 15},
		{"t", 10, true, 5},
		{"t", 0, false, 5}, // 5 < 10
		{"e", 5, true, 0},
		{"e", 0, false, 0},
		{"ok0", 0, false, 1},
		{"fail", 0, false, 1}, // failed calls give nothing back
		{"ok10", 0, false, 11},
		{"ok5", 0, false, 16},
		{"ok5", 0, false, 20}, // capped at capacity
	}
	for i, s := range steps {
		switch s.op {
		case "e", "t":
			c := Failure
			if s.op == "t" {
				c = Timeout
			}
			cost, ok := q.RetryAfter(0, c)
			if ok != s.allow || cost != s.cost {
				t.Fatalf("step %d (%s): RetryAfter = %v, %v; want %v, %v", i, s.op, cost, ok, s.cost, s.allow)
			}
		case "ok0":
			q.CallEnded(0, Success, 0)
		case "ok10":
			q.CallEnded(0, Success, 10)
		case "ok5":
			q.CallEnded(0, Success, 5)
		case "fail":
			q.CallEnded(0, Failure, 5)
		}
		if got := q.Level(0); got != s.tokens {
			t.Fatalf("step %d (%s): tokens %v, want %v", i, s.op, got, s.tokens)
		}
	}
}

// TestQuotaStopsAfterPredictedFailures checks the outcome-charged quota
// against its arithmetic: with capacity C and every retry failing, the
// quota allows exactly ⌊C/cost⌋ retries — 100 after errors and 50 after
// timeouts for the AWS SDKs' 500/5/10 (AWS SDKs and Tools Reference
// Guide, "Retry behavior"), and for alternating classes the count where
// the running sum first exceeds C.
func TestQuotaStopsAfterPredictedFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		classes []Class // cycled
		want    int
	}{
		{"errors", []Class{Failure}, 100},
		{"timeouts", []Class{Timeout}, 50},
		{"overload", []Class{Overload}, 100},
		{"alternating", []Class{Failure, Timeout}, 66}, // 33 pairs cost 495; the 67th (an error) would need 5 of the 5 left: allowed
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuota(500, 5, 10, 1)
			// Predict from the costs alone.
			want, left := 0, 500.0
			for i := 0; ; i++ {
				c := 5.0
				if tc.classes[i%len(tc.classes)] == Timeout {
					c = 10
				}
				if left < c {
					break
				}
				left -= c
				want++
			}
			if tc.name != "alternating" && want != tc.want {
				t.Fatalf("prediction %d, table %d", want, tc.want)
			}
			n := 0
			for i := 0; i < 10000; i++ {
				if _, ok := q.RetryAfter(0, tc.classes[i%len(tc.classes)]); !ok {
					break
				}
				n++
			}
			if n != want {
				t.Fatalf("quota allowed %d retries, costs predict %d", n, want)
			}
		})
	}
}

// TestPerCallBucket scripts Brooker's adaptive bucket: size 3, refill
// 0.5 per call, a retry needs more than one token.
func TestPerCallBucket(t *testing.T) {
	b := NewPerCallBucket(3, 0.5)
	want := []bool{true, true, false} // 3 → 2 → 1 → (1 is not > 1)
	for i, w := range want {
		if got := b.TryRetry(0); got != w {
			t.Fatalf("retry %d: %v, want %v", i, got, w)
		}
	}
	b.OnRequest(0) // 1.5
	if !b.TryRetry(0) || b.Level(0) != 0.5 {
		t.Fatalf("after one call: level %v", b.Level(0))
	}
	for range 10 {
		b.OnRequest(0)
	}
	if b.Level(0) != 3 {
		t.Fatalf("refill not capped: %v", b.Level(0))
	}
	b.OnResult(0, Failure) // outcomes do not matter
	if b.Level(0) != 3 {
		t.Fatalf("outcome changed the bucket: %v", b.Level(0))
	}
}

// TestConcurrencyBudget scripts Envoy's retry budget: 20% of calls in
// flight, at least 3.
func TestConcurrencyBudget(t *testing.T) {
	b := NewConcurrencyBudget(20, 3)
	for range 20 {
		b.OnRequest(0)
	}
	// 20 calls in flight: limit max(3, 4) = 4.
	for i := range 4 {
		if _, ok := b.RetryAfter(0, Failure); !ok {
			t.Fatalf("retry %d refused", i)
		}
	}
	if _, ok := b.RetryAfter(0, Failure); ok {
		t.Fatal("fifth concurrent retry allowed")
	}
	b.RetryEnded(0, 1)
	if _, ok := b.RetryAfter(0, Failure); !ok {
		t.Fatal("a freed slot was not reusable")
	}
	for range 19 {
		b.CallEnded(0, Success, 0)
	}
	if b.Limit() != 3 {
		t.Fatalf("floor: limit %d, want 3", b.Limit())
	}
	if b.Level(0) != 0 {
		t.Fatalf("level %v with 4 retries in flight over a limit of 3", b.Level(0))
	}
}

// TestBreakerRetriesMode: an open breaker in mode retries still passes
// first tries (without counting them) but refuses retries; half-open
// first tries are probes that can close it.
func TestBreakerRetriesMode(t *testing.T) {
	b := NewBreaker(BreakerConfig{Trip: TripCount, Failures: 2, Window: time.Second, OpenFor: 100 * time.Millisecond, HalfOpenProbes: 2, Mode: BlockRetries})
	for range 2 {
		tk, ok := b.Pass(0)
		if !ok {
			t.Fatal("closed breaker refused")
		}
		b.Record(0, tk, Failure)
	}
	if b.State(0) != Open {
		t.Fatalf("state %v after 2 failures", b.State(0))
	}
	if _, ok := b.Allow(at(10 * time.Millisecond)); ok {
		t.Fatal("open breaker allowed a retry")
	}
	tk, ok := b.Pass(at(10 * time.Millisecond))
	if !ok {
		t.Fatal("mode retries refused a first try while open")
	}
	b.Record(at(20*time.Millisecond), tk, Failure) // not counted: stays open, timer not reset
	if b.State(at(100*time.Millisecond)) != HalfOpen {
		t.Fatal("a first try's failure while open extended the open period")
	}
	for range 2 {
		tk, ok := b.Pass(at(100 * time.Millisecond))
		if !ok {
			t.Fatal("half-open refused a first try")
		}
		b.Record(at(110*time.Millisecond), tk, Success)
	}
	if b.State(at(110*time.Millisecond)) != Closed {
		t.Fatal("two successful first tries did not close the half-open breaker")
	}
	// Mode all: Pass is Allow.
	c := NewBreaker(BreakerConfig{Trip: TripCount, Failures: 1, Window: time.Second, OpenFor: time.Second, HalfOpenProbes: 1})
	tk, _ = c.Pass(0)
	c.Record(0, tk, Failure)
	if _, ok := c.Pass(1); ok {
		t.Fatal("mode all: Pass let a call through an open breaker")
	}
}

// TestBreakerCountWindow: with window_calls 4 the rate is taken over the
// last four outcomes, whatever their age.
func TestBreakerCountWindow(t *testing.T) {
	b := NewBreaker(BreakerConfig{Trip: TripRate, FailureRate: 0.5, MinRequests: 4, WindowCalls: 4, Window: time.Millisecond, OpenFor: time.Second, HalfOpenProbes: 1})
	seq := []Class{Success, Failure, Success, Success, Success, Failure, Failure}
	want := []State{Closed, Closed, Closed, Closed, Closed, Closed, Open}
	for i, c := range seq {
		now := at(time.Duration(i) * time.Hour) // far apart: a time window would forget
		tk, ok := b.Allow(now)
		if !ok {
			t.Fatalf("step %d refused", i)
		}
		b.Record(now, tk, c)
		if got := b.State(now); got != want[i] {
			t.Fatalf("step %d: %v, want %v", i, got, want[i])
		}
	}
}

func TestRejectProbability(t *testing.T) {
	for _, tc := range []struct {
		r, a int64
		k    float64
		want float64
	}{
		{0, 0, 2, 0},
		{100, 100, 2, 0},
		{100, 50, 2, 0},
		{100, 25, 2, 50.0 / 101},
		{100, 0, 2, 100.0 / 101},
		{1000, 100, 1.1, 890.0 / 1001},
	} {
		if got := RejectProbability(tc.r, tc.a, tc.k); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("RejectProbability(%d, %d, %v) = %v, want %v", tc.r, tc.a, tc.k, got, tc.want)
		}
	}
}

// TestThrottleFidelity checks adaptive throttling against the closed form
// of its formula (SRE book ch. 21). A backend that can accept a fraction
// a of the demand λ (a token bucket of rate aλ) sees requests R = λW and
// accepts A = aλW per window, so in steady state the client rejects
// p = (R − K·A)/(R + 1) and sends 1 − p = (1 + K·a·λW)/(λW + 1) ≈ K·a of
// its requests (1 when K·a ≥ 1). Over 100 000 measured requests a
// binomial proportion near 0.5 has a standard error of 0.0016; the
// throttle's decisions are correlated through the window, so the test
// uses batch means over 20 batches and a 99.9% interval (3.3 standard
// errors) around the closed form, widened by 0.002 for the
// discretisation of the window into slices.
func TestThrottleFidelity(t *testing.T) {
	for _, tc := range []struct {
		a, k float64
	}{
		{0.25, 2}, {0.4, 2}, {0.2, 3}, {0.6, 2},
	} {
		const (
			lambda = 500.0 // requests per second
			warm   = 300.0 // seconds before measuring
			span   = 200.0
		)
		w := 60 * time.Second
		th := NewThrottle(ThrottleConfig{Adaptive: true, K: tc.k, Window: w})
		rng := rand.New(rand.NewPCG(1, uint64(tc.a*1000)))
		capRate := tc.a * lambda
		// The backend is a token bucket of rate aλ, deep enough (50) that
		// Poisson bunching does not lose capacity.
		tokens, last := 50.0, 0.0
		var sent []float64
		for now := 0.0; now < warm+span; now += rng.ExpFloat64() / lambda {
			st := sim.Time(now * 1e9)
			ok := th.Allow(st, rng.Float64())
			if now >= warm {
				v := 0.0
				if ok {
					v = 1
				}
				sent = append(sent, v)
			}
			if !ok {
				continue
			}
			tokens = math.Min(50, tokens+(now-last)*capRate)
			last = now
			if tokens >= 1 {
				tokens--
				th.Accept(st)
			}
		}
		rw := lambda * w.Seconds()
		want := math.Min(1, (1+tc.k*tc.a*rw)/(rw+1))
		mean, se := batchMeans(sent, 20)
		if tol := 3.3*se + 0.002; math.Abs(mean-want) > tol {
			t.Errorf("a=%v K=%v: sent fraction %.4f, closed form %.4f (tolerance %.4f)", tc.a, tc.k, mean, want, tol)
		} else {
			t.Logf("a=%v K=%v: sent fraction %.4f ± %.4f, closed form %.4f", tc.a, tc.k, mean, se, want)
		}
	}
}

func batchMeans(xs []float64, k int) (mean, se float64) {
	n := len(xs) / k
	var means []float64
	for b := 0; b < k; b++ {
		s := 0.0
		for _, x := range xs[b*n : (b+1)*n] {
			s += x
		}
		means = append(means, s/float64(n))
	}
	for _, m := range means {
		mean += m
	}
	mean /= float64(k)
	v := 0.0
	for _, m := range means {
		v += (m - mean) * (m - mean)
	}
	return mean, math.Sqrt(v / float64(k-1) / float64(k))
}

func TestPushbackDelay(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		cfg     PushbackConfig
		backoff time.Duration
		hint    time.Duration
		want    time.Duration
		retry   bool
	}{
		{PushbackConfig{}, 10 * ms, 500 * ms, 10 * ms, true},      // not honoured
		{PushbackConfig{}, 10 * ms, NoRetryHint, 10 * ms, true},   // not honoured
		{PushbackConfig{Honour: true}, 10 * ms, 0, 10 * ms, true}, // no hint
		{PushbackConfig{Honour: true}, 10 * ms, 500 * ms, 500 * ms, true},
		{PushbackConfig{Honour: true}, 900 * ms, 500 * ms, 900 * ms, true}, // at least
		{PushbackConfig{Honour: true, Mode: Replace}, 900 * ms, 500 * ms, 500 * ms, true},
		{PushbackConfig{Honour: true}, 10 * ms, NoRetryHint, 0, false},
		{PushbackConfig{Honour: true, Max: 100 * ms}, 10 * ms, 500 * ms, 0, false},
	} {
		d, ok := tc.cfg.Delay(tc.backoff, tc.hint)
		if d != tc.want || ok != tc.retry {
			t.Errorf("%+v.Delay(%v, %v) = %v, %v; want %v, %v", tc.cfg, tc.backoff, tc.hint, d, ok, tc.want, tc.retry)
		}
	}
}

// TestEjector scripts Envoy-style ejection: 3 consecutive failures eject
// for 10s × n, one host at a time out of 4 (25%).
func TestEjector(t *testing.T) {
	s := time.Second
	e := NewEjector(EjectionConfig{Consecutive: 3, BaseTime: 10 * s, MaxTime: 25 * s, MaxPercent: 25, Interval: 100 * s}, 4)
	rec := func(now time.Duration, host int, c Class) bool { return e.Record(at(now), host, c) }
	if rec(0, 0, Failure) || rec(0, 0, Timeout) {
		t.Fatal("ejected before 3 failures")
	}
	if rec(0, 0, Success) || rec(0, 0, Failure) || rec(0, 0, Failure) {
		t.Fatal("a success did not reset the run")
	}
	if !rec(0, 0, Overload) || !e.Ejected(0, 0) {
		t.Fatal("3 consecutive failures did not eject")
	}
	rec(0, 1, Failure)
	rec(0, 1, Failure)
	if rec(0, 1, Failure) {
		t.Fatal("ejected beyond max_ejection_percent")
	}
	if e.Ejected(at(10*s), 0) {
		t.Fatal("first ejection lasted more than base")
	}
	rec(11*s, 0, Failure)
	rec(11*s, 0, Failure)
	if !rec(11*s, 0, Failure) || !e.Ejected(at(30*s), 0) || e.Ejected(at(31*s), 0) {
		t.Fatal("second ejection should last 2 × base = 20s")
	}
	for range 3 {
		rec(40*s, 0, Failure)
	}
	if !e.Ejected(at(64*s), 0) || e.Ejected(at(65*s), 0) {
		t.Fatal("third ejection should be capped at max 25s")
	}
	// After a long healthy spell the count decays: base again.
	for range 3 {
		rec(1000*s, 0, Failure)
	}
	if !e.Ejected(at(1009*s), 0) || e.Ejected(at(1010*s), 0) {
		t.Fatal("ejection count did not decay")
	}
	if d := (EjectionConfig{BaseTime: 5 * s, MaxTime: 300 * s, Growth: GrowExponential}).Duration(4); d != 40*s {
		t.Fatalf("exponential growth: %v, want 40s", d)
	}
	off := NewEjector(EjectionConfig{}, 2)
	for range 10 {
		if off.Record(0, 0, Failure) {
			t.Fatal("disabled ejector ejected")
		}
	}
}

// TestAIMDLimit scripts Netflix's AIMDLimit rule.
func TestAIMDLimit(t *testing.T) {
	l := NewLimiter(LimitConfig{Kind: AIMD, Initial: 10, Min: 5, Max: 12, BackoffRatio: 0.5, Timeout: time.Second})
	steps := []struct {
		rtt      time.Duration
		inflight int
		drop     bool
		want     int
	}{
		{time.Millisecond, 5, false, 11}, // 2·5 ≥ 10: grow
		{time.Millisecond, 2, false, 11}, // little used: hold
		{time.Millisecond, 6, false, 12},
		{time.Millisecond, 6, false, 12}, // max
		{time.Millisecond, 6, true, 6},   // halve
		{2 * time.Second, 6, false, 5},   // slow counts as a drop; floor 3 → min 5
	}
	for i, s := range steps {
		l.Sample(s.rtt, s.inflight, s.drop)
		if l.Limit() != s.want {
			t.Fatalf("step %d: limit %d, want %d", i, l.Limit(), s.want)
		}
	}
	if !l.Admit(4) || l.Admit(5) {
		t.Fatal("Admit does not enforce the limit")
	}
}

// TestGradientLimit: steady latency lets the limit grow by the queue
// size; latency far above the long-term average shrinks it.
func TestGradientLimit(t *testing.T) {
	c := DefaultLimitConfig()
	c.Kind = Gradient
	l := NewLimiter(c)
	for range 200 {
		l.Sample(10*time.Millisecond, l.Limit(), false)
	}
	grown := l.Limit()
	if grown <= c.Initial {
		t.Fatalf("steady latency: limit %d did not grow past %d", grown, c.Initial)
	}
	for range 20 {
		l.Sample(100*time.Millisecond, l.Limit(), false)
	}
	if l.Limit() >= grown {
		t.Fatalf("latency ×10: limit %d did not shrink from %d", l.Limit(), grown)
	}
}

// TestRateLimiter: off until a throttling answer; then the rate is cut to
// beta × the measured rate, and it recovers along the cubic.
func TestRateLimiter(t *testing.T) {
	l := NewRateLimiter(DefaultRateLimitConfig())
	ms := func(n int) sim.Time { return sim.Time(time.Duration(n) * time.Millisecond) }
	// 100 answers per second for 3 seconds, no throttling.
	for i := 0; i < 300; i++ {
		if w, ok := l.Acquire(ms(i*10), 0); w != 0 || !ok {
			t.Fatal("limiter waited before any throttling answer")
		}
		l.OnResponse(ms(i*10), false)
	}
	if l.Enabled() {
		t.Fatal("enabled without throttling")
	}
	l.OnResponse(ms(3000), true)
	if !l.Enabled() {
		t.Fatal("a throttling answer did not enable the limiter")
	}
	cut := l.Rate()
	if cut < 0.7*80 || cut > 0.7*120 {
		t.Fatalf("rate after throttling %v, want about 0.7 × 100", cut)
	}
	// Sending faster than the rate makes attempts wait; a wait longer
	// than the limit is refused.
	var waited, refused bool
	for i := 0; i < 50; i++ {
		w, ok := l.Acquire(ms(3001), 100*time.Millisecond)
		if w > 0 && ok {
			waited = true
		}
		if !ok && w > 100*time.Millisecond {
			refused = true
		}
	}
	if !waited {
		t.Fatalf("50 attempts in an instant at %v/s: none waited", cut)
	}
	if _, ok := l.Acquire(ms(3001), time.Nanosecond); ok {
		t.Fatal("an empty bucket granted a wait beyond the limit")
	}
	_ = refused
	// Later successes grow the rate back towards the old maximum.
	for i := 0; i < 200; i++ {
		l.OnResponse(ms(3100+i*10), false)
	}
	if l.Rate() <= cut {
		t.Fatalf("rate did not recover: %v ≤ %v", l.Rate(), cut)
	}
}

// TestMechanismValidate checks the bad-input messages of the new
// settings: K ≤ 1, negative costs, limits out of order.
func TestMechanismValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"k=1", ThrottleConfig{Adaptive: true, K: 1, Window: time.Minute}.Validate(), "k: must be a finite number > 1"},
		{"k=0.5", ThrottleConfig{Adaptive: true, K: 0.5, Window: time.Minute}.Validate(), "k: must be"},
		{"k off", ThrottleConfig{K: 0.5}.Validate(), ""},
		{"retry cost", BudgetConfig{Kind: Quota, Capacity: 500, RetryCost: -5, TimeoutCost: 10}.Validate(), "retry_cost: must be a finite number ≥ 0"},
		{"timeout cost", BudgetConfig{Kind: Quota, Capacity: 500, RetryCost: 5, TimeoutCost: -1}.Validate(), "timeout_cost"},
		{"cost without quota", func() error { c := DefaultBudgetConfig(); c.RetryCost = -1; return c.Validate() }(), "retry_cost"},
		{"capacity", BudgetConfig{Kind: Quota}.Validate(), "capacity"},
		{"concurrency zero", BudgetConfig{Kind: Concurrency}.Validate(), "min_concurrency"},
		{"limit order", LimitConfig{Kind: AIMD, Initial: 5, Min: 10, Max: 8, BackoffRatio: 0.9, Timeout: time.Second}.Validate(), "max: must be at least min"},
		{"window_calls", BreakerConfig{Trip: TripCount, Failures: 1, Window: time.Second, OpenFor: time.Second, HalfOpenProbes: 1, WindowCalls: 5}.Validate(), "window_calls: a count-based window needs trip: rate"},
		{"ejection", EjectionConfig{Consecutive: 5, BaseTime: time.Second, MaxTime: time.Millisecond, Interval: time.Second}.Validate(), "max_ejection_time"},
		{"pushback", PushbackConfig{Max: -1}.Validate(), "max: must not be negative"},
		{"rate limit", RateLimitConfig{Adaptive: true, Beta: 1, Scale: 0.4, Smoothing: 0.8, MinRate: 0.5}.Validate(), "beta"},
	} {
		got := ""
		if tc.err != nil {
			got = tc.err.Error()
		}
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
	for _, c := range []BudgetConfig{DefaultBudgetConfig()} {
		for _, k := range []BudgetKind{NoBudget, TokenBucket, Percentage, Quota, PerCall, Concurrency} {
			c.Kind = k
			if err := c.Validate(); err != nil {
				t.Errorf("default budget with kind %v: %v", k, err)
			}
		}
	}
}
