package rpc

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

// Preset is a real client library's or proxy's documented resilience
// defaults for one hop, as data: a hop with `preset: <name>` starts from
// Hop (decoded like any hop's YAML) and every field the hop gives beside
// it overrides one value. A preset owns the hop's retry, budget,
// breaker, hedge, throttle, pushback, outlier and rate_limit sections
// (what it does not set is off), and its balance and bulkhead when it
// sets them. Timeouts stay the hop's own: none of these systems has a
// per-try timeout by default.
type Preset struct {
	// Name is what `preset:` takes.
	Name string
	// System is the library or proxy and the version whose defaults these
	// are.
	System string
	// Source is where the values are documented.
	Source string
	// Hop is the hop settings, in the hop's YAML schema.
	Hop string
	// Notes says what the model leaves out or approximates.
	Notes string
}

// presetGRPC: gRPC client retries as specified by gRFC A6 "gRPC Retry
// Design" (https://github.com/grpc/proposal/blob/master/A6-client-retries.md,
// revision of 2024-08-23, status Implemented: Java, .NET, Node, Go and
// C-core, the last two without hedging). A6 makes every retryPolicy field
// mandatory and gives no defaults; these are its reference values:
// maxAttempts 4, initialBackoff 0.1s, maxBackoff 1s, backoffMultiplier 2,
// retryableStatusCodes [UNAVAILABLE], retryThrottling maxTokens 10 and
// tokenRatio 0.1. Backoff is random(0, min(initial·mult^(n−1), max)),
// i.e. full jitter; pushback (grpc-retry-pushback-ms) replaces the
// backoff, and a negative value means "do not retry".
var presetGRPC = Preset{
	Name:   "grpc",
	System: "gRPC, gRFC A6 of 2024-08-23 (retry policy and retry throttling)",
	Source: "https://github.com/grpc/proposal/blob/master/A6-client-retries.md",
	Hop: `
retry: {policy: exponential, max_attempts: 4, base: 100ms, cap: 1s, multiplier: 2, jitter: full, retry_on: [overload]}
budget: {kind: token_bucket, max_tokens: 10, token_ratio: 0.1}
pushback: {honour: true, mode: replace}
`,
	Notes: "UNAVAILABLE is modelled as the overload class (429 and 503 answers); the token bucket is per client node unless budget.shared",
}

// presetGRPCHedging: gRPC hedging, gRFC A6 "Hedging policy" reference
// values (https://github.com/grpc/proposal/blob/master/A6-client-retries.md):
// maxAttempts 4 (three hedges), hedgingDelay 0.5s, with the same retry
// throttling (maxTokens 10, tokenRatio 0.1), which hedges also spend.
var presetGRPCHedging = Preset{
	Name:   "grpc_hedging",
	System: "gRPC, gRFC A6 of 2024-08-23 (hedging policy and retry throttling; Java, .NET, Node)",
	Source: "https://github.com/grpc/proposal/blob/master/A6-client-retries.md",
	Hop: `
hedge: {max: 3, delay: 500ms}
budget: {kind: token_bucket, max_tokens: 10, token_ratio: 0.1}
pushback: {honour: true, mode: replace}
`,
	Notes: "a hedging policy replaces the retry policy in gRPC: no retries, up to three backups 0.5s apart",
}

// presetAWSStandard: the AWS SDKs' standard retry mode (AWS SDKs and
// Tools Reference Guide, "Retry behavior",
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html;
// constants from botocore 1.x, botocore/retries/standard.py and
// quota.py): 3 attempts; backoff random(0, 1)·2^(n−1) seconds capped at
// 20s; a shared retry quota of 500 tokens, 5 per retry, 10 per retry
// after a timeout, a successful call gives back its last retry's cost or
// 1 if it needed no retry; retried errors include 500, 502, 503, 504,
// throttling errors and timeouts.
var presetAWSStandard = Preset{
	Name:   "aws_standard",
	System: "AWS SDKs, retry_mode standard (botocore 1.x constants)",
	Source: "https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html",
	Hop: `
retry: {policy: exponential, max_attempts: 3, base: 1s, cap: 20s, multiplier: 2, jitter: full}
budget: {kind: quota, capacity: 500, retry_cost: 5, timeout_cost: 10, success_refill: 1}
`,
	Notes: "one quota per client node (one SDK client); transient errors are the failure, overload and timeout classes; the backoff base is botocore's (1s): other SDKs differ (the JavaScript v3 SDK uses 100ms, 500ms after throttling)",
}

// presetAWSAdaptive: the AWS SDKs' adaptive retry mode (same guide,
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html;
// botocore 1.x botocore/retries/adaptive.py, throttling.py, bucket.py):
// standard mode plus a client-side rate limiter switched on by the
// first throttling answer, whose token rate follows CUBIC (beta 0.7,
// scale constant 0.4, measured-rate smoothing 0.8, minimum 0.5/s).
var presetAWSAdaptive = Preset{
	Name:   "aws_adaptive",
	System: "AWS SDKs, retry_mode adaptive (botocore 1.x constants)",
	Source: "https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html",
	Hop: `
retry: {policy: exponential, max_attempts: 3, base: 1s, cap: 20s, multiplier: 2, jitter: full}
budget: {kind: quota, capacity: 500, retry_cost: 5, timeout_cost: 10, success_refill: 1}
rate_limit: {adaptive: true, beta: 0.7, scale: 0.4, smoothing: 0.8, min_rate: 0.5}
`,
	Notes: "throttling answers are 429 (too_many_requests); attempts wait for a token instead of failing",
}

// presetEnvoy: Envoy's router and cluster defaults (Envoy v1.31 API
// reference: config.route.v3.RetryPolicy,
// https://www.envoyproxy.io/docs/envoy/v1.31.0/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy;
// config.cluster.v3.CircuitBreakers,
// https://www.envoyproxy.io/docs/envoy/v1.31.0/api-v3/config/cluster/v3/circuit_breaker.proto;
// config.cluster.v3.OutlierDetection,
// https://www.envoyproxy.io/docs/envoy/v1.31.0/api-v3/config/cluster/v3/outlier_detection.proto):
// num_retries 1 (2 attempts) with retry_on 5xx; fully jittered
// exponential backoff from base_interval 25ms, max_interval 10×base
// (250ms); retry_budget budget_percent 20% with min_retry_concurrency 3;
// max_requests 1024; outlier detection consecutive_5xx 5, interval 10s,
// base_ejection_time 30s, max_ejection_percent 10%, max_ejection_time
// 300s; round-robin balancing. retry_on has no default (5xx is assumed),
// and the retry budget and outlier detection take effect only when
// configured: the preset is Envoy with both configured at their field
// defaults.
var presetEnvoy = Preset{
	Name:   "envoy",
	System: "Envoy v1.31 (route retry policy, retry budget, circuit-breaker thresholds, outlier detection)",
	Source: "https://www.envoyproxy.io/docs/envoy/v1.31.0/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy",
	Hop: `
retry: {policy: exponential, max_attempts: 2, base: 25ms, cap: 250ms, multiplier: 2, jitter: full}
budget: {kind: concurrency, percent: 20, min_concurrency: 3}
bulkhead: 1024
outlier: {consecutive_errors: 5, base_ejection_time: 30s, max_ejection_time: 300s, max_ejection_percent: 10, interval: 10s, growth: linear}
balance: round_robin
`,
	Notes: "retry_on (no default in Envoy) is taken as 5xx; the retry budget and outlier detection are opt-in in Envoy and appear here at their field defaults (without a retry budget Envoy caps retries in flight at max_retries 3: budget {percent: 0, min_concurrency: 3}); Envoy's backoff for retry n is drawn from [0, (2^n−1)·25ms], the model's from [0, 2^(n−1)·25ms]: the same for the single default retry; max_pending_requests and max_connections (1024) have no counterpart; ejection is per calling node",
}

// presetFinagle: Finagle's client defaults (the Finagle user guide,
// https://twitter.github.io/finagle/guide/Clients.html; sources in
// github.com/twitter/finagle): RetryBudget — ttl 10s, minRetriesPerSec
// 10, percentCanRetry 20%; FailureAccrualFactory — 5 consecutive
// failures mark an endpoint dead for Backoff.equalJittered(5s, 300s);
// the default balancer is P2C least-loaded. Current Finagle's default
// failure accrual is successRateWithinDuration(0.8, 30s) orElse
// consecutiveFailures(5): the success-rate half is left out. Linkerd 2's
// retry budget has the same defaults (retryRatio 0.2,
// minRetriesPerSecond 10, ttl 10s;
// https://linkerd.io/2/reference/service-profiles/).
var presetFinagle = Preset{
	Name:   "finagle",
	System: "Finagle (retry budget, consecutive-failure accrual, P2C balancer) / Linkerd 2 (retry budget)",
	Source: "https://twitter.github.io/finagle/guide/Clients.html",
	Hop: `
budget: {kind: percentage, percent: 20, min_retries_per_second: 10, window: 10s}
outlier: {consecutive_errors: 5, base_ejection_time: 5s, max_ejection_time: 300s, max_ejection_percent: 100, interval: 5s, growth: exponential}
balance: p2c
`,
	Notes: "Finagle retries application failures only when told which to retry: set retry (its requeues are immediate); the floor of 10 retries/s dominates at small request rates; the accrual backoff is unjittered; the success-rate accrual policy (80% over 30s) is left out",
}

// presetResilience4j: Resilience4j 2.x defaults
// (CircuitBreakerConfig, https://resilience4j.readme.io/docs/circuitbreaker:
// failureRateThreshold 50%, slidingWindowType COUNT_BASED,
// slidingWindowSize 100, minimumNumberOfCalls 100,
// waitDurationInOpenState 60s, permittedNumberOfCallsInHalfOpenState 10;
// RetryConfig, https://resilience4j.readme.io/docs/retry: maxAttempts 3,
// waitDuration 500ms, fixed).
var presetResilience4j = Preset{
	Name:   "resilience4j",
	System: "Resilience4j 2.x (CircuitBreakerConfig and RetryConfig defaults)",
	Source: "https://resilience4j.readme.io/docs/circuitbreaker",
	Hop: `
retry: {policy: fixed, max_attempts: 3, base: 500ms}
breaker: {trip: rate, failure_rate: 0.5, window_calls: 100, min_requests: 100, window: 60s, open_for: 60s, half_open_probes: 10}
`,
	Notes: "slow-call thresholds (100% over 60s) are left out; half-open closes after 10 successful probes and reopens at the first failure (Resilience4j judges the 10 by their failure rate); the breaker wraps each attempt",
}

// presetList is every preset, in name order.
var presetList = []Preset{presetAWSAdaptive, presetAWSStandard, presetEnvoy, presetFinagle, presetGRPC, presetGRPCHedging, presetResilience4j}

// presetHops holds each preset's hop, decoded once.
var presetHops map[string]presetHop

func init() {
	m := map[string]presetHop{}
	for _, p := range presetList {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(p.Hop), &n); err != nil {
			panic("rpc: preset " + p.Name + ": " + err.Error())
		}
		// A preset's hop is a plain mapping of the hop's sections, none
		// of which has a decoder of its own: the decoder can refuse
		// unknown keys itself.
		c := DefaultCallConfig()
		type plain CallConfig
		dec := yaml.NewDecoder(strings.NewReader(p.Hop))
		dec.KnownFields(true)
		if err := dec.Decode((*plain)(&c)); err != nil {
			panic("rpc: preset " + p.Name + ": " + err.Error())
		}
		c.Service = "x"
		if err := c.Validate(); err != nil {
			panic("rpc: preset " + p.Name + ": " + err.Error())
		}
		c.Service = ""
		set := map[string]bool{}
		for i := 0; i+1 < len(n.Content[0].Content); i += 2 {
			set[n.Content[0].Content[i].Value] = true
		}
		m[p.Name] = presetHop{c, set}
	}
	presetHops = m
}

type presetHop struct {
	cfg CallConfig
	set map[string]bool
}

// Presets returns every preset, in name order.
func Presets() []Preset { return slices.Clone(presetList) }

// PresetNames returns the preset names in order.
func PresetNames() []string {
	out := make([]string, len(presetList))
	for i, p := range presetList {
		out[i] = p.Name
	}
	return out
}

// PresetHop returns the hop settings a preset stands for (with no
// service), and whether the preset exists.
func PresetHop(name string) (CallConfig, bool) {
	if _, ok := presetHops[name]; !ok {
		return CallConfig{}, false
	}
	c := DefaultCallConfig()
	applyPresetHop(&c, name)
	return c, true
}

// applyPresetHop writes a known preset's sections over c.
func applyPresetHop(c *CallConfig, name string) {
	p := presetHops[name]
	c.Retry = p.cfg.Retry
	c.Retry.RetryOn = slices.Clone(p.cfg.Retry.RetryOn)
	c.Budget = p.cfg.Budget
	c.Breaker = p.cfg.Breaker
	c.Hedge = p.cfg.Hedge
	c.Throttle = p.cfg.Throttle
	c.Pushback = p.cfg.Pushback
	c.Outlier = p.cfg.Outlier
	c.RateLimit = p.cfg.RateLimit
	if p.set["balance"] {
		c.Balance = p.cfg.Balance
	}
	if p.set["bulkhead"] {
		c.Bulkhead = p.cfg.Bulkhead
	}
}

// startPreset looks for a preset key in a hop's mapping: when it names a
// known preset, its values are written over c so that the mapping's
// other fields override them one by one. It returns the dotted paths the
// mapping sets (one level into sections), or nil without a preset key.
func startPreset(n *yaml.Node, c *CallConfig) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	name, found := "", false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "preset" && n.Content[i+1].Kind == yaml.ScalarNode {
			name, found = n.Content[i+1].Value, true
		}
	}
	if !found {
		return nil
	}
	if _, ok := presetHops[name]; ok {
		applyPresetHop(c, name)
	}
	given := []string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		given = append(given, k)
		if v.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(v.Content); j += 2 {
				given = append(given, k+"."+v.Content[j].Value)
			}
		}
	}
	return given
}

// sectionFields tells, for one section of a hop, which field selects the
// mechanism and which fields the mechanism a preset chose uses.
func sectionFields(p CallConfig, section string) (selector string, uses []string, ok bool) {
	switch section {
	case "retry":
		return "policy", retryFields(p.Retry.Kind), true
	case "budget":
		return "kind", retry.BudgetFields(p.Budget.Kind), true
	case "breaker":
		return "trip", retry.BreakerFields(p.Breaker.Trip), true
	case "hedge":
		if p.Hedge.Max == 0 {
			return "max", nil, true
		}
		return "max", []string{"max", "delay", "quantile"}, true
	case "throttle":
		if !p.Throttle.Adaptive {
			return "adaptive", nil, true
		}
		return "adaptive", retry.ThrottleFields(), true
	case "pushback":
		if !p.Pushback.Honour {
			return "honour", nil, true
		}
		return "honour", retry.PushbackFields(), true
	case "outlier":
		if p.Outlier.Consecutive == 0 {
			return "consecutive_errors", nil, true
		}
		return "consecutive_errors", retry.EjectionFields(), true
	case "rate_limit":
		if !p.RateLimit.Adaptive {
			return "adaptive", nil, true
		}
		return "adaptive", retry.RateLimitFields(), true
	}
	return "", nil, false
}

func retryFields(k retry.Kind) []string {
	switch k {
	case retry.Immediate:
		return []string{"max_attempts", "retry_on"}
	case retry.Fixed:
		return []string{"max_attempts", "base", "jitter", "retry_on"}
	case retry.Exponential:
		return []string{"max_attempts", "base", "cap", "multiplier", "jitter", "retry_on"}
	}
	return nil
}

// checkPreset reports an unknown preset name (with a suggestion) and
// overrides of fields that the preset's mechanism does not have: with
// preset grpc (a token bucket), budget.percent does nothing unless
// budget.kind changes the mechanism too.
func checkPreset(fe *sim.FieldErrors, prefix, name string, given []string) {
	if name == "" && given == nil {
		return
	}
	at := func(p string) string { return sim.JoinPath(prefix, p) }
	p, ok := presetHops[name]
	if !ok {
		fe.Add(at("preset"), "unknown preset %q%s", name, suggest(name, PresetNames()))
		return
	}
	set := map[string]bool{}
	for _, g := range given {
		set[g] = true
	}
	for _, g := range given {
		section, field, nested := strings.Cut(g, ".")
		if !nested {
			continue
		}
		sel, uses, ok := sectionFields(p.cfg, section)
		if !ok || field == sel || set[section+"."+sel] || slices.Contains(uses, field) {
			continue
		}
		what := "has none"
		if len(uses) > 0 {
			what = "uses " + strings.Join(uses, ", ")
		}
		fe.Add(at(g), "preset %s's %s (%s) has no field %s (it %s); set %s.%s to choose another mechanism",
			name, section, describeSection(p.cfg, section), field, what, section, sel)
	}
}

func describeSection(c CallConfig, section string) string {
	switch section {
	case "retry":
		return "policy " + c.Retry.Kind.String()
	case "budget":
		return "kind " + c.Budget.Kind.String()
	case "breaker":
		return "trip " + c.Breaker.Trip.String()
	case "hedge":
		return fmt.Sprintf("max %d", c.Hedge.Max)
	case "throttle":
		return fmt.Sprintf("adaptive %v", c.Throttle.Adaptive)
	case "pushback":
		return fmt.Sprintf("honour %v", c.Pushback.Honour)
	case "outlier":
		return fmt.Sprintf("consecutive_errors %d", c.Outlier.Consecutive)
	case "rate_limit":
		return fmt.Sprintf("adaptive %v", c.RateLimit.Adaptive)
	}
	return section
}

// suggest returns ` (did you mean "x"?)` for the closest name
// (enum.Closest), or the list of names.
func suggest(s string, names []string) string {
	if best, ok := enum.Closest(s, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (want one of " + strings.Join(names, ", ") + ")"
}
