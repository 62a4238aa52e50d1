package swim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/detector"
	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

func TestTimeoutFormulas(t *testing.T) {
	for _, c := range []struct {
		mult, n int
		want    time.Duration
	}{
		{4, 1, 4 * time.Second},  // log10 1 = 0 → floor 1
		{4, 10, 4 * time.Second}, // log10 10 = 1
		{4, 100, 8 * time.Second},
		{5, 1000, 15 * time.Second},
	} {
		if got := suspicionTimeout(c.mult, c.n, time.Second); got != c.want {
			t.Errorf("suspicionTimeout(%d, %d) = %v, want %v", c.mult, c.n, got, c.want)
		}
	}
	for _, c := range []struct{ mult, n, want int }{
		{4, 1, 4}, {4, 9, 4}, {4, 10, 8}, {4, 99, 8}, {4, 100, 12}, {3, 10_000, 15},
	} {
		if got := retransmitLimit(c.mult, c.n); got != c.want {
			t.Errorf("retransmitLimit(%d, %d) = %d, want %d", c.mult, c.n, got, c.want)
		}
	}
	min, max := 4*time.Second, 24*time.Second
	for _, c := range []struct {
		c, k int
		want time.Duration
	}{
		{0, 2, 24 * time.Second},
		// log(2)/log(3) = 0.6309: 24 − 20·0.6309 = 11.38 s
		{1, 2, 11381859507},
		{2, 2, 4 * time.Second},
		{5, 2, 4 * time.Second},
		{0, 0, 4 * time.Second}, // nobody to confirm: the base timeout
	} {
		got := dynamicTimeout(min, max, c.c, c.k)
		if d := got - c.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("dynamicTimeout(c=%d, k=%d) = %v, want %v", c.c, c.k, got, c.want)
		}
	}
}

func TestEntryPacking(t *testing.T) {
	for _, s := range []State{StateUnknown, StateAlive, StateSuspect, StateDead} {
		for _, inc := range []uint32{0, 1, 12345, maxInc} {
			e := mkEntry(s, inc)
			if e.state() != s || e.inc() != inc {
				t.Errorf("mkEntry(%v, %d) unpacks to %v, %d", s, inc, e.state(), e.inc())
			}
		}
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig()
	c.Period, c.ProbeTimeout, c.IndirectChecks, c.SuspicionMult = 0, -1, -1, 0
	c.Joins = []Membership{{At: -time.Second}}
	err := c.Validate()
	for _, p := range []string{"period:", "probe_timeout:", "indirect_checks:", "suspicion_mult:", "joins[0].nodes:", "joins[0].at:"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("want a problem at %s, got %v", p, err)
		}
	}
	c = DefaultConfig()
	c.ProbeTimeout = c.Period
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "probe_timeout: must be shorter than the period") {
		t.Errorf("probe timeout = period: %v", err)
	}
	c = DefaultConfig()
	c.Preset = PresetMemberlistLAN
	if err := c.Validate(); err != nil {
		t.Errorf("preset with its own values: %v", err)
	}
	c.Period = 2 * time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "period: is 2s, but preset memberlist_lan sets 1s") {
		t.Errorf("preset conflict: %v", err)
	}
	c = DefaultConfig()
	c.IndirectChecks = 4
	err = c.ValidateNodes(names(5))
	if err == nil || !strings.Contains(err.Error(), "indirect_checks: 4 indirect checks") {
		t.Errorf("k > N-2: %v", err)
	}
	if err := c.ValidateNodes(names(6)); err != nil {
		t.Errorf("k = N-2: %v", err)
	}
	var v struct {
		C Config `yaml:"c"`
	}
	v.C = DefaultConfig()
	if err := yaml.Unmarshal([]byte("c: {variant: basic, target: random, preset: memberlist_lan}"), &v); err != nil {
		t.Fatal(err)
	}
	if v.C.Variant != Basic || v.C.Target != Random || v.C.Preset != PresetMemberlistLAN {
		t.Errorf("decoded %+v", v.C)
	}
	if err := yaml.Unmarshal([]byte("c: {variant: fancy}"), &v); err == nil || !strings.Contains(err.Error(), "lifeguard, suspicion, basic") {
		t.Errorf("bad variant: %v", err)
	}
}

// TestFirstDetectionTime reproduces SWIM's expected time to first
// detection (Das, Gupta, Motivala, DSN 2002, §3.1): with each of the M−1
// other members probing one member chosen uniformly at random per period,
// a crashed member is picked in a given period with probability
// p = 1 − (1 − 1/(M−1))^(M−1) → 1 − 1/e, so the number of periods until
// its first probe is geometric and the expected detection time is T/p ≈
// 1.582 T. Members are aligned (stagger off) as in the paper's analysis,
// each crash comes just before a period starts, and basic SWIM declares
// the target at the end of the period of the failed probe.
//
// 60 seeds × 10 crashes give 600 samples of a geometric variable with
// standard deviation √(1−p)/p ≈ 0.96 periods: the standard error of the
// mean is 0.039 periods, and the tolerance is 3.5 of them (0.14 periods,
// 9%); a detection quantised to whole periods from a staggered start
// (mean 2 T) or a first detection one period late would fail it.
func TestFirstDetectionTime(t *testing.T) {
	const members, crashes, seeds = 100, 10, 60
	period := time.Second
	cfg := DefaultConfig()
	cfg.Variant, cfg.Target, cfg.Stagger, cfg.PushPullInterval = Basic, Random, false, 0
	var sum float64
	var n int
	var want float64
	for j := 0; j < crashes; j++ {
		m := float64(members - j)
		want += 1 / (1 - math.Pow(1-1/(m-1), m-1))
	}
	want /= crashes
	for seed := uint64(1); seed <= seeds; seed++ {
		dur := time.Duration(20*crashes+20) * period
		var tr *detector.Tracker
		e, s := build(t, cfg, members, seed, time.Millisecond, dur, func(e *sim.Engine) {
			for j := 0; j < crashes; j++ {
				id := sim.NodeID(j * 7)
				at := sim.Time(time.Duration(20*j+10)*period - 10*time.Millisecond)
				e.At(at, func() { e.Crash(id) })
			}
		})
		tr = e.Instance(0).(*node).r.tr
		runFor(t, e, s, dur)
		first := tr.FirstDetections()
		if len(first) != crashes {
			t.Fatalf("seed %d: %d of %d crashes detected", seed, len(first), crashes)
		}
		for _, d := range first {
			// Detected at the end of a period: a whole number of
			// periods after the next period start.
			periods := (d - 10*time.Millisecond).Seconds() / period.Seconds()
			if math.Abs(periods-math.Round(periods)) > 1e-6 {
				t.Fatalf("seed %d: detection %v is not at a period end", seed, d)
			}
			sum += periods
			n++
		}
	}
	got := sum / float64(n)
	if math.Abs(got-want) > 0.14 {
		t.Errorf("mean first detection %.3f periods, want %.3f ± 0.14 (DSN 2002 §3.1: e/(e−1) ≈ 1.582)", got, want)
	}
	t.Logf("mean first detection %.3f periods over %d crashes (theory %.3f)", got, n, want)
}

// TestConstantLoadPerMember: SWIM's per-member load is one ping and one
// ack per period whatever the group size (DSN 2002 §3.1: "expected
// message load per member ... is a constant"), unlike all-to-all
// heartbeats. Without loss no probe needs ping-req, so it is 2 messages
// per member per period up to the partial first and last periods.
func TestConstantLoadPerMember(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PushPullInterval = 0
	var got []float64
	for _, n := range []int{20, 400} {
		e, s := build(t, cfg, n, 3, time.Millisecond, 30*time.Second, nil)
		runFor(t, e, s, 30*time.Second)
		m := scalar(s, detector.MetricMsgs)
		if math.Abs(m-2) > 0.1 {
			t.Errorf("N=%d: %.3f messages per member per period, want 2 ± 0.1", n, m)
		}
		got = append(got, m)
	}
	if r := got[1] / got[0]; math.Abs(r-1) > 0.02 {
		t.Errorf("load at N=400 / N=20 = %.3f, want 1 ± 0.02", r)
	}
}

// pauseRun pauses member n3 for pause at 10 s and reports false deaths
// and suspicions.
func pauseRun(t *testing.T, cfg Config, pause time.Duration) (*protocols.Setup, *detector.Tracker) {
	t.Helper()
	dur := 40 * time.Second
	e, s := build(t, cfg, 16, 5, time.Millisecond, dur, func(e *sim.Engine) {
		e.At(sim.Time(10*time.Second), func() { e.Pause(2) })
		e.At(sim.Time(10*time.Second+pause), func() { e.Resume(2) })
	})
	tr := e.Instance(0).(*node).r.tr
	runFor(t, e, s, dur)
	return s, tr
}

// TestSuspicionRefutes: a member paused for 3 periods is suspected but
// refutes once it runs again, before the suspicion times out
// (≥ 4 × log10 16 periods): no false death. Basic SWIM, without
// suspicion, declares it dead.
func TestSuspicionRefutes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Variant = Suspicion
	cfg.PushPullInterval = 0
	_, tr := pauseRun(t, cfg, 3*time.Second)
	susp, deaths := tr.False()
	if susp == 0 || deaths != 0 {
		t.Errorf("suspicion: %d false suspicions, %d false deaths; want some and none", susp, deaths)
	}
	if tr.Wrong() != 0 {
		t.Errorf("suspicion: %d disagreeing pairs at the end", tr.Wrong())
	}
	cfg.Variant = Basic
	_, tr = pauseRun(t, cfg, 3*time.Second)
	if _, deaths := tr.False(); deaths == 0 {
		t.Errorf("basic: no false death of a member paused for 3 periods")
	}
	if tr.Wrong() != 0 {
		t.Errorf("basic: %d disagreeing pairs at the end: the paused member did not refute its death", tr.Wrong())
	}
}

// TestCrashDeclaredByAll: a crashed member is declared dead by every live
// member (suspicion timeout then dissemination), and a restarted one
// rejoins with a higher incarnation until all agree again.
func TestCrashDeclaredByAll(t *testing.T) {
	for _, v := range []Variant{Basic, Suspicion, Lifeguard} {
		cfg := DefaultConfig()
		cfg.Variant = v
		dur := 90 * time.Second
		e, s := build(t, cfg, 32, 9, time.Millisecond, dur, func(e *sim.Engine) {
			e.At(sim.Time(5*time.Second), func() { e.Crash(4) })
			e.At(sim.Time(50*time.Second), func() { e.Restart(4) })
		})
		tr := e.Instance(0).(*node).r.tr
		runFor(t, e, s, dur)
		first, all := tr.Detections()
		if len(all) != 1 {
			t.Fatalf("%v: crash not declared by all (%d detections)", v, len(all))
		}
		// Suspicion: 4 × log10 32 = 6.0 periods at least; lifeguard
		// starts at 6 times that and shrinks with confirmations.
		lo := time.Duration(0)
		if v != Basic {
			lo = 6 * time.Second
		}
		if all[0] < lo || all[0] > 45*time.Second || first[0] > all[0] {
			t.Errorf("%v: detect first %v all %v", v, first[0], all[0])
		}
		if tr.Wrong() != 0 {
			t.Errorf("%v: %d disagreeing pairs after the restart", v, tr.Wrong())
		}
		if c := scalar(s, detector.MetricConverge); !(c > 0 && c < 40) {
			t.Errorf("%v: converge_s %v after the restart", v, c)
		}
	}
}

// TestJoinAndLeave: late joiners become members everywhere; a leaver is
// dead everywhere; the run ends converged.
func TestJoinAndLeave(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Joins = []Membership{{Nodes: []string{"n20", "n21"}, At: 5 * time.Second, Every: time.Second}}
	cfg.Leaves = []Membership{{Nodes: []string{"n3"}, At: 15 * time.Second}}
	dur := 40 * time.Second
	e, s := build(t, cfg, 21, 2, time.Millisecond, dur, nil)
	tr := e.Instance(0).(*node).r.tr
	runFor(t, e, s, dur)
	if tr.Wrong() != 0 {
		t.Errorf("%d disagreeing pairs at the end", tr.Wrong())
	}
	if _, d := tr.False(); d != 0 {
		t.Errorf("%d false deaths: a graceful leave is not a death", d)
	}
	if c := scalar(s, detector.MetricConverge); !(c >= 0 && c < 10) || scalar(s, detector.MetricUnconverged) != 0 {
		t.Errorf("converge_s %v, unresolved %v", c, scalar(s, detector.MetricUnconverged))
	}
	for id := 0; id < 21; id++ {
		if id == 2 {
			continue
		}
		n := e.Instance(sim.NodeID(id)).(*node)
		if n.view[2].state() != StateDead || n.view[19].state() != StateAlive || n.view[20].state() != StateAlive {
			t.Errorf("node %d: n3 %v, n20 %v, n21 %v", id, n.view[2].state(), n.view[19].state(), n.view[20].state())
		}
	}
}

func TestDeterminism(t *testing.T) {
	build1 := func(seed uint64) func() (*sim.Engine, error) {
		return func() (*sim.Engine, error) {
			e, _ := build(t, DefaultConfig(), 30, seed, time.Millisecond, 20*time.Second, func(e *sim.Engine) {
				e.At(sim.Time(3*time.Second), func() { e.Crash(1) })
			})
			return e, nil
		}
	}
	h1, err := sim.CheckDeterminism(build1(1), sim.Time(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := sim.CheckDeterminism(build1(2), sim.Time(20*time.Second))
	if h1 == h2 {
		t.Error("seeds 1 and 2 gave the same hash")
	}
}

// splitNet is a fixed-delay network that cuts every link between the
// halves of the group [from, to) and marks the heal as netmodel does.
type splitNet struct {
	sim.Direct
	e        *sim.Engine
	half     int
	from, to sim.Time
}

func (s *splitNet) Attach(e *sim.Engine) {
	s.e = e
	s.Direct.Attach(e)
	e.At(s.to, func() { e.Trace(sim.KindNote, sim.None, sim.None, nil, "fault_end partition halves") })
}

func (s *splitNet) Send(from, to sim.NodeID, msg sim.Message) {
	now := s.e.Now()
	if now >= s.from && now < s.to && (int(from) < s.half) != (int(to) < s.half) {
		return
	}
	s.Direct.Send(from, to, msg)
}

// TestPartitionHealConverges: during a partition each half declares the
// other dead; after the heal, push-pull exchanges with dead members and
// refutations bring everyone back, and converge_s measures how long that
// took from the heal.
func TestPartitionHealConverges(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PushPullInterval = 5 * time.Second
	dur := 120 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := sim.New(sim.Config{Seed: 4})
	e.SetNetwork(&splitNet{Direct: sim.Direct{Delay: time.Millisecond}, half: 8, from: sim.Time(10 * time.Second), to: sim.Time(60 * time.Second)})
	s := &protocols.Setup{Engine: e, Nodes: names(16), Duration: dur, Ops: protocols.NopOps{}}
	if err := cfg.Build(s); err != nil {
		t.Fatal(err)
	}
	var mid int64
	e.At(sim.Time(59*time.Second), func() { mid = e.Instance(0).(*node).r.tr.Wrong() })
	runFor(t, e, s, dur)
	tr := e.Instance(0).(*node).r.tr
	if mid == 0 {
		t.Error("the halves never declared each other dead during the partition")
	}
	if tr.Wrong() != 0 {
		t.Errorf("%d disagreeing pairs at the end", tr.Wrong())
	}
	c := scalar(s, detector.MetricConverge)
	if !(c > 0 && c < 50) || scalar(s, detector.MetricUnconverged) != 0 {
		t.Errorf("converge_s %v (unresolved %v) after the heal", c, scalar(s, detector.MetricUnconverged))
	}
	t.Logf("converged %.1f s after the heal; %d wrong pairs just before it", c, mid)
}
