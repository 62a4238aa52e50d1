package retry

import (
	"math"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=BudgetKind -linecomment -output=budget_string.go

// BudgetKind selects a retry budget.
type BudgetKind uint8

// Retry budgets.
const (
	// NoBudget allows every retry the policy allows.
	NoBudget BudgetKind = iota // none
	// TokenBucket is gRPC retry throttling (gRFC A6 "Client-side retry
	// support"): every retryable failure takes one token, every success
	// adds token_ratio, and retries are allowed only while the bucket holds
	// more than half of max_tokens.
	TokenBucket // token_bucket
	// Percentage is Finagle's RetryBudget: retries may be at most percent
	// of the requests seen in the last window, plus a floor of
	// min_retries_per_second (mind that floor at small request rates:
	// see DefaultBudgetConfig).
	Percentage // percentage
	// Quota is the AWS SDKs' standard-mode retry quota: a pool of
	// capacity tokens; a retry costs retry_cost, or timeout_cost after a
	// timeout; a call that succeeds gives back what its last retry cost,
	// or success_refill when it needed no retry.
	Quota // quota
	// PerCall is the adaptive token bucket of M. Brooker's retry
	// simulator: every new call adds token_ratio tokens (at most
	// max_tokens) and every retry takes one while more than one is left,
	// whatever the outcomes.
	PerCall // per_call
	// Concurrency is Envoy's retry budget: retries in flight may be at
	// most percent of the calls in flight, with a floor of
	// min_concurrency.
	Concurrency // concurrency
)

// ParseBudgetKind parses a budget kind name.
func ParseBudgetKind(s string) (BudgetKind, error) { return enum.Parse[BudgetKind]("retry budget", s) }

// MarshalText returns the kind's name.
func (k BudgetKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind name.
func (k *BudgetKind) UnmarshalText(b []byte) error { return enum.Set(k, "retry budget", string(b)) }

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
	// low-traffic clients can still retry. Finagle's default is 10, and
	// it comes on top of percent: at small request rates the floor, not
	// the percentage, sets the budget (at 20 requests/s a floor of 10 per
	// second lets every failed request be retried), which inflates
	// small-rate figures. Set 0 to measure the percentage alone.
	MinRetriesPerSecond float64 `yaml:"min_retries_per_second"`
	// Window is how long a request counts towards the percentage budget
	// (Finagle's TTL). Longer windows smooth bursts but react slowly.
	Window time.Duration `yaml:"window"`
	// Capacity is the quota's pool of tokens (kind quota; the AWS SDKs
	// use 500). It starts full.
	Capacity float64 `yaml:"capacity"`
	// RetryCost is what a retry after an error takes from the quota (AWS:
	// 5). Must not be negative.
	RetryCost float64 `yaml:"retry_cost"`
	// TimeoutCost is what a retry after a timeout takes (AWS: 10): a
	// timeout says more about an overloaded server than an error does.
	TimeoutCost float64 `yaml:"timeout_cost"`
	// SuccessRefill is what a call that succeeded at its first attempt
	// puts back into the quota (AWS: 1).
	SuccessRefill float64 `yaml:"success_refill"`
	// MinConcurrency is the retries that may always be in flight (kind
	// concurrency; Envoy's min_retry_concurrency, 3).
	MinConcurrency int `yaml:"min_concurrency"`
	// Shared makes one budget for every caller of the same tier instead of
	// one per caller node.
	Shared bool `yaml:"shared"`
}

// BudgetFields lists the YAML fields that budget kind k uses (besides
// kind itself), for telling a user that a field does nothing.
func BudgetFields(k BudgetKind) []string {
	switch k {
	case TokenBucket, PerCall:
		return []string{"max_tokens", "token_ratio", "shared"}
	case Percentage:
		return []string{"percent", "min_retries_per_second", "window", "shared"}
	case Quota:
		return []string{"capacity", "retry_cost", "timeout_cost", "success_refill", "shared"}
	case Concurrency:
		return []string{"percent", "min_concurrency", "shared"}
	}
	return nil
}

// DefaultBudgetConfig returns no budget, with the gRPC, Finagle, AWS and
// Envoy defaults filled in for when a kind is chosen: max_tokens 10,
// token_ratio 0.1, percent 20, min_retries_per_second 10, window 10s,
// capacity 500, retry_cost 5, timeout_cost 10, success_refill 1,
// min_concurrency 3.
//
// Mind min_retries_per_second with kind percentage: Finagle's floor of
// 10 retries per second is granted on top of percent, so at small request
// rates it dominates (at 20 requests/s it alone allows every request to be
// retried once, and more); set it to 0 to see the percentage alone.
func DefaultBudgetConfig() BudgetConfig {
	return BudgetConfig{MaxTokens: 10, TokenRatio: 0.1, Percent: 20, MinRetriesPerSecond: 10, Window: 10 * time.Second,
		Capacity: 500, RetryCost: 5, TimeoutCost: 10, SuccessRefill: 1, MinConcurrency: 3}
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
	case Quota:
		if !(c.Capacity > 0) || math.IsInf(c.Capacity, 0) {
			fe.Add("capacity", "must be a finite number > 0, got %v", c.Capacity)
		}
		if !(c.SuccessRefill >= 0) || math.IsInf(c.SuccessRefill, 0) {
			fe.Add("success_refill", "must be a finite number ≥ 0, got %v", c.SuccessRefill)
		}
	case PerCall:
		if !(c.MaxTokens > 1) || math.IsInf(c.MaxTokens, 0) {
			fe.Add("max_tokens", "must be a finite number > 1 (a retry needs more than one token), got %v", c.MaxTokens)
		}
		if !(c.TokenRatio > 0 && c.TokenRatio <= 1) {
			fe.Add("token_ratio", "must be in (0, 1] (the tokens each new call adds), got %v", c.TokenRatio)
		}
	case Concurrency:
		if !(c.Percent >= 0 && c.Percent <= 1000) {
			fe.Add("percent", "must be in [0, 1000], got %v", c.Percent)
		}
		if c.MinConcurrency < 0 {
			fe.Add("min_concurrency", "must not be negative, got %d", c.MinConcurrency)
		}
		if c.Percent == 0 && c.MinConcurrency == 0 {
			fe.Add("min_concurrency", "with percent 0 the budget allows no retry; set min_concurrency ≥ 1")
		}
	default:
		fe.Add("kind", "unknown budget kind %d", c.Kind)
	}
	// Costs are checked whatever the kind: a negative cost would mint
	// tokens with every retry.
	if !(c.RetryCost >= 0) || math.IsInf(c.RetryCost, 0) {
		fe.Add("retry_cost", "must be a finite number ≥ 0 (a negative cost would add tokens with every retry), got %v", c.RetryCost)
	}
	if !(c.TimeoutCost >= 0) || math.IsInf(c.TimeoutCost, 0) {
		fe.Add("timeout_cost", "must be a finite number ≥ 0 (a negative cost would add tokens with every retry), got %v", c.TimeoutCost)
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
	case Quota:
		return NewQuota(c.Capacity, c.RetryCost, c.TimeoutCost, c.SuccessRefill)
	case PerCall:
		return NewPerCallBucket(c.MaxTokens, c.TokenRatio)
	case Concurrency:
		return NewConcurrencyBudget(c.Percent, c.MinConcurrency)
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
