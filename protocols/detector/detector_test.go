package detector

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

func placements(n int) []protocols.Placement {
	ps := make([]protocols.Placement, n)
	for i := range ps {
		ps[i] = protocols.Placement{Name: fmt.Sprintf("n%d", i+1), Zone: "z"}
	}
	return ps
}

func build(t *testing.T, cfg Config, n int, d, dur time.Duration, during func(e *sim.Engine)) (*sim.Engine, *protocols.Setup) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: d})
	s := &protocols.Setup{Engine: e, Nodes: placements(n), Duration: dur, Ops: protocols.NopOps{}}
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
	return e, s
}

func scalar(s *protocols.Setup, name string) float64 {
	for _, x := range s.Scalars() {
		if x.Name == name {
			return x.Value
		}
	}
	return math.NaN()
}

// TestPhiClosedForm checks φ against hand-computed values of both
// variants, and that Crossing inverts Phi.
func TestPhiClosedForm(t *testing.T) {
	n := DefaultPhiConfig()
	n.MinStdDev = 0
	x := DefaultPhiConfig()
	x.Variant = Exponential
	for _, c := range []struct {
		cfg       PhiConfig
		since     time.Duration
		mean, std float64
		want      float64
	}{
		// z = (1.2 − 1)/0.1 = 2: P(later) = ½ erfc(2/√2) = 0.0227501 → φ = 1.64302
		{n, 1200 * time.Millisecond, 1, 0.1, 1.6430},
		// at the mean, P(later) = ½: φ = log10 2
		{n, time.Second, 1, 0.1, math.Log10(2)},
		// exponential: φ = Δ/(μ ln 10); Δ = μ ln 10 gives 1
		{x, 2302585093 * time.Nanosecond, 1, 0, 1},
		{x, 5 * time.Second, 0.5, 0, 10 / math.Ln10},
	} {
		if got := c.cfg.Phi(c.since, c.mean, c.std); math.Abs(got-c.want) > 1e-4 {
			t.Errorf("%v φ(%v; μ=%v σ=%v) = %.5f, want %.5f", c.cfg.Variant, c.since, c.mean, c.std, got, c.want)
		}
	}
	for _, v := range []Variant{Normal, Exponential} {
		for _, th := range []float64{0.5, 1, 3, 8, 12} {
			c := DefaultPhiConfig()
			c.Variant, c.Threshold, c.AcceptablePause = v, th, 300*time.Millisecond
			d := c.Crossing(1.0, 0.2)
			if got := c.Phi(d, 1.0, 0.2); math.Abs(got-th) > 1e-6*math.Max(1, th) {
				t.Errorf("%v θ=%v: φ(Crossing) = %v", v, th, got)
			}
		}
	}
}

func TestWindow(t *testing.T) {
	w := NewWindow(4, time.Second)
	if w.Len() != 2 || math.Abs(w.Mean()-1) > 1e-12 || math.Abs(w.StdDev()-0.25) > 1e-12 {
		t.Fatalf("seeded window: n %d mean %v std %v, want 2, 1, 0.25", w.Len(), w.Mean(), w.StdDev())
	}
	for i := 0; i < 4; i++ {
		w.Add(2 * time.Second)
	}
	if w.Len() != 4 || math.Abs(w.Mean()-2) > 1e-9 || w.StdDev() > 1e-6 {
		t.Errorf("full window: n %d mean %v std %v, want 4, 2, 0", w.Len(), w.Mean(), w.StdDev())
	}
}

// TestPhiDetectionMatchesClosedForm: with steady heartbeats every
// interval I over a fixed-delay network, the window holds the seed
// samples (I·3/4, I·5/4) and k samples of exactly I, so its mean and
// standard deviation are known in closed form; the monitor must declare
// the crashed member exactly when φ of the silence since its last
// heartbeat reaches the threshold (Hayashibara et al., SRDS 2004, φ =
// −log10 P_later; Cassandra's exponential form φ = Δ/(μ ln 10)). The
// detection time is compared to the nanosecond: the detector arms a
// timer at the computed crossing, it does not poll.
func TestPhiDetectionMatchesClosedForm(t *testing.T) {
	for _, v := range []Variant{Normal, Exponential} {
		cfg := DefaultConfig()
		cfg.Kind = Phi
		cfg.Phi.Variant = v
		cfg.Phi.Threshold = 3
		cfg.Interval = time.Second
		var crashAt sim.Time
		e, _ := build(t, cfg, 2, time.Millisecond, 40*time.Second, func(e *sim.Engine) {
			crashAt = sim.Time(20*time.Second + 500*time.Millisecond)
			e.At(crashAt, func() { e.Crash(0) })
		})
		n1 := e.Instance(1).(*node)
		tr := n1.r.tr
		first := tr.FirstDetections()
		if len(first) != 1 {
			t.Fatalf("%v: %d detections", v, len(first))
		}
		// n1 heard n0's heartbeats once per second; the last one before
		// the crash arrived at lastAt. k samples of 1 s besides the seeds.
		lastAt := crashAt - sim.Time(time.Second)
		for lastAt+sim.Time(time.Second) < crashAt {
			lastAt += sim.Time(time.Second)
		}
		s := n1.slots[0]
		last := s.last
		k := float64(s.win.Len() - 2)
		mean := (0.75 + 1.25 + k) / (k + 2)
		varc := (0.75*0.75+1.25*1.25+k)/(k+2) - mean*mean
		want := last.Add(cfg.Phi.Crossing(mean, math.Sqrt(varc)))
		got := crashAt.Add(first[0])
		if d := got.Sub(want); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%v: declared at %v, closed form says %v (last heartbeat %v, μ=%.4f σ=%.4f)", v, got, want, last, mean, math.Sqrt(varc))
		}
		if phi := cfg.Phi.Phi(got.Sub(last), mean, math.Sqrt(varc)); math.Abs(phi-3) > 1e-3 {
			t.Errorf("%v: φ at declaration %.5f, want the threshold 3", v, phi)
		}
	}
}

// TestPhiPolling: with check_interval the declaration lands on a poll.
func TestPhiPolling(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Kind = Phi
	cfg.Phi.Threshold = 3
	cfg.Phi.CheckInterval = 250 * time.Millisecond
	e, _ := build(t, cfg, 2, time.Millisecond, 40*time.Second, func(e *sim.Engine) {
		e.At(sim.Time(20*time.Second+100*time.Millisecond), func() { e.Crash(0) })
	})
	first := e.Instance(1).(*node).r.tr.FirstDetections()
	if len(first) != 1 {
		t.Fatalf("%d detections", len(first))
	}
	at := sim.Time(20*time.Second + 100*time.Millisecond).Add(first[0])
	if at%sim.Time(250*time.Millisecond) != 0 {
		t.Errorf("declared at %v, not on a 250ms poll", at)
	}
}

// TestHeartbeatMisses: a fixed-timeout detector suspects at the first
// miss (timeout after the last heartbeat) and declares after k misses
// (timeout + (k−1)·interval).
func TestHeartbeatMisses(t *testing.T) {
	cfg := DefaultConfig() // interval 1s, timeout 2s, 3 misses
	cfg.Monitors = 2
	crash := sim.Time(10*time.Second + 300*time.Millisecond)
	e, s := build(t, cfg, 5, time.Millisecond, 30*time.Second, func(e *sim.Engine) {
		e.At(crash, func() { e.Crash(0) })
	})
	tr := e.Instance(1).(*node).r.tr
	first, all := tr.Detections()
	if len(first) != 1 {
		t.Fatalf("%d detections", len(first))
	}
	// Each monitor's last heartbeat came within the second before the
	// crash: suspicion 1–2 s after the last heartbeat, death 4 s after.
	if first[0] < time.Second || first[0] > 2*time.Second {
		t.Errorf("first detection %v, want 1–2 s after the crash", first[0])
	}
	if all[0] < 3*time.Second || all[0] > 4*time.Second+2*time.Millisecond {
		t.Errorf("all declared after %v, want 3–4 s", all[0])
	}
	// Ring monitoring: each member sends 2 heartbeats per interval.
	if m := scalar(s, MetricMsgsMax); math.Abs(m-2) > 0.1 { // the crashed member sent fewer
		t.Errorf("msgs per member per period %v, want about 2", m)
	}
	if d := scalar(s, MetricFalseDeaths); d != 0 {
		t.Errorf("false deaths %v", d)
	}
}

// TestPauseIsFalseDeath: a member paused longer than the detection time
// is declared dead although it is up; the tracker counts one false death
// (one member wrongly declared), and the member is alive again after it
// resumes.
func TestPauseIsFalseDeath(t *testing.T) {
	cfg := DefaultConfig()
	e, s := build(t, cfg, 4, time.Millisecond, 30*time.Second, func(e *sim.Engine) {
		e.At(sim.Time(10*time.Second), func() { e.Pause(2) })
		e.At(sim.Time(16*time.Second), func() { e.Resume(2) })
	})
	if d := scalar(s, MetricFalseDeaths); d != 1 {
		t.Errorf("false deaths %v, want 1", d)
	}
	if su := scalar(s, MetricFalseSuspicions); su != 1 {
		t.Errorf("false suspicions %v, want 1", su)
	}
	if w := e.Instance(0).(*node).r.tr.Wrong(); w != 0 {
		t.Errorf("%d wrong opinions after the member resumed", w)
	}
	if c := scalar(s, MetricConverge); !math.IsNaN(c) {
		t.Errorf("converge_s %v without joins or heals", c)
	}
}

// TestTrackerCheckerFails proves the accounting invariant can fail.
func TestTrackerCheckerFails(t *testing.T) {
	e := sim.New(sim.Config{})
	tr := NewTracker(e, 3, nil, 0)
	tr.Bootstrap([]int{0, 1, 2})
	if err := tr.Consistent(); err != nil {
		t.Fatal(err)
	}
	tr.View(0, 1, Dead)
	if err := tr.Consistent(); err != nil || tr.Wrong() != 1 {
		t.Fatalf("after one wrong declaration: wrong %d, %v", tr.Wrong(), err)
	}
	tr.colWrong[1] = 0 // corrupt the running count
	if err := tr.Consistent(); err == nil || !strings.Contains(err.Error(), "member 1") {
		t.Errorf("corrupted count not caught: %v", err)
	}
	tr.colWrong[1] = 1
	tr.suspCnt[2] = 5
	if err := tr.Consistent(); err == nil {
		t.Error("corrupted suspicion count not caught")
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig()
	c.Interval, c.Timeout, c.Misses, c.Monitors = 0, 0, 0, -1
	c.Phi.Threshold, c.Phi.WindowSize, c.Phi.FirstHeartbeatEstimate = 0, 1, 0
	err := c.Validate()
	for _, p := range []string{"interval:", "timeout:", "misses:", "monitors:", "phi.threshold:", "phi.window_size:", "phi.first_heartbeat_estimate:"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("want a problem at %s, got %v", p, err)
		}
	}
	c = DefaultConfig()
	c.Monitors = 4
	if err := c.ValidateNodes(placements(4)); err == nil || !strings.Contains(err.Error(), "monitors: 4 monitors") {
		t.Errorf("monitors > N-1: %v", err)
	}
	if err := c.ValidateNodes(placements(5)); err != nil {
		t.Errorf("monitors = N-1: %v", err)
	}
}
