package netmodel

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

func chaosWorld(t testing.TB, seed uint64, c ChaosConfig, n int) *world {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	cfg := constCfg(time.Millisecond)
	cfg.Processing = Duration(10 * time.Microsecond)
	return newWorld(t, seed, cfg, FaultsConfig{Chaos: &c}, 0, 0, 0, names...)
}

func TestChaosDeterministicAndBounded(t *testing.T) {
	c := DefaultChaosConfig()
	c.Start = sec(5)
	c.Slow = ChaosRate{PerMin: 3, Duration: Const(2 * time.Second), Factor: 4}
	c.Crash.PerMin = 20 // stress max_down
	c.Clock = ChaosRate{PerMin: 6, Jump: DistSpec{Dist: DistUniform, Min: ms, Max: 2 * Duration(time.Second)}, Backwards: 0.5}
	w1 := chaosWorld(t, 42, c, 5)
	w2 := chaosWorld(t, 42, c, 5)
	w3 := chaosWorld(t, 43, c, 5)
	a, b, d := w1.m.Windows(), w2.m.Windows(), w3.m.Windows()
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different chaos windows")
	}
	if reflect.DeepEqual(a, d) {
		t.Error("different seeds, same chaos windows")
	}
	ph := w1.m.Phases()
	if len(ph) != 2 || ph[0].Start != sim.Time(5*time.Second) || ph[0].End != sim.Time(65*time.Second) || ph[1].End != sim.Time(95*time.Second) {
		t.Fatalf("phases = %+v", ph)
	}
	kinds := map[string]int{}
	for _, w := range a {
		kinds[w.Kind]++
		if !w.Chaos || w.Start < ph[0].Start || w.End > ph[0].End || w.End < w.Start || (w.End == w.Start) != (w.Kind == FaultClock.String()) {
			t.Errorf("window outside the safety phase: %+v", w)
		}
		// At most (5-1)/2 = 2 nodes crashed or paused at any start.
		down := 0
		for _, o := range a {
			if (o.Kind == FaultCrash.String() || o.Kind == FaultPause.String()) && o.Start <= w.Start && w.Start < o.End {
				down++
			}
		}
		if down > 2 {
			t.Errorf("%d nodes down at %v, max_down is 2", down, w.Start)
		}
	}
	for _, k := range []FaultKind{FaultCrash, FaultPause, FaultPartition, FaultIsolate, FaultSlow, FaultClock} {
		if kinds[k.String()] == 0 {
			t.Errorf("no %s faults generated: %v", k, kinds)
		}
	}
	// Clock faults became steps of the nodes' clocks.
	steps := 0
	for id := 0; id < 5; id++ {
		if c := w1.m.Clock(sim.NodeID(id)); c != nil {
			steps += len(c.Steps)
		}
	}
	if steps != kinds[FaultClock.String()] {
		t.Errorf("%d clock steps for %d clock faults", steps, kinds[FaultClock.String()])
	}
	// The run itself: everything heals by the liveness phase.
	w1.run(t, 95*time.Second)
	for id := 0; id < 5; id++ {
		if !w1.e.Up(sim.NodeID(id)) || w1.e.Paused(sim.NodeID(id)) {
			t.Errorf("node %d still faulty in the liveness phase", id)
		}
	}
	if len(w1.m.cuts) != 0 {
		t.Errorf("%d partitions still active", len(w1.m.cuts))
	}
}

// TestChaosKindsIndependent: each kind draws from its own stream, so
// turning one kind off leaves the others' faults unchanged.
func TestChaosKindsIndependent(t *testing.T) {
	c := DefaultChaosConfig()
	c.Crash.PerMin = 0
	c.Pause.PerMin = 0
	c.Partition.PerMin = 5
	all := chaosWorld(t, 7, c, 5).m.Windows()
	c.Isolate.PerMin = 0
	fewer := chaosWorld(t, 7, c, 5).m.Windows()
	var parts []Window
	for _, w := range all {
		if w.Kind == FaultPartition.String() {
			parts = append(parts, w)
		}
	}
	if len(parts) == 0 || !reflect.DeepEqual(parts, fewer) {
		t.Errorf("partitions changed when isolation was turned off:\n%+v\n%+v", parts, fewer)
	}
}

func fullConfig() (Config, FaultsConfig) {
	cfg := DefaultConfig()
	cfg.Latency = DistSpec{Dist: DistMixture, Of: []DistSpec{
		{Weight: 0.9, Dist: DistLogNormal, Median: ms, P99: 4 * ms},
		{Weight: 0.1, Dist: DistPareto, Scale: 2 * ms, Shape: 1.5}}}
	cfg.Loss = 0.05
	cfg.Duplicate = 0.05
	cfg.DuplicateDelay = ms
	cfg.Corrupt = 0.05
	cfg.BandwidthMbps = 0.1 // 64-byte messages take 5.12 ms: the queues build up
	cfg.QueueBytes = 128
	cfg.Processing = Duration(200 * time.Microsecond)
	cfg.Clocks = []ClockSpec{{Nodes: []string{"c"}, Offset: ms, DriftPPM: 1000}}
	faults := FaultsConfig{Schedule: []Fault{
		{Kind: FaultPartition, At: Duration(20 * time.Millisecond), Duration: Duration(20 * time.Millisecond), Groups: [][]string{{"a"}}},
		{Kind: FaultCrash, At: Duration(30 * time.Millisecond), Duration: Duration(20 * time.Millisecond), Nodes: []string{"b"}},
		{Kind: FaultPause, At: Duration(60 * time.Millisecond), Duration: Duration(10 * time.Millisecond), Nodes: []string{"c"}},
		{Kind: FaultSlow, At: Duration(70 * time.Millisecond), Duration: Duration(10 * time.Millisecond), Nodes: []string{"a"}, Factor: 20},
		{Kind: FaultClock, At: Duration(80 * time.Millisecond), Nodes: []string{"c"}, Jump: Duration(-5 * time.Millisecond)},
	}}
	return cfg, faults
}

func fullWorld(t testing.TB, seed uint64) (*sim.Engine, *Model) {
	cfg, faults := fullConfig()
	e := sim.New(sim.Config{Seed: seed})
	for _, n := range []string{"a", "b", "c"} {
		log := &[]delivery{}
		e.MustAddNode(n, func() sim.Node { return &allToAll{peers: 3, log: log} })
	}
	m := mustInstall(t, e, cfg, faults)
	return e, m
}

func TestDeterminism(t *testing.T) {
	run := func(seed uint64) (uint64, Counters) {
		e, m := fullWorld(t, seed)
		mustRun(t, e, sim.Time(2*time.Second))
		return e.Hash(), m.Counters()
	}
	h1, c1 := run(1)
	h2, c2 := run(1)
	h3, _ := run(2)
	if h1 != h2 || !reflect.DeepEqual(c1, c2) {
		t.Errorf("same seed: hashes %x, %x", h1, h2)
	}
	if h1 == h3 {
		t.Errorf("different seeds, same hash %x", h1)
	}
	for _, c := range Causes() {
		if c1.Total.DroppedBy[c] == 0 {
			t.Errorf("no %s drops in the full scenario: %+v", c, c1.Total)
		}
	}
}

// TestGoldenTrace pins the trace of a short run with every feature on:
// any change to draws, ordering or fault handling shows up as a diff.
// Regenerate with go test ./netmodel -run GoldenTrace -rewrite and review
// the diff.
func TestGoldenTrace(t *testing.T) {
	e, _ := fullWorld(t, 1)
	var b strings.Builder
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		seq := -1
		if m, ok := ev.Msg.(*msg); ok {
			seq = m.seq
		}
		fmt.Fprintf(&b, "%v %s node=%d from=%d msg=%d %s\n", ev.At, ev.Kind, ev.Node, ev.From, seq, ev.Cause)
	}))
	mustRun(t, e, sim.Time(100*time.Millisecond))
	simtest.Golden(t, filepath.Join("testdata", "trace.golden"), b.String())
}
