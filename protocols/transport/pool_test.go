package transport

import (
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestRecyclingChangesNothing runs a hostile network (jitter that
// reorders, loss, duplicates, corruption, a processing queue, a pause, a
// partition that drops in-flight segments and a process crash) with
// segment and message recycling on and off: every segment sent and
// delivered, dropped or duplicated (as traces print it, when the observers
// see it), every answer and the event hash must be the same. A record
// reused, or cleared, while the network, an endpoint or an observer could
// still see it would show up as a different trace line or outcome.
func TestRecyclingChangesNothing(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(c *Config)
	}{
		{"http2", func(c *Config) { c.HTTP = HTTP2 }},
		{"http3", func(c *Config) { c.HTTP = HTTP3 }},
		{"http1_tls12", func(c *Config) { c.HTTP, c.TLS, c.Pool.Size = HTTP1, TLS12, 4 }},
		{"http1_per_request_server_closes", func(c *Config) {
			c.HTTP, c.Pool.Mode, c.Closer, c.TLS = HTTP1, PerRequest, ServerSide, TLS13
		}},
		{"http3_per_request_0rtt", func(c *Config) {
			c.HTTP, c.Pool.Mode, c.Resume, c.ZeroRTT = HTTP3, PerRequest, true, true
		}},
		{"grpc_json", func(c *Config) {
			c.HTTP = GRPC
			c.Encoding = EncodingConfig{Name: "json", RequestFields: 20, ResponseFields: 150}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(off bool) (string, uint64, uint64, string, int, int) {
				old := poolOff
				poolOff = off
				defer func() { poolOff = old }()
				cfg := DefaultConfig()
				tc.cfg(&cfg)
				w, m := hostileWorld(t, cfg)
				h := fnv.New64a()
				n := 0
				w.e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
					if s, ok := ev.Msg.(*Segment); ok { // sends, deliveries, drops, duplicates
						fmt.Fprintf(h, "%d %v %d %d %s\n", ev.At, ev.Kind, ev.Node, ev.From, s)
						n++
					}
				}))
				w.run(8 * time.Second)
				got := fmt.Sprint(w.client.got, *w.l.Stats())
				return got, w.e.Hash(), h.Sum64(), fmt.Sprint(m.Counters()), n, len(w.client.got)
			}
			got0, hash0, tr0, net0, n0, done0 := run(true)
			got1, hash1, tr1, net1, n1, _ := run(false)
			t.Logf("%d segment events, %d requests done", n0, done0)
			if n0 < 3000 || done0 < 150 {
				t.Fatalf("too little traffic: %d segment events, %d requests done", n0, done0)
			}
			if hash0 != hash1 || tr0 != tr1 || n0 != n1 || got0 != got1 || net0 != net1 {
				t.Errorf("recycling changed the run: hash %x/%x, trace %x/%x (%d/%d lines), outcomes equal %v, network counters equal %v",
					hash0, hash1, tr0, tr1, n0, n1, got0 == got1, net0 == net1)
			}
		})
	}
}
