package rpc

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/protocols/dist"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Balance,FanOut,OverloadMode -linecomment -output=config_string.go

// Balance is how a caller picks a replica of the callee for each attempt.
type Balance uint8

// Load-balancing choices.
const (
	// RoundRobin cycles through the replicas.
	RoundRobin Balance = iota // round_robin
	// Random picks a replica uniformly.
	Random // random
	// LeastOutstanding picks the replica with the fewest attempts this
	// caller has in flight (ties broken in rotating order).
	LeastOutstanding // least_outstanding
	// PowerOfTwo picks two distinct replicas at random and takes the one
	// with fewer outstanding attempts (Mitzenmacher, "The Power of Two
	// Choices in Randomized Load Balancing", 2001).
	PowerOfTwo // p2c
)

// MarshalText returns the name.
func (b Balance) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a name.
func (b *Balance) UnmarshalText(t []byte) error { return enum.Set(b, "balance", string(t)) }

// FanOut is how a service makes its downstream calls.
type FanOut uint8

// Fan-out modes.
const (
	// Serial makes one call after the other.
	Serial FanOut = iota // serial
	// Parallel makes every call at once and waits for all.
	Parallel // parallel
)

// MarshalText returns the name.
func (f FanOut) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText parses a name.
func (f *FanOut) UnmarshalText(t []byte) error { return enum.Set(f, "fan-out mode", string(t)) }

// OverloadMode is what a server does when its queue grows past the
// overload threshold.
type OverloadMode uint8

// Overload modes.
const (
	// Reject answers 429 at once (fail fast), keeping latency bounded.
	Reject OverloadMode = iota // reject
	// Slow accepts the work but every queued request beyond the threshold
	// makes service slower (contention, swapping, GC), the way real
	// servers degrade.
	Slow // slow
)

// MarshalText returns the name.
func (o OverloadMode) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText parses a name.
func (o *OverloadMode) UnmarshalText(t []byte) error { return enum.Set(o, "overload mode", string(t)) }

// HedgeConfig configures hedged requests (J. Dean and L. A. Barroso, "The
// Tail at Scale", CACM 2013): when the first attempt has not answered
// after a delay, send a backup to another replica, take whichever answers
// first and cancel the other.
type HedgeConfig struct {
	// Max is the number of backups per call; 0 disables hedging.
	Max int `yaml:"max"`
	// Delay is how long to wait before a backup, and the fallback while
	// too few latencies have been observed for Quantile.
	Delay time.Duration `yaml:"delay"`
	// Quantile, if set (e.g. 0.95), replaces Delay by that quantile of
	// the latencies of this caller's recent successful attempts, so that
	// about 1−quantile of calls are hedged.
	Quantile float64 `yaml:"quantile"`
}

// CallConfig is one hop: how a caller (a client or a service) calls a
// downstream service. In YAML it is either a mapping or just the service
// name (defaults for the rest).
type CallConfig struct {
	// Service is the callee's name.
	Service string `yaml:"service"`
	// Count is how many calls to Service each request makes (a fan-out of
	// identical calls, made per the service's fan_out mode).
	Count int `yaml:"count"`
	// Timeout bounds each attempt; 0 waits forever (or until the
	// deadline). Shorter timeouts fail fast but cut off slow successes.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the retry policy for this hop.
	Retry retry.Policy `yaml:"retry"`
	// Budget limits the retries of this hop.
	Budget retry.BudgetConfig `yaml:"budget"`
	// Breaker is this hop's circuit breaker.
	Breaker retry.BreakerConfig `yaml:"breaker"`
	// Hedge sends backup attempts for slow calls.
	Hedge HedgeConfig `yaml:"hedge"`
	// Bulkhead caps the calls to Service one node has in flight (0 = no
	// cap). Calls beyond it fail at once with bulkhead_full, so a slow
	// dependency cannot take every worker.
	Bulkhead int `yaml:"bulkhead"`
	// Balance picks a replica per attempt: round_robin, random,
	// least_outstanding or p2c.
	Balance Balance `yaml:"balance"`
	// Preset names a real client library's or proxy's documented
	// defaults (grpc, aws_standard, envoy, ...; see Presets and
	// docs/rpc.md). Its values come first and every other field of the
	// hop overrides them one by one.
	Preset string `yaml:"preset"`
	// Throttle is client-side adaptive throttling (SRE book ch. 21).
	Throttle retry.ThrottleConfig `yaml:"throttle"`
	// Pushback is whether the caller honours servers' retry-after hints
	// and "do not retry" answers.
	Pushback retry.PushbackConfig `yaml:"pushback"`
	// Outlier ejects a replica after a run of failed attempts.
	Outlier retry.EjectionConfig `yaml:"outlier"`
	// RateLimit is the AWS SDKs' adaptive-mode client-side rate limiter.
	RateLimit retry.RateLimitConfig `yaml:"rate_limit"`

	given []string // the fields the hop's own YAML sets, when it names a preset
	// Transport is what the hop's messages travel over: a datagram by
	// default (each message one network message), or TCP or QUIC
	// connections with TLS, pooling and an HTTP version (see
	// docs/transports.md).
	Transport transport.Config `yaml:"transport"`
}

// DefaultCallConfig returns a hop with one attempt and no timeout,
// budget, breaker or hedging, balanced round-robin. The budget and breaker
// carry their defaults so that choosing a kind is enough.
func DefaultCallConfig() CallConfig {
	return CallConfig{Count: 1, Retry: retry.NoRetry(), Budget: retry.DefaultBudgetConfig(), Breaker: retry.DefaultBreakerConfig(),
		Throttle: retry.DefaultThrottleConfig(), Outlier: retry.DefaultEjectionConfig(), RateLimit: retry.DefaultRateLimitConfig(),
		Transport: transport.DefaultConfig()}
}

// SetDefaults sets c to DefaultCallConfig(): what a hop starts from
// before the keys of its YAML are decoded over it.
func (c *CallConfig) SetDefaults() { *c = DefaultCallConfig() }

// UnmarshalYAML accepts a bare service name or a mapping. It fills the
// defaults first (SetDefaults), then the values of the preset the mapping
// names, if any, and decodes the mapping's keys over them. Keys are not
// checked here: the experiment loader checks every key against the
// struct's fields, with its place in the file.
func (c *CallConfig) UnmarshalYAML(n *yaml.Node) error {
	c.SetDefaults()
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&c.Service)
	}
	given := startPreset(n, c)
	type plain CallConfig
	err := n.Decode((*plain)(c))
	c.given = given
	return err
}

// Validate reports impossible settings.
func (c CallConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Service == "" {
		fe.Add("service", "is required")
	}
	if c.Count < 1 || c.Count > 10000 {
		fe.Add("count", "must be in [1, 10000], got %d", c.Count)
	}
	if c.Timeout < 0 {
		fe.Add("timeout", "must not be negative, got %v", c.Timeout)
	}
	fe.Merge("retry", c.Retry.Validate())
	fe.Merge("budget", c.Budget.Validate())
	fe.Merge("breaker", c.Breaker.Validate())
	if c.Hedge.Max < 0 || c.Hedge.Max > 10 {
		fe.Add("hedge.max", "must be in [0, 10], got %d", c.Hedge.Max)
	}
	if c.Hedge.Max > 0 && c.Hedge.Delay <= 0 {
		fe.Add("hedge.delay", "hedging needs a positive delay (also the fallback for quantile), got %v", c.Hedge.Delay)
	}
	if c.Hedge.Quantile != 0 && !(c.Hedge.Quantile > 0 && c.Hedge.Quantile < 1) {
		fe.Add("hedge.quantile", "must be in (0, 1), got %v", c.Hedge.Quantile)
	}
	if c.Bulkhead < 0 {
		fe.Add("bulkhead", "must not be negative, got %d", c.Bulkhead)
	}
	if c.Balance > PowerOfTwo {
		fe.Add("balance", "unknown balance %d", c.Balance)
	}
	fe.Merge("throttle", c.Throttle.Validate())
	fe.Merge("pushback", c.Pushback.Validate())
	fe.Merge("outlier", c.Outlier.Validate())
	fe.Merge("rate_limit", c.RateLimit.Validate())
	checkPreset(&fe, "", c.Preset, c.given)
	fe.Merge("transport", c.Transport.Validate())
	return fe.Err()
}

// ErrorConfig injects failures into a service: each request fails with
// Status with probability Rate, during [From, To) of simulated time.
type ErrorConfig struct {
	// Rate is the probability that a request fails, in [0, 1].
	Rate float64 `yaml:"rate"`
	// From is when injection starts (0 = the start of the run).
	From time.Duration `yaml:"from"`
	// To is when injection stops (0 = never).
	To time.Duration `yaml:"to"`
	// Status is what failed requests answer; internal by default.
	Status string `yaml:"status"`
}

// SlowConfig makes a service, or some of its replicas, slow for a while (a
// degraded disk, a noisy neighbour): service times are multiplied by
// Factor during [From, To).
type SlowConfig struct {
	// Factor multiplies service times (1 or 0 = no change).
	Factor float64 `yaml:"factor"`
	// From is when the slowdown starts.
	From time.Duration `yaml:"from"`
	// To is when it ends (0 = never).
	To time.Duration `yaml:"to"`
	// Replicas, if positive, limits the slowdown to the first that many
	// replicas (one slow replica among healthy ones).
	Replicas int `yaml:"replicas"`
}

// OverloadConfig is a server's behaviour under overload.
type OverloadConfig struct {
	// Mode is reject (answer 429 once the queue holds threshold requests)
	// or slow (serve what fits in the queue, but slower as it grows).
	Mode OverloadMode `yaml:"mode"`
	// Threshold is the queue length where overload starts. Reject: new
	// requests get 429 once that many wait (0: never; only a full queue
	// sheds, with 503). Slow: requests queued beyond it slow service down
	// (0: from the first).
	Threshold int `yaml:"threshold"`
	// Slowdown (mode slow) is the extra fraction of service time each
	// queued request beyond the threshold adds: with 0.05 and 20 queued,
	// service takes twice as long.
	Slowdown float64 `yaml:"slowdown"`
}

// ServiceConfig is one named service: its replicas, their capacity and
// faults, and the calls each request makes downstream.
type ServiceConfig struct {
	// Replicas is the number of identical nodes. In an experiment the
	// replicas are the nodes that Nodes selects, and replicas, if set,
	// must agree with their number; without a topology (Build) 0 means 1.
	Replicas int `yaml:"replicas"`
	// Nodes selects the experiment's nodes that run this service's
	// replicas: node names, zone names or "*" (default: the nodes named
	// "<service>-…").
	Nodes []string `yaml:"nodes" dsim:"nodes"`
	// Workers is each replica's concurrency limit: requests in service
	// (including waiting for dependencies) at once.
	Workers int `yaml:"workers"`
	// Queue is how many requests wait for a worker; beyond it requests
	// are shed with 503 (unavailable).
	Queue int `yaml:"queue"`
	// QueueTimeout is the longest a request may wait for a worker; older
	// requests get 503 when their turn comes. 0 = no limit.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
	// ServiceTime is the local work per request.
	ServiceTime DistConfig `yaml:"service_time"`
	// ServiceTimeDist, when set by code, replaces ServiceTime (for
	// distributions from other packages).
	ServiceTimeDist Dist `yaml:"-"`
	// Errors injects failures.
	Errors ErrorConfig `yaml:"errors"`
	// Slow stretches service times during a window.
	Slow SlowConfig `yaml:"slow"`
	// Overload is the behaviour past the overload threshold.
	Overload OverloadConfig `yaml:"overload"`
	// Pushback makes the replicas answer their own refusals (overload,
	// full queue, queue timeout, concurrency limit) with a retry-after
	// hint or "do not retry".
	Pushback ServerPushback `yaml:"pushback"`
	// Limit is an adaptive concurrency limit per replica (AIMD or
	// gradient): requests beyond it are refused with 429 at once.
	Limit retry.LimitConfig `yaml:"concurrency_limit"`
	// FanOut is serial or parallel: how Calls are made.
	FanOut FanOut `yaml:"fan_out"`
	// Calls are the downstream calls each request makes after its local
	// work (none for a leaf service).
	Calls []CallConfig `yaml:"calls"`
}

// DefaultServiceConfig returns a service with 16 workers per replica, a
// queue of 100, and 1ms exponential service times.
func DefaultServiceConfig() ServiceConfig {
	return ServiceConfig{Workers: 16, Queue: 100, ServiceTime: DistConfig{Dist: "exponential", Mean: time.Millisecond}, Limit: retry.DefaultLimitConfig()}
}

// SetDefaults sets c to DefaultServiceConfig(): what each service of the
// services mapping starts from before its keys are decoded over it.
func (c *ServiceConfig) SetDefaults() { *c = DefaultServiceConfig() }

// UnmarshalYAML fills the defaults (SetDefaults), then decodes the
// mapping's keys over them; the loader checks the keys.
func (c *ServiceConfig) UnmarshalYAML(n *yaml.Node) error {
	c.SetDefaults()
	type plain ServiceConfig
	return n.Decode((*plain)(c))
}

// errorStatus parses an injected error status ("" = internal).
func errorStatus(s string) (Status, bool) {
	switch s {
	case "", "internal":
		return Internal, true
	}
	if st, err := enum.Parse[Status]("status", s); err == nil && st != OK && st < CircuitOpen {
		return st, true
	}
	return 0, false
}

// Validate reports impossible settings of the service itself (calls to
// undefined services are checked by Config.Validate).
func (c ServiceConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Replicas < 0 || c.Replicas > 10000 {
		fe.Add("replicas", "must be in [0, 10000], got %d", c.Replicas)
	}
	if c.Workers < 1 {
		fe.Add("workers", "must be at least 1, got %d", c.Workers)
	}
	if c.Queue < 0 || c.Queue > 10_000_000 {
		fe.Add("queue", "must be in [0, 10000000], got %d", c.Queue)
	}
	if c.QueueTimeout < 0 {
		fe.Add("queue_timeout", "must not be negative, got %v", c.QueueTimeout)
	}
	if c.ServiceTimeDist == nil && c.ServiceTime.IsZero() {
		fe.Add("service_time.dist", "is required (one of %s)", strings.Join(dist.Names(), ", "))
	} else if c.ServiceTimeDist == nil {
		fe.Merge("service_time", c.ServiceTime.Validate())
	}
	if !(c.Errors.Rate >= 0 && c.Errors.Rate <= 1) {
		fe.Add("errors.rate", "must be in [0, 1], got %v", c.Errors.Rate)
	}
	if c.Errors.From < 0 {
		fe.Add("errors.from", "must not be negative, got %v", c.Errors.From)
	}
	if c.Errors.To != 0 && c.Errors.To <= c.Errors.From {
		fe.Add("errors.to", "must be after from (%v), got %v", c.Errors.From, c.Errors.To)
	}
	if _, ok := errorStatus(c.Errors.Status); !ok {
		fe.Add("errors.status", "unknown status %q (want bad_request, too_many_requests, internal, unavailable or timeout)", c.Errors.Status)
	}
	if !(c.Slow.Factor >= 0) || math.IsInf(c.Slow.Factor, 0) {
		fe.Add("slow.factor", "must be a finite number ≥ 0, got %v", c.Slow.Factor)
	}
	if c.Slow.Replicas < 0 {
		fe.Add("slow.replicas", "must not be negative, got %d", c.Slow.Replicas)
	}
	if c.Slow.From < 0 {
		fe.Add("slow.from", "must not be negative, got %v", c.Slow.From)
	}
	if c.Slow.To != 0 && c.Slow.To <= c.Slow.From {
		fe.Add("slow.to", "must be after from (%v), got %v", c.Slow.From, c.Slow.To)
	}
	if c.Overload.Mode > Slow {
		fe.Add("overload.mode", "unknown mode %d", c.Overload.Mode)
	}
	if c.Overload.Threshold < 0 {
		fe.Add("overload.threshold", "must not be negative, got %d", c.Overload.Threshold)
	}
	if !(c.Overload.Slowdown >= 0) || math.IsInf(c.Overload.Slowdown, 0) {
		fe.Add("overload.slowdown", "must be a finite number ≥ 0, got %v", c.Overload.Slowdown)
	}
	if c.FanOut > Parallel {
		fe.Add("fan_out", "unknown mode %d", c.FanOut)
	}
	fe.Merge("pushback", c.Pushback.Validate())
	fe.Merge("concurrency_limit", c.Limit.Validate())
	for i, call := range c.Calls {
		fe.Merge(fmt.Sprintf("calls[%d]", i), call.Validate())
	}
	return fe.Err()
}

func (c ServiceConfig) dist() Dist {
	if c.ServiceTimeDist != nil {
		return c.ServiceTimeDist
	}
	return c.ServiceTime.Build()
}

// ClientConfig describes the client nodes at the top of the graph: where
// they run and how they call the target service. What they send (rate,
// open or closed loop, think time) is the experiment's workload.
type ClientConfig struct {
	// Replicas is the number of client nodes when built without a
	// topology (in an experiment, Nodes places them).
	Replicas int `yaml:"replicas"`
	// Nodes selects the experiment's nodes that run clients (default: the
	// nodes named "client-…").
	Nodes []string `yaml:"nodes" dsim:"nodes"`
	// Deadline is the end-to-end budget of a request, propagated down the
	// graph; 0 = none.
	Deadline time.Duration `yaml:"deadline"`
	// Stop is when clients stop issuing requests (0 = never), so that a
	// run can drain before it ends.
	Stop time.Duration `yaml:"stop"`
	// Call is how clients call the target service: service, timeout,
	// retry, budget, breaker, hedge, bulkhead, balance.
	Call CallConfig `yaml:",inline"`
}

// DefaultClientConfig returns one client node with the default hop.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{Replicas: 1, Call: DefaultCallConfig()}
}

// UnmarshalYAML decodes the client section, with the hop's fields at the
// same level as the client's own, over the values of the preset it names,
// if any; the loader checks the keys.
func (c *ClientConfig) UnmarshalYAML(n *yaml.Node) error {
	given := startPreset(n, &c.Call)
	type plain ClientConfig
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Call.given = given
	return nil
}

// Validate reports impossible settings.
func (c ClientConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Replicas < 1 || c.Replicas > 100000 {
		fe.Add("replicas", "must be in [1, 100000], got %d", c.Replicas)
	}
	if c.Call.Count != 1 {
		fe.Add("count", "a client request is one call; got count %d", c.Call.Count)
	}
	if c.Deadline < 0 {
		fe.Add("deadline", "must not be negative, got %v", c.Deadline)
	}
	if c.Stop < 0 {
		fe.Add("stop", "must not be negative, got %v", c.Stop)
	}
	fe.Merge("", c.Call.Validate())
	return fe.Err()
}

// Config is a whole service graph with its clients.
type Config struct {
	// Variant names this configuration in results. When Variants has an
	// entry of that name, its settings replace those of every service's
	// calls (not the client's), so sweeping variant alone compares
	// resilience setups and plots label points by that short name.
	// Without a matching entry it only labels the run.
	Variant string `yaml:"variant"`
	// Variants are named per-hop presets that variant selects; see
	// HopPreset.
	Variants map[string]HopPreset `yaml:"variants"`
	// Services maps each service name to its configuration.
	Services map[string]ServiceConfig `yaml:"services"`
	// Client is the client nodes at the top.
	Client ClientConfig `yaml:"client"`
	// Workload is what the clients send. In an experiment it is the
	// experiment's workload section; Build uses it as set here.
	Workload workload.Config `yaml:"-"`
	// DNS is service discovery by name: with dns.enabled, callers resolve
	// each service through a resolver with a TTL, and dns.moves move
	// services to new replicas during the run.
	DNS transport.DNSConfig `yaml:"dns"`
}

// HopPreset is a named set of per-hop settings. The fields it gives
// (count, timeout, retry, budget, breaker, hedge, bulkhead) replace the
// same fields of every call a service makes, and fan_out that of every
// service that makes calls; the fields it leaves out keep each hop's own
// values. Unset budget and breaker fields take their defaults, as in a
// call.
type HopPreset struct {
	// FanOut is how services make their calls: serial or parallel.
	FanOut FanOut `yaml:"fan_out"`
	// Count is how many calls each request makes per hop.
	Count int `yaml:"count"`
	// Timeout bounds each attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the retry policy.
	Retry retry.Policy `yaml:"retry"`
	// Budget limits retries.
	Budget retry.BudgetConfig `yaml:"budget"`
	// Breaker is the circuit breaker.
	Breaker retry.BreakerConfig `yaml:"breaker"`
	// Hedge sends backup attempts.
	Hedge HedgeConfig `yaml:"hedge"`
	// Bulkhead caps calls in flight per node.
	Bulkhead int `yaml:"bulkhead"`
	// Preset names a real library's defaults (see Presets); the fields
	// given beside it override its values one by one.
	Preset string `yaml:"preset"`
	// Throttle is client-side adaptive throttling.
	Throttle retry.ThrottleConfig `yaml:"throttle"`
	// Pushback is whether callers honour retry-after hints.
	Pushback retry.PushbackConfig `yaml:"pushback"`
	// Outlier is outlier ejection.
	Outlier retry.EjectionConfig `yaml:"outlier"`
	// RateLimit is the adaptive client-side rate limiter.
	RateLimit retry.RateLimitConfig `yaml:"rate_limit"`
	// Balance picks a replica per attempt.
	Balance Balance `yaml:"balance"`
	// Transport is the hop's transport.
	Transport transport.Config `yaml:"transport"`

	set   map[string]bool // the keys the preset gives
	given []string        // the fields given beside preset
}

// SetDefaults sets p to the hop defaults (DefaultCallConfig), giving
// nothing: what each entry of variants starts from.
func (p *HopPreset) SetDefaults() { p.from(DefaultCallConfig()) }

// from sets p to the hop settings of d, giving nothing.
func (p *HopPreset) from(d CallConfig) {
	*p = HopPreset{Count: d.Count, Retry: d.Retry, Budget: d.Budget, Breaker: d.Breaker, Hedge: d.Hedge,
		Throttle: d.Throttle, Pushback: d.Pushback, Outlier: d.Outlier, RateLimit: d.RateLimit, Balance: d.Balance, Bulkhead: d.Bulkhead,
		Transport: d.Transport}
}

// UnmarshalYAML fills the defaults and the values of the preset the
// mapping names, decodes the mapping's keys over them and remembers which
// fields it gives; the loader checks the keys.
func (p *HopPreset) UnmarshalYAML(n *yaml.Node) error {
	d := DefaultCallConfig()
	given := startPreset(n, &d)
	p.from(d)
	type plain HopPreset
	if err := n.Decode((*plain)(p)); err != nil {
		return err
	}
	p.given = given
	p.set = map[string]bool{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.set[n.Content[i].Value] = true
		}
	}
	return nil
}

// apply writes the preset's fields over c.
func (p HopPreset) apply(c *CallConfig) {
	if p.set["preset"] {
		if _, ok := presetHops[p.Preset]; ok {
			c.Preset = p.Preset
			applyPresetHop(c, p.Preset)
			c.given = nil // the hop's own overrides were checked against its own preset
		}
	}
	if p.set["throttle"] {
		c.Throttle = p.Throttle
	}
	if p.set["pushback"] {
		c.Pushback = p.Pushback
	}
	if p.set["outlier"] {
		c.Outlier = p.Outlier
	}
	if p.set["rate_limit"] {
		c.RateLimit = p.RateLimit
	}
	if p.set["balance"] {
		c.Balance = p.Balance
	}
	if p.set["count"] {
		c.Count = p.Count
	}
	if p.set["timeout"] {
		c.Timeout = p.Timeout
	}
	if p.set["retry"] {
		c.Retry = p.Retry
	}
	if p.set["budget"] {
		c.Budget = p.Budget
	}
	if p.set["breaker"] {
		c.Breaker = p.Breaker
	}
	if p.set["hedge"] {
		c.Hedge = p.Hedge
	}
	if p.set["bulkhead"] {
		c.Bulkhead = p.Bulkhead
	}
	if p.set["transport"] {
		c.Transport = p.Transport
	}
}

// Resolved returns the configuration with the chosen variant's preset
// applied to every service's calls (c itself when none applies).
func (c Config) Resolved() Config {
	p, ok := c.Variants[c.Variant]
	if !ok {
		return c
	}
	svcs := make(map[string]ServiceConfig, len(c.Services))
	for n, s := range c.Services {
		if p.set["fan_out"] && len(s.Calls) > 0 {
			s.FanOut = p.FanOut
		}
		s.Calls = slices.Clone(s.Calls)
		for i := range s.Calls {
			p.apply(&s.Calls[i])
		}
		svcs[n] = s
	}
	c.Services = svcs
	return c
}

// DefaultConfig returns an empty graph with the default client and an
// open-loop workload of 100 requests per second.
func DefaultConfig() Config {
	return Config{Services: map[string]ServiceConfig{}, Client: DefaultClientConfig(), Workload: workload.DefaultConfig(), DNS: transport.DefaultDNSConfig()}
}

// Names returns the service names in sorted order.
func (c Config) Names() []string {
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Validate checks every service and the client, that every call names a
// defined service, and that the call graph has no cycle.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Variants) > 0 {
		if _, ok := c.Variants[c.Variant]; !ok {
			keys := make([]string, 0, len(c.Variants))
			for k := range c.Variants {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			fe.Add("variant", "%q is not one of variants (%s)", c.Variant, strings.Join(keys, ", "))
		}
		keys := make([]string, 0, len(c.Variants))
		for k := range c.Variants {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v := c.Variants[k]; v.set["preset"] {
				checkPreset(&fe, "variants."+k, v.Preset, v.given)
			}
		}
	}
	c = c.Resolved()
	if len(c.Services) == 0 {
		fe.Add("services", "at least one service is required")
	}
	names := c.Names()
	for _, n := range names {
		p := "services." + n
		if !validName(n) {
			fe.Add(p, "service names use letters, digits, '_' and '-' only")
		}
		s := c.Services[n]
		fe.Merge(p, s.Validate())
		for i, call := range s.Calls {
			if _, ok := c.Services[call.Service]; !ok && call.Service != "" {
				fe.Add(fmt.Sprintf("%s.calls[%d].service", p, i), "calls undefined service %q", call.Service)
			}
		}
	}
	fe.Merge("client", c.Client.Validate())
	fe.Merge("workload", c.Workload.Validate())
	if t := c.Client.Call.Service; t != "" {
		if _, ok := c.Services[t]; !ok {
			fe.Add("client.service", "targets undefined service %q", t)
		}
	}
	fe.Merge("dns", c.validateDNS())
	if cyc := c.cycle(); cyc != nil {
		fe.Add("services."+cyc[0]+".calls", "the call graph has a cycle: %s", strings.Join(cyc, " → "))
	}
	return fe.Err()
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// cycle returns the first cycle of the call graph in sorted DFS order
// (first node repeated at the end), or nil.
func (c Config) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, call := range c.Services[n].Calls {
			m := call.Service
			if _, ok := c.Services[m]; !ok {
				continue
			}
			switch color[m] {
			case grey:
				i := slices.Index(stack, m)
				found = append(slices.Clone(stack[i:]), m)
				return true
			case white:
				if visit(m) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range c.Names() {
		if color[n] == white && visit(n) {
			return found
		}
	}
	return nil
}

// ServerPushback is what a service's replicas tell the callers they
// refuse (overload, full queue, queue timeout, concurrency limit): a
// retry-after hint (HTTP Retry-After, gRPC's grpc-retry-pushback-ms) or
// "do not retry". Callers act on it only if their hop honours pushback.
type ServerPushback struct {
	// RetryAfter is the hint sent with each refusal (0 = none).
	RetryAfter time.Duration `yaml:"retry_after"`
	// DontRetry sends "do not retry" instead of a hint.
	DontRetry bool `yaml:"dont_retry"`
}

// Validate reports impossible settings.
func (p ServerPushback) Validate() error {
	var fe sim.FieldErrors
	if p.RetryAfter < 0 {
		fe.Add("retry_after", "must not be negative, got %v", p.RetryAfter)
	}
	if p.DontRetry && p.RetryAfter > 0 {
		fe.Add("dont_retry", "cannot be set together with retry_after %v", p.RetryAfter)
	}
	return fe.Err()
}

// hint returns the value a refusal carries: 0 for none, retry.NoRetryHint
// for "do not retry".
func (p ServerPushback) hint() time.Duration {
	if p.DontRetry {
		return retry.NoRetryHint
	}
	return p.RetryAfter
}
