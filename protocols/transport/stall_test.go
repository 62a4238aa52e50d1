package transport

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/sim"
)

// hostileWorld is TestRecyclingChangesNothing's network: uniform 1–8ms
// latency (which reorders segments sent back to back), 3% loss, 10%
// duplicates, 1% corruption, a processing queue, a server pause, a
// partition, a server process crash and a client pause; the client sends
// a request every 4ms for 6s.
func hostileWorld(t *testing.T, cfg Config) (*world, *netmodel.Model) {
	t.Helper()
	var sends []sim.Time
	for i := 0; i < 1500; i++ {
		sends = append(sends, sim.Time(time.Duration(i)*4*time.Millisecond))
	}
	w := newWorld(cfg, time.Millisecond, sends)
	nc := netmodel.DefaultConfig()
	nc.Latency = netmodel.DistSpec{Dist: netmodel.DistUniform, Min: netmodel.Duration(time.Millisecond), Max: netmodel.Duration(8 * time.Millisecond)}
	nc.Loss, nc.Duplicate, nc.DuplicateDelay, nc.Corrupt = 0.03, 0.1, netmodel.Duration(2*time.Millisecond), 0.01
	nc.Processing = netmodel.Duration(20 * time.Microsecond)
	ms := func(d int) netmodel.Duration { return netmodel.Duration(time.Duration(d) * time.Millisecond) }
	faults := netmodel.FaultsConfig{Schedule: []netmodel.Fault{
		{Kind: netmodel.FaultPause, At: ms(1000), Duration: ms(150), Nodes: []string{"server"}},
		{Kind: netmodel.FaultPartition, At: ms(2000), Duration: ms(300), Groups: [][]string{{"server"}, {"client"}}},
		{Kind: netmodel.FaultCrash, At: ms(3500), Duration: ms(400), Nodes: []string{"server"}},
		{Kind: netmodel.FaultPause, At: ms(4500), Duration: ms(100), Nodes: []string{"client"}},
	}}
	m, err := netmodel.New(nc, faults)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Install(w.e); err != nil {
		t.Fatal(err)
	}
	return w, m
}

// answered counts the client's requests that got their response.
func (n *tnode) answered() int {
	k := 0
	for _, d := range n.got {
		if d.cause < 0 {
			k++
		}
	}
	return k
}

// TestHostileNetworkKeepsUp is the regression test for the grpc+JSON
// stall: gRPC with 150-field JSON responses (3,640 bytes, three segments
// each) on the hostile network answered only 201 of 1,500 requests,
// because every reordered response tripped a spurious fast retransmit
// that halved the server's window, the backlog filled all 100 streams of
// the connection by the server crash at 3.5s, and with every request byte
// acknowledged the client then had nothing to send that the restarted
// server could reset: a silent stall. With spurious retransmissions
// undone (Eifel) the connection keeps up until the crash and is reset and
// replaced after it. The bound: the crash fails the requests in flight on
// the connection (up to 100) and the pause and partition delay others, so
// a transport that keeps up answers well over half; http2 with small
// responses answers about 1,450 here and grpc_json (3× the segments per
// response) about 830; 600 is far above the stalled 201 with room for
// seed-level noise.
func TestHostileNetworkKeepsUp(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(c *Config)
		min  int
	}{
		{"http2", func(c *Config) { c.HTTP = HTTP2 }, 1200},
		{"grpc_json", func(c *Config) {
			c.HTTP = GRPC
			c.Encoding = EncodingConfig{Name: "json", RequestFields: 20, ResponseFields: 150}
		}, 600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			w, _ := hostileWorld(t, cfg)
			w.run(8 * time.Second)
			got := w.client.answered()
			t.Logf("%d answered, %d finished, %+v", got, len(w.client.got), *w.l.Stats())
			if got < tc.min {
				t.Errorf("%d of 1500 requests answered, want at least %d", got, tc.min)
			}
		})
	}
}

// reorderNet delays the first transmission of one data segment from the
// server, so the segments behind it arrive first: pure reordering, no
// loss.
type reorderNet struct {
	testNet
	seq   int64
	extra time.Duration
	done  bool
}

func (n *reorderNet) Send(from, to sim.NodeID, msg sim.Message) {
	if s, ok := msg.(*Segment); ok && from == 0 && s.flags&fDATA != 0 && s.Seq == n.seq && !n.done {
		n.done = true
		n.e.Deliver(n.e.Now().Add(n.delay+n.extra), from, to, msg, 0)
		return
	}
	n.testNet.Send(from, to, msg)
}

// TestSpuriousFastRetransmitUndone checks Eifel detection and response
// (RFC 3522, RFC 4015): a response segment overtaken by the six behind
// it draws three duplicate ACKs and a fast retransmission, but arrives
// before that retransmission does, so the ACK
// that follows echoes the original's timestamp, older than the
// retransmission, so the window cut is undone instead of halving the
// window on every reordering.
func TestSpuriousFastRetransmitUndone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTP = HTTP2
	cfg.Encoding = EncodingConfig{Name: "json", RequestFields: 1, ResponseFields: 400} // 9,640B: 7 segments
	w := newWorld(cfg, time.Millisecond, []sim.Time{0})
	rn := &reorderNet{testNet: *w.net, seq: 0, extra: 1500 * time.Microsecond} // back before the retransmission
	w.e.SetNetwork(rn)
	w.run(time.Second)
	if w.client.answered() != 1 {
		t.Fatalf("request not answered: %+v", w.client.got)
	}
	if w.l.Stats().Retransmits != 1 {
		t.Fatalf("%d retransmissions, want the one spurious fast retransmit", w.l.Stats().Retransmits)
	}
	for _, c := range w.server.ep.conns {
		if c.cwnd < float64(cfg.InitialWindow) || c.inRec {
			t.Errorf("server window %.1f (ssthresh %.1f, in recovery %v) after a spurious retransmission, want at least the initial %d, out of recovery",
				c.cwnd, c.ssthresh, c.inRec, cfg.InitialWindow)
		}
	}
}
