package echo

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

// fakeMetrics keeps counters and histogram samples in maps.
type fakeMetrics struct {
	counts map[string]int64
	hists  map[string][]time.Duration
}

func newFake() *fakeMetrics {
	return &fakeMetrics{counts: map[string]int64{}, hists: map[string][]time.Duration{}}
}

type fcounter struct {
	m    *fakeMetrics
	name string
}

func (c fcounter) Add(n int64) { c.m.counts[c.name] += n }

type fhist struct {
	m    *fakeMetrics
	name string
}

func (h fhist) Record(d time.Duration) { h.m.hists[h.name] = append(h.m.hists[h.name], d) }

func (m *fakeMetrics) Counter(n string, _ ...sim.Label) sim.Counter     { return fcounter{m, n} }
func (m *fakeMetrics) Gauge(string, ...sim.Label) sim.Gauge             { return sim.NopMetrics{}.Gauge("") }
func (m *fakeMetrics) Histogram(n string, _ ...sim.Label) sim.Histogram { return fhist{m, n} }

type fakeOps struct{ n [3]int }

func (o *fakeOps) Op(_, _ sim.Time, out sim.Outcome) { o.n[out]++ }

// run builds an echo run over a Direct network with one-way delay d.
func run(t *testing.T, cfg Config, wl workload.Config, d, dur time.Duration, nodes []protocols.Placement, during func(e *sim.Engine)) (*fakeMetrics, *fakeOps, *protocols.Setup) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := newFake()
	e := sim.New(sim.Config{Seed: 1, Metrics: m})
	e.SetNetwork(&sim.Direct{Delay: d})
	ops := &fakeOps{}
	s := &protocols.Setup{Engine: e, Nodes: nodes, Workload: wl, Duration: dur, Ops: ops}
	if err := cfg.Build(s); err != nil {
		t.Fatal(err)
	}
	if during != nil {
		during(e)
	}
	if err := e.Run(sim.Time(dur)); err != nil {
		t.Fatal(err)
	}
	s.Finish()
	for _, inv := range s.Invariants() {
		if err := inv.Check(); err != nil {
			t.Errorf("invariant %s: %v", inv.Name, err)
		}
	}
	return m, ops, s
}

var twoZones = []protocols.Placement{{Name: "a1", Zone: "a"}, {Name: "a2", Zone: "a"}, {Name: "b1", Zone: "b"}}

func scalar(s *protocols.Setup, name string) float64 {
	for _, x := range s.Scalars() {
		if x.Name == name {
			return x.Value
		}
	}
	return math.NaN()
}

func TestRTTIsTwiceTheDelay(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Servers = []string{"a1"}, []string{"a2", "b1"}
	wl := workload.Config{Kind: workload.Open, Rate: 100, Arrival: workload.Constant}
	m, ops, s := run(t, cfg, wl, 3*time.Millisecond, 10*time.Second, twoZones, nil)
	if m.counts[MetricSent] < 990 || m.counts[MetricOK] < m.counts[MetricSent]-1 {
		t.Fatalf("sent %d ok %d", m.counts[MetricSent], m.counts[MetricOK])
	}
	for _, d := range m.hists[MetricRTT] {
		if d != 6*time.Millisecond {
			t.Fatalf("rtt %v, want exactly 2×3ms", d)
		}
	}
	// Round robin over a2 (same zone) and b1 (other zone): half each.
	if a, b := len(m.hists[MetricRTTSameZone]), len(m.hists[MetricRTTCrossZone]); a-b > 1 || b-a > 1 {
		t.Errorf("same %d cross %d, want equal halves", a, b)
	}
	if ops.n[sim.OK] != int(m.counts[MetricOK]) {
		t.Errorf("ops %v", ops.n)
	}
	if r := scalar(s, MetricSuccessRatio); r != 1 {
		t.Errorf("success ratio %v", r)
	}
}

func TestTimeoutsAndLateEchoes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Servers, cfg.Timeout = []string{"a1"}, []string{"b1"}, 5*time.Millisecond
	wl := workload.Config{Kind: workload.Open, Rate: 10, Arrival: workload.Constant}
	// One-way 10ms: every ping times out, and every echo comes late.
	m, ops, s := run(t, cfg, wl, 10*time.Millisecond, 2*time.Second, twoZones, nil)
	if m.counts[MetricOK] != 0 || m.counts[MetricTimeouts] == 0 {
		t.Fatalf("ok %d timeouts %d", m.counts[MetricOK], m.counts[MetricTimeouts])
	}
	if m.counts[MetricLate] != m.counts[MetricTimeouts] {
		t.Errorf("late %d, want every timed-out ping (%d)", m.counts[MetricLate], m.counts[MetricTimeouts])
	}
	if ops.n[sim.TimedOut] != int(m.counts[MetricTimeouts]) {
		t.Errorf("ops %v", ops.n)
	}
	if r := scalar(s, MetricTimeoutRatio); r != 1 {
		t.Errorf("timeout ratio %v", r)
	}
	if r := scalar(s, MetricLossRatio); r != 0 {
		t.Errorf("loss ratio %v: late echoes are not losses", r)
	}
}

// TestClosedLoopThroughput: N closed-loop clients with a fixed round trip
// R and think time Z each complete one ping per R+Z, so throughput is
// N/(R+Z) (the interactive response-time law, Lazowska et al.,
// "Quantitative System Performance", 1984, §3.3). Constant spacing makes
// it exact up to the last cycle cut off by the end of the run.
func TestClosedLoopThroughput(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Servers = []string{"a"}, []string{"b"}
	wl := workload.Config{Kind: workload.Closed, Clients: 6, Think: 8 * time.Millisecond, Arrival: workload.Constant}
	m, _, _ := run(t, cfg, wl, time.Millisecond, 10*time.Second, twoZones, nil)
	want := 6 * 10.0 / 0.010 // N × T / (R+Z) with R = 2ms, Z = 8ms
	if got := float64(m.counts[MetricOK]); math.Abs(got-want) > 6 {
		t.Errorf("closed loop: %v pings answered, want %v (±6)", got, want)
	}
}

func TestCrashRestartKeepsInvariants(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Clients, cfg.Servers = []string{"a1"}, []string{"b1"}
	wl := workload.Config{Kind: workload.Open, Rate: 200, Arrival: workload.Poisson}
	m, _, _ := run(t, cfg, wl, 20*time.Millisecond, 3*time.Second, twoZones, func(e *sim.Engine) {
		a1, _ := e.Lookup("a1")
		e.At(sim.Time(time.Second), func() { e.Crash(a1) })
		e.At(sim.Time(time.Second+10*time.Millisecond), func() { e.Restart(a1) })
	})
	if m.counts[MetricOK] == 0 {
		t.Fatal("no pings answered")
	}
}

func TestConfigYAMLAndValidate(t *testing.T) {
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte("clients: [eu]\npick: random\ntimeout: 250ms\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Pick != Random || c.Timeout != 250*time.Millisecond || c.Clients[0] != "eu" || c.Servers[0] != "*" {
		t.Errorf("decoded %+v", c)
	}
	if err := yaml.Unmarshal([]byte("pick: nearest"), &c); err == nil {
		t.Error("bad pick accepted")
	}
	bad := Config{Clients: []string{""}, Timeout: 0, SizeBytes: 0, Pick: 7}
	err := bad.Validate()
	for _, p := range []string{"servers", "clients[0]", "timeout", "size_bytes", "pick"} {
		if err == nil || !strings.Contains(err.Error(), p+":") {
			t.Errorf("Validate: want a problem at %s, got %v", p, err)
		}
	}
	s := &protocols.Setup{Engine: sim.New(sim.Config{}), Nodes: twoZones}
	c = DefaultConfig()
	c.Clients = []string{"mars"}
	if err := c.Build(s); err == nil || !strings.Contains(err.Error(), "mars") {
		t.Errorf("unknown selector: %v", err)
	}
}
