package transport

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// The interaction traces in testdata/*.txt are golden files: every
// segment sent and delivered in a short scripted exchange. After an
// intended change of behaviour, regenerate them (sim/simtest's -rewrite
// flag) with
//
//	go test ./protocols/transport -run TestGolden -rewrite
//
// and read the diff.

type traceObs struct{ lines []string }

func (o *traceObs) OnEvent(ev *sim.Event) {
	switch ev.Kind {
	case sim.KindSend, sim.KindDeliver:
		if s, ok := ev.Msg.(*Segment); ok {
			who := map[sim.NodeID]string{0: "server", 1: "client"}
			dir := who[ev.From] + " → " + who[ev.Node]
			if ev.Kind == sim.KindDeliver {
				dir = who[ev.Node] + " ← " + who[ev.From]
			}
			o.lines = append(o.lines, fmt.Sprintf("%-8v %-7v %-16s %s", time.Duration(ev.At), ev.Kind, dir, strings.TrimPrefix(s.String(), fmt.Sprintf("seg %x ", s.Conn))))
		}
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(c *Config)
	}{
		// A per-request HTTP/1.1 connection over TLS 1.3: handshake, one
		// request and answer, client close (TIME_WAIT on the client).
		{"tcp_tls13_per_request", func(c *Config) { c.HTTP, c.TLS, c.Pool.Mode = HTTP1, TLS13, PerRequest }},
		// A QUIC connection, then a second one resuming with 0-RTT.
		{"quic_0rtt", func(c *Config) {
			c.HTTP, c.Resume, c.ZeroRTT, c.Pool.Mode = HTTP3, true, true, PerRequest
		}},
		// TLS 1.2 over TCP whose first data flight is lost once: the
		// retransmission timeout at 1s (no RTT sample yet beyond the SYN's).
		{"tcp_tls12_loss", func(c *Config) { c.HTTP, c.TLS = HTTP2, TLS12 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			sends := []sim.Time{0}
			if cfg.ZeroRTT {
				sends = append(sends, sim.Time(100*time.Millisecond))
			}
			w := newWorld(cfg, 5*time.Millisecond, sends)
			if tc.name == "tcp_tls12_loss" {
				lost := false
				w.net.drop = func(from, to sim.NodeID, msg sim.Message) bool {
					s, ok := msg.(*Segment)
					if ok && !lost && s.flags&fDATA != 0 && from == 0 {
						lost = true
						return true
					}
					return false
				}
			}
			o := &traceObs{}
			w.e.Observe(o)
			w.run(3 * time.Second)
			got := strings.Join(o.lines, "\n") + "\n"
			simtest.Golden(t, filepath.Join("testdata", tc.name+".txt"), got)
		})
	}
}
