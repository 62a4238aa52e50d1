package rpc

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/protocols/retry"
)

// TestPresetsResolve pins every preset to the documented values it
// stands for. Each row cites where the value is documented; a change to
// a preset must change this table and its source together.
func TestPresetsResolve(t *testing.T) {
	s := time.Second
	type row struct {
		field string
		got   any
		want  any
	}
	for _, tc := range []struct {
		preset string
		rows   func(c CallConfig) []row
	}{
		// gRFC A6, https://github.com/grpc/proposal/blob/master/A6-client-retries.md:
		// "maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "1s",
		// "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"];
		// retryThrottling "maxTokens": 10, "tokenRatio": 0.1; pushback
		// "retry after exactly that delay".
		{"grpc", func(c CallConfig) []row {
			return []row{
				{"retry.policy", c.Retry.Kind, retry.Exponential},
				{"retry.max_attempts", c.Retry.MaxAttempts, 4},
				{"retry.base", c.Retry.Base, 100 * ms},
				{"retry.cap", c.Retry.Cap, s},
				{"retry.multiplier", c.Retry.Multiplier, 2.0},
				{"retry.jitter", c.Retry.Jitter, retry.FullJitter},
				{"retry.retry_on", c.Retry.RetryOn, []retry.Class{retry.Overload}},
				{"budget.kind", c.Budget.Kind, retry.TokenBucket},
				{"budget.max_tokens", c.Budget.MaxTokens, 10.0},
				{"budget.token_ratio", c.Budget.TokenRatio, 0.1},
				{"pushback.honour", c.Pushback.Honour, true},
				{"pushback.mode", c.Pushback.Mode, retry.Replace},
				{"hedge.max", c.Hedge.Max, 0},
			}
		}},
		// gRFC A6 hedging policy: "maxAttempts": 4, "hedgingDelay": "0.5s".
		{"grpc_hedging", func(c CallConfig) []row {
			return []row{
				{"hedge.max", c.Hedge.Max, 3},
				{"hedge.delay", c.Hedge.Delay, 500 * ms},
				{"retry.policy", c.Retry.Kind, retry.None},
				{"budget.kind", c.Budget.Kind, retry.TokenBucket},
				{"budget.max_tokens", c.Budget.MaxTokens, 10.0},
			}
		}},
		// AWS SDKs and Tools Reference Guide, "Retry behavior"
		// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html):
		// standard mode makes three attempts; botocore retries/standard.py:
		// ExponentialBackoff base 2, max_backoff 20, delay random()·2^(n−1);
		// retries/quota.py INITIAL_CAPACITY 500; standard.py RETRY_COST 5,
		// TIMEOUT_RETRY_COST 10, NO_RETRY_INCREMENT 1.
		{"aws_standard", func(c CallConfig) []row {
			return []row{
				{"retry.max_attempts", c.Retry.MaxAttempts, 3},
				{"retry.base", c.Retry.Base, s},
				{"retry.cap", c.Retry.Cap, 20 * s},
				{"retry.multiplier", c.Retry.Multiplier, 2.0},
				{"retry.jitter", c.Retry.Jitter, retry.FullJitter},
				{"budget.kind", c.Budget.Kind, retry.Quota},
				{"budget.capacity", c.Budget.Capacity, 500.0},
				{"budget.retry_cost", c.Budget.RetryCost, 5.0},
				{"budget.timeout_cost", c.Budget.TimeoutCost, 10.0},
				{"budget.success_refill", c.Budget.SuccessRefill, 1.0},
				{"rate_limit.adaptive", c.RateLimit.Adaptive, false},
			}
		}},
		// Same guide, adaptive mode = standard + client-side rate limiting;
		// botocore retries/adaptive.py and throttling.py: BETA 0.7,
		// SCALE_CONSTANT 0.4, RateClocker smoothing 0.8, bucket MIN_RATE 0.5.
		{"aws_adaptive", func(c CallConfig) []row {
			return []row{
				{"retry.max_attempts", c.Retry.MaxAttempts, 3},
				{"budget.kind", c.Budget.Kind, retry.Quota},
				{"budget.capacity", c.Budget.Capacity, 500.0},
				{"rate_limit.adaptive", c.RateLimit.Adaptive, true},
				{"rate_limit.beta", c.RateLimit.Beta, 0.7},
				{"rate_limit.scale", c.RateLimit.Scale, 0.4},
				{"rate_limit.smoothing", c.RateLimit.Smoothing, 0.8},
				{"rate_limit.min_rate", c.RateLimit.MinRate, 0.5},
			}
		}},
		// Envoy v1.31 API reference: RetryPolicy num_retries default 1,
		// base_interval default 25ms, max_interval default 10×base;
		// RetryBudget budget_percent default 20%, min_retry_concurrency
		// default 3; Thresholds max_requests default 1024;
		// OutlierDetection consecutive_5xx 5, interval 10s,
		// base_ejection_time 30s, max_ejection_percent 10%,
		// max_ejection_time 300s.
		{"envoy", func(c CallConfig) []row {
			return []row{
				{"retry.max_attempts", c.Retry.MaxAttempts, 2},
				{"retry.base", c.Retry.Base, 25 * ms},
				{"retry.cap", c.Retry.Cap, 250 * ms},
				{"retry.jitter", c.Retry.Jitter, retry.FullJitter},
				{"budget.kind", c.Budget.Kind, retry.Concurrency},
				{"budget.percent", c.Budget.Percent, 20.0},
				{"budget.min_concurrency", c.Budget.MinConcurrency, 3},
				{"bulkhead", c.Bulkhead, 1024},
				{"outlier.consecutive_errors", c.Outlier.Consecutive, 5},
				{"outlier.interval", c.Outlier.Interval, 10 * s},
				{"outlier.base_ejection_time", c.Outlier.BaseTime, 30 * s},
				{"outlier.max_ejection_percent", c.Outlier.MaxPercent, 10.0},
				{"outlier.max_ejection_time", c.Outlier.MaxTime, 300 * s},
				{"outlier.growth", c.Outlier.Growth, retry.GrowLinear},
				{"balance", c.Balance, RoundRobin},
			}
		}},
		// Finagle RetryBudget: ttl 10s, minRetriesPerSec 10,
		// percentCanRetry 0.2; FailureAccrualFactory: 5 consecutive
		// failures, equalJittered(5s, 300s) backoff; default balancer P2C
		// (https://twitter.github.io/finagle/guide/Clients.html). Linkerd 2:
		// retryRatio 0.2, minRetriesPerSecond 10, ttl 10s.
		{"finagle", func(c CallConfig) []row {
			return []row{
				{"budget.kind", c.Budget.Kind, retry.Percentage},
				{"budget.percent", c.Budget.Percent, 20.0},
				{"budget.min_retries_per_second", c.Budget.MinRetriesPerSecond, 10.0},
				{"budget.window", c.Budget.Window, 10 * s},
				{"outlier.consecutive_errors", c.Outlier.Consecutive, 5},
				{"outlier.base_ejection_time", c.Outlier.BaseTime, 5 * s},
				{"outlier.max_ejection_time", c.Outlier.MaxTime, 300 * s},
				{"outlier.growth", c.Outlier.Growth, retry.GrowExponential},
				{"balance", c.Balance, PowerOfTwo},
				{"retry.policy", c.Retry.Kind, retry.None},
			}
		}},
		// Resilience4j CircuitBreakerConfig defaults
		// (https://resilience4j.readme.io/docs/circuitbreaker):
		// failureRateThreshold 50, slidingWindowSize 100 (COUNT_BASED),
		// minimumNumberOfCalls 100, waitDurationInOpenState 60s,
		// permittedNumberOfCallsInHalfOpenState 10; RetryConfig
		// (https://resilience4j.readme.io/docs/retry): maxAttempts 3,
		// waitDuration 500ms.
		{"resilience4j", func(c CallConfig) []row {
			return []row{
				{"breaker.trip", c.Breaker.Trip, retry.TripRate},
				{"breaker.failure_rate", c.Breaker.FailureRate, 0.5},
				{"breaker.window_calls", c.Breaker.WindowCalls, 100},
				{"breaker.min_requests", c.Breaker.MinRequests, 100},
				{"breaker.open_for", c.Breaker.OpenFor, 60 * s},
				{"breaker.half_open_probes", c.Breaker.HalfOpenProbes, 10},
				{"breaker.mode", c.Breaker.Mode, retry.BlockAll},
				{"retry.policy", c.Retry.Kind, retry.Fixed},
				{"retry.max_attempts", c.Retry.MaxAttempts, 3},
				{"retry.base", c.Retry.Base, 500 * ms},
			}
		}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			c, ok := PresetHop(tc.preset)
			if !ok {
				t.Fatalf("no preset %q", tc.preset)
			}
			for _, r := range tc.rows(c) {
				if g, ok := r.got.([]retry.Class); ok {
					if !slices.Equal(g, r.want.([]retry.Class)) {
						t.Errorf("%s: %v, documented %v", r.field, r.got, r.want)
					}
					continue
				}
				if r.got != r.want {
					t.Errorf("%s: %v, documented %v", r.field, r.got, r.want)
				}
			}
		})
	}
	if len(PresetNames()) != 7 {
		t.Errorf("presets %v: the table above covers 7", PresetNames())
	}
	for _, p := range Presets() {
		if !strings.HasPrefix(p.Source, "https://") || p.System == "" || p.Notes == "" {
			t.Errorf("preset %s lacks a source, system or notes", p.Name)
		}
	}
}

// TestPresetDocsTable checks that docs/rpc.md lists every preset.
func TestPresetDocsTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/rpc.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range PresetNames() {
		if !strings.Contains(string(b), "| `"+n+"`") {
			t.Errorf("docs/rpc.md has no table row for preset %s", n)
		}
	}
}

func decodeCall(t *testing.T, src string) CallConfig {
	t.Helper()
	var c CallConfig
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPresetOverrides: fields beside preset override one value each;
// the rest of the preset stays.
func TestPresetOverrides(t *testing.T) {
	c := decodeCall(t, "{service: db, preset: grpc, retry: {max_attempts: 5}, budget: {max_tokens: 20}, timeout: 50ms}")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Retry.MaxAttempts != 5 || c.Retry.Base != 100*ms || c.Retry.Cap != time.Second || !slices.Equal(c.Retry.RetryOn, []retry.Class{retry.Overload}) {
		t.Errorf("retry %+v: want grpc's with max_attempts 5", c.Retry)
	}
	if c.Budget.Kind != retry.TokenBucket || c.Budget.MaxTokens != 20 || c.Budget.TokenRatio != 0.1 {
		t.Errorf("budget %+v: want grpc's with max_tokens 20", c.Budget)
	}
	if c.Timeout != 50*ms || !c.Pushback.Honour {
		t.Errorf("timeout %v, pushback %+v", c.Timeout, c.Pushback)
	}
	// Changing the mechanism is allowed, with its own fields.
	c = decodeCall(t, "{service: db, preset: grpc, budget: {kind: percentage, percent: 30}}")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Budget.Kind != retry.Percentage || c.Budget.Percent != 30 {
		t.Errorf("budget %+v", c.Budget)
	}
	// The client section takes a preset too.
	var cc ClientConfig
	if err := yaml.Unmarshal([]byte("{service: db, preset: aws_standard, retry: {max_attempts: 5}}"), &cc); err != nil {
		t.Fatal(err)
	}
	if cc.Call.Budget.Kind != retry.Quota || cc.Call.Retry.MaxAttempts != 5 || cc.Call.Retry.Base != time.Second {
		t.Errorf("client call %+v", cc.Call)
	}
	// A variant applies a preset to every service's calls, with overrides.
	var cfg Config
	src := `
variant: v
variants:
  v: {preset: envoy, retry: {max_attempts: 3}}
services:
  a: {calls: [{service: b, timeout: 10ms}]}
  b: {}
client: {service: a}
`
	cfg = DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	got := cfg.Resolved().Services["a"].Calls[0]
	if got.Preset != "envoy" || got.Retry.MaxAttempts != 3 || got.Retry.Base != 25*ms || got.Budget.Kind != retry.Concurrency || got.Outlier.Consecutive != 5 || got.Timeout != 10*ms {
		t.Errorf("resolved call %+v", got)
	}
}

// TestPresetBadInput: unknown names get a suggestion; fields the
// preset's mechanism lacks are named with their path.
func TestPresetBadInput(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{"{service: db, preset: grcp}", `preset: unknown preset "grcp" (did you mean "grpc"?)`},
		{"{service: db, preset: nginx}", `preset: unknown preset "nginx" (want one of aws_adaptive`},
		{"{service: db, preset: grpc, budget: {percent: 30}}", "budget.percent: preset grpc's budget (kind token_bucket) has no field percent (it uses max_tokens, token_ratio, shared); set budget.kind to choose another mechanism"},
		{"{service: db, preset: grpc, breaker: {failure_rate: 0.3}}", "breaker.failure_rate: preset grpc's breaker (trip none) has no field failure_rate (it has none); set breaker.trip"},
		{"{service: db, preset: resilience4j, retry: {cap: 1s}}", "retry.cap: preset resilience4j's retry (policy fixed) has no field cap"},
		{"{service: db, preset: aws_standard, throttle: {k: 3}}", "throttle.k: preset aws_standard's throttle (adaptive false) has no field k"},
		{"{service: db, preset: aws_standard, budget: {retry_cost: -5}}", "budget.retry_cost: must be a finite number ≥ 0"},
		{"{service: db, throttle: {adaptive: true, k: 1}}", "throttle.k: must be a finite number > 1"},
	} {
		c := decodeCall(t, tc.src)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	// A variant naming an unknown preset is reported at the variant.
	cfg := DefaultConfig()
	src := "variant: v\nvariants: {v: {preset: envoi}}\nservices: {a: {}}\nclient: {service: a}\n"
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `variants.v.preset: unknown preset "envoi" (did you mean "envoy"?)`) {
		t.Errorf("variant: %v", err)
	}
}
