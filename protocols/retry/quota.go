package retry

import (
	"math"

	"github.com/dsim-dev/dsim/sim"
)

// Tracker is a Budget that follows retries and calls to their end: the
// cost of a retry depends on the failure it retries, and what is given
// back depends on how the call ended. Callers that find a Tracker use
// RetryAfter instead of TryRetry, call RetryEnded when the attempt a
// retry paid for has ended (or the call gave up before sending it), and
// CallEnded once per call.
type Tracker interface {
	Budget
	// RetryAfter takes a retry after an attempt that ended in class c,
	// returning the tokens the retry holds and whether it may go ahead.
	RetryAfter(now sim.Time, c Class) (cost float64, ok bool)
	// RetryEnded reports that the attempt a retry of the given cost paid
	// for has ended, whatever its outcome.
	RetryEnded(now sim.Time, cost float64)
	// CallEnded reports a call's final class and the cost of its last
	// retry (0 when it made none).
	CallEnded(now sim.Time, c Class, lastCost float64)
}

// QuotaBucket is the retry quota of the AWS SDKs' standard retry mode
// (AWS SDKs and Tools Reference Guide, "Retry behavior"; botocore
// retries/standard.py and retries/quota.py): a pool that starts with
// capacity tokens; a retry after a timeout costs timeoutCost, after any
// other retryable error retryCost, and is refused when the pool holds
// less; a call that succeeds puts back the cost of its last retry, or
// successRefill when it succeeded at once; the pool never exceeds its
// capacity. Failures alone never take tokens: only retries do.
type QuotaBucket struct {
	capacity, tokens               float64
	retryCost, timeoutCost, refill float64
}

var _ Tracker = (*QuotaBucket)(nil)

// NewQuota returns a full quota.
func NewQuota(capacity, retryCost, timeoutCost, successRefill float64) *QuotaBucket {
	return &QuotaBucket{capacity: capacity, tokens: capacity, retryCost: retryCost, timeoutCost: timeoutCost, refill: successRefill}
}

// Cost returns what a retry after class c takes.
func (q *QuotaBucket) Cost(c Class) float64 {
	if c == Timeout {
		return q.timeoutCost
	}
	return q.retryCost
}

// OnRequest does nothing: the quota charges retries.
func (q *QuotaBucket) OnRequest(sim.Time) {}

// OnResult does nothing: refills happen when a call ends.
func (q *QuotaBucket) OnResult(sim.Time, Class) {}

// TryRetry is RetryAfter for a failure that is not a timeout.
func (q *QuotaBucket) TryRetry(now sim.Time) bool {
	_, ok := q.RetryAfter(now, Failure)
	return ok
}

// RetryAfter takes the cost of retrying after c, if the pool holds it.
func (q *QuotaBucket) RetryAfter(_ sim.Time, c Class) (float64, bool) {
	cost := q.Cost(c)
	if q.tokens < cost {
		return 0, false
	}
	q.tokens -= cost
	return cost, true
}

// RetryEnded does nothing: the cost is settled when the call ends.
func (q *QuotaBucket) RetryEnded(sim.Time, float64) {}

// CallEnded refills the pool after a success: the last retry's cost, or
// success_refill for a call that needed no retry.
func (q *QuotaBucket) CallEnded(_ sim.Time, c Class, lastCost float64) {
	if c != Success {
		return
	}
	add := q.refill
	if lastCost > 0 {
		add = lastCost
	}
	q.tokens = math.Min(q.capacity, q.tokens+add)
}

// Level returns the tokens in the pool.
func (q *QuotaBucket) Level(sim.Time) float64 { return q.tokens }

// PerCallBucket is the adaptive token bucket of M. Brooker's retry
// simulator (the AdaptiveRetryStrategy of
// github.com/mbrooker/simulator, companion to "Fixing retries with token
// buckets and circuit breakers", 2022): it starts full; each new call
// adds refill tokens, up to size; a retry is allowed while more than one
// token is left and takes one. Outcomes play no part: the bucket bounds
// retries to refill per call in the long run.
type PerCallBucket struct {
	size, refill, tokens float64
}

// NewPerCallBucket returns a full bucket.
func NewPerCallBucket(size, refill float64) *PerCallBucket {
	return &PerCallBucket{size: size, refill: refill, tokens: size}
}

// OnRequest adds refill tokens.
func (b *PerCallBucket) OnRequest(sim.Time) { b.tokens = math.Min(b.size, b.tokens+b.refill) }

// OnResult does nothing.
func (b *PerCallBucket) OnResult(sim.Time, Class) {}

// TryRetry takes a token while more than one is left.
func (b *PerCallBucket) TryRetry(sim.Time) bool {
	if b.tokens > 1 {
		b.tokens--
		return true
	}
	return false
}

// Level returns the tokens in the bucket.
func (b *PerCallBucket) Level(sim.Time) float64 { return b.tokens }

// ConcurrencyBudget is Envoy's retry budget (envoy.config.cluster.v3.
// CircuitBreakers.Thresholds.RetryBudget): the retries in flight may be
// at most percent of the calls in flight, and never fewer than
// minConcurrency. With percent 0 it is Envoy's plain max_retries circuit
// breaker threshold: a fixed cap on retries in flight.
type ConcurrencyBudget struct {
	percent float64
	min     int
	calls   int // in flight
	retries int // in flight
}

var _ Tracker = (*ConcurrencyBudget)(nil)

// NewConcurrencyBudget returns a budget with nothing in flight.
func NewConcurrencyBudget(percent float64, minConcurrency int) *ConcurrencyBudget {
	return &ConcurrencyBudget{percent: percent, min: minConcurrency}
}

// Limit returns the retries allowed in flight now.
func (b *ConcurrencyBudget) Limit() int {
	return max(b.min, int(b.percent/100*float64(b.calls)))
}

// OnRequest counts a call in flight.
func (b *ConcurrencyBudget) OnRequest(sim.Time) { b.calls++ }

// OnResult does nothing.
func (b *ConcurrencyBudget) OnResult(sim.Time, Class) {}

// TryRetry is RetryAfter whatever the class.
func (b *ConcurrencyBudget) TryRetry(now sim.Time) bool {
	_, ok := b.RetryAfter(now, Failure)
	return ok
}

// RetryAfter takes a retry slot if one is free.
func (b *ConcurrencyBudget) RetryAfter(sim.Time, Class) (float64, bool) {
	if b.retries >= b.Limit() {
		return 0, false
	}
	b.retries++
	return 1, true
}

// RetryEnded frees a retry slot.
func (b *ConcurrencyBudget) RetryEnded(_ sim.Time, cost float64) {
	if cost > 0 && b.retries > 0 {
		b.retries--
	}
}

// CallEnded counts a call out.
func (b *ConcurrencyBudget) CallEnded(sim.Time, Class, float64) {
	if b.calls > 0 {
		b.calls--
	}
}

// Level returns the retry slots free now.
func (b *ConcurrencyBudget) Level(sim.Time) float64 { return float64(max(0, b.Limit()-b.retries)) }
