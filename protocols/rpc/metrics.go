package rpc

import (
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// Label returns base with a label group, the form package results splits
// on: Label("attempts", "tier", "db") is "attempts{tier=db}", and
// Label("attempt_status", "tier", "db", "status", "ok") is
// "attempt_status{tier=db,status=ok}". kv alternates label names and
// values.
func Label(base string, kv ...string) string {
	if len(kv) < 2 {
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

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

// hopMetrics are the handles of one callee's per-tier metrics, shared by
// every caller of that callee.
type hopMetrics struct {
	calls, attempts, retries, hedges, budgetDenied, breaker, bulkhead, deadline, cancelled, late sim.Counter
	attemptStatus, callStatus                                                                    [numStatus]sim.Counter
	latency                                                                                      sim.Histogram

	// Optional mechanisms' counters, registered by the first caller that
	// uses them (nil otherwise, so that runs without them keep their
	// metric set).
	throttled, pushHonoured, pushStopped, ejections, rateLimited sim.Counter
}

func newHopMetrics(m sim.Metrics, callee string) *hopMetrics {
	h := &hopMetrics{
		calls:        m.Counter(Label("calls", "tier", callee)),
		attempts:     m.Counter(Label("attempts", "tier", callee)),
		retries:      m.Counter(Label("retries", "tier", callee)),
		hedges:       m.Counter(Label("hedges", "tier", callee)),
		budgetDenied: m.Counter(Label("budget_denied", "tier", callee)),
		breaker:      m.Counter(Label("breaker_rejected", "tier", callee)),
		bulkhead:     m.Counter(Label("bulkhead_rejected", "tier", callee)),
		deadline:     m.Counter(Label("deadline_exceeded", "tier", callee)),
		cancelled:    m.Counter(Label("cancelled", "tier", callee)),
		late:         m.Counter(Label("late_responses", "tier", callee)),
		latency:      m.Histogram(Label("call_latency", "tier", callee)),
	}
	for s := Status(0); s < numStatus; s++ {
		h.attemptStatus[s] = m.Counter(Label("attempt_status", "tier", callee, "status", s.String()))
		h.callStatus[s] = m.Counter(Label("call_status", "tier", callee, "status", s.String()))
	}
	return h
}

// serverMetrics are the handles of one service's server-side metrics.
type serverMetrics struct {
	arrivals, shed, rejected, queueTimeouts, expired, cancelled, injected sim.Counter
	status                                                                [numStatus]sim.Counter
	wait, latency                                                         sim.Histogram

	// Optional mechanisms' counters (nil unless configured).
	pushbacks, limitRejected sim.Counter
}

func newServerMetrics(m sim.Metrics, svc string) *serverMetrics {
	s := &serverMetrics{
		arrivals:      m.Counter(Label("server_arrivals", "tier", svc)),
		shed:          m.Counter(Label("server_shed", "tier", svc)),
		rejected:      m.Counter(Label("server_rejected", "tier", svc)),
		queueTimeouts: m.Counter(Label("server_queue_timeouts", "tier", svc)),
		expired:       m.Counter(Label("server_expired", "tier", svc)),
		cancelled:     m.Counter(Label("server_cancelled", "tier", svc)),
		injected:      m.Counter(Label("server_injected_errors", "tier", svc)),
		wait:          m.Histogram(Label("server_queue_wait", "tier", svc)),
		latency:       m.Histogram(Label("server_latency", "tier", svc)),
	}
	for st := Status(0); st < CircuitOpen; st++ {
		s.status[st] = m.Counter(Label("server_status", "tier", svc, "status", st.String()))
	}
	return s
}

// clientMetrics are the handles of the workload's metrics.
type clientMetrics struct {
	requests           sim.Counter
	status             [numStatus]sim.Counter
	latency, okLatency sim.Histogram
}

func newClientMetrics(m sim.Metrics) *clientMetrics {
	c := &clientMetrics{
		requests:  m.Counter(MetricRequests),
		latency:   m.Histogram(MetricLatency),
		okLatency: m.Histogram(MetricOKLatency),
	}
	for s := Status(0); s < numStatus; s++ {
		c.status[s] = m.Counter(Label(MetricResponses, "status", s.String()))
	}
	return c
}

// TierStats are the exact counts of one service (tier) over a run, kept
// beside the metrics so that end-of-run figures such as amplification can
// be computed without reading the metric store back.
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

func (s *Stats) tier(name string) *TierStats {
	t := s.Tiers[name]
	if t == nil {
		t = &TierStats{}
		s.Tiers[name] = t
	}
	return t
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
