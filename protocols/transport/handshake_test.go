package transport

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestTimeToFirstByte checks the round trips a request waits on a fresh
// connection, against the handshakes' message counts: TCP's three-way
// handshake lets the client send after 1 RTT (the server sees the first
// byte at 1.5 RTT, RFC 793 §3.4), TLS 1.3 adds 1 RTT (RFC 8446 §2), TLS
// 1.2 adds 2 (RFC 5246 §7.3), QUIC combines transport and TLS in 1 RTT
// (RFC 9000 §7), and 0-RTT resumption sends the request in the first
// flight (RFC 8446 §2.3). The request/response itself is one more RTT;
// on a warm pooled connection it is all there is. The network has a
// fixed delay and no loss, so the figures are exact.
func TestTimeToFirstByte(t *testing.T) {
	tcp := DefaultConfig()
	tcp.Kind = TCP
	with := func(f func(c *Config)) Config {
		c := tcp
		f(&c)
		return c
	}
	cases := []struct {
		name   string
		cfg    Config
		warm   bool // measure the second request on a reused connection
		resume bool // measure a second connection that resumes the session
		rtts   float64
	}{
		{"tcp", tcp, false, false, 2},
		{"tcp+tls1.3", with(func(c *Config) { c.TLS = TLS13 }), false, false, 3},
		{"tcp+tls1.2", with(func(c *Config) { c.TLS = TLS12 }), false, false, 4},
		{"quic", with(func(c *Config) { c.Kind = QUIC }), false, false, 2},
		{"tcp+tls1.2 resumed", with(func(c *Config) { c.TLS = TLS12; c.Resume = true; c.Pool.Mode = PerRequest }), false, true, 3},
		{"tcp+tls1.3 0-rtt", with(func(c *Config) { c.TLS = TLS13; c.Resume, c.ZeroRTT = true, true; c.Pool.Mode = PerRequest }), false, true, 2},
		{"quic 0-rtt", with(func(c *Config) { c.Kind = QUIC; c.Resume, c.ZeroRTT = true, true; c.Pool.Mode = PerRequest }), false, true, 1},
		{"tcp+tls1.3 warm pool", with(func(c *Config) { c.TLS = TLS13 }), true, false, 1},
	}
	for _, rtt := range []time.Duration{500 * time.Microsecond, 150 * time.Millisecond} {
		for _, tc := range cases {
			t.Run(tc.name+"/"+rtt.String(), func(t *testing.T) {
				sends := []sim.Time{0}
				id := uint64(1)
				if tc.warm || tc.resume {
					sends = append(sends, sim.Time(10*rtt))
					id = 2
				}
				w := newWorld(tc.cfg, rtt/2, sends)
				w.run(20 * rtt)
				got := w.client.latency(id)
				want := time.Duration(tc.rtts * float64(rtt))
				if got != want {
					t.Errorf("time to first byte %v, want %v (%.1f RTT)", got, want, tc.rtts)
				}
				if tc.name == "tcp" && len(w.server.reqAt) > 0 {
					if first := time.Duration(w.server.reqAt[0]); first != rtt*3/2 {
						t.Errorf("server saw the first byte at %v, want 1.5 RTT = %v", first, rtt*3/2)
					}
				}
			})
		}
	}
}
