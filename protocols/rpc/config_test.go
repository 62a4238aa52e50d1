package rpc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/protocols/retry"
)

// chain returns a valid a → b graph with the client calling a.
func chain() Config {
	cfg := DefaultConfig()
	a := DefaultServiceConfig()
	a.Calls = []CallConfig{callTo("b")}
	cfg.Services["a"] = a
	cfg.Services["b"] = DefaultServiceConfig()
	cfg.Client.Call = callTo("a")
	return cfg
}

func TestValidateBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(c *Config)
		want   string // substring of the error; "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"unbounded-retry", func(c *Config) {
			c.Client.Call.Retry = retry.Policy{Kind: retry.Immediate}
		}, "client.retry.max_attempts: a immediate retry policy needs a bound"},
		{"unbounded-retry-in-graph", func(c *Config) {
			a := c.Services["a"]
			a.Calls[0].Retry = retry.Policy{Kind: retry.Exponential, Base: ms, Cap: time.Second, Multiplier: 2}
			c.Services["a"] = a
		}, "services.a.calls[0].retry.max_attempts: a exponential retry policy needs a bound"},
		{"bucket-zero-rate", func(c *Config) {
			c.Client.Call.Budget.Kind = retry.TokenBucket
			c.Client.Call.Budget.TokenRatio = 0
		}, "client.budget.token_ratio: must be in (0, 1]"},
		{"percent-negative-rate", func(c *Config) {
			a := c.Services["a"]
			a.Calls[0].Budget.Kind = retry.Percentage
			a.Calls[0].Budget.Percent = -10
			c.Services["a"] = a
		}, "services.a.calls[0].budget.percent: must be in (0, 1000]"},
		{"cycle", func(c *Config) {
			b := c.Services["b"]
			b.Calls = []CallConfig{callTo("c")}
			c.Services["b"] = b
			cc := DefaultServiceConfig()
			cc.Calls = []CallConfig{callTo("a")}
			c.Services["c"] = cc
		}, "services.a.calls: the call graph has a cycle: a → b → c → a"},
		{"self-call", func(c *Config) {
			b := c.Services["b"]
			b.Calls = []CallConfig{callTo("b")}
			c.Services["b"] = b
		}, "the call graph has a cycle: b → b"},
		{"undefined-callee", func(c *Config) {
			b := c.Services["b"]
			b.Calls = []CallConfig{callTo("cache")}
			c.Services["b"] = b
		}, `services.b.calls[0].service: calls undefined service "cache"`},
		{"undefined-target", func(c *Config) { c.Client.Call.Service = "web" }, `client.service: targets undefined service "web"`},
		{"no-target", func(c *Config) { c.Client.Call.Service = "" }, "client.service: is required"},
		{"no-services", func(c *Config) { c.Services = nil; c.Client.Call.Service = "" }, "services: at least one service is required"},
		{"bad-name", func(c *Config) { c.Services["a b"] = DefaultServiceConfig() }, "services.a b: service names use"},
		{"workers", func(c *Config) {
			b := c.Services["b"]
			b.Workers = 0
			c.Services["b"] = b
		}, "services.b.workers: must be at least 1"},
		{"error-rate", func(c *Config) {
			b := c.Services["b"]
			b.Errors.Rate = 1.5
			c.Services["b"] = b
		}, "services.b.errors.rate"},
		{"error-window", func(c *Config) {
			b := c.Services["b"]
			b.Errors = ErrorConfig{Rate: 0.5, From: 2 * time.Second, To: time.Second}
			c.Services["b"] = b
		}, "services.b.errors.to: must be after from"},
		{"error-status", func(c *Config) {
			b := c.Services["b"]
			b.Errors = ErrorConfig{Rate: 0.5, Status: "ok"}
			c.Services["b"] = b
		}, "services.b.errors.status: unknown status"},
		{"dist", func(c *Config) {
			b := c.Services["b"]
			b.ServiceTime = DistConfig{Dist: "gamma"}
			c.Services["b"] = b
		}, `services.b.service_time.dist: unknown distribution "gamma"`},
		{"no dist", func(c *Config) {
			b := c.Services["b"]
			b.ServiceTime = DistConfig{}
			c.Services["b"] = b
		}, `services.b.service_time.dist: is required`},
		{"hedge-without-delay", func(c *Config) { c.Client.Call.Hedge.Max = 1 }, "client.hedge.delay"},
		{"breaker", func(c *Config) {
			c.Client.Call.Breaker.Trip = retry.TripRate
			c.Client.Call.Breaker.FailureRate = 0
		}, "client.breaker.failure_rate"},
		{"negative-timeout", func(c *Config) { c.Client.Call.Timeout = -1 }, "client.timeout: must not be negative"},
		{"workload", func(c *Config) { c.Workload.Rate = 0 }, "workload.rate"},
		{"unknown-variant", func(c *Config) {
			c.Variants = map[string]HopPreset{"naive": {}, "budget": {}}
			c.Variant = "breaker"
		}, `variant: "breaker" is not one of variants (budget, naive)`},
		{"bad-preset", func(c *Config) {
			c.Variants = map[string]HopPreset{"x": {Retry: retry.Policy{Kind: retry.Immediate}, set: map[string]bool{"retry": true}}}
			c.Variant = "x"
		}, "services.a.calls[0].retry.max_attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chain()
			tc.modify(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error:\n%v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

func TestYAML(t *testing.T) {
	src := `
services:
  frontend: {replicas: 3, calls: [api]}
  api:
    workers: 4
    queue: 10
    queue_timeout: 50ms
    service_time: {dist: lognormal, median: 2ms, p99: 20ms}
    overload: {mode: slow, slowdown: 0.1}
    fan_out: parallel
    calls:
      - service: db
        count: 2
        timeout: 100ms
        retry: {policy: exponential, max_attempts: 3, base: 10ms, cap: 1s, multiplier: 2, jitter: full}
        budget: {kind: token_bucket, shared: true}
        breaker: {trip: rate}
        hedge: {max: 1, delay: 20ms, quantile: 0.95}
        bulkhead: 8
        balance: p2c
  db: {errors: {rate: 0.5, from: 20s, to: 40s}}
client:
  service: frontend
  timeout: 200ms
  deadline: 1s
  retry: {policy: naive, max_attempts: 3}
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	fe := c.Services["frontend"]
	if fe.Replicas != 3 || fe.Workers != 16 || fe.Calls[0].Service != "api" || fe.Calls[0].Count != 1 {
		t.Errorf("frontend: defaults not filled: %+v", fe)
	}
	api := c.Services["api"]
	call := api.Calls[0]
	if api.Overload.Mode != Slow || api.FanOut != Parallel || call.Count != 2 || call.Balance != PowerOfTwo ||
		call.Retry.Jitter != retry.FullJitter || !call.Budget.Shared || call.Budget.TokenRatio != 0.1 ||
		call.Breaker.Trip != retry.TripRate || call.Breaker.MinRequests != 20 || call.Hedge.Quantile != 0.95 {
		t.Errorf("api decoded as %+v", api)
	}
	if db := c.Services["db"]; db.Errors.Rate != 0.5 || db.Errors.To != 40*time.Second || db.Workers != 16 {
		t.Errorf("db decoded as %+v", db)
	}
	if cl := c.Client; cl.Call.Service != "frontend" || cl.Call.Retry.Kind != retry.Immediate || cl.Deadline != time.Second || cl.Replicas != 1 {
		t.Errorf("client decoded as %+v", cl)
	}
	// Unknown keys are the experiment loader's to report, with their
	// place in the file (experiments.TestRPCBadInput); bad values are
	// the decoder's.
	for _, bad := range []struct{ src, want string }{
		{"services: {db: {calls: [{service: x, balance: nearest}]}}", `unknown balance "nearest"`},
		{"client: {retry: {policy: sometimes}}", `unknown retry policy "sometimes"`},
	} {
		c := DefaultConfig()
		err := yaml.Unmarshal([]byte(bad.src), &c)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.src, err, bad.want)
		}
	}
}

// TestExamplesDecode decodes the protocol section of every bundled example
// (experiments/examples/*.yaml) and the call lists its sweeps substitute, so that a
// change of the schema cannot leave them behind. Running them needs the
// experiment runner (see docs/experiments.md).
func TestExamplesDecode(t *testing.T) {
	var files []string
	for _, name := range []string{"retry-storm", "jitter", "timeouts", "fan-out"} {
		files = append(files, filepath.Join("..", "..", "experiments", "examples", name+".yaml"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Sweep map[string]yaml.Node `yaml:"sweep"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c, wl := exampleConfig(t, f)
		c.Workload = wl
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for v := range c.Variants {
			c.Variant = v
			if err := c.Validate(); err != nil {
				t.Errorf("%s: variant %s: %v", f, v, err)
			}
		}
		for path, vals := range doc.Sweep {
			if !strings.HasSuffix(path, ".calls") {
				continue
			}
			for i, v := range vals.Content {
				var calls []CallConfig
				if err := v.Decode(&calls); err != nil {
					t.Errorf("%s: sweep %s[%d]: %v", f, path, i, err)
				}
				for _, call := range calls {
					if err := call.Validate(); err != nil {
						t.Errorf("%s: sweep %s[%d]: %v", f, path, i, err)
					}
				}
			}
		}
	}
}

// TestVariantPresets checks that the chosen preset replaces the fields it
// gives in every service's calls, keeps the others, and leaves the client
// alone.
func TestVariantPresets(t *testing.T) {
	src := `
variant: fast
variants:
  fast: {timeout: 50ms, retry: {policy: naive, max_attempts: 2}, fan_out: parallel, count: 4}
  none: {}
services:
  a: {calls: [{service: b, timeout: 1s, balance: random}]}
  b: {}
client: {service: a, timeout: 2s}
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	r := c.Resolved()
	call := r.Services["a"].Calls[0]
	if call.Timeout != 50*time.Millisecond || call.Retry.Kind != retry.Immediate || call.Retry.MaxAttempts != 2 || call.Count != 4 {
		t.Errorf("preset not applied: %+v", call)
	}
	if call.Balance != Random || call.Budget.Kind != retry.NoBudget {
		t.Errorf("fields the preset leaves out changed: %+v", call)
	}
	if r.Services["a"].FanOut != Parallel || r.Services["b"].FanOut != Serial {
		t.Errorf("fan_out: a %v, b %v; want parallel for the caller only", r.Services["a"].FanOut, r.Services["b"].FanOut)
	}
	if r.Client.Call.Timeout != 2*time.Second || r.Client.Call.Retry.MaxAttempts != 1 {
		t.Errorf("client changed: %+v", r.Client.Call)
	}
	if c.Services["a"].Calls[0].Timeout != time.Second {
		t.Error("Resolved modified the original configuration")
	}
	c.Variant = "none"
	if got := c.Resolved().Services["a"].Calls[0]; got.Timeout != time.Second {
		t.Errorf("empty preset changed the call: %+v", got)
	}
}
