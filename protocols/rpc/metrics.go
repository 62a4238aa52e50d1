package rpc

import (
	"slices"

	"github.com/dsim-dev/dsim/sim"
)

// Names of the end-of-run figures Summarize records and of the main
// client metrics; doc.go lists every metric.
const (
	MetricRequests      = "requests"
	MetricResponses     = "responses"
	MetricLatency       = "latency"
	MetricOKLatency     = "ok_latency"
	MetricAttempts      = "attempts"
	MetricSuccessRatio  = "success_ratio"
	MetricGoodput       = "goodput_rps"
	MetricAmplification = "amplification"

	MetricWindowSuccessRatio  = "window_success_ratio"
	MetricWindowAmplification = "window_amplification"
)

// count is one kind of event's count: the exact total that Stats reports
// and the metric counter of the same meaning. Every counted rpc event
// goes through exactly one count, so the figures and the metrics cannot
// disagree.
type count struct {
	n int64
	m sim.Counter
}

func (c *count) inc() {
	c.n++
	c.m.Add(1)
}

// register gives the count its metric, once.
func (c *count) register(m sim.Metrics, name string, labels ...sim.Label) {
	if c.m == nil {
		c.m = m.Counter(name, labels...)
	}
}

// tier is one service's counts and metric handles: the caller side, what
// all the callers of the service did (shared by every caller), and the
// server side, what its replicas did.
type tier struct {
	name  string
	label sim.Label // tier=<name>

	// Caller side, registered by the service's first caller (a service
	// nobody calls has none).
	hop                                                               bool
	calls, attempts, retries, hedges                                  count
	budgetDenied, breakerRejected, bulkheadRejected, deadlineExceeded count
	cancelled, late                                                   sim.Counter // losing hedges cancelled; answers nobody waits for
	attemptStatus, callStatus                                         [numStatus]sim.Counter
	callLatency                                                       sim.Histogram
	// Optional mechanisms' counts, registered by the first caller that
	// uses them (runs without them keep their metric set).
	throttled, pushbackHonoured, pushbackStopped, ejections, rateLimited count

	// Server side, registered at Build.
	arrivals, shed, rejected, queueTimeouts, expired, serverCancelled, injected count
	answered                                                                    [numStatus]count // the metric only below CircuitOpen: servers never answer with a caller-side status
	wait, serverLatency                                                         sim.Histogram
	// Optional: refusals that carried pushback, and refusals by the
	// concurrency limit (registered when a replica has them).
	pushbacks, limitRejected count
}

// newTier registers a service's server-side metrics.
func newTier(m sim.Metrics, name string) *tier {
	t := &tier{name: name, label: sim.Label{Key: "tier", Value: name}}
	l := t.label
	t.arrivals.register(m, "server_arrivals", l)
	t.shed.register(m, "server_shed", l)
	t.rejected.register(m, "server_rejected", l)
	t.queueTimeouts.register(m, "server_queue_timeouts", l)
	t.expired.register(m, "server_expired", l)
	t.serverCancelled.register(m, "server_cancelled", l)
	t.injected.register(m, "server_injected_errors", l)
	t.wait = m.Histogram("server_queue_wait", l)
	t.serverLatency = m.Histogram("server_latency", l)
	for st := Status(0); st < CircuitOpen; st++ {
		t.answered[st].register(m, "server_status", l, statusLabel(st))
	}
	return t
}

// registerHop registers the caller-side metrics, once.
func (t *tier) registerHop(m sim.Metrics) {
	if t.hop {
		return
	}
	t.hop = true
	l := t.label
	t.calls.register(m, "calls", l)
	t.attempts.register(m, "attempts", l)
	t.retries.register(m, "retries", l)
	t.hedges.register(m, "hedges", l)
	t.budgetDenied.register(m, "budget_denied", l)
	t.breakerRejected.register(m, "breaker_rejected", l)
	t.bulkheadRejected.register(m, "bulkhead_rejected", l)
	t.deadlineExceeded.register(m, "deadline_exceeded", l)
	t.cancelled = m.Counter("cancelled", l)
	t.late = m.Counter("late_responses", l)
	t.callLatency = m.Histogram("call_latency", l)
	for s := Status(0); s < numStatus; s++ {
		t.attemptStatus[s] = m.Counter("attempt_status", l, statusLabel(s))
		t.callStatus[s] = m.Counter("call_status", l, statusLabel(s))
	}
}

func statusLabel(s Status) sim.Label { return sim.Label{Key: "status", Value: s.String()} }

// stats returns the tier's counts so far.
func (t *tier) stats() TierStats {
	ts := TierStats{
		Calls: t.calls.n, Attempts: t.attempts.n, Retries: t.retries.n, Hedges: t.hedges.n,
		BudgetDenied: t.budgetDenied.n, BreakerRejected: t.breakerRejected.n, BulkheadRejected: t.bulkheadRejected.n,
		DeadlineExceeded: t.deadlineExceeded.n,
		Arrivals:         t.arrivals.n, Shed: t.shed.n, Rejected: t.rejected.n, QueueTimeouts: t.queueTimeouts.n,
		Expired: t.expired.n, Cancelled: t.serverCancelled.n, Injected: t.injected.n,
		Throttled: t.throttled.n, PushbackHonoured: t.pushbackHonoured.n, PushbackStopped: t.pushbackStopped.n,
		Ejections: t.ejections.n, RateLimited: t.rateLimited.n,
		Pushbacks: t.pushbacks.n, LimitRejected: t.limitRejected.n,
	}
	for i := range t.answered {
		ts.Answered[i] = t.answered[i].n
	}
	return ts
}

// clientCounts are the workload's counts and metric handles.
type clientCounts struct {
	requests           count
	done               [numStatus]count // responses{status=…}
	latency, okLatency sim.Histogram
}

func newClientCounts(m sim.Metrics) *clientCounts {
	c := &clientCounts{
		latency:   m.Histogram(MetricLatency),
		okLatency: m.Histogram(MetricOKLatency),
	}
	c.requests.register(m, MetricRequests)
	for s := Status(0); s < numStatus; s++ {
		c.done[s].register(m, MetricResponses, statusLabel(s))
	}
	return c
}

// TierStats are the exact counts of one service (tier) over a run, a
// snapshot of the counts that also feed the metrics, so that end-of-run
// figures such as amplification can be computed without reading the
// metric store back.
type TierStats struct {
	// Calls is logical calls made to the tier; Attempts counts every
	// request sent (retries and hedges included).
	Calls, Attempts, Retries, Hedges int64
	// Refused by the callers' own protections.
	BudgetDenied, BreakerRejected, BulkheadRejected, DeadlineExceeded int64
	// Server side: requests that arrived, were shed (queue full), rejected
	// (overload), timed out in the queue, expired (deadline passed, dropped
	// without an answer), were cancelled, got an injected error, and were
	// answered, by status.
	Arrivals, Shed, Rejected, QueueTimeouts, Expired, Cancelled, Injected int64
	Answered                                                              [numStatus]int64
	// Optional mechanisms: attempts throttled locally (adaptive
	// throttling), retries delayed or stopped by server pushback, replica
	// ejections, attempts made to wait by the rate limiter; server side,
	// refusals that carried pushback and requests refused by the
	// concurrency limit.
	Throttled, PushbackHonoured, PushbackStopped, Ejections, RateLimited int64
	Pushbacks, LimitRejected                                             int64
}

// Stats are a run's exact counts.
type Stats struct {
	// Requests is the number of requests the clients issued.
	Requests int64
	// Done counts finished client requests by final status.
	Done [numStatus]int64
	// Tiers holds each service's counts.
	Tiers map[string]*TierStats
}

func (s *Stats) clone() Stats {
	c := *s
	c.Tiers = make(map[string]*TierStats, len(s.Tiers))
	for k, v := range s.Tiers {
		t := *v
		c.Tiers[k] = &t
	}
	return c
}

// minus returns s − b, field by field.
func (s *Stats) minus(b *Stats) Stats {
	c := s.clone()
	c.Requests -= b.Requests
	for i := range c.Done {
		c.Done[i] -= b.Done[i]
	}
	for k, t := range c.Tiers {
		if o := b.Tiers[k]; o != nil {
			t.sub(o)
		}
	}
	return c
}

func (t *TierStats) sub(o *TierStats) {
	t.Calls -= o.Calls
	t.Attempts -= o.Attempts
	t.Retries -= o.Retries
	t.Hedges -= o.Hedges
	t.BudgetDenied -= o.BudgetDenied
	t.BreakerRejected -= o.BreakerRejected
	t.BulkheadRejected -= o.BulkheadRejected
	t.DeadlineExceeded -= o.DeadlineExceeded
	t.Arrivals -= o.Arrivals
	t.Shed -= o.Shed
	t.Rejected -= o.Rejected
	t.QueueTimeouts -= o.QueueTimeouts
	t.Expired -= o.Expired
	t.Cancelled -= o.Cancelled
	t.Injected -= o.Injected
	t.Throttled -= o.Throttled
	t.PushbackHonoured -= o.PushbackHonoured
	t.PushbackStopped -= o.PushbackStopped
	t.Ejections -= o.Ejections
	t.RateLimited -= o.RateLimited
	t.Pushbacks -= o.Pushbacks
	t.LimitRejected -= o.LimitRejected
	for i := range t.Answered {
		t.Answered[i] -= o.Answered[i]
	}
}

// Amplification returns the attempts sent to tier (by all its callers;
// the load arriving at tier X, not the attempts X makes downstream) ÷
// client requests (0 before any request).
func (s *Stats) Amplification(tier string) float64 {
	t := s.Tiers[tier]
	if t == nil || s.Requests == 0 {
		return 0
	}
	return float64(t.Attempts) / float64(s.Requests)
}

// SuccessRate returns the fraction of finished client requests that
// succeeded.
func (s *Stats) SuccessRate() float64 {
	var n int64
	for _, v := range s.Done {
		n += v
	}
	if n == 0 {
		return 0
	}
	return float64(s.Done[OK]) / float64(n)
}

// TierNames returns the tiers in sorted order.
func (s *Stats) TierNames() []string {
	names := make([]string, 0, len(s.Tiers))
	for n := range s.Tiers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
