package rpc

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

const ms = time.Millisecond

// run builds cfg on a fresh engine with a fixed one-way delay and runs it
// for span.
func run(t testing.TB, cfg Config, seed uint64, delay, span time.Duration) (*Deployment, *sim.Engine) {
	t.Helper()
	e := sim.New(sim.Config{Seed: seed})
	e.SetNetwork(&sim.Direct{Delay: delay})
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(span)); err != nil {
		t.Fatal(err)
	}
	return d, e
}

func leaf(mean time.Duration) ServiceConfig {
	s := DefaultServiceConfig()
	s.ServiceTime = DistConfig{Dist: "exponential", Mean: mean}
	return s
}

func callTo(svc string) CallConfig {
	c := DefaultCallConfig()
	c.Service = svc
	return c
}

func TestChainSmoke(t *testing.T) {
	cfg := DefaultConfig()
	a := leaf(ms)
	a.Replicas = 3
	a.Calls = []CallConfig{callTo("b")}
	cfg.Services["a"] = a
	cfg.Services["b"] = leaf(ms)
	cfg.Client.Call = callTo("a")
	cfg.Workload.Rate = workload.Rate(200)
	d, e := run(t, cfg, 1, ms, 10*time.Second)
	s := d.Stats()
	if s.Requests < 1800 || s.Requests > 2200 {
		t.Fatalf("requests %d, want about 2000", s.Requests)
	}
	if s.SuccessRate() != 1 {
		t.Fatalf("success %v, stats %+v", s.SuccessRate(), s.Done)
	}
	if got := s.Amplification("b"); got < 0.99 || got > 1 {
		t.Fatalf("amplification at b = %v", got)
	}
	// Same seed, same run.
	_, e2 := run(t, cfg, 1, ms, 10*time.Second)
	if e.Hash() != e2.Hash() {
		t.Fatal("same seed, different hash")
	}
	_, e3 := run(t, cfg, 2, ms, 10*time.Second)
	if e.Hash() == e3.Hash() {
		t.Fatal("different seeds, same hash")
	}
	_ = retry.None
}
