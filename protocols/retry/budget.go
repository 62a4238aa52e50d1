package retry

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// BudgetKind selects a retry budget.
type BudgetKind uint8

// Retry budgets.
const (
	// NoBudget allows every retry the policy allows.
	NoBudget BudgetKind = iota
	// TokenBucket is gRPC retry throttling (gRFC A6 "Client-side retry
	// support"): every retryable failure takes one token, every success
	// adds token_ratio, and retries are allowed only while the bucket holds
	// more than half of max_tokens.
	TokenBucket
	// Percentage is Finagle's RetryBudget: retries may be at most percent
	// of the requests seen in the last window, plus a floor of
	// min_retries_per_second.
	Percentage
)

var budgetNames = [...]string{"none", "token_bucket", "percentage"}

// String returns the budget kind's YAML name.
func (k BudgetKind) String() string {
	if int(k) < len(budgetNames) {
		return budgetNames[k]
	}
	return "unknown"
}

// ParseBudgetKind parses a budget kind name.
func ParseBudgetKind(s string) (BudgetKind, error) {
	for i, n := range budgetNames {
		if s == n {
			return BudgetKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown retry budget %q (want one of %s)", s, strings.Join(budgetNames[:], ", "))
}

// MarshalText returns the kind's name.
func (k BudgetKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind name.
func (k *BudgetKind) UnmarshalText(b []byte) error {
	v, err := ParseBudgetKind(string(b))
	*k = v
	return err
}

// BudgetConfig configures a retry budget.
type BudgetConfig struct {
	// Kind is none, token_bucket or percentage.
	Kind BudgetKind `yaml:"kind"`
	// MaxTokens is the token bucket's size (gRPC allows (0, 1000]).
	// Retries stop once tokens fall to max_tokens/2, so a larger bucket
	// tolerates a longer burst of failures before throttling.
	MaxTokens float64 `yaml:"max_tokens"`
	// TokenRatio is the tokens a success puts back (gRPC allows (0, 1]).
	// 0.1 means ten successes pay for one failure.
	TokenRatio float64 `yaml:"token_ratio"`
	// Percent is the percentage of recent requests that may be retried
	// (20 = one retry per five requests), in (0, 1000].
	Percent float64 `yaml:"percent"`
	// MinRetriesPerSecond is a floor of retries always allowed, so that
	// low-traffic clients can still retry.
	MinRetriesPerSecond float64 `yaml:"min_retries_per_second"`
	// Window is how long a request counts towards the percentage budget
	// (Finagle's TTL). Longer windows smooth bursts but react slowly.
	Window time.Duration `yaml:"window"`
	// Shared makes one budget for every caller of the same tier instead of
	// one per caller node.
	Shared bool `yaml:"shared"`
}

// DefaultBudgetConfig returns no budget, with the gRPC and Finagle
// defaults filled in for when a kind is chosen: max_tokens 10,
// token_ratio 0.1, percent 20, min_retries_per_second 10, window 10s.
func DefaultBudgetConfig() BudgetConfig {
	return BudgetConfig{MaxTokens: 10, TokenRatio: 0.1, Percent: 20, MinRetriesPerSecond: 10, Window: 10 * time.Second}
}

// Validate reports impossible settings: a budget must have a positive
// rate of refill.
func (c BudgetConfig) Validate() error {
	var fe sim.FieldErrors
	switch c.Kind {
	case NoBudget:
	case TokenBucket:
		if !(c.MaxTokens > 0 && c.MaxTokens <= 1000) {
			fe.Add("max_tokens", "must be in (0, 1000], got %v", c.MaxTokens)
		}
		if !(c.TokenRatio > 0 && c.TokenRatio <= 1) {
			fe.Add("token_ratio", "must be in (0, 1] (a non-positive ratio never refills the bucket), got %v", c.TokenRatio)
		}
	case Percentage:
		if !(c.Percent > 0 && c.Percent <= 1000) {
			fe.Add("percent", "must be in (0, 1000] (a non-positive rate allows no retries), got %v", c.Percent)
		}
		if !(c.MinRetriesPerSecond >= 0) || math.IsInf(c.MinRetriesPerSecond, 0) {
			fe.Add("min_retries_per_second", "must be a finite number ≥ 0, got %v", c.MinRetriesPerSecond)
		}
		if c.Window <= 0 {
			fe.Add("window", "must be positive, got %v", c.Window)
		}
	default:
		fe.Add("kind", "unknown budget kind %d", c.Kind)
	}
	return fe.Err()
}

// Budget limits retries across calls. Callers report every new call
// (OnRequest) and every attempt's outcome (OnResult), and ask before each
// retry (TryRetry). Time is passed in, so budgets are pure state machines.
type Budget interface {
	// OnRequest records a new call (not a retry).
	OnRequest(now sim.Time)
	// OnResult records the outcome of one attempt.
	OnResult(now sim.Time, c Class)
	// TryRetry reports whether a retry may go ahead now, and if so takes
	// it out of the budget.
	TryRetry(now sim.Time) bool
	// Level returns the budget's current level for a gauge: tokens for a
	// bucket, retries currently allowed for a percentage budget.
	Level(now sim.Time) float64
}

// NewBudget returns the budget c describes (Unlimited for NoBudget).
func NewBudget(c BudgetConfig) Budget {
	switch c.Kind {
	case TokenBucket:
		return NewTokenBucket(c.MaxTokens, c.TokenRatio)
	case Percentage:
		return NewPercentBudget(c.Percent, c.MinRetriesPerSecond, c.Window)
	}
	return Unlimited{}
}

// Unlimited is the budget that allows every retry.
type Unlimited struct{}

// OnRequest does nothing.
func (Unlimited) OnRequest(sim.Time) {}

// OnResult does nothing.
func (Unlimited) OnResult(sim.Time, Class) {}

// TryRetry always allows.
func (Unlimited) TryRetry(sim.Time) bool { return true }

// Level returns +Inf.
func (Unlimited) Level(sim.Time) float64 { return math.Inf(1) }

// Bucket is gRPC-style retry throttling (gRFC A6): the bucket starts full
// at max tokens; each attempt that fails with a retryable class takes one
// token, each success adds ratio tokens (never above max); retries are
// allowed while tokens > max/2. Tokens are kept in thousandths, as gRPC
// does, so that the arithmetic is exact.
type Bucket struct {
	max, ratio, tokens int64 // milli-tokens
}

// NewTokenBucket returns a full bucket.
func NewTokenBucket(maxTokens, ratio float64) *Bucket {
	m := int64(math.Round(maxTokens * 1000))
	return &Bucket{max: m, ratio: int64(math.Round(ratio * 1000)), tokens: m}
}

// OnRequest does nothing: the bucket counts outcomes.
func (b *Bucket) OnRequest(sim.Time) {}

// OnResult adds ratio on success and takes one token on a failure that
// could be retried (overload, failure, timeout). Client errors leave the
// bucket alone: they say nothing about the server's health.
func (b *Bucket) OnResult(_ sim.Time, c Class) {
	switch c {
	case Success:
		b.tokens = min(b.max, b.tokens+b.ratio)
	case ClientError:
	default:
		b.tokens = max(0, b.tokens-1000)
	}
}

// TryRetry allows a retry while tokens exceed half the bucket. Retries
// spend nothing extra: their failures are what drain the bucket.
func (b *Bucket) TryRetry(sim.Time) bool { return b.tokens*2 > b.max }

// Level returns the tokens in the bucket.
func (b *Bucket) Level(sim.Time) float64 { return float64(b.tokens) / 1000 }

// PercentBudget is Finagle's retry budget (com.twitter.finagle.service.
// RetryBudget): every request deposits one unit, every retry withdraws
// 100/percent units, deposits expire after the window, and a reserve of
// min_retries_per_second × window withdrawals is always available. The
// balance lives in a ring of ten slices covering the window.
type PercentBudget struct {
	deposit, withdraw, reserve int64
	slice                      time.Duration
	ring                       [percentSlices]int64
	head                       int      // slice holding start
	start                      sim.Time // start of the head slice
}

const percentSlices = 10

// NewPercentBudget returns a budget allowing percent% of the requests of
// the last window as retries, plus minPerSecond retries per second.
func NewPercentBudget(percent, minPerSecond float64, window time.Duration) *PercentBudget {
	const scale = 1000
	p := &PercentBudget{deposit: scale, withdraw: int64(math.Round(scale * 100 / percent))}
	p.reserve = int64(math.Round(minPerSecond*window.Seconds())) * p.withdraw
	p.slice = window / percentSlices
	if p.slice <= 0 {
		p.slice = 1
	}
	return p
}

// advance expires slices older than the window.
func (p *PercentBudget) advance(now sim.Time) {
	if now < p.start+sim.Time(p.slice) {
		return
	}
	steps := int64(now.Sub(p.start) / p.slice)
	if steps >= percentSlices {
		p.ring = [percentSlices]int64{}
		p.head = 0
	} else {
		for i := int64(0); i < steps; i++ {
			p.head = (p.head + 1) % percentSlices
			p.ring[p.head] = 0
		}
	}
	p.start += sim.Time(steps * int64(p.slice))
}

func (p *PercentBudget) balance() int64 {
	var s int64
	for _, v := range p.ring {
		s += v
	}
	return s + p.reserve
}

// OnRequest deposits one request.
func (p *PercentBudget) OnRequest(now sim.Time) {
	p.advance(now)
	p.ring[p.head] += p.deposit
}

// OnResult does nothing: the percentage budget counts requests.
func (p *PercentBudget) OnResult(sim.Time, Class) {}

// TryRetry withdraws one retry if the balance allows it.
func (p *PercentBudget) TryRetry(now sim.Time) bool {
	p.advance(now)
	if p.balance() < p.withdraw {
		return false
	}
	p.ring[p.head] -= p.withdraw
	return true
}

// Level returns the number of retries the balance allows now.
func (p *PercentBudget) Level(now sim.Time) float64 {
	p.advance(now)
	return float64(max(0, p.balance()) / p.withdraw)
}
