package retry

import (
	"strings"
	"testing"
	"time"
)

// TestBreakerScript drives a count breaker through its whole cycle.
func TestBreakerScript(t *testing.T) {
	cfg := BreakerConfig{Trip: TripCount, Failures: 3, Window: 10 * time.Second, OpenFor: time.Second, HalfOpenProbes: 2}
	b := NewBreaker(cfg)
	s := time.Second
	type step struct {
		at    time.Duration
		op    string // "allow", "ok", "fail", "expect"
		want  bool   // allow result
		state State
	}
	var tickets []Ticket
	do := func(i int, st step) {
		now := at(st.at)
		switch st.op {
		case "allow":
			tk, ok := b.Allow(now)
			if ok != st.want {
				t.Fatalf("step %d at %v: Allow = %v, want %v", i, st.at, ok, st.want)
			}
			if ok {
				tickets = append(tickets, tk)
			}
		case "ok", "fail":
			tk := tickets[0]
			tickets = tickets[1:]
			c := Success
			if st.op == "fail" {
				c = Failure
			}
			b.Record(now, tk, c)
		}
		if got := b.State(now); got != st.state {
			t.Fatalf("step %d at %v (%s): state %v, want %v", i, st.at, st.op, got, st.state)
		}
	}
	for i, st := range []step{
		{0, "allow", true, Closed},
		{0, "allow", true, Closed},
		{0, "allow", true, Closed},
		{0, "allow", true, Closed},
		{s / 10, "fail", false, Closed},
		{s / 10, "fail", false, Closed},
		{s / 5, "fail", false, Open}, // third failure in the window trips
		{s / 5, "allow", false, Open},
		{s / 2, "ok", false, Open}, // late answer from before the trip: ignored
		{s/5 + s - 1, "allow", false, Open},
		{s/5 + s, "allow", true, HalfOpen}, // recovery timeout passed: probe 1
		{s/5 + s, "allow", true, HalfOpen}, // probe 2
		{s/5 + s, "allow", false, HalfOpen},
		{s/5 + s + 1, "ok", false, HalfOpen},
		{s/5 + s + 2, "fail", false, Open}, // a failed probe reopens
		{3 * s, "allow", true, HalfOpen},
		{3 * s, "allow", true, HalfOpen},
		{3 * s, "ok", false, HalfOpen},
		{3 * s, "ok", false, Closed}, // all probes passed
		{3 * s, "allow", true, Closed},
	} {
		do(i, st)
	}
}

func TestBreakerRate(t *testing.T) {
	b := NewBreaker(BreakerConfig{Trip: TripRate, FailureRate: 0.5, MinRequests: 10, Window: 10 * time.Second, OpenFor: time.Second, HalfOpenProbes: 1})
	rec := func(now time.Duration, c Class) {
		tk, ok := b.Allow(at(now))
		if !ok {
			t.Fatalf("refused at %v", now)
		}
		b.Record(at(now), tk, c)
	}
	// 9 failures: below min_requests, stays closed.
	for i := 0; i < 9; i++ {
		rec(time.Duration(i)*time.Millisecond, Failure)
	}
	if b.State(0) != Closed {
		t.Fatal("tripped below min_requests")
	}
	// Once the window has slid past them, old failures no longer count.
	for i := 0; i < 10; i++ {
		rec(11*time.Second, Success)
	}
	for i := 0; i < 9; i++ {
		rec(11*time.Second, Failure)
	}
	if b.State(at(11*time.Second)) != Closed {
		t.Fatal("9/19 failures must not trip a 50% breaker")
	}
	rec(11*time.Second, Failure) // 10/20
	if b.State(at(11*time.Second)) != Open {
		t.Fatal("10/20 failures must trip a 50% breaker")
	}
	// Client errors are not failures.
	c := NewBreaker(BreakerConfig{Trip: TripCount, Failures: 1, Window: time.Second, OpenFor: time.Second, HalfOpenProbes: 1})
	tk, _ := c.Allow(0)
	c.Record(0, tk, ClientError)
	if c.State(0) != Closed {
		t.Fatal("client error tripped the breaker")
	}
	// A released probe frees its slot.
	tk, _ = c.Allow(0)
	c.Record(0, tk, Timeout)
	tk, ok := c.Allow(at(time.Second))
	if !ok || !tk.probe {
		t.Fatal("no probe after the timeout")
	}
	if _, ok := c.Allow(at(time.Second)); ok {
		t.Fatal("second probe allowed")
	}
	c.Release(tk)
	if _, ok := c.Allow(at(time.Second)); !ok {
		t.Fatal("released probe slot not reusable")
	}
}

func TestBreakerDisabled(t *testing.T) {
	b := NewBreaker(BreakerConfig{})
	for i := 0; i < 100; i++ {
		tk, ok := b.Allow(0)
		if !ok {
			t.Fatal("disabled breaker refused")
		}
		b.Record(0, tk, Failure)
	}
}

func TestBreakerValidate(t *testing.T) {
	d := DefaultBreakerConfig()
	with := func(f func(*BreakerConfig)) BreakerConfig { c := d; f(&c); return c }
	for _, tc := range []struct {
		name string
		c    BreakerConfig
		want string
	}{
		{"default", d, ""},
		{"count", with(func(c *BreakerConfig) { c.Trip = TripCount }), ""},
		{"rate", with(func(c *BreakerConfig) { c.Trip = TripRate }), ""},
		{"count-0", with(func(c *BreakerConfig) { c.Trip = TripCount; c.Failures = 0 }), "failures"},
		{"rate-0", with(func(c *BreakerConfig) { c.Trip = TripRate; c.FailureRate = 0 }), "failure_rate"},
		{"rate-2", with(func(c *BreakerConfig) { c.Trip = TripRate; c.FailureRate = 2 }), "failure_rate"},
		{"min-req", with(func(c *BreakerConfig) { c.Trip = TripRate; c.MinRequests = 0 }), "min_requests"},
		{"window", with(func(c *BreakerConfig) { c.Trip = TripRate; c.Window = 0 }), "window"},
		{"open-for", with(func(c *BreakerConfig) { c.Trip = TripRate; c.OpenFor = -1 }), "open_for"},
		{"probes", with(func(c *BreakerConfig) { c.Trip = TripRate; c.HalfOpenProbes = 0 }), "half_open_probes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
