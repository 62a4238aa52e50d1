package rpc

import (
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// Name joins a metric's base name and its labels with '/':
// Name("rpc_attempts", "db") is "rpc_attempts/db". Base names are
// snake_case; labels are service, node or status names.
func Name(base string, labels ...string) string {
	if len(labels) == 0 {
		return base
	}
	return base + "/" + strings.Join(labels, "/")
}

// hopMetrics are the handles of one callee's per-tier metrics, shared by
// every caller of that callee.
type hopMetrics struct {
	calls, attempts, retries, hedges, budgetDenied, breaker, bulkhead, deadline, cancelled, late sim.Counter
	attemptStatus, callStatus                                                                    [numStatus]sim.Counter
	latency                                                                                      sim.Histogram
}

func newHopMetrics(m sim.Metrics, callee string) *hopMetrics {
	h := &hopMetrics{
		calls:        m.Counter(Name("rpc_calls", callee)),
		attempts:     m.Counter(Name("rpc_attempts", callee)),
		retries:      m.Counter(Name("rpc_retries", callee)),
		hedges:       m.Counter(Name("rpc_hedges", callee)),
		budgetDenied: m.Counter(Name("rpc_budget_denied", callee)),
		breaker:      m.Counter(Name("rpc_breaker_rejected", callee)),
		bulkhead:     m.Counter(Name("rpc_bulkhead_rejected", callee)),
		deadline:     m.Counter(Name("rpc_deadline_exceeded", callee)),
		cancelled:    m.Counter(Name("rpc_cancelled", callee)),
		late:         m.Counter(Name("rpc_late_responses", callee)),
		latency:      m.Histogram(Name("rpc_call_latency", callee)),
	}
	for s := Status(0); s < numStatus; s++ {
		h.attemptStatus[s] = m.Counter(Name("rpc_attempt_status", callee, s.String()))
		h.callStatus[s] = m.Counter(Name("rpc_call_status", callee, s.String()))
	}
	return h
}

// serverMetrics are the handles of one service's server-side metrics.
type serverMetrics struct {
	arrivals, shed, rejected, queueTimeouts, expired, cancelled, injected sim.Counter
	status                                                                [numStatus]sim.Counter
	wait, latency                                                         sim.Histogram
}

func newServerMetrics(m sim.Metrics, svc string) *serverMetrics {
	s := &serverMetrics{
		arrivals:      m.Counter(Name("rpc_server_arrivals", svc)),
		shed:          m.Counter(Name("rpc_server_shed", svc)),
		rejected:      m.Counter(Name("rpc_server_rejected", svc)),
		queueTimeouts: m.Counter(Name("rpc_server_queue_timeouts", svc)),
		expired:       m.Counter(Name("rpc_server_expired", svc)),
		cancelled:     m.Counter(Name("rpc_server_cancelled", svc)),
		injected:      m.Counter(Name("rpc_server_injected_errors", svc)),
		wait:          m.Histogram(Name("rpc_server_queue_wait", svc)),
		latency:       m.Histogram(Name("rpc_server_latency", svc)),
	}
	for st := Status(0); st < CircuitOpen; st++ {
		s.status[st] = m.Counter(Name("rpc_server_status", svc, st.String()))
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
		requests:  m.Counter("rpc_client_requests"),
		latency:   m.Histogram("rpc_client_latency"),
		okLatency: m.Histogram("rpc_client_ok_latency"),
	}
	for s := Status(0); s < numStatus; s++ {
		c.status[s] = m.Counter(Name("rpc_client_status", s.String()))
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

func (s *Stats) tier(name string) *TierStats {
	t := s.Tiers[name]
	if t == nil {
		t = &TierStats{}
		s.Tiers[name] = t
	}
	return t
}

// Amplification returns attempts made to tier ÷ client requests (0 before
// any request).
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
