package rpc

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/sim"
)

// BenchmarkChain3Transport is BenchmarkChain3 (3 tiers, 3 replicas each,
// retries with backoff, 10% failures at db, 10,000 requests per simulated
// second) with every hop on a transport, for the transport layer's cost
// per request: compare its ns/op and events/req with the
// datagram case (the same run with no transport layer). One b.N is one client request.
// cpu-ns/op is the process's CPU time (all threads, the collector's
// included) per request, steadier than ns/op on a shared machine.
//
//	go test ./protocols/rpc -run '^$' -bench 'Chain3Transport' -benchtime 40000x -count 10
func BenchmarkChain3Transport(b *testing.B) {
	for _, tc := range []struct {
		name string
		set  func(c *transport.Config)
	}{
		{"datagram", func(c *transport.Config) {}},
		{"http2", func(c *transport.Config) { c.HTTP = transport.HTTP2 }},
		{"http3", func(c *transport.Config) { c.HTTP = transport.HTTP3 }},
		{"http1", func(c *transport.Config) { c.HTTP = transport.HTTP1; c.Pool.Size = 64 }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const rate = 10000.0
			t := transport.DefaultConfig()
			tc.set(&t)
			cfg := withTransport(rate, t)
			e := sim.New(sim.Config{Seed: 1})
			e.SetNetwork(&sim.Direct{Delay: 200 * time.Microsecond})
			d, err := Build(e, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Run(sim.Time(time.Second)); err != nil {
				b.Fatal(err)
			}
			start, ev := d.Stats().Requests, e.Events()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, cpuOK := processCPU()
			until := e.Now().Add(time.Duration(float64(b.N) / rate * float64(time.Second)))
			if err := e.Run(until); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
			n := d.Stats().Requests - start
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(d.Stats().SuccessRate(), "success")
			b.ReportMetric(float64(e.Events()-ev)/float64(n), "events/req")
		})
	}
}
