package rpc

import (
	"runtime"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// benchChain is a 3-tier chain (front → api → db, 3 replicas each) with
// exponential backoff and full jitter on every hop, 200ms timeouts, and
// 10% injected failures at db, so retries happen all the time.
func benchChain(rate float64) Config {
	cfg := DefaultConfig()
	pol := retry.Policy{Kind: retry.Exponential, MaxAttempts: 3, Base: 5 * ms, Cap: 100 * ms, Multiplier: 2, Jitter: retry.FullJitter}
	hop := func(to string) CallConfig {
		c := callTo(to)
		c.Timeout = 200 * ms
		c.Retry = pol
		c.Budget.Kind = retry.TokenBucket
		return c
	}
	for _, n := range []string{"front", "api", "db"} {
		s := DefaultServiceConfig()
		s.Replicas = 3
		s.Workers = 64
		s.Queue = 1000
		s.ServiceTime = DistConfig{Dist: "exponential", Mean: 500 * time.Microsecond}
		cfg.Services[n] = s
	}
	f, a, d := cfg.Services["front"], cfg.Services["api"], cfg.Services["db"]
	f.Calls = []CallConfig{hop("api")}
	a.Calls = []CallConfig{hop("db")}
	d.Errors = ErrorConfig{Rate: 0.1}
	cfg.Services["front"], cfg.Services["api"], cfg.Services["db"] = f, a, d
	cfg.Client.Call = hop("front")
	cfg.Client.Replicas = 4
	cfg.Workload = workload.Config{Kind: workload.Open, Rate: workload.Rate(rate)}
	return cfg
}

// BenchmarkChain3 measures simulated client requests per wall-clock second
// (req/s) and allocations per request for benchChain at 10,000 requests
// per simulated second. One b.N is one client request.
func BenchmarkChain3(b *testing.B) {
	const rate = 10000.0
	cfg := benchChain(rate)
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 200 * time.Microsecond})
	d, err := Build(e, cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up the pools and maps for one simulated second.
	if err := e.Run(sim.Time(time.Second)); err != nil {
		b.Fatal(err)
	}
	start := d.Stats().Requests
	b.ReportAllocs()
	b.ResetTimer()
	until := e.Now().Add(time.Duration(float64(b.N) / rate * float64(time.Second)))
	if err := e.Run(until); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	n := d.Stats().Requests - start
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(d.Stats().Tiers["db"].Attempts)/float64(d.Stats().Requests), "db_attempts/req")
}

// BenchmarkRetryStorm runs one whole run of experiments/examples/retry-storm.yaml
// (its base point: naive retries; 60s at 2,000 requests/s, 50% errors at
// db from 20s to 40s) on a fixed 500µs network, and reports simulated
// client requests per wall-clock second (req/s), per CPU second of the
// process (req/cpu-s, steadier than req/s on a loaded machine; run with
// -cpu 1 for one core), and heap allocations per request (allocs/req,
// Build included). One b.N is one run.
//
// On a shared machine timings drift by tens of percent; instruction
// counts do not. valgrind's callgrind gives them exactly (GOGC=off keeps
// the collector's timing out; Go's preemption signals and RDTSCP are
// beyond valgrind, hence the GODEBUG settings):
//
//	go test -c -o /tmp/rpc.test ./protocols/rpc
//	cd protocols/rpc && GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off \
//	  valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//	  /tmp/rpc.test -test.run '^$' -test.bench 'RetryStorm$' -test.cpu 1 -test.benchtime 1x
//	callgrind_annotate /tmp/cg.out | head -40
func BenchmarkRetryStorm(b *testing.B) {
	cfg, wl := exampleConfig(b, "../../experiments/examples/retry-storm.yaml")
	cfg.Workload = wl
	// The file places 3 replicas per service and 4 clients on its nodes.
	for n, s := range cfg.Services {
		s.Replicas = 3
		cfg.Services[n] = s
	}
	cfg.Client.Replicas = 4
	var reqs int64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := sim.New(sim.Config{Seed: uint64(i + 1)})
		e.SetNetwork(&sim.Direct{Delay: 500 * time.Microsecond})
		d, err := Build(e, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Run(sim.Time(60 * time.Second)); err != nil {
			b.Fatal(err)
		}
		reqs += d.Stats().Requests
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "req/s")
	if cpu > 0 {
		b.ReportMetric(float64(reqs)/cpu.Seconds(), "req/cpu-s")
	}
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(reqs), "allocs/req")
	b.ReportMetric(float64(reqs)/float64(b.N), "req/run")
}
