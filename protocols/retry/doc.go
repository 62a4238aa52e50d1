// Package retry holds the pure decision logic of resilient callers and
// servers: retry schedules with backoff and jitter (Policy); retry budgets
// (Budget: gRPC's token Bucket, Finagle's PercentBudget, Brooker's
// PerCallBucket, and the Trackers that follow calls to their end — the
// AWS SDKs' outcome-charged QuotaBucket and Envoy's ConcurrencyBudget);
// circuit breakers (Breaker, blocking everything or retries only);
// client-side adaptive throttling (Throttle, SRE book ch. 21); the AWS
// adaptive-mode RateLimiter; server pushback (PushbackConfig.Delay);
// outlier ejection (Ejector) and adaptive concurrency limits (Limiter:
// AIMD and gradient). None of them reads a clock or a global random
// source: time comes in as sim.Time arguments and randomness as a uniform
// draw or a *rand.Rand, so schedules and state changes are exact and
// table-testable. Package rpc wires them into callers.
//
// A caller's loop, for one call:
//
//	budget.OnRequest(now)
//	for n := 1; ; n++ {
//		ticket, ok := breaker.Allow(now)
//		if !ok { return circuitOpen }
//		class := attempt()                // at some later now
//		breaker.Record(now, ticket, class)
//		budget.OnResult(now, class)
//		if !policy.ShouldRetry(n, class) || !budget.TryRetry(now) { return class }
//		prev = policy.Next(n, prev, rng)  // wait prev, then try again
//		prev, ok = pushback.Delay(prev, hint) // a server's retry-after, if honoured
//	}
//
// With a Tracker budget, TryRetry becomes RetryAfter(now, class) and the
// call reports RetryEnded and CallEnded; with a Throttle, each attempt
// first asks Allow(now, u) and each answer that is not an overload
// refusal calls Accept.
package retry
