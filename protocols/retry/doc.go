// Package retry holds the pure decision logic of resilient callers: retry
// schedules with backoff and jitter (Policy), retry budgets (Budget: a
// gRPC-style token Bucket and a Finagle-style PercentBudget) and circuit
// breakers (Breaker). None of them reads a clock or a global random
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
//	}
package retry
