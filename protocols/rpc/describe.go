package rpc

import (
	"slices"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/transport"
)

var (
	_ protocols.Describer      = Protocol{}
	_ protocols.MetricDeclarer = (*Config)(nil)
)

// Metrics returns the titles and units of every metric the family can
// record under any config; the success ratio, goodput and amplification
// (over the run and over the error window) are its headline figures.
func (Protocol) Metrics() []protocols.MetricInfo { return metrics(nil) }

// Metrics declares the metrics a run of c records, with the values of
// their tier and status labels: the optional mechanisms' metrics only
// when a hop or service configures the mechanism, the transport's only
// when a hop runs over one, the error-window figures only when there is
// an error window.
func (c *Config) Metrics() []protocols.MetricInfo { return metrics(c) }

// metrics is the family's one list of metrics, feeding both Metrics
// methods: with c nil, every metric and no label values; else those a
// run of c records. doc.go describes each.
func metrics(c *Config) []protocols.MetricInfo {
	g := graphOf(c)
	var out []protocols.MetricInfo
	add := func(on bool, kind protocols.MetricKind, name, title, unit string, labels ...protocols.MetricLabel) {
		if on {
			out = append(out, protocols.MetricInfo{Name: name, Kind: kind, Title: title, Unit: unit, Labels: labels})
		}
	}
	// top adds a headline figure.
	top := func(on bool, kind protocols.MetricKind, name, title, unit string, labels ...protocols.MetricLabel) {
		if on {
			out = append(out, protocols.MetricInfo{Name: name, Kind: kind, Title: title, Unit: unit, Labels: labels, Headline: true})
		}
	}
	const (
		counter = protocols.CounterMetric
		gauge   = protocols.GaugeMetric
		hist    = protocols.HistogramMetric
		scalar  = protocols.ScalarMetric
	)
	tier, svc, status := g.label("tier", g.callees), g.label("tier", g.services), g.label("status", g.statuses)
	node := protocols.MetricLabel{Key: "node"}

	// End-of-run figures (Deployment.Figures).
	top(true, scalar, MetricSuccessRatio, "Client success ratio", "fraction")
	top(g.window, scalar, MetricWindowSuccessRatio, "Client success ratio in the error window", "fraction")
	top(true, scalar, MetricGoodput, "Goodput", "requests per second")
	top(true, scalar, MetricAmplification, "Attempts per client request", "", svc)
	top(g.window, scalar, MetricWindowAmplification, "Attempts per client request in the error window", "", svc)
	add(g.window, scalar, MetricRecovery, "Recovery after the error window", "s")

	// The clients.
	add(true, counter, MetricRequests, "Client requests", "")
	add(true, counter, MetricResponses, "Client responses", "", status)
	add(true, hist, MetricLatency, "Client latency", "ms")
	add(true, hist, MetricOKLatency, "Client latency of successes", "ms")

	// Each hop, labelled with its callee.
	add(true, counter, MetricAttempts, "Attempts", "", tier)
	add(true, counter, "attempt_status", "Attempt outcomes", "", tier, status)
	add(true, counter, "call_status", "Call outcomes", "", tier, status)
	add(true, counter, "calls", "Calls", "", tier)
	add(true, counter, "retries", "Retries", "", tier)
	add(true, counter, "hedges", "Hedged attempts", "", tier)
	add(true, counter, "budget_denied", "Retries denied by the budget", "", tier)
	add(g.uses(hasBudget), gauge, "budget_tokens", "Retry budget tokens", "", protocols.MetricLabel{Key: "scope"}, g.tiers(hasBudget))
	add(true, counter, "breaker_rejected", "Calls rejected by the breaker", "", tier)
	add(g.uses(hasBreaker), gauge, "breaker_state", "Breaker state (0 closed, 1 open, 2 half-open)", "", node, g.tiers(hasBreaker))
	add(true, counter, "bulkhead_rejected", "Calls rejected by the bulkhead", "", tier)
	add(true, hist, "call_latency", "Call latency", "ms", tier)
	add(true, counter, "deadline_exceeded", "Deadlines exceeded", "", tier)
	add(true, counter, "cancelled", "Cancelled calls", "", tier)
	add(true, counter, "late_responses", "Late responses", "", tier)
	// Only when a hop uses the mechanism.
	add(g.uses(hasThrottle), counter, "throttled", "Attempts throttled locally", "", g.tiers(hasThrottle))
	add(g.uses(hasThrottle), gauge, "throttle_probability", "Local throttling probability", "fraction", node, g.tiers(hasThrottle))
	add(g.uses(hasRateLimit), counter, "rate_limited", "Attempts held by the rate limiter", "", g.tiers(hasRateLimit))
	add(g.uses(hasRateLimit), gauge, "rate_limit_rps", "Rate limiter's rate", "per second", node, g.tiers(hasRateLimit))
	add(g.uses(hasOutlier), counter, "ejections", "Replica ejections", "", g.tiers(hasOutlier))
	add(g.uses(hasOutlier), gauge, "ejected_replicas", "Replicas ejected", "replicas", node, g.tiers(hasOutlier))
	add(g.uses(hasPushback), counter, "pushback_honoured", "Retries delayed by pushback", "", g.tiers(hasPushback))
	add(g.uses(hasPushback), counter, "pushback_stopped", "Retries stopped by pushback", "", g.tiers(hasPushback))

	// Each service's servers.
	add(true, counter, "server_arrivals", "Server arrivals", "", svc)
	add(true, counter, "server_status", "Server answers", "", svc, g.label("status", g.answers))
	add(true, hist, "server_latency", "Server latency", "ms", svc)
	add(true, hist, "server_queue_wait", "Server queue wait", "ms", svc)
	add(true, counter, "server_queue_timeouts", "Server queue timeouts", "", svc)
	add(true, counter, "server_injected_errors", "Injected errors", "", svc)
	add(true, counter, "server_rejected", "Server rejections", "", svc)
	add(true, counter, "server_shed", "Server load shedding", "", svc)
	add(true, counter, "server_expired", "Requests expired at the server", "", svc)
	add(true, counter, "server_cancelled", "Requests cancelled at the server", "", svc)
	limited, pushers := g.all || len(g.limited) > 0, g.all || len(g.pushers) > 0
	add(limited, counter, "server_limit_rejected", "Refused by the concurrency limit", "", g.label("tier", g.limited))
	add(limited, gauge, "concurrency_limit", "Concurrency limit", "requests", node, g.label("tier", g.limited))
	add(pushers, counter, "server_pushbacks", "Refusals with pushback", "", g.label("tier", g.pushers))

	// The transport layer, when a hop runs over one.
	if g.transport {
		out = append(out, transport.Metrics()...)
	}
	return out
}

// graph is what decides which metrics and labels the runs of a config
// record: its services, the callees of its hops, the hops' and services'
// mechanisms. all is set for the union over every config (no config
// given).
type graph struct {
	all               bool
	services, callees []string
	statuses, answers []string
	calls             []hopOf
	limited, pushers  []string
	window, transport bool
}

// hopOf is one call of the graph, with its callee.
type hopOf struct {
	callee string
	cfg    *CallConfig
}

func graphOf(c *Config) graph {
	if c == nil {
		return graph{all: true, window: true, transport: true}
	}
	r := c.Resolved()
	g := graph{services: r.Names()}
	_, _, g.window = r.ErrorWindow()
	g.transport = r.usesTransport()
	for s := Status(0); s < numStatus; s++ {
		g.statuses = append(g.statuses, s.String())
		if s < CircuitOpen {
			g.answers = append(g.answers, s.String())
		}
	}
	cc := r.Client.Call
	g.calls = append(g.calls, hopOf{cc.Service, &cc})
	for _, n := range g.services {
		sc := r.Services[n]
		for i := range sc.Calls {
			g.calls = append(g.calls, hopOf{sc.Calls[i].Service, &sc.Calls[i]})
		}
		if sc.Limit.Kind != retry.NoLimit {
			g.limited = append(g.limited, n)
		}
		if sc.Pushback.hint() != 0 {
			g.pushers = append(g.pushers, n)
		}
	}
	for _, h := range g.calls {
		g.callees = append(g.callees, h.callee)
	}
	slices.Sort(g.callees)
	g.callees = slices.Compact(g.callees)
	return g
}

// label is a label over values, or over any value for the union.
func (g graph) label(key string, values []string) protocols.MetricLabel {
	if g.all {
		return protocols.MetricLabel{Key: key}
	}
	return protocols.MetricLabel{Key: key, Values: values}
}

// uses reports whether any hop has the mechanism.
func (g graph) uses(has func(*CallConfig) bool) bool {
	if g.all {
		return true
	}
	for _, h := range g.calls {
		if has(h.cfg) {
			return true
		}
	}
	return false
}

// tiers is the tier label of a mechanism's metrics: the callees of the
// hops that have it.
func (g graph) tiers(has func(*CallConfig) bool) protocols.MetricLabel {
	var ts []string
	for _, h := range g.calls {
		if has(h.cfg) {
			ts = append(ts, h.callee)
		}
	}
	slices.Sort(ts)
	return g.label("tier", slices.Compact(ts))
}

func hasBudget(c *CallConfig) bool    { return c.Budget.Kind != retry.NoBudget }
func hasBreaker(c *CallConfig) bool   { return c.Breaker.Trip != retry.NoBreaker }
func hasThrottle(c *CallConfig) bool  { return c.Throttle.Adaptive }
func hasRateLimit(c *CallConfig) bool { return c.RateLimit.Adaptive }
func hasOutlier(c *CallConfig) bool   { return c.Outlier.Consecutive > 0 }
func hasPushback(c *CallConfig) bool  { return c.Pushback.Honour }
