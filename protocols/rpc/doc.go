// Package rpc simulates request/response services and the resilience
// machinery around their calls: per-try timeouts, deadlines propagated
// down the call graph, retries with backoff and jitter (package retry),
// retry budgets, circuit breakers, hedged requests, bulkheads and load
// balancing, over any sim.Network.
//
// A Config is a service graph: named services (each with replicas, a
// worker pool, a bounded queue with a queue timeout, a service-time
// distribution, injected errors and an overload mode) whose requests call
// other services serially or in parallel, plus the client nodes at the
// top. Every hop (CallConfig) has its own timeout, retry policy, budget,
// breaker, hedging, bulkhead and balancer.
//
//	cfg := rpc.DefaultConfig()
//	cfg.Services["api"] = rpc.ServiceConfig{Replicas: 3, Workers: 8, Queue: 50,
//		ServiceTime: rpc.DistConfig{Dist: "exponential", Mean: 2 * time.Millisecond},
//		Calls: []rpc.CallConfig{db}}
//	cfg.Services["db"] = ...
//	cfg.Client.Call.Service = "api"
//	cfg.Workload.Rate = 1000                   // open loop, requests/s
//	e := sim.New(sim.Config{Seed: 1, Metrics: rec})
//	d, err := rpc.Build(e, cfg)                // nodes api-0.., db-0.., client-0..
//	err = e.Run(sim.Time(60 * time.Second))
//	fmt.Println(d.Stats().Amplification("db"), d.Stats().SuccessRate())
//
// In an experiment file the same graph sits under `protocol: {name: rpc}`
// and its replicas run on the experiment's nodes (see Config.Build).
// Named presets under `variants:` set the resilience of every hop at once,
// and `variant:` picks one, so a sweep over variant compares setups:
//
//	variant: naive
//	variants:
//	  naive:   {retry: {policy: naive, max_attempts: 3}}
//	  budget:  {retry: {policy: exponential, max_attempts: 3, base: 10ms, jitter: full},
//	            budget: {kind: token_bucket, max_tokens: 10, token_ratio: 0.1}}
//
// # Presets
//
// `preset: <name>` on a hop (or in a variant) starts it from a real
// library's or proxy's documented defaults — grpc, grpc_hedging,
// aws_standard, aws_adaptive, envoy, finagle, resilience4j (Presets lists
// them with their sources) — and the hop's other fields override them one
// by one. A preset is data: a hop in the same YAML schema, decoded like
// any other. Overriding a field the preset's mechanism does not have
// (budget.percent under grpc's token bucket) is an error unless the
// section's selector (budget.kind, breaker.trip, ...) changes too.
//
// Beyond retries, budgets, breakers and hedging, a hop can throttle
// itself adaptively (throttle: the SRE book's client-side throttling),
// pace itself with the AWS adaptive-mode rate limiter (rate_limit), eject
// failing replicas (outlier), honour servers' retry-after hints and "do
// not retry" answers (pushback); budgets include the AWS outcome-charged
// quota, Brooker's per-call bucket and Envoy's concurrency budget, and a
// breaker can block retries only (breaker.mode: retries). A service can
// answer its refusals with pushback and cap its concurrency adaptively
// (concurrency_limit: AIMD or gradient).
//
// # Semantics
//
// A request carries its ID, attempt number and remaining deadline budget;
// the server turns the budget into a local deadline (as gRPC does, so
// clock skew does not matter), drops work whose deadline has passed
// without answering, and gives each downstream call what is left. A
// server answers 200 (ok), 400 (bad_request, never retried), 429
// (too_many_requests: overload mode reject), 500 (internal: injected or a
// failed dependency), 503 (unavailable: queue full, queue timeout, or a
// dependency unavailable) or nothing (expired, cancelled). Callers add
// 504 (timeout), circuit_open and bulkhead_full. A failed dependency call
// fails the request: timeouts stay timeouts, everything else becomes 500
// or 503, so that every tier may retry it — which is how retry storms
// multiply (k attempts at each of L tiers: k^L at the bottom).
//
// # Metrics
//
// Names follow package results: snake_case, unit last; labels (tier,
// status, node, scope) are separate dimensions, written here as experiment
// files name them ("attempts{tier=T}"). Counters
// give a total and a _rps series; histograms of spans give _mean_ms,
// _p99_ms and the like; gauges give _last, _max, _mean.
//
// Client side (the workload):
//
//	requests                       counter: requests issued
//	responses{status=S}            counter: requests finished, by final status (error mix)
//	latency, ok_latency            histogram: client-perceived latency, all / successful
//	success_ratio                  end of run: responses{status=ok} ÷ finished
//	goodput_rps                    end of run: successful requests per second
//	amplification{tier=T}          end of run: attempts{tier=T} ÷ requests
//	window_amplification{tier=T}   the same over the error window only (earliest
//	window_success_ratio           errors.from to latest errors.to), when there is one
//	recovery_s                     end of run, with an error window: seconds from its end
//	                               until the success ratio is back to 95% of its level
//	                               before the window for two 250ms buckets in a row (the
//	                               time to the last request if it never is)
//
// The end-of-run figures (Deployment.Figures) cover the span after the
// warm-up; in an experiment they are run-level scalars (Setup.Report),
// and Deployment.Summarize records them as gauges otherwise.
//
// Per hop, labelled with the callee T, summed over all its callers. So
// attempts{tier=api} is the load arriving at api (what its callers send
// it, retries included; it equals server_arrivals{tier=api} unless the
// network loses requests), not what api sends downstream, which is
// attempts{tier=<api's callee>}. The top tier's attempts are the clients'
// requests.
//
//	calls{tier=T}                  counter: logical calls to T
//	attempts{tier=T}               counter: requests sent to T (retries and hedges included)
//	retries{tier=T}, hedges{tier=T}
//	budget_denied{tier=T}          counter: retries or hedges the budget refused
//	breaker_rejected{tier=T}       counter: attempts the breaker refused
//	bulkhead_rejected{tier=T}      counter: calls refused by a full bulkhead
//	deadline_exceeded{tier=T}      counter: attempts not sent because the deadline had passed
//	cancelled{tier=T}              counter: losing hedges cancelled
//	late_responses{tier=T}         counter: answers after a timeout or cancellation
//	attempt_status{tier=T,status=S} counter: attempts by outcome
//	call_status{tier=T,status=S}   counter: calls by final outcome
//	call_latency{tier=T}           histogram: call latency, retries included
//	breaker_state{node=N,tier=T}   gauge: 0 closed, 1 open, 2 half-open
//	budget_tokens{scope=N,tier=T}  gauge: tokens (token_bucket) or retries allowed
//	                               (percentage, per_call), quota tokens (quota) or
//	                               retry slots free (concurrency); scope is the node, or
//	                               the calling service ("client" for clients) when shared
//
// Only when the hop uses the mechanism:
//
//	throttled{tier=T}              counter: attempts rejected locally by adaptive throttling
//	throttle_probability{node=N,tier=T} gauge: the current local rejection probability
//	rate_limited{tier=T}           counter: attempts the rate limiter made wait
//	rate_limit_rps{node=N,tier=T}  gauge: the rate limiter's token rate
//	ejections{tier=T}              counter: replicas ejected by outlier detection
//	ejected_replicas{node=N,tier=T} gauge: replicas out of rotation for that caller
//	pushback_honoured{tier=T}      counter: retries delayed by a retry-after hint
//	pushback_stopped{tier=T}       counter: retries given up for "do not retry" (or a
//	                               hint longer than pushback.max)
//
// Server side, labelled with the service T:
//
//	server_arrivals{tier=T}        counter: requests that reached a replica
//	server_shed{tier=T}            counter: refused with 503, queue full
//	server_rejected{tier=T}        counter: refused with 429, overload mode reject
//	server_queue_timeouts{tier=T}  counter: answered 503 after waiting too long
//	server_expired{tier=T}         counter: dropped unanswered, deadline passed
//	server_cancelled{tier=T}       counter: dropped after a Cancel
//	server_injected_errors{tier=T} counter: failed by error injection
//	server_status{tier=T,status=S} counter: answers by status
//	server_queue_wait{tier=T}      histogram: time from arrival to a worker
//	server_latency{tier=T}         histogram: time from arrival to the answer
//	server_pushbacks{tier=T}       counter: refusals that carried pushback (when set)
//	server_limit_rejected{tier=T}  counter: refused with 429 by the concurrency limit
//	concurrency_limit{node=N,tier=T} gauge: a replica's adaptive concurrency limit
//
// Deployment.Stats has the same counts exactly, for tests and end-of-run
// figures.
package rpc
