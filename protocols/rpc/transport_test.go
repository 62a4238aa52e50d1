package rpc

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// withTransport is benchChain with every hop on the given transport.
func withTransport(rate float64, tc transport.Config) Config {
	cfg := benchChain(rate)
	for n, s := range cfg.Services {
		for i := range s.Calls {
			s.Calls[i].Transport = tc
		}
		cfg.Services[n] = s
	}
	cfg.Client.Call.Transport = tc
	return cfg
}

// TestDatagramIsDefault checks that a config without a transport builds
// no transport layer, so every existing experiment runs exactly as before
// (the golden tests hold the event traces).
func TestDatagramIsDefault(t *testing.T) {
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: time.Millisecond})
	d, err := Build(e, benchChain(100))
	if err != nil {
		t.Fatal(err)
	}
	if d.tx != nil || d.TransportStats() != nil {
		t.Fatal("a datagram-only config built a transport layer")
	}
}

// TestResilienceOverTransports runs the retrying, budgeted three-tier
// chain (10% injected failures at db) over every transport: retries,
// budgets and balancing work unchanged, so the success ratio matches the
// datagram run's within sampling noise, and the books balance.
func TestResilienceOverTransports(t *testing.T) {
	run := func(tc transport.Config) (*Deployment, *testMetrics) {
		cfg := withTransport(500, tc)
		cfg.Client.Call.Hedge = HedgeConfig{Max: 1, Delay: 2 * time.Millisecond}
		cfg.Client.Stop = 3 * time.Second // drain before the end
		m := newTestMetrics()
		e := sim.New(sim.Config{Seed: 3, Metrics: m})
		e.SetNetwork(&sim.Direct{Delay: 200 * time.Microsecond})
		d, err := Build(e, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(sim.Time(4 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := d.checkAccounting(); err != nil {
			t.Fatal(err)
		}
		return d, m
	}
	base, _ := run(transport.DefaultConfig())
	want := base.Stats().SuccessRate()
	tcs := map[string]func(c *transport.Config){
		"tcp":               func(c *transport.Config) { c.Kind = transport.TCP },
		"http1+tls1.2":      func(c *transport.Config) { c.HTTP, c.TLS = transport.HTTP1, transport.TLS12 },
		"http2+tls1.3":      func(c *transport.Config) { c.HTTP, c.TLS = transport.HTTP2, transport.TLS13 },
		"grpc+protobuf":     func(c *transport.Config) { c.HTTP, c.Encoding.Name = transport.GRPC, "protobuf" },
		"http3":             func(c *transport.Config) { c.HTTP = transport.HTTP3 },
		"http1 per request": func(c *transport.Config) { c.HTTP, c.Pool.Mode = transport.HTTP1, transport.PerRequest },
	}
	for _, name := range []string{"tcp", "http1+tls1.2", "http2+tls1.3", "grpc+protobuf", "http3", "http1 per request"} {
		tc := transport.DefaultConfig()
		tcs[name](&tc)
		d, m := run(tc)
		s := d.Stats()
		if got := s.SuccessRate(); got < want-0.03 || got > want+0.03 {
			t.Errorf("%s: success ratio %.3f, datagram %.3f (%d requests, %v)", name, got, want, s.Requests, s.Done)
		}
		if s.Tiers["db"].Retries == 0 || s.Tiers["front"].Hedges == 0 {
			t.Errorf("%s: no retries (%d) or hedges (%d)", name, s.Tiers["db"].Retries, s.Tiers["front"].Hedges)
		}
		ts := d.TransportStats()
		if ts.ConnectionsOpened == 0 || ts.BytesOnWire == 0 || m.count(transport.MetricConnectionsOpened) != ts.ConnectionsOpened {
			t.Errorf("%s: transport stats %+v", name, ts)
		}
		if tc.Pool.Mode == transport.Pooled && ts.ConnectionsReused == 0 {
			t.Errorf("%s: a pool that reuses nothing", name)
		}
		if n := d.tx.Pending(); n != 0 {
			t.Errorf("%s: servers still hold %d requests after the run drained", name, n)
		}
	}
}

// TestDNSMove moves db to new replicas at 10s. The callers' cached
// answers expire TTL after their last lookup, so with a 2s TTL requests
// fail for at most 2s after the move, and with a 30s TTL until about 30s
// (the first lookup, at the start, expires then); afterwards every
// request succeeds again. A resolver outage with a stale-free cache makes
// lookups fail with the dns cause.
func TestDNSMove(t *testing.T) {
	run := func(ttl time.Duration, outage bool) (*Deployment, []sim.Time) {
		cfg := DefaultConfig()
		api := DefaultServiceConfig()
		api.Replicas = 1
		api.Calls = []CallConfig{callTo("db")}
		api.Calls[0].Timeout = 50 * time.Millisecond
		db := DefaultServiceConfig()
		db.Replicas = 4
		cfg.Services = map[string]ServiceConfig{"api": api, "db": db}
		cfg.Client.Call = callTo("api")
		cfg.Workload = workload.Config{Kind: workload.Open, Rate: 100}
		cfg.DNS = transport.DefaultDNSConfig()
		cfg.DNS.Enabled = true
		cfg.DNS.TTL = ttl
		cfg.DNS.Moves = []transport.Move{{Service: "db", At: 10 * time.Second, To: []string{"db-2", "db-3"}}}
		if outage {
			cfg.DNS.Outages = []transport.Window{{From: 40 * time.Second, To: 50 * time.Second}}
		}
		e := sim.New(sim.Config{Seed: 1})
		e.SetNetwork(&sim.Direct{Delay: 200 * time.Microsecond})
		d, err := Build(e, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var fails []sim.Time
		d.Ops = func(start, end sim.Time, st Status) {
			if st != OK {
				fails = append(fails, start)
			}
		}
		if err := e.Run(sim.Time(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
		return d, fails
	}
	for _, ttl := range []time.Duration{2 * time.Second, 30 * time.Second} {
		d, fails := run(ttl, false)
		if len(fails) == 0 {
			t.Fatalf("ttl %v: no failures after the move", ttl)
		}
		first, last := fails[0], fails[len(fails)-1]
		if first < sim.Time(9900*time.Millisecond) || last >= sim.Time(10*time.Second+ttl+100*time.Millisecond) || ttl > 10*time.Second && last < sim.Time(ttl-time.Second) {
			t.Errorf("ttl %v: failures from %v to %v, want within [10s, 10s + ttl] and lasting until the cache expires", ttl, first, last)
		}
		if d.TransportStats().DNSStaleFailures != int64(len(fails)) {
			t.Errorf("ttl %v: %d stale failures counted for %d failed requests", ttl, d.TransportStats().DNSStaleFailures, len(fails))
		}
	}
	d, fails := run(2*time.Second, true)
	n := 0
	for _, f := range fails {
		if f >= sim.Time(40*time.Second) && f < sim.Time(51*time.Second) {
			n++
		}
	}
	if n == 0 || d.TransportStats().Failures[transport.DNSFailure] == 0 {
		t.Errorf("resolver outage: %d failures in the outage, %d dns failures", n, d.TransportStats().Failures[transport.DNSFailure])
	}
}

// TestServersForgetExpiredRequests: a server that drops a request whose
// deadline passed sends no answer, so it must tell the transport to stop
// keeping the request on its connection; after the run drains no request
// is held.
func TestServersForgetExpiredRequests(t *testing.T) {
	tc := transport.DefaultConfig()
	tc.HTTP = transport.HTTP2
	cfg := withTransport(2000, tc)
	cfg.Client.Deadline = 3 * time.Millisecond // tight: many requests expire at the servers
	cfg.Client.Stop = time.Second
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 200 * time.Microsecond})
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	expired := int64(0)
	for _, ts := range d.Stats().Tiers {
		expired += ts.Expired
	}
	if expired == 0 {
		t.Fatal("no request expired: the test exercises nothing")
	}
	if n := d.tx.Pending(); n != 0 {
		t.Errorf("%d expired requests are still held on server connections", n)
	}
}
