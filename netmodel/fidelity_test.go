package netmodel

import (
	"math"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// binomialTol returns the half-width of a z = 4 normal-approximation
// confidence interval for a proportion p estimated from n trials
// (Wald interval, p·n and (1-p)·n >= 1000 here, so the approximation
// holds). With seeded streams a pass is reproducible; z = 4 only bounds
// how unlikely a correct model is to fail (~6e-5).
func binomialTol(p float64, n int64) float64 { return 4 * math.Sqrt(p*(1-p)/float64(n)) }

func TestRatesWithinBinomialCI(t *testing.T) {
	const n = 50000
	tests := []struct {
		name    string
		set     func(*Config)
		p       float64
		measure func(c Counts) int64
	}{
		{"loss", func(c *Config) { c.Loss = 0.1 }, 0.1, func(c Counts) int64 { return c.DroppedBy[CauseLoss] }},
		{"duplicate", func(c *Config) { c.Duplicate = 0.05 }, 0.05, func(c Counts) int64 { return c.Duplicated }},
		{"corrupt", func(c *Config) { c.Corrupt = 0.02 }, 0.02, func(c Counts) int64 { return c.DroppedBy[CauseCorruption] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := constCfg(time.Millisecond)
			tt.set(&cfg)
			w := newWorld(t, 11, cfg, FaultsConfig{}, n, time.Millisecond, 0, "b")
			w.run(t, time.Duration(n+100)*time.Millisecond)
			c := w.m.Counters().Total
			if c.Sent != n {
				t.Fatalf("sent %d, want %d", c.Sent, n)
			}
			got := float64(tt.measure(c)) / n
			if tol := binomialTol(tt.p, n); math.Abs(got-tt.p) > tol {
				t.Errorf("rate %.5f, want %.3f ± %.5f", got, tt.p, tol)
			}
			if c.Sent+c.Duplicated != c.Delivered+c.Dropped() {
				t.Errorf("counts do not balance: %+v", c)
			}
			if int64(len(*w.logs["b"])) != c.Delivered {
				t.Errorf("node saw %d messages, counters say %d delivered", len(*w.logs["b"]), c.Delivered)
			}
		})
	}
}

// TestGilbertElliott checks the two-state loss model's burst length and
// loss rate. With loss 0 in Good and 1 in Bad a loss burst is a stay in
// Bad: geometric with mean 1/r (r = p_bad_good) and stddev sqrt(1-r)/r,
// and the long-run loss rate is the stationary P(Bad) = p/(p+r)
// (Gilbert 1960; Elliott 1963). The rate's standard error uses the
// two-state Markov chain's variance inflation (1+λ)/(1-λ) with
// λ = 1-p-r (Kemeny & Snell, Finite Markov Chains, §4.6).
func TestGilbertElliott(t *testing.T) {
	const n = 200000
	p, r := 0.02, 0.25
	cfg := constCfg(time.Millisecond)
	cfg.GilbertElliott = GilbertElliott{PGoodBad: p, PBadGood: r, LossBad: 1}
	w := newWorld(t, 5, cfg, FaultsConfig{}, n, time.Millisecond, 0, "b")
	w.run(t, time.Duration(n+100)*time.Millisecond)
	got := make([]bool, n)
	for _, d := range *w.logs["b"] {
		got[d.seq] = true
	}
	var bursts, lost int
	for i := 0; i < n; i++ {
		if !got[i] {
			lost++
			if i == 0 || got[i-1] {
				bursts++
			}
		}
	}
	mean := float64(lost) / float64(bursts)
	se := math.Sqrt(1-r) / r / math.Sqrt(float64(bursts))
	if want := 1 / r; math.Abs(mean-want) > 4*se {
		t.Errorf("mean burst %.3f over %d bursts, want %.3f ± %.3f", mean, bursts, want, 4*se)
	}
	pi := p / (p + r)
	lambda := 1 - p - r
	seRate := math.Sqrt(pi * (1 - pi) * (1 + lambda) / (1 - lambda) / n)
	if rate := float64(lost) / n; math.Abs(rate-pi) > 4*seRate {
		t.Errorf("loss rate %.4f, want %.4f ± %.4f", rate, pi, 4*seRate)
	}
}

// allToAll is a node that sends to every other node every 5 ms and logs
// what it receives.
type allToAll struct {
	peers int
	log   *[]delivery
	seq   int
}

func (a *allToAll) Start(env sim.Env) { env.After(5*time.Millisecond, 0) }
func (a *allToAll) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	*a.log = append(*a.log, delivery{at: env.Now(), from: from, seq: m.(*msg).seq})
}
func (a *allToAll) Timer(env sim.Env, _ uint64) {
	for i := 0; i < a.peers; i++ {
		if sim.NodeID(i) != env.ID() {
			a.seq++
			env.Send(sim.NodeID(i), &msg{seq: a.seq})
		}
	}
	env.After(5*time.Millisecond, 0)
}

func TestNoMessageCrossesACutLink(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	at := func(s float64) sim.Time { return sim.Time(s * float64(time.Second)) }
	faults := FaultsConfig{Schedule: []Fault{
		{Kind: FaultPartition, At: sec(1), Duration: sec(1), Groups: [][]string{{"a", "b"}, {"c", "d"}}}, // e: implicit group
		{Kind: FaultPartition, At: sec(3), Duration: sec(1), Pairs: [][]string{{"a", "c"}}, OneWay: true},
		{Kind: FaultIsolate, At: sec(5), Duration: sec(1), Nodes: []string{"e"}},
	}}
	group := map[string]int{"a": 0, "b": 0, "c": 1, "d": 1, "e": 2}
	cut := func(from, to string, t sim.Time) bool {
		switch {
		case t >= at(1) && t < at(2):
			return group[from] != group[to]
		case t >= at(3) && t < at(4):
			return from == "a" && to == "c"
		case t >= at(5) && t < at(6):
			return from == "e" || to == "e"
		}
		return false
	}
	for _, inFlight := range []InFlight{InFlightDrop, InFlightDeliver} {
		t.Run(inFlight.String(), func(t *testing.T) {
			for i := range faults.Schedule {
				faults.Schedule[i].InFlight = inFlight
			}
			cfg := DefaultConfig()
			cfg.Latency = DistSpec{Dist: DistLogNormal, Median: ms, P99: 20 * ms}
			e := sim.New(sim.Config{Seed: 3})
			logs := map[string]*[]delivery{}
			for _, n := range names {
				log := &[]delivery{}
				logs[n] = log
				e.MustAddNode(n, func() sim.Node { return &allToAll{peers: len(names), log: log} })
			}
			m := mustInstall(t, e, cfg, faults)
			var sent []struct {
				at       sim.Time
				from, to sim.NodeID
			}
			e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
				if ev.Kind == sim.KindSend {
					sent = append(sent, struct {
						at       sim.Time
						from, to sim.NodeID
					}{ev.At, ev.From, ev.Node})
				}
			}))
			mustRun(t, e, at(7))
			crossed, late := 0, 0
			for _, to := range names {
				for _, d := range *logs[to] {
					from := names[d.from]
					if cut(from, to, d.at) {
						// With in_flight: deliver, a message sent before
						// the cut may still arrive during it.
						crossed++
					}
				}
			}
			for _, s := range sent {
				if cut(names[s.from], names[s.to], s.at) {
					late++ // sent into a cut: must be dropped either way
				}
			}
			c := m.Counters().Total
			if late == 0 || c.DroppedBy[CausePartition] < int64(late) {
				t.Errorf("%d sends into a cut, %d partition drops", late, c.DroppedBy[CausePartition])
			}
			switch inFlight {
			case InFlightDrop:
				if crossed != 0 {
					t.Errorf("%d messages crossed a cut link", crossed)
				}
			case InFlightDeliver:
				if crossed == 0 {
					t.Errorf("no in-flight message was delivered across a new cut")
				}
			}
			// Every direction works again after the heals, and b->a was
			// never cut by the one-way pair.
			for _, to := range names {
				seen := map[sim.NodeID]bool{}
				for _, d := range *logs[to] {
					if d.at > at(6.1) {
						seen[d.from] = true
					}
				}
				if len(seen) != len(names)-1 {
					t.Errorf("%s hears from %d peers after the heals, want %d", to, len(seen), len(names)-1)
				}
			}
			var ca, ac int
			for _, d := range *logs["a"] {
				if d.from == 2 && d.at > at(3.1) && d.at < at(3.9) {
					ca++
				}
			}
			for _, d := range *logs["c"] {
				if d.from == 0 && d.at > at(3.1) && d.at < at(3.9) {
					ac++
				}
			}
			if ac != 0 || ca == 0 {
				t.Errorf("one-way cut a->c: a->c delivered %d (want 0), c->a %d (want > 0)", ac, ca)
			}
		})
	}
}

func TestPauseHandlesNothingUntilResume(t *testing.T) {
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultPause, At: sec(1), Duration: sec(1), Nodes: []string{"b"}}}}
	w := newWorld(t, 1, constCfg(time.Millisecond), faults, 300, 10*time.Millisecond, 0, "b")
	w.run(t, 4*time.Second)
	resume := sim.Time(2 * time.Second)
	atResume, last := 0, -1
	for _, d := range *w.logs["b"] {
		if d.at > sim.Time(time.Second) && d.at < resume {
			t.Fatalf("b handled message %d at %v while paused", d.seq, d.at)
		}
		if d.at == resume {
			atResume++
		}
		if d.seq <= last {
			t.Fatalf("message %d handled after %d: pause broke the order", d.seq, last)
		}
		last = d.seq
	}
	// Messages sent at 1.0s..1.99s arrive 1 ms later, all held to 2s.
	if atResume < 99 || atResume > 101 {
		t.Errorf("%d messages handled at resume, want ~100", atResume)
	}
	if c := w.m.Counters().Total; c.Delivered != 300 || c.Dropped() != 0 {
		t.Errorf("pause lost messages: %+v", c)
	}
}

func TestPausedTimerWaits(t *testing.T) {
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultPause, At: sec(1), Duration: sec(1), Nodes: []string{"t"}}}}
	e := sim.New(sim.Config{Seed: 1})
	var fired []sim.Time
	e.MustAddNode("t", func() sim.Node { return &timerNode{d: 1500 * time.Millisecond, fired: &fired} })
	mustInstall(t, e, constCfg(time.Millisecond), faults)
	mustRun(t, e, sim.Time(3*time.Second))
	if len(fired) != 1 || fired[0] != sim.Time(2*time.Second) {
		t.Errorf("timer due at 1.5s during a pause fired at %v, want [2s]", fired)
	}
}

// timerNode arms one timer of d at start and logs when it fires (true
// time).
type timerNode struct {
	d     time.Duration
	fired *[]sim.Time
	local *[]sim.Time
}

func (n *timerNode) Start(env sim.Env)                        { env.After(n.d, 0) }
func (n *timerNode) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (n *timerNode) Timer(env sim.Env, _ uint64) {
	*n.fired = append(*n.fired, env.Now())
	if n.local != nil {
		*n.local = append(*n.local, env.Local())
	}
}

func TestCrashDropsAndRestarts(t *testing.T) {
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultCrash, At: sec(1), Duration: sec(0.5), Nodes: []string{"b"}}}}
	w := newWorld(t, 1, constCfg(5*time.Millisecond), faults, 200, 10*time.Millisecond, 0, "b")
	w.run(t, 3*time.Second)
	for _, d := range *w.logs["b"] {
		if d.at >= sim.Time(time.Second) && d.at < sim.Time(1500*time.Millisecond) {
			t.Fatalf("crashed node received message %d at %v", d.seq, d.at)
		}
	}
	c := w.m.Counters().Total
	// Sends at 0.99s..1.49s arrive 5 ms later, during the downtime: 50.
	if got := c.DroppedBy[CauseCrashed]; got != 50 {
		t.Errorf("%d crashed-receiver drops, want 50", got)
	}
	if c.Delivered != 150 {
		t.Errorf("%d delivered, want 150", c.Delivered)
	}
}

// TestClockDrift: a clock with drift D ppm reads D·t·1e-6 ahead after
// true time t, and a local timer of d fires after d/(1+D·1e-6) true time.
func TestClockDrift(t *testing.T) {
	for _, ppm := range []float64{-500, 100, 10000} {
		cfg := constCfg(time.Millisecond)
		cfg.Clocks = []ClockSpec{{Nodes: []string{"t"}, DriftPPM: ppm}}
		e := sim.New(sim.Config{Seed: 1})
		var fired, local []sim.Time
		id := e.MustAddNode("t", func() sim.Node { return &timerNode{d: 100 * time.Second, fired: &fired, local: &local} })
		m := mustInstall(t, e, cfg, FaultsConfig{})
		mustRun(t, e, sim.Time(200*time.Second))
		tt := 150 * time.Second
		wantErr := ppm * 1e-6 * float64(tt)
		if got := float64(m.Clock(id).Local(sim.Time(tt)) - sim.Time(tt)); math.Abs(got-wantErr) > 1 {
			t.Errorf("%g ppm: local error after %v = %v ns, want %v", ppm, tt, got, wantErr)
		}
		wantFire := 100e9 / (1 + ppm*1e-6)
		if len(fired) != 1 || math.Abs(float64(fired[0])-wantFire) > 1 {
			t.Errorf("%g ppm: 100s local timer fired at %v, want %v", ppm, fired, time.Duration(wantFire))
		}
		if len(local) == 1 && local[0] < sim.Time(100*time.Second) {
			t.Errorf("%g ppm: timer fired at local %v, before 100s", ppm, local[0])
		}
	}
}

func TestClockSpan(t *testing.T) {
	st := func(at float64, jump time.Duration) ClockStep { return ClockStep{At: sim.Time(at * 1e9), Jump: jump} }
	tests := []struct {
		name  string
		clock *Clock
		at    sim.Time
		d     time.Duration
		want  time.Duration
	}{
		{"perfect", NewClock(0, 0), 0, time.Second, time.Second},
		{"offset only", NewClock(time.Hour, 0), 5, time.Second, time.Second},
		{"fast", NewClock(0, 1e5), 0, 11 * time.Second, 10 * time.Second},
		{"forward step", NewClock(0, 0, st(1, 5*time.Second)), 0, 3 * time.Second, time.Second},
		{"backward step", NewClock(0, 0, st(1, -2*time.Second)), 0, 3 * time.Second, 5 * time.Second},
		{"step after span", NewClock(0, 0, st(5, -2*time.Second)), 0, 3 * time.Second, 3 * time.Second},
		{"step before now", NewClock(0, 0, st(1, -2*time.Second)), sim.Time(2e9), 3 * time.Second, 3 * time.Second},
		{"zero", NewClock(0, 0), 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clock.Span(tt.at, tt.d); got != tt.want {
				t.Errorf("Span = %v, want %v", got, tt.want)
			}
			if tt.d > 0 {
				s := tt.clock.Span(tt.at, tt.d)
				if l := tt.clock.Local(tt.at.Add(s)) - tt.clock.Local(tt.at); l < sim.Time(tt.d) {
					t.Errorf("local advanced %v < %v", time.Duration(l), tt.d)
				}
			}
		})
	}
	c := NewClock(time.Second, 0, st(2, -500*time.Millisecond))
	if got := c.Local(sim.Time(3e9)); got != sim.Time(3500*time.Millisecond) {
		t.Errorf("Local(3s) with +1s offset and a -0.5s step = %v", got)
	}
}

func TestClockFaultStepsBackwards(t *testing.T) {
	faults := FaultsConfig{Schedule: []Fault{{Kind: FaultClock, At: sec(10), Nodes: []string{"b"}, Jump: Duration(-3 * time.Second)}}}
	w := newWorld(t, 1, constCfg(time.Millisecond), faults, 0, 0, 0, "b")
	c := w.m.Clock(w.ids["b"])
	if got := c.Local(sim.Time(11 * time.Second)); got != sim.Time(8*time.Second) {
		t.Errorf("local at 11s = %v, want 8s", got)
	}
	ws := w.m.Windows()
	if len(ws) != 1 || ws[0].Kind != FaultClock.String() || ws[0].Start != ws[0].End {
		t.Errorf("windows = %+v", ws)
	}
}
