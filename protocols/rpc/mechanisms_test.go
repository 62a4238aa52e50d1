package rpc

import (
	"math"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// runGraph builds cfg on an engine with 1ms links, lets observe watch
// the events, and runs it for d.
func runGraph(t *testing.T, cfg Config, d time.Duration, observe func(e *sim.Engine, ev *sim.Event)) (*Deployment, *testMetrics) {
	t.Helper()
	m := newTestMetrics()
	e := sim.New(sim.Config{Seed: 7, Metrics: m})
	e.SetNetwork(&sim.Direct{Delay: ms})
	if observe != nil {
		e.Observe(sim.ObserverFunc(func(ev *sim.Event) { observe(e, ev) }))
	}
	dep, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(d)); err != nil {
		t.Fatal(err)
	}
	return dep, m
}

// pushbackGraph: four closed-loop clients against one db replica with one
// worker and no queue, so that most attempts are refused with 503 and
// the service's pushback.
func pushbackGraph(sp ServerPushback, honour bool) Config {
	cfg := DefaultConfig()
	db := DefaultServiceConfig()
	db.Workers, db.Queue = 1, 0
	db.ServiceTime = DistConfig{Dist: "constant", Value: 20 * ms}
	db.Pushback = sp
	cfg.Services["db"] = db
	c := callTo("db")
	c.Retry = retry.Policy{Kind: retry.Exponential, MaxAttempts: 4, Base: ms, Cap: 10 * ms, Multiplier: 2}
	c.Pushback = retry.PushbackConfig{Honour: honour}
	cfg.Client.Call = c
	cfg.Client.Replicas = 4
	cfg.Workload = workload.Config{Kind: workload.Closed, Clients: 4, Arrival: workload.Constant, Think: 5 * ms}
	return cfg
}

// checkRetryAfter runs a pushback graph and returns the retries checked
// and those sent before the hint of the refusal they follow allowed.
func checkRetryAfter(t *testing.T, cfg Config) (checked, early int) {
	type hint struct {
		at   sim.Time
		wait time.Duration
	}
	last := map[sim.NodeID]hint{}
	runGraph(t, cfg, 2*time.Second, func(e *sim.Engine, ev *sim.Event) {
		switch m := ev.Msg.(type) {
		case *Response:
			if ev.Kind == sim.KindDeliver {
				last[ev.Node] = hint{ev.At, m.RetryAfter}
			}
		case *Request:
			if ev.Kind == sim.KindSend && m.Attempt > 1 {
				h := last[ev.From]
				if h.wait > 0 {
					checked++
					if ev.At.Sub(h.at) < h.wait {
						early++
					}
				}
			}
		}
	})
	return checked, early
}

// TestPushbackRetryAfter: a client that honours Retry-After sends no
// retry before the hint of the refusal it retries; one that ignores it
// does (which shows the check can fail).
func TestPushbackRetryAfter(t *testing.T) {
	sp := ServerPushback{RetryAfter: 100 * ms}
	checked, early := checkRetryAfter(t, pushbackGraph(sp, true))
	if checked < 20 || early != 0 {
		t.Errorf("honouring: %d retries checked, %d sent before the retry-after hint", checked, early)
	}
	checked, early = checkRetryAfter(t, pushbackGraph(sp, false))
	if checked < 20 || early == 0 {
		t.Errorf("ignoring: %d retries checked, %d early; the check should catch early retries", checked, early)
	}
}

// TestPushbackDontRetry: "do not retry" stops every retry of a client
// that honours it.
func TestPushbackDontRetry(t *testing.T) {
	d, m := runGraph(t, pushbackGraph(ServerPushback{DontRetry: true}, true), 2*time.Second, nil)
	ts := d.Stats().Tiers["db"]
	if ts.Retries != 0 || ts.PushbackStopped == 0 || m.count("pushback_stopped{tier=db}") != ts.PushbackStopped {
		t.Errorf("retries %d, pushback_stopped %d (metric %d)", ts.Retries, ts.PushbackStopped, m.count("pushback_stopped{tier=db}"))
	}
	if ts.Pushbacks == 0 || m.count("server_pushbacks{tier=db}") != ts.Pushbacks {
		t.Errorf("server pushbacks %d (metric %d)", ts.Pushbacks, m.count("server_pushbacks{tier=db}"))
	}
	d, _ = runGraph(t, pushbackGraph(ServerPushback{DontRetry: true}, false), 2*time.Second, nil)
	if d.Stats().Tiers["db"].Retries == 0 {
		t.Error("a client that ignores pushback stopped retrying")
	}
}

// TestQuotaStopsRetriesRPC: a client with the AWS standard-mode quota
// (500 tokens, 5 per retry after an error) against a server that fails
// every request retries exactly 500/5 = 100 times, then never again
// (AWS SDKs and Tools Reference Guide, "Retry behavior": when the quota
// is exhausted, retries stop).
func TestQuotaStopsRetriesRPC(t *testing.T) {
	cfg := DefaultConfig()
	db := leaf(ms)
	db.Errors = ErrorConfig{Rate: 1}
	cfg.Services["db"] = db
	c := callTo("db")
	c.Preset = "aws_standard"
	applyPresetHop(&c, "aws_standard")
	c.Retry.Base, c.Retry.Cap = ms, 2*ms // keep the run short
	cfg.Client.Call = c
	cfg.Workload = workload.Config{Kind: workload.Open, Rate: 200, Arrival: workload.Constant}
	d, m := runGraph(t, cfg, 5*time.Second, nil)
	ts := d.Stats().Tiers["db"]
	if ts.Retries != 100 {
		t.Errorf("retries %d, the quota's costs predict 100", ts.Retries)
	}
	if ts.BudgetDenied == 0 || m.count("budget_denied{tier=db}") != ts.BudgetDenied {
		t.Errorf("budget_denied %d", ts.BudgetDenied)
	}
	if g := m.gauges["budget_tokens{scope=client-0,tier=db}"]; g == nil || g.v != 0 {
		t.Errorf("budget_tokens gauge %+v, want 0", g)
	}
}

// TestThrottleFidelityRPC: one client with adaptive throttling (K = 2)
// calls one replica with one worker, no queue and a constant 10ms
// service time, at 400 requests/s — four times what it can serve. That
// replica is an M/D/1/1 loss system: a request sent at rate s is
// accepted with probability 1/(1 + s·T) (Erlang B with one server,
// insensitive to the service distribution). Throttling settles where
// requests ≈ K·accepts of the attempts sent, i.e. 1/(1 + s·T) = 1/K, so
// s = (K − 1)/T = 100 attempts/s (SRE book ch. 21's formula with the
// Erlang loss as the backend's acceptance). Over 40 s about 4 000
// attempts are counted (Poisson sd ≈ 1.6%); the feedback through the
// 10 s window correlates them, so the test allows 6%.
func TestThrottleFidelityRPC(t *testing.T) {
	cfg := DefaultConfig()
	db := DefaultServiceConfig()
	db.Workers, db.Queue = 1, 0
	db.ServiceTime = DistConfig{Dist: "constant", Value: 10 * ms}
	cfg.Services["db"] = db
	c := callTo("db")
	c.Throttle = retry.ThrottleConfig{Adaptive: true, K: 2, Window: 10 * time.Second}
	cfg.Client.Call = c
	cfg.Workload = workload.Config{Kind: workload.Open, Rate: 400, Arrival: workload.Poisson}
	m := newTestMetrics()
	e := sim.New(sim.Config{Seed: 3, Metrics: m})
	e.SetNetwork(&sim.Direct{Delay: ms})
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var at20 TierStats
	e.At(sim.Time(20*time.Second), func() { at20 = *d.snapshot().Tiers["db"] })
	if err := e.Run(sim.Time(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	end := *d.snapshot().Tiers["db"]
	rate := float64(end.Attempts-at20.Attempts) / 40
	want := (2 - 1) / 0.010
	if math.Abs(rate-want)/want > 0.06 {
		t.Errorf("attempts %.1f/s, closed form %.1f/s", rate, want)
	} else {
		t.Logf("attempts %.1f/s, closed form %.1f/s", rate, want)
	}
	if end.Throttled == 0 || m.count("throttled{tier=db}") != end.Throttled {
		t.Errorf("throttled %d (metric %d)", end.Throttled, m.count("throttled{tier=db}"))
	}
	if g := m.gauges["throttle_probability{node=client-0,tier=db}"]; g == nil || g.v < 0.5 {
		t.Errorf("throttle_probability gauge %+v, want about 0.75", g)
	}
}

// TestRetryOnlyBreakerRPC: against a server that always fails, a
// classic breaker ends calls with circuit_open while open; a breaker in
// mode retries still sends every first try and only drops retries.
func TestRetryOnlyBreakerRPC(t *testing.T) {
	run := func(mode retry.BreakerMode) Stats {
		cfg := DefaultConfig()
		db := leaf(ms)
		db.Errors = ErrorConfig{Rate: 1}
		cfg.Services["db"] = db
		c := callTo("db")
		c.Retry = retry.Policy{Kind: retry.Immediate, MaxAttempts: 3}
		c.Breaker = retry.BreakerConfig{Trip: retry.TripCount, Failures: 5, Window: time.Second, OpenFor: 500 * ms, HalfOpenProbes: 1, Mode: mode}
		cfg.Client.Call = c
		cfg.Workload = workload.Config{Kind: workload.Open, Rate: 100, Arrival: workload.Constant}
		d, _ := runGraph(t, cfg, 3*time.Second, nil)
		return *d.Stats()
	}
	all, only := run(retry.BlockAll), run(retry.BlockRetries)
	if all.Done[CircuitOpen] == 0 {
		t.Error("classic breaker never refused a call")
	}
	if only.Done[CircuitOpen] != 0 {
		t.Errorf("mode retries refused %d first tries", only.Done[CircuitOpen])
	}
	db := only.Tiers["db"]
	if db.Attempts-db.Retries != db.Calls || db.Retries >= 2*db.Calls/10 {
		t.Errorf("mode retries: %d calls, %d attempts, %d retries: want every first try and few retries", db.Calls, db.Attempts, db.Retries)
	}
}

// TestOutlierEjectionRPC: one of three replicas is 50× slower than its
// peers; with ejection (3 timeouts in a row eject it for 1s) it receives
// far fewer attempts than without.
func TestOutlierEjectionRPC(t *testing.T) {
	run := func(ej retry.EjectionConfig) (int, *TierStats) {
		cfg := DefaultConfig()
		db := leaf(ms)
		db.Replicas = 3
		db.Slow = SlowConfig{Factor: 50, Replicas: 1}
		cfg.Services["db"] = db
		c := callTo("db")
		c.Timeout = 10 * ms
		c.Retry = retry.Policy{Kind: retry.Immediate, MaxAttempts: 2}
		c.Outlier = ej
		cfg.Client.Call = c
		cfg.Workload = workload.Config{Kind: workload.Open, Rate: 300, Arrival: workload.Constant}
		toSlow := 0
		d, m := runGraph(t, cfg, 5*time.Second, func(e *sim.Engine, ev *sim.Event) {
			if _, ok := ev.Msg.(*Request); ok && ev.Kind == sim.KindDeliver && e.NodeName(ev.Node) == "db-0" {
				toSlow++
			}
		})
		ts := d.Stats().Tiers["db"]
		if ej.Consecutive > 0 && m.count("ejections{tier=db}") != ts.Ejections {
			t.Errorf("ejections metric %d, stats %d", m.count("ejections{tier=db}"), ts.Ejections)
		}
		return toSlow, ts
	}
	off, _ := run(retry.DefaultEjectionConfig())
	ej := retry.EjectionConfig{Consecutive: 3, BaseTime: time.Second, MaxTime: 10 * time.Second, MaxPercent: 34, Interval: time.Second}
	on, ts := run(ej)
	if ts.Ejections == 0 || on*5 > off {
		t.Errorf("slow replica got %d attempts with ejection (%d ejections), %d without", on, ts.Ejections, off)
	}
}

// TestConcurrencyLimitRPC: under a surge an AIMD limit refuses at once
// what a fixed queue would let wait: queue waits stay short.
func TestConcurrencyLimitRPC(t *testing.T) {
	run := func(l retry.LimitConfig) (*TierStats, *testMetrics) {
		cfg := DefaultConfig()
		db := DefaultServiceConfig()
		db.Workers, db.Queue = 4, 1000
		db.ServiceTime = DistConfig{Dist: "constant", Value: 10 * ms}
		db.Limit = l
		cfg.Services["db"] = db
		cfg.Client.Call = callTo("db")
		cfg.Workload = workload.Config{Kind: workload.Open, Rate: 600, Arrival: workload.Poisson}
		d, m := runGraph(t, cfg, 3*time.Second, nil)
		return d.Stats().Tiers["db"], m
	}
	l := retry.DefaultLimitConfig()
	l.Kind = retry.AIMD
	l.Initial, l.Min, l.Max, l.Timeout = 8, 4, 200, 50*ms
	off, moff := run(retry.DefaultLimitConfig())
	on, mon := run(l)
	if on.LimitRejected == 0 || mon.count("server_limit_rejected{tier=db}") != on.LimitRejected || off.LimitRejected != 0 {
		t.Errorf("limit rejected %d with a limit, %d without", on.LimitRejected, off.LimitRejected)
	}
	maxWait := func(m *testMetrics) time.Duration {
		var w time.Duration
		for _, s := range m.hists["server_queue_wait{tier=db}"].samples {
			w = max(w, s)
		}
		return w
	}
	if a, b := maxWait(mon), maxWait(moff); a*4 > b {
		t.Errorf("max queue wait %v with the limit, %v without", a, b)
	}
	if g := mon.gauges["concurrency_limit{node=db-0,tier=db}"]; g == nil || g.v < float64(l.Min) || g.v > float64(l.Max) {
		t.Errorf("concurrency_limit gauge %+v", g)
	}
}

// TestMechanismsOffKeepMetricNames: a hop with every new option at its
// default registers no new metric (TestMetricNames pins the set).
func TestMechanismsOffKeepMetricNames(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Services["db"] = leaf(ms)
	cfg.Client.Call = callTo("db")
	_, m := runGraph(t, cfg, 100*ms, nil)
	for _, n := range []string{"throttled{tier=db}", "ejections{tier=db}", "pushback_honoured{tier=db}", "server_pushbacks{tier=db}", "server_limit_rejected{tier=db}", "rate_limited{tier=db}"} {
		if _, ok := m.counters[n]; ok {
			t.Errorf("metric %s registered with the mechanism off", n)
		}
	}
}

// TestMechanismsDeterministic: a graph using every new mechanism at once
// (presets with quota, concurrency budget, ejection, rate limiter,
// throttling, pushback, a retry-only breaker, a concurrency limit) gives
// the same event hash for the same seed and a different one for another.
func TestMechanismsDeterministic(t *testing.T) {
	build := func(seed uint64) uint64 {
		cfg := DefaultConfig()
		db := leaf(2 * ms)
		db.Replicas = 3
		db.Workers, db.Queue = 2, 20
		db.Overload = OverloadConfig{Mode: Reject, Threshold: 10}
		db.Errors = ErrorConfig{Rate: 0.5, From: 200 * ms, To: 600 * ms, Status: "unavailable"}
		db.Pushback = ServerPushback{RetryAfter: 20 * ms}
		db.Limit = retry.DefaultLimitConfig()
		db.Limit.Kind = retry.Gradient
		api := leaf(ms)
		api.Replicas = 2
		c1 := callTo("db")
		c1.Preset = "envoy"
		applyPresetHop(&c1, "envoy")
		c1.Timeout = 30 * ms
		c1.Throttle = retry.ThrottleConfig{Adaptive: true, K: 2, Window: time.Second}
		c1.Pushback = retry.PushbackConfig{Honour: true}
		c2 := callTo("db")
		c2.Preset = "aws_adaptive"
		applyPresetHop(&c2, "aws_adaptive")
		c2.Retry.Base, c2.Retry.Cap = ms, 5*ms
		c2.Breaker = retry.BreakerConfig{Trip: retry.TripRate, FailureRate: 0.4, MinRequests: 10, WindowCalls: 20, Window: time.Second, OpenFor: 100 * ms, HalfOpenProbes: 2, Mode: retry.BlockRetries}
		api.Calls = []CallConfig{c1, c2}
		cfg.Services["db"], cfg.Services["api"] = db, api
		cc := callTo("api")
		cc.Timeout = 200 * ms
		cfg.Client.Call = cc
		cfg.Client.Replicas = 2
		cfg.Workload = workload.Config{Kind: workload.Open, Rate: 1500, Arrival: workload.Poisson}
		e := sim.New(sim.Config{Seed: seed, Metrics: newTestMetrics()})
		e.SetNetwork(&sim.Direct{Delay: ms})
		if _, err := Build(e, cfg); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(sim.Time(time.Second)); err != nil {
			t.Fatal(err)
		}
		return e.Hash()
	}
	a, b, c := build(5), build(5), build(6)
	if a != b {
		t.Errorf("same seed, different hashes: %x %x", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same hash %x", a)
	}
}
