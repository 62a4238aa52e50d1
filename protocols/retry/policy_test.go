package retry

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const ms = time.Millisecond

func TestDelay(t *testing.T) {
	exp := Policy{Kind: Exponential, MaxAttempts: 10, Base: 10 * ms, Cap: 100 * ms, Multiplier: 2}
	withJ := func(p Policy, j Jitter) Policy { p.Jitter = j; return p }
	fixed := Policy{Kind: Fixed, MaxAttempts: 3, Base: 50 * ms}
	for _, tc := range []struct {
		name string
		p    Policy
		n    int
		prev time.Duration
		u    float64
		want time.Duration
	}{
		{"none", NoRetry(), 1, 0, 0.5, 0},
		{"immediate", Policy{Kind: Immediate, MaxAttempts: 3}, 2, 0, 0.5, 0},
		{"fixed", fixed, 1, 0, 0.9, 50 * ms},
		{"fixed-2", fixed, 2, 0, 0.9, 50 * ms},
		{"fixed-full", withJ(fixed, FullJitter), 2, 0, 0.5, 25 * ms},
		{"fixed-equal", withJ(fixed, EqualJitter), 2, 0, 0.5, 37500 * time.Microsecond},
		{"exp-1", exp, 1, 0, 0, 10 * ms},
		{"exp-2", exp, 2, 0, 0, 20 * ms},
		{"exp-3", exp, 3, 0, 0, 40 * ms},
		{"exp-4", exp, 4, 0, 0, 80 * ms},
		{"exp-5-capped", exp, 5, 0, 0, 100 * ms},
		{"exp-60-capped", exp, 60, 0, 0, 100 * ms},
		{"exp-2000-capped", exp, 2000, 0, 0, 100 * ms},
		{"exp-0-is-1", exp, 0, 0, 0, 10 * ms},
		{"exp-mult-3", Policy{Kind: Exponential, Base: ms, Cap: time.Second, Multiplier: 3}, 3, 0, 0, 9 * ms},
		// full: random_between(0, d)
		{"full-u0", withJ(exp, FullJitter), 3, 0, 0, 0},
		{"full-u.25", withJ(exp, FullJitter), 3, 0, 0.25, 10 * ms},
		{"full-capped", withJ(exp, FullJitter), 9, 0, 0.5, 50 * ms},
		// equal: d/2 + random_between(0, d/2)
		{"equal-u0", withJ(exp, EqualJitter), 3, 0, 0, 20 * ms},
		{"equal-u.5", withJ(exp, EqualJitter), 3, 0, 0.5, 30 * ms},
		{"equal-capped", withJ(exp, EqualJitter), 9, 0, 0.5, 75 * ms},
		// decorrelated: min(cap, random_between(base, prev*3)), prev from base
		{"decor-first-u0", withJ(exp, DecorrelatedJitter), 1, 0, 0, 10 * ms},
		{"decor-first-u.5", withJ(exp, DecorrelatedJitter), 1, 0, 0.5, 20 * ms},
		{"decor-prev20-u.5", withJ(exp, DecorrelatedJitter), 2, 20 * ms, 0.5, 35 * ms},
		{"decor-capped", withJ(exp, DecorrelatedJitter), 5, 90 * ms, 0.9, 100 * ms},
		{"decor-ignores-n", withJ(exp, DecorrelatedJitter), 7, 20 * ms, 0, 10 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Delay(tc.n, tc.prev, tc.u); got != tc.want {
				t.Errorf("Delay(%d, %v, %v) = %v, want %v", tc.n, tc.prev, tc.u, got, tc.want)
			}
		})
	}
}

// TestJitterRanges draws many delays and checks each stays inside the
// interval its definition allows.
func TestJitterRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base, cp := 10*ms, 200*ms
	for _, j := range []Jitter{NoJitter, FullJitter, EqualJitter, DecorrelatedJitter} {
		p := Policy{Kind: Exponential, MaxAttempts: 20, Base: base, Cap: cp, Multiplier: 2, Jitter: j}
		prev := time.Duration(0)
		for n := 1; n < 2000; n++ {
			d := p.Next(n%20+1, prev, r)
			raw := min(cp, base<<min(n%20, 30))
			lo, hi := raw, raw
			switch j {
			case FullJitter:
				lo = 0
			case EqualJitter:
				lo = raw / 2
			case DecorrelatedJitter:
				lo, hi = base, min(cp, 3*max(prev, base))
			}
			if d < lo || d > hi {
				t.Fatalf("%s n=%d: delay %v outside [%v, %v]", j, n%20+1, d, lo, hi)
			}
			prev = d
		}
	}
}

func TestShouldRetry(t *testing.T) {
	p := Policy{Kind: Immediate, MaxAttempts: 3}
	only := Policy{Kind: Immediate, MaxAttempts: 3, RetryOn: []Class{Timeout}}
	for _, tc := range []struct {
		p    Policy
		n    int
		c    Class
		want bool
	}{
		{p, 1, Failure, true},
		{p, 2, Overload, true},
		{p, 2, Timeout, true},
		{p, 3, Failure, false}, // bound reached
		{p, 1, ClientError, false},
		{p, 1, Success, false},
		{only, 1, Timeout, true},
		{only, 1, Failure, false},
		{NoRetry(), 1, Failure, false},
	} {
		if got := tc.p.ShouldRetry(tc.n, tc.c); got != tc.want {
			t.Errorf("%+v ShouldRetry(%d, %s) = %v, want %v", tc.p, tc.n, tc.c, got, tc.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		want string // substring of the error; "" = valid
	}{
		{"default", DefaultPolicy(), ""},
		{"none", NoRetry(), ""},
		{"zero", Policy{}, ""},
		{"naive-bounded", Policy{Kind: Immediate, MaxAttempts: 3}, ""},
		{"naive-unbounded", Policy{Kind: Immediate}, "max_attempts: a immediate retry policy needs a bound"},
		{"exp-unbounded", Policy{Kind: Exponential, Base: ms, Cap: ms, Multiplier: 2}, "needs a bound"},
		{"none-with-attempts", Policy{Kind: None, MaxAttempts: 3}, "policy none makes one attempt"},
		{"fixed-no-base", Policy{Kind: Fixed, MaxAttempts: 2}, "base: a fixed policy needs a positive base"},
		{"cap-below-base", Policy{Kind: Exponential, MaxAttempts: 2, Base: 10 * ms, Cap: ms, Multiplier: 2}, "cap: must be at least base"},
		{"mult", Policy{Kind: Exponential, MaxAttempts: 2, Base: ms, Cap: ms, Multiplier: 0.5}, "multiplier"},
		{"decor-fixed", Policy{Kind: Fixed, MaxAttempts: 2, Base: ms, Jitter: DecorrelatedJitter}, "decorrelated jitter needs"},
		{"jitter-naive", Policy{Kind: Immediate, MaxAttempts: 2, Jitter: FullJitter}, "no delay to jitter"},
		{"retry-client-error", Policy{Kind: Immediate, MaxAttempts: 2, RetryOn: []Class{ClientError}}, "retry_on[0]: client errors are never retried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPolicyYAML(t *testing.T) {
	var p Policy
	src := "{policy: naive, max_attempts: 3, retry_on: [timeout, overload]}"
	if err := yaml.Unmarshal([]byte(src), &p); err != nil {
		t.Fatal(err)
	}
	if p.Kind != Immediate || p.MaxAttempts != 3 || len(p.RetryOn) != 2 || p.RetryOn[0] != Timeout {
		t.Fatalf("decoded %+v", p)
	}
	src = "{policy: exponential, max_attempts: 4, base: 5ms, cap: 1s, multiplier: 2, jitter: decorrelated}"
	p = Policy{}
	if err := yaml.Unmarshal([]byte(src), &p); err != nil {
		t.Fatal(err)
	}
	if p.Base != 5*ms || p.Cap != time.Second || p.Jitter != DecorrelatedJitter || p.Validate() != nil {
		t.Fatalf("decoded %+v (%v)", p, p.Validate())
	}
	if err := yaml.Unmarshal([]byte("{policy: sometimes}"), &p); err == nil || !strings.Contains(err.Error(), "unknown retry policy") {
		t.Fatalf("bad policy name: %v", err)
	}
}

func TestEnumStrings(t *testing.T) {
	for _, k := range []Kind{None, Immediate, Fixed, Exponential} {
		if v, err := ParseKind(k.String()); err != nil || v != k {
			t.Errorf("kind %v round trip: %v %v", k, v, err)
		}
	}
	for _, j := range []Jitter{NoJitter, FullJitter, EqualJitter, DecorrelatedJitter} {
		if v, err := ParseJitter(j.String()); err != nil || v != j {
			t.Errorf("jitter %v round trip: %v %v", j, v, err)
		}
	}
	for _, c := range []Class{Success, ClientError, Overload, Failure, Timeout} {
		if v, err := ParseClass(c.String()); err != nil || v != c {
			t.Errorf("class %v round trip: %v %v", c, v, err)
		}
	}
	for _, k := range []BudgetKind{NoBudget, TokenBucket, Percentage} {
		if v, err := ParseBudgetKind(k.String()); err != nil || v != k {
			t.Errorf("budget %v round trip: %v %v", k, v, err)
		}
	}
	for _, k := range []Trip{NoBreaker, TripCount, TripRate} {
		if v, err := ParseTrip(k.String()); err != nil || v != k {
			t.Errorf("trip %v round trip: %v %v", k, v, err)
		}
	}
	if Kind(9).String() != "Kind(9)" || HalfOpen.String() != "half_open" {
		t.Error("bad names")
	}
}
