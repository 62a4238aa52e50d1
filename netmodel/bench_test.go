package netmodel

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// flooder sends n messages in total, burst at a time every 100 µs,
// round-robin to its peers; it drops what it receives.
type flooder struct {
	peers []sim.NodeID
	n     int
	sent  int
	burst int
	m     *msg
}

func (f *flooder) Start(env sim.Env) {
	if len(f.peers) > 0 {
		env.After(0, 0)
	}
}
func (f *flooder) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (f *flooder) Timer(env sim.Env, _ uint64) {
	for i := 0; i < f.burst && f.sent < f.n; i++ {
		env.Send(f.peers[f.sent%len(f.peers)], f.m)
		f.sent++
	}
	if f.sent < f.n {
		env.After(100*time.Microsecond, 0)
	}
}

// BenchmarkSendDeliver measures the cost of one message from Env.Send to
// Node.Receive through the engine and the model: ns/op and allocs/op are
// per message. "direct" is the engine's zero-delay network, for scale.
func BenchmarkSendDeliver(b *testing.B) {
	typical := func() (Config, FaultsConfig) {
		c := DefaultConfig()
		c.Latency = DistSpec{Dist: DistLogNormal, Median: ms, P99: 8 * ms}
		c.Loss = 0.001
		return c, FaultsConfig{}
	}
	cases := []struct {
		name string
		cfg  func() (Config, FaultsConfig)
	}{
		{"direct", nil},
		{"typical", typical},
		{"all-features", func() (Config, FaultsConfig) {
			c, f := typical()
			c.BandwidthMbps = 10000
			c.QueueBytes = 1 << 20
			c.GilbertElliott = GilbertElliott{PGoodBad: 0.001, PBadGood: 0.3, LossBad: 1}
			c.Duplicate = 0.001
			c.Corrupt = 0.001
			c.FIFO = true
			c.Processing = Duration(time.Microsecond)
			f.Schedule = []Fault{{Kind: FaultPartition, At: sec(3600), Duration: sec(1), Groups: [][]string{{"n0"}}}}
			return c, f
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := sim.New(sim.Config{Seed: 1})
			const nodes = 16
			ids := make([]sim.NodeID, nodes)
			fl := &flooder{n: b.N, burst: 64, m: &msg{}}
			for i := range ids {
				name := "n" + string(rune('a'+i))
				if i == 0 {
					name = "n0"
				}
				node := sim.Node(&sink{log: nil})
				if i == 0 {
					node = fl
				}
				ids[i] = e.MustAddNode(name, func() sim.Node { return node })
			}
			fl.peers = ids[1:]
			if tc.cfg != nil {
				c, f := tc.cfg()
				m, err := New(c, f)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Install(e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := e.Run(sim.Never); err != nil {
				b.Fatal(err)
			}
		})
	}
}
