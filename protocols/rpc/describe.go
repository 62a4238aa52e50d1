package rpc

import "github.com/dsim-dev/dsim/protocols"

var _ protocols.Describer = Protocol{}

// Metrics returns the titles and units of the family's metrics; the
// success ratio, goodput and amplification (over the run and over the
// error window) are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo {
	return []protocols.MetricInfo{
		{Name: MetricSuccessRatio, Title: "Client success ratio", Unit: "fraction", Headline: true},
		{Name: MetricWindowSuccessRatio, Title: "Client success ratio in the error window", Unit: "fraction", Headline: true},
		{Name: MetricGoodput, Title: "Goodput", Unit: "requests per second", Headline: true},
		{Name: MetricAmplification, Title: "Attempts per client request", Headline: true},
		{Name: MetricWindowAmplification, Title: "Attempts per client request in the error window", Headline: true},
		{Name: MetricRequests, Title: "Client requests"},
		{Name: MetricResponses, Title: "Client responses"},
		{Name: MetricLatency, Title: "Client latency", Unit: "ms"},
		{Name: MetricOKLatency, Title: "Client latency of successes", Unit: "ms"},
		{Name: MetricAttempts, Title: "Attempts"},
		{Name: "attempt_status", Title: "Attempt outcomes"},
		{Name: "call_status", Title: "Call outcomes"},
		{Name: "calls", Title: "Calls"},
		{Name: "retries", Title: "Retries"},
		{Name: "hedges", Title: "Hedged attempts"},
		{Name: "budget_denied", Title: "Retries denied by the budget"},
		{Name: "budget_tokens", Title: "Retry budget tokens"},
		{Name: "breaker_rejected", Title: "Calls rejected by the breaker"},
		{Name: "breaker_state", Title: "Breaker state"},
		{Name: "bulkhead_rejected", Title: "Calls rejected by the bulkhead"},
		{Name: "call_latency", Title: "Call latency", Unit: "ms"},
		{Name: "deadline_exceeded", Title: "Deadlines exceeded"},
		{Name: "cancelled", Title: "Cancelled calls"},
		{Name: "late_responses", Title: "Late responses"},
		{Name: "server_arrivals", Title: "Server arrivals"},
		{Name: "server_status", Title: "Server answers"},
		{Name: "server_latency", Title: "Server latency", Unit: "ms"},
		{Name: "server_queue_wait", Title: "Server queue wait", Unit: "ms"},
		{Name: "server_queue_timeouts", Title: "Server queue timeouts"},
		{Name: "server_injected_errors", Title: "Injected errors"},
		{Name: "server_rejected", Title: "Server rejections"},
		{Name: "server_shed", Title: "Server load shedding"},
		{Name: "server_expired", Title: "Requests expired at the server"},
		{Name: "server_cancelled", Title: "Requests cancelled at the server"},
	}
}
