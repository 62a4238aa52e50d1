package netmodel

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"gonum.org/v1/gonum/stat"
)

// TestBandwidthAndTailDrop: at 1 Mbps a 1250-byte message takes 10 ms to
// serialize; a burst of 10 into a 5000-byte queue keeps 4 (the queue
// holds the message being sent) and tail-drops 6.
func TestBandwidthAndTailDrop(t *testing.T) {
	cfg := constCfg(time.Millisecond)
	cfg.BandwidthMbps = 1
	cfg.QueueBytes = 5000
	e := sim.New(sim.Config{Seed: 1})
	var log []delivery
	tk := &ticker{every: time.Second, n: 1, size: 1250}
	e.MustAddNode("src", func() sim.Node { return tk })
	b := e.MustAddNode("b", func() sim.Node { return &sink{log: &log} })
	for i := 0; i < 10; i++ {
		tk.to = append(tk.to, b)
	}
	m := mustInstall(t, e, cfg, FaultsConfig{})
	mustRun(t, e, sim.Time(2*time.Second))
	var got []time.Duration
	for _, d := range log {
		got = append(got, d.at.Sub(sim.Time(time.Second)))
	}
	want := []time.Duration{11 * time.Millisecond, 21 * time.Millisecond, 31 * time.Millisecond, 41 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("arrivals %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("arrival %d at +%v, want +%v", i, got[i], want[i])
		}
	}
	if c := m.Counters().Total; c.DroppedBy[CauseCongestion] != 6 {
		t.Errorf("congestion drops %d, want 6", c.DroppedBy[CauseCongestion])
	}
}

func TestFIFOPreventsReordering(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Latency = DistSpec{Dist: DistUniform, Min: 0, Max: 10 * ms}
		cfg.FIFO = fifo
		w := newWorld(t, 9, cfg, FaultsConfig{}, 2000, 100*time.Microsecond, 0, "b")
		w.run(t, time.Second)
		inversions := 0
		log := *w.logs["b"]
		for i := 1; i < len(log); i++ {
			if log[i].seq < log[i-1].seq {
				inversions++
			}
		}
		if len(log) != 2000 {
			t.Fatalf("fifo=%v: %d delivered", fifo, len(log))
		}
		if fifo && inversions != 0 {
			t.Errorf("fifo link reordered %d times", inversions)
		}
		if !fifo && inversions == 0 {
			t.Errorf("independent delays never reordered")
		}
	}
}

func TestDuplicateDelay(t *testing.T) {
	cfg := constCfg(2 * time.Millisecond)
	cfg.Duplicate = 1
	cfg.DuplicateDelay = 5 * ms
	w := newWorld(t, 1, cfg, FaultsConfig{}, 3, 100*time.Millisecond, 0, "b")
	var dups int
	w.e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		if ev.Kind == sim.KindDuplicate {
			dups++
		}
	}))
	w.run(t, time.Second)
	log := *w.logs["b"]
	if len(log) != 6 || dups != 3 {
		t.Fatalf("%d deliveries, %d duplicate traces; want 6, 3", len(log), dups)
	}
	for i := 0; i < 6; i += 2 {
		if log[i].seq != log[i+1].seq || log[i+1].at.Sub(log[i].at) != 5*time.Millisecond {
			t.Errorf("copy of %d at %v, original at %v", log[i+1].seq, log[i+1].at, log[i].at)
		}
	}
}

func TestZonesAndOverrides(t *testing.T) {
	cfg := constCfg(time.Millisecond)
	cfg.Zones = map[string][]string{"eu": {"eu-*"}, "us": {"us-*"}}
	cfg.Links = []LinkRule{
		// Node rules apply after zone rules even when listed first.
		{From: "tokyo", To: "eu-2", LinkPatch: LinkPatch{Latency: Ptr(Const(200 * time.Millisecond))}},
		{From: "us-1", To: "eu-1", OneWay: true, LinkPatch: LinkPatch{Latency: Ptr(Const(60 * time.Millisecond)), Loss: Ptr(0.5)}},
		{From: "eu", To: "us", LinkPatch: LinkPatch{Latency: Ptr(Const(40 * time.Millisecond))}},
		{From: "ap", To: "eu", LinkPatch: LinkPatch{Latency: Ptr(Const(150 * time.Millisecond))}},
	}
	e := sim.New(sim.Config{Seed: 1})
	ids := map[string]sim.NodeID{}
	for _, n := range []string{"eu-1", "eu-2", "us-1", "us-2", "tokyo"} {
		var log []delivery
		ids[n] = e.MustAddNode(n, func() sim.Node { return &sink{log: &log} })
	}
	m, err := New(cfg, FaultsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetZone(ids["tokyo"], "ap"); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ from, to, want string }{
		{"eu-1", "eu-2", "latency constant(1ms)"},
		{"eu-1", "us-2", "latency constant(40ms)"},
		{"us-2", "eu-2", "latency constant(40ms)"},
		{"us-1", "eu-1", "latency constant(60ms)"},
		{"us-1", "eu-1", "loss 0.5"},
		{"eu-1", "us-1", "latency constant(40ms)"},
		{"eu-1", "us-1", "loss 0,"},
		{"tokyo", "eu-1", "latency constant(150ms)"},
		{"eu-2", "tokyo", "latency constant(200ms)"}, // ap is a zone set by SetZone: node rules still win
		{"tokyo", "us-2", "latency constant(1ms)"},
	}
	for _, tt := range tests {
		if got := m.Link(ids[tt.from], ids[tt.to]); !strings.Contains(got, tt.want) {
			t.Errorf("%s->%s: %s; want %q", tt.from, tt.to, got, tt.want)
		}
	}
	if m.Zone(ids["tokyo"]) != "ap" || m.Zone(ids["eu-2"]) != "eu" {
		t.Errorf("zones: tokyo %q, eu-2 %q", m.Zone(ids["tokyo"]), m.Zone(ids["eu-2"]))
	}
	if err := m.SetZone(0, "x"); err == nil {
		t.Error("SetZone after Install accepted")
	}
}

// TestSlowNode: with a 1 ms processing time a node handles at most 1000
// messages/s; slowed 10x it handles one every 10 ms and its inputs queue.
func TestSlowNode(t *testing.T) {
	cfg := constCfg(time.Millisecond)
	cfg.Processing = ms
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultSlow, At: sec(1), Duration: sec(1), Nodes: []string{"b"}, Factor: 10}}}
	w := newWorld(t, 1, cfg, faults, 300, 5*time.Millisecond, 0, "b")
	w.run(t, 10*time.Second)
	log := *w.logs["b"]
	if len(log) != 300 {
		t.Fatalf("%d delivered, want 300", len(log))
	}
	for i, d := range log {
		sent := sim.Time(time.Duration(d.seq+1) * 5 * time.Millisecond)
		if d.at < sim.Time(time.Second) && d.at-sent != sim.Time(2*time.Millisecond) {
			t.Errorf("before the fault: message %d handled %v after sending, want 2ms", d.seq, d.at-sent)
		}
		if i > 0 && d.at > sim.Time(1100*time.Millisecond) && d.at < sim.Time(2*time.Second) {
			if gap := d.at.Sub(log[i-1].at); gap != 10*time.Millisecond {
				t.Errorf("slowed node handled messages %v apart, want 10ms", gap)
			}
		}
	}
	// 200 messages arrive in [1s, 2s) but only ~100 are handled: the rest
	// drain at 1 ms each afterwards.
	last := log[len(log)-1]
	if last.at < sim.Time(2*time.Second) {
		t.Errorf("queue drained at %v, before the fault ended", last.at)
	}
}

func TestCountersPerLink(t *testing.T) {
	cfg := constCfg(time.Millisecond)
	cfg.Links = []LinkRule{{From: "src", To: "c", OneWay: true, LinkPatch: LinkPatch{Loss: Ptr(1.0)}}}
	metrics := &mapMetrics{m: map[string]int64{}}
	e := sim.New(sim.Config{Seed: 1, Metrics: metrics})
	tk := &ticker{every: time.Millisecond, n: 10}
	e.MustAddNode("src", func() sim.Node { return tk })
	var lb, lc []delivery
	b := e.MustAddNode("b", func() sim.Node { return &sink{log: &lb} })
	c := e.MustAddNode("c", func() sim.Node { return &sink{log: &lc} })
	tk.to = []sim.NodeID{c, b}
	m := mustInstall(t, e, cfg, FaultsConfig{})
	mustRun(t, e, sim.Time(time.Second))
	got := m.Counters()
	if len(got.Links) != 2 || got.Links[0].ToName != "b" || got.Links[1].ToName != "c" {
		t.Fatalf("links not in (from, to) order: %+v", got.Links)
	}
	if got.Links[0].Delivered != 10 || got.Links[1].DroppedBy[CauseLoss] != 10 {
		t.Errorf("per-link counts: %+v", got.Links)
	}
	want := map[string]int64{"net_sent": 20, "net_delivered": 10, "net_dropped_loss": 10}
	for k, v := range want {
		if metrics.m[k] != v {
			t.Errorf("metric %s = %d, want %d", k, metrics.m[k], v)
		}
	}
}

// mapMetrics records counters by name.
type mapMetrics struct {
	sim.NopMetrics
	m map[string]int64
}

type mapCounter struct {
	m    map[string]int64
	name string
}

func (c mapCounter) Add(n int64) { c.m[c.name] += n }
func (mm *mapMetrics) Counter(name string, _ ...sim.Label) sim.Counter {
	return mapCounter{mm.m, name}
}

// TestCrashLosesQueuedInputs: messages waiting in a node's processing
// queue die with it; they are not handed to the restarted instance.
func TestCrashLosesQueuedInputs(t *testing.T) {
	cfg := constCfg(time.Millisecond)
	cfg.Processing = Duration(100 * time.Millisecond)
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultCrash, At: sec(1.25), Duration: sec(0.1), Nodes: []string{"b"}}}}
	e := sim.New(sim.Config{Seed: 1})
	var log []delivery
	tk := &ticker{every: time.Second, n: 1}
	e.MustAddNode("src", func() sim.Node { return tk })
	b := e.MustAddNode("b", func() sim.Node { return &sink{log: &log} })
	tk.to = []sim.NodeID{b, b, b, b, b}
	m := mustInstall(t, e, cfg, faults)
	mustRun(t, e, sim.Time(3*time.Second))
	// Handled at 1.101 s and 1.201 s; the other three were queued when b
	// crashed at 1.25 s.
	c := m.Counters().Total
	if len(log) != 2 || c.Delivered != 2 || c.DroppedBy[CauseCrashed] != 3 {
		t.Errorf("handled %d, counters %+v; want 2 delivered, 3 crashed drops", len(log), c)
	}
}

// TestSparseLinksMatchDense: runs too large for the n×n link table keep
// links in a map; the run must be identical.
func TestSparseLinksMatchDense(t *testing.T) {
	run := func() (uint64, Counters) {
		e, m := fullWorld(t, 5)
		mustRun(t, e, sim.Time(time.Second))
		return e.Hash(), m.Counters()
	}
	h1, c1 := run()
	old := denseMax
	denseMax = 0
	defer func() { denseMax = old }()
	h2, c2 := run()
	if h1 != h2 || !reflect.DeepEqual(c1, c2) {
		t.Errorf("sparse links changed the run: hash %x vs %x", h1, h2)
	}
}

// poisson sends n messages of size bytes to node to, with exponential
// gaps of the given mean (a Poisson process), stamping each with its send
// time in seq (ns).
type poisson struct {
	to   sim.NodeID
	mean time.Duration
	n    int
	size int
	sent int
}

func (p *poisson) Start(env sim.Env) { p.next(env) }
func (p *poisson) next(env sim.Env) {
	env.After(time.Duration(env.Rand().ExpFloat64()*float64(p.mean)), 0)
}
func (p *poisson) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (p *poisson) Timer(env sim.Env, _ uint64) {
	env.Send(p.to, &msg{seq: int(env.Now()), size: p.size})
	if p.sent++; p.sent < p.n {
		p.next(env)
	}
}

// TestLinkQueueMD1: Poisson arrivals into a link of fixed-size messages
// form an M/D/1 queue, whose mean wait is ρS/(2(1-ρ)) for service time
// S and load ρ (Pollaczek–Khinchine formula; Kleinrock, Queueing Systems
// Vol. 1, §5.7). Waits are autocorrelated, so the tolerance comes from
// batch means: 4 standard errors of 20 batch averages.
func TestLinkQueueMD1(t *testing.T) {
	const n, batches = 100000, 20
	const rho = 0.6
	S := time.Millisecond // 125 bytes at 1 Mbps
	cfg := constCfg(0)
	cfg.BandwidthMbps = 1
	e := sim.New(sim.Config{Seed: 17})
	var log []delivery
	b := sim.NodeID(1)
	e.MustAddNode("src", func() sim.Node { return &poisson{to: b, mean: time.Duration(float64(S) / rho), n: n, size: 125} })
	e.MustAddNode("b", func() sim.Node { return &sink{log: &log} })
	mustInstall(t, e, cfg, FaultsConfig{})
	mustRun(t, e, sim.Never)
	if len(log) != n {
		t.Fatalf("%d delivered, want %d", len(log), n)
	}
	per := n / batches
	var means []float64
	for i := 0; i < batches; i++ {
		sum := 0.0
		for _, d := range log[i*per : (i+1)*per] {
			sum += float64(d.at-sim.Time(d.seq)) - float64(S) // wait = sojourn - service
		}
		means = append(means, sum/float64(per))
	}
	mean, sd := stat.MeanStdDev(means, nil)
	se := sd / math.Sqrt(batches)
	want := rho * float64(S) / (2 * (1 - rho))
	if math.Abs(mean-want) > 4*se {
		t.Errorf("mean wait %v, want %v ± %v", time.Duration(mean), time.Duration(want), time.Duration(4*se))
	}
	t.Logf("mean wait %v (M/D/1: %v, 4 SE %v)", time.Duration(mean), time.Duration(want), time.Duration(4*se))
}
