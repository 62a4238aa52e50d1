package rpc

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// The golden files in testdata/ hold the traces of scripted runs. After an
// intended change of behaviour, regenerate them (sim/simtest's -rewrite
// flag) and review the diff:
//
//	go test ./protocols/rpc -run Golden -rewrite

// TestGoldenRetryThenBreaker scripts one client against one server that
// fails every request during its first 200ms: the client retries with
// exponential backoff (10ms, 20ms), its breaker trips on the fourth
// failure, rejects calls while open, lets one probe through after 100ms,
// reopens when the probe fails, and closes once a probe succeeds after the
// error window. The trace lists every message and gauge change.
func TestGoldenRetryThenBreaker(t *testing.T) {
	cfg := DefaultConfig()
	s := DefaultServiceConfig()
	s.ServiceTime = DistConfig{Dist: "constant", Value: 5 * ms}
	s.Errors = ErrorConfig{Rate: 1, To: 200 * ms}
	cfg.Services["db"] = s
	c := callTo("db")
	c.Timeout = 50 * ms
	c.Retry = retry.Policy{Kind: retry.Exponential, MaxAttempts: 3, Base: 10 * ms, Cap: 40 * ms, Multiplier: 2}
	c.Breaker = retry.BreakerConfig{Trip: retry.TripCount, Failures: 4, Window: time.Second, OpenFor: 100 * ms, HalfOpenProbes: 1}
	cfg.Client.Call = c
	cfg.Workload = workload.Config{Kind: workload.Closed, Clients: 1, Arrival: workload.Constant, Think: 30 * ms}
	cfg.Client.Stop = 400 * ms

	var lines []string
	m := newTestMetrics()
	m.log = &lines
	e := sim.New(sim.Config{Seed: 1, Metrics: m})
	m.e = e
	e.SetNetwork(&sim.Direct{Delay: ms})
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		if ev.Kind == sim.KindSend {
			lines = append(lines, fmt.Sprintf("%-9v %s -> %s: %v", ev.At, e.NodeName(ev.From), e.NodeName(ev.Node), ev.Msg))
		}
	}))
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Ops = func(start, end sim.Time, st Status) {
		lines = append(lines, fmt.Sprintf("%-9v client request from %v: %s", end, start, st))
	}
	if err := e.Run(sim.Time(500 * ms)); err != nil {
		t.Fatal(err)
	}
	simtest.Golden(t, filepath.Join("testdata", "retry_then_breaker.txt"), strings.Join(lines, "\n")+"\n")
}

// TestMetricNames pins the metric names a small graph records, so that a
// rename is a deliberate change (they are documented in doc.go).
func TestMetricNames(t *testing.T) {
	cfg := DefaultConfig()
	a := leaf(ms)
	c := callTo("b")
	c.Budget.Kind = retry.TokenBucket
	c.Breaker.Trip = retry.TripRate
	a.Calls = []CallConfig{c}
	cfg.Services["a"] = a
	cfg.Services["b"] = leaf(ms)
	cfg.Client.Call = callTo("a")
	m := newTestMetrics()
	e := sim.New(sim.Config{Seed: 1, Metrics: m})
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(time.Second)); err != nil {
		t.Fatal(err)
	}
	d.Summarize(m, time.Second)
	simtest.Golden(t, filepath.Join("testdata", "metric_names.txt"), m.names()+"\n")
}

// TestGoldenPushback scripts two closed-loop clients against one replica
// with one worker and no queue that answers refusals with a 100ms
// retry-after hint: client-1's request is refused while client-0's is
// served, and its retry waits for the hint (at_least: max(backoff 1ms,
// 100ms)) instead of its 1ms backoff. The trace lists every message.
func TestGoldenPushback(t *testing.T) {
	cfg := pushbackGraph(ServerPushback{RetryAfter: 100 * ms}, true)
	cfg.Client.Replicas = 2
	cfg.Workload = workload.Config{Kind: workload.Closed, Clients: 2, Arrival: workload.Constant, Think: 30 * ms}
	cfg.Client.Stop = 150 * ms
	var lines []string
	m := newTestMetrics()
	e := sim.New(sim.Config{Seed: 1, Metrics: m})
	e.SetNetwork(&sim.Direct{Delay: ms})
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		if ev.Kind == sim.KindSend {
			lines = append(lines, fmt.Sprintf("%-9v %s -> %s: %v", ev.At, e.NodeName(ev.From), e.NodeName(ev.Node), ev.Msg))
		}
	}))
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Ops = func(start, end sim.Time, st Status) {
		lines = append(lines, fmt.Sprintf("%-9v client request from %v: %s", end, start, st))
	}
	if err := e.Run(sim.Time(400 * ms)); err != nil {
		t.Fatal(err)
	}
	simtest.Golden(t, filepath.Join("testdata", "pushback.txt"), strings.Join(lines, "\n")+"\n")
}
