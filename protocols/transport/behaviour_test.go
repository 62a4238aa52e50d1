package transport

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestHeadOfLineBlocking sends ten requests at once on a warm connection
// and loses the first transmission of the segment carrying the second. On
// HTTP/2 (TCP) every request behind the hole waits for its fast
// retransmission, one RTT later (RFC 9113 §1 on TCP-level head-of-line
// blocking); on HTTP/3 (QUIC) only the affected stream waits (RFC 9000
// §2.2: streams are delivered independently).
func TestHeadOfLineBlocking(t *testing.T) {
	rtt := 20 * time.Millisecond
	for _, h := range []HTTP{HTTP2, HTTP3} {
		cfg := DefaultConfig()
		cfg.HTTP = h
		sends := []sim.Time{0}
		at := sim.Time(time.Second)
		for i := 0; i < 10; i++ {
			sends = append(sends, at)
		}
		w := newWorld(cfg, rtt/2, sends)
		dropped := false
		w.net.drop = func(from, to sim.NodeID, msg sim.Message) bool {
			s, ok := msg.(*Segment)
			if !ok || dropped || from != 1 || s.flags&fDATA == 0 {
				return false
			}
			for _, p := range s.parts {
				if p.m.kind == kRequest && p.m.id == 2 {
					dropped = true
					return true
				}
			}
			return false
		}
		w.run(3 * time.Second)
		late := 0
		for id := uint64(2); id <= 11; id++ {
			d := w.client.latency(id)
			switch {
			case d < 0:
				t.Fatalf("%v: request %d not answered", h, id)
			case d == rtt:
			case d >= 2*rtt:
				late++
			default:
				t.Errorf("%v: request %d took %v, want 1 RTT or ≥ 2 RTT", h, id, d)
			}
		}
		want, wantHOL := 10, int64(9)
		if h == HTTP3 {
			want, wantHOL = 1, 0
		}
		if late != want || w.l.stats.HOLStalls != wantHOL {
			t.Errorf("%v: %d requests delayed by the loss (want %d), %d head-of-line stalls (want %d)", h, late, want, w.l.stats.HOLStalls, wantHOL)
		}
	}
}

// TestLossBecomesLatency runs request/response over a pooled HTTP/2
// connection with 2% loss in both directions, one request every 300ms:
// every request is answered (the delivered fraction is 1), and those whose
// request or response segment was lost (probability 1−(1−p)² ≈ 3.96%)
// take a retransmission timeout longer: a lone segment gets no duplicate
// ACKs, so it waits for the RTO, which is floored at rto_min (RFC 6298
// §2.4) since srtt + 4·rttvar is far below it. The count of slow requests
// is binomial; we accept ±4 standard deviations.
func TestLossBecomesLatency(t *testing.T) {
	const n = 2000
	const gap = 300 * time.Millisecond
	p := 0.02
	rtt := 20 * time.Millisecond
	cfg := DefaultConfig()
	cfg.HTTP = HTTP2
	var sends []sim.Time
	for i := 0; i < n; i++ {
		sends = append(sends, sim.Time(time.Duration(i)*gap))
	}
	w := newWorld(cfg, rtt/2, sends)
	w.net.loss = p
	w.net.rng = rand.New(rand.NewPCG(3, 4))
	w.run(time.Duration(n)*gap + 10*time.Second)
	slow, single := 0, 0
	for id := uint64(2); id <= n; id++ { // the first pays the handshake
		d := w.client.latency(id)
		if d < 0 {
			t.Fatalf("request %d not answered", id)
		}
		if d >= rtt+cfg.RTOMin {
			slow++
			if d <= rtt+cfg.RTOMin+5*time.Millisecond {
				single++ // one timeout: RTT + RTO exactly, give or take the delayed ACK
			}
		}
		if d > rtt+7*cfg.RTOMax {
			t.Errorf("request %d took %v", id, d)
		}
	}
	q := 1 - (1-p)*(1-p)
	mean, sd := float64(n-1)*q, math.Sqrt(float64(n-1)*q*(1-q))
	if math.Abs(float64(slow)-mean) > 4*sd {
		t.Errorf("%d requests slowed by a retransmission timeout, want %.0f ± %.0f", slow, mean, 4*sd)
	}
	if single < slow*3/4 {
		t.Errorf("only %d of %d slow requests took RTT + rto_min; most single losses should", single, slow)
	}
	if w.l.stats.Retransmits == 0 {
		t.Error("no retransmissions")
	}
}

// TestTimeWaitLittlesLaw opens a connection per request at Poisson rate λ
// and closes it from the client: each leaves a TIME_WAIT of 2·MSL, so the
// steady-state count is λ·2·MSL (Little's law, J. D. C. Little, Operations
// Research 9(3), 1961); the count at one instant is Poisson (an M/D/∞
// queue), sd √(λ·2·MSL). Samples 2·MSL apart are independent; with six of
// them we accept 3 standard deviations of their mean.
func TestTimeWaitLittlesLaw(t *testing.T) {
	const lambda = 200.0
	msl := time.Second
	for _, closer := range []Side{ClientSide, ServerSide} {
		cfg := DefaultConfig()
		cfg.HTTP = HTTP1
		cfg.MSL = msl
		cfg.Closer = closer
		cfg.Pool.Mode = PerRequest
		rng := rand.New(rand.NewPCG(5, 6))
		var sends []sim.Time
		for at := 0.0; at < 20; at += rng.ExpFloat64() / lambda {
			sends = append(sends, sim.Time(at*1e9))
		}
		w := newWorld(cfg, time.Millisecond, sends)
		sum, k := 0, 0
		for at := 8 * time.Second; at <= 18*time.Second; at += 2 * msl {
			w.run(at)
			now := w.e.Now()
			side := w.client.ep
			if closer == ServerSide {
				side = w.server.ep
			}
			if other := map[bool]*Endpoint{true: w.server.ep, false: w.client.ep}[closer == ClientSide]; other.TimeWait(now) != 0 {
				t.Errorf("closer %v: the other side holds %d TIME_WAITs", closer, other.TimeWait(now))
			}
			sum += side.TimeWait(now)
			k++
		}
		mean := float64(sum) / float64(k)
		want := lambda * 2 * msl.Seconds()
		tol := 3 * math.Sqrt(want) / math.Sqrt(float64(k))
		if math.Abs(mean-want) > tol {
			t.Errorf("closer %v: mean TIME_WAIT count %.1f, want λ·2·MSL = %.0f ± %.0f", closer, mean, want, tol)
		}
		if w.l.stats.Failures != [numCauses]int64{} {
			t.Errorf("closer %v: failures %v", closer, w.l.stats.Failures)
		}
	}
}

// TestPortExhaustion gives the client 100 ephemeral ports and opens 200
// connections a second, each holding its port for 2·MSL = 2s after close:
// at most 100 can be open or in TIME_WAIT, so about 50 connections a
// second succeed and the rest fail at once with port exhaustion.
func TestPortExhaustion(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP = HTTP1
	cfg.MSL = time.Second
	cfg.Pool.Mode = PerRequest
	cfg.Ports = PortRange{Min: 40000, Max: 40099}
	var sends []sim.Time
	for i := 0; i < 2000; i++ {
		sends = append(sends, sim.Time(time.Duration(i)*5*time.Millisecond))
	}
	w := newWorld(cfg, time.Millisecond, sends)
	for at := time.Second; at <= 10*time.Second; at += time.Second {
		w.run(at)
		if n := w.client.ep.TimeWait(w.e.Now()) + w.client.ep.ports; n > 100 {
			t.Fatalf("at %v: %d ports held, range has 100", at, n)
		}
	}
	ok, exhausted := 0, 0
	for _, d := range w.client.got {
		switch d.cause {
		case -1:
			ok++
		case int(PortExhaustion):
			exhausted++
		}
	}
	if ok+exhausted != 2000 || ok < 500 || ok > 600 || w.l.stats.PortExhaustion != int64(exhausted) {
		t.Errorf("%d answered, %d port exhaustion errors (counter %d); want about 50/s of 200/s answered", ok, exhausted, w.l.stats.PortExhaustion)
	}
}

// TestConnectionFailures checks the failure causes: refused (a crashed
// process's kernel resets the SYN), reset (an open connection to a
// crashed process), timeout (SYNs into a partition, retried after the
// initial RTO with doubling: 1s + 2s + 4s with 2 retries), half-open (a
// silently crashed machine found by keep-alive probes) and reset again
// when the machine comes back without the connection.
func TestConnectionFailures(t *testing.T) {
	rtt := 10 * time.Millisecond
	base := DefaultConfig()
	base.Kind = TCP
	type step struct {
		at time.Duration
		do func(w *world)
	}
	crash := func(w *world) { w.e.Crash(0) }
	restart := func(w *world) { w.e.Restart(0) }
	cases := []struct {
		name  string
		cfg   func(c *Config)
		sends []time.Duration
		steps []step
		id    uint64 // the request that fails
		cause Cause
		after time.Duration // its failure time after its send
		stat  Cause         // a failure counted without a request
	}{
		{"refused", nil, []time.Duration{time.Millisecond}, []step{{0, crash}}, 1, Refused, rtt, 0},
		{"reset", nil, []time.Duration{0, 200 * time.Millisecond}, []step{{100 * time.Millisecond, crash}}, 2, Reset, rtt, 0},
		{"timeout", func(c *Config) { c.SynRetries = 2 }, []time.Duration{0}, []step{{0, func(w *world) { w.net.cut = true }}}, 1, Timeout, 7 * time.Second, 0},
		{"half-open", func(c *Config) {
			c.Crash = MachineCrash
			c.KeepAlive = KeepAliveConfig{Idle: time.Second, Interval: 100 * time.Millisecond, Probes: 3}
		}, []time.Duration{0}, []step{{100 * time.Millisecond, crash}}, 0, 0, 0, HalfOpen},
		{"reset after a machine restart", func(c *Config) { c.Crash = MachineCrash }, []time.Duration{0, time.Second},
			[]step{{100 * time.Millisecond, crash}, {500 * time.Millisecond, restart}}, 2, Reset, rtt, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			var sends []sim.Time
			for _, s := range tc.sends {
				sends = append(sends, sim.Time(s))
			}
			w := newWorld(cfg, rtt/2, sends)
			for _, s := range tc.steps {
				s := s
				w.e.At(sim.Time(s.at), func() { s.do(w) })
			}
			w.run(20 * time.Second)
			if tc.id == 0 {
				if w.l.stats.Failures[tc.stat] != 1 {
					t.Errorf("failures %v, want one %v", w.l.stats.Failures, tc.stat)
				}
				return
			}
			for _, d := range w.client.got {
				if d.id != tc.id {
					continue
				}
				if d.cause != int(tc.cause) || d.at.Sub(w.client.sentAt[d.id]) != tc.after {
					t.Errorf("request %d: cause %d at +%v, want %v at +%v", d.id, d.cause, d.at.Sub(w.client.sentAt[d.id]), tc.cause, tc.after)
				}
				if w.l.stats.Failures[tc.cause] != 1 {
					t.Errorf("failure counts %v", w.l.stats.Failures)
				}
				return
			}
			t.Errorf("request %d never finished: %+v", tc.id, w.client.got)
		})
	}
}
