package retry

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

func at(d time.Duration) sim.Time { return sim.Time(d) }

// TestBucket scripts gRPC retry throttling (gRFC A6) with max_tokens 10
// and token_ratio 0.1: the bucket starts full, failures take 1, successes
// give 0.1, retries are allowed while tokens > 5.
func TestBucket(t *testing.T) {
	b := NewTokenBucket(10, 0.1)
	steps := []struct {
		op     string // "s" success, "f" failure, "c" client error
		tokens float64
		allow  bool
	}{
		{"f", 9, true}, {"f", 8, true}, {"f", 7, true}, {"f", 6, true},
		{"f", 5, false}, // exactly half: not above it
		{"s", 5.1, true},
		{"c", 5.1, true}, // client errors say nothing about health
		{"f", 4.1, false}, {"f", 3.1, false}, {"f", 2.1, false}, {"f", 1.1, false}, {"f", 0.1, false},
		{"f", 0, false}, // floor at zero
		{"s", 0.1, false},
	}
	for i, s := range steps {
		c := map[string]Class{"s": Success, "f": Failure, "c": ClientError}[s.op]
		b.OnResult(0, c)
		if got := b.Level(0); math.Abs(got-s.tokens) > 1e-9 {
			t.Fatalf("step %d (%s): tokens %v, want %v", i, s.op, got, s.tokens)
		}
		if got := b.TryRetry(0); got != s.allow {
			t.Fatalf("step %d (%s): TryRetry %v, want %v", i, s.op, got, s.allow)
		}
	}
	for i := 0; i < 200; i++ {
		b.OnResult(0, Success)
	}
	if b.Level(0) != 10 {
		t.Fatalf("bucket overfilled: %v", b.Level(0))
	}
}

// TestPercentBudget checks Finagle's budget: percent of requests in the
// window plus the min-per-second reserve, deposits expiring after the
// window.
func TestPercentBudget(t *testing.T) {
	// 20% of requests, 1 retry/s floor, 10s window: reserve 10 retries.
	p := NewPercentBudget(20, 1, 10*time.Second)
	if got := p.Level(0); got != 10 {
		t.Fatalf("reserve: %v retries, want 10", got)
	}
	for i := 0; i < 100; i++ {
		p.OnRequest(at(time.Second))
	}
	if got := p.Level(at(time.Second)); got != 30 {
		t.Fatalf("after 100 requests: %v retries, want 10+20", got)
	}
	n := 0
	for p.TryRetry(at(2 * time.Second)) {
		n++
	}
	if n != 30 {
		t.Fatalf("withdrew %d retries, want 30", n)
	}
	// The deposits (made in slice [1s,2s)) and the withdrawals (slice
	// [2s,3s)) expire one window later, one slice apart.
	if got := p.Level(at(11 * time.Second)); got != 0 {
		t.Fatalf("at 11s: %v, want 0 (deposits expired, withdrawals not)", got)
	}
	if got := p.Level(at(12 * time.Second)); got != 10 {
		t.Fatalf("at 12s: %v, want the reserve 10", got)
	}
	// Without a floor, nothing is allowed until requests come in.
	q := NewPercentBudget(50, 0, time.Second)
	if q.TryRetry(0) {
		t.Fatal("empty budget allowed a retry")
	}
	q.OnRequest(0)
	q.OnRequest(0)
	if !q.TryRetry(0) || q.TryRetry(0) {
		t.Fatal("50% of 2 requests must allow exactly 1 retry")
	}
}

func TestUnlimited(t *testing.T) {
	b := NewBudget(BudgetConfig{})
	for i := 0; i < 1000; i++ {
		b.OnResult(0, Failure)
		if !b.TryRetry(0) {
			t.Fatal("unlimited budget refused")
		}
	}
	if !math.IsInf(b.Level(0), 1) {
		t.Fatal("level")
	}
}

func TestBudgetValidate(t *testing.T) {
	d := DefaultBudgetConfig()
	with := func(f func(*BudgetConfig)) BudgetConfig { c := d; f(&c); return c }
	for _, tc := range []struct {
		name string
		c    BudgetConfig
		want string
	}{
		{"default", d, ""},
		{"bucket", with(func(c *BudgetConfig) { c.Kind = TokenBucket }), ""},
		{"percent", with(func(c *BudgetConfig) { c.Kind = Percentage }), ""},
		{"zero-ratio", with(func(c *BudgetConfig) { c.Kind = TokenBucket; c.TokenRatio = 0 }), "token_ratio: must be in (0, 1]"},
		{"neg-ratio", with(func(c *BudgetConfig) { c.Kind = TokenBucket; c.TokenRatio = -1 }), "token_ratio"},
		{"no-tokens", with(func(c *BudgetConfig) { c.Kind = TokenBucket; c.MaxTokens = 0 }), "max_tokens"},
		{"zero-percent", with(func(c *BudgetConfig) { c.Kind = Percentage; c.Percent = 0 }), "percent: must be in (0, 1000]"},
		{"neg-min", with(func(c *BudgetConfig) { c.Kind = Percentage; c.MinRetriesPerSecond = -1 }), "min_retries_per_second"},
		{"no-window", with(func(c *BudgetConfig) { c.Kind = Percentage; c.Window = 0 }), "window"},
		{"nan", with(func(c *BudgetConfig) { c.Kind = Percentage; c.Percent = math.NaN() }), "percent"},
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
