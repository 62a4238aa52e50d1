package transport

import (
	"math"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Connection states.
const (
	stSynSent   uint8 = iota // TCP: SYN sent, waiting for SYN-ACK
	stHandshake              // TLS or QUIC handshake in progress
	stReady                  // application data may flow
	stClosed
)

// flight is a data segment sent and not yet acknowledged. It keeps its
// own copy of the segment's parts (the segment itself is recycled once
// delivered): the first inline, any more in a slice.
type flight struct {
	p     part
	more  []part
	bytes int32
	sent  sim.Time
	retx  bool
}

// conn is one end of a connection: the sender's reliability and
// congestion control, the receiver's reordering, and the application's
// streams.
type conn struct {
	id     uint64
	peer   sim.NodeID
	cfg    *Config
	client bool
	state  uint8
	hop    *Hop  // client side
	host   *host // client side
	port   bool  // holds an ephemeral port
	start  sim.Time
	synAt  sim.Time
	synTry int

	// sender
	q        []*wireMsg // messages waiting to be segmented
	qhead    int
	qoff     int32 // bytes of q[qhead] already segmented
	una, nxt int64
	fly      []flight // ring of [una, nxt): una at flyHead
	flyHead  int
	cwnd     float64
	ssthresh float64
	rwnd     float64
	dup      int
	inRec    bool
	rtoRec   bool
	recover  int64
	inflate  int
	srtt     time.Duration
	rttvar   time.Duration
	rto      time.Duration
	retries  int
	rtoTimer sim.TimerID // pending timer, firing at rtoFire
	rtoFire  sim.Time
	rtoAt    sim.Time // when the retransmission timeout is due; 0 = none
	// CUBIC
	wmax  float64
	epoch sim.Time
	kcub  float64
	// Eifel (RFC 3522): the window before a fast retransmit and when that
	// retransmission went out (0 = none pending), to undo the cut if the
	// retransmission proves spurious.
	undoCwnd, undoSsthresh float64
	fastAt                 sim.Time

	// receiver
	rnxt      int64
	rtop      int64 // one past the highest data segment received
	tsRecent  sim.Time
	ooo       map[int64]*Segment
	ackOwed   int         // bytes received and not yet acknowledged (at least 1 when an ACK is owed)
	dackTimer sim.TimerID // pending; the ACK is due at dackAt
	dackAt    sim.Time

	// application
	pend             []*wireMsg // client: requests waiting for the handshake
	ids              []uint64   // client: requests in flight on this connection
	served           []*wireMsg // server: requests delivered and not yet answered
	active           int        // requests in flight (client) or being served (server)
	requests         int        // requests ever carried
	lastUsed         sim.Time
	idleArmed        bool
	probes           int
	heard            bool     // any segment came from the peer
	lastHeard        sim.Time // when the peer last sent anything
	closeWhenDrained bool
	serverClosed     bool
}

func (c *conn) overhead() int32 {
	if c.cfg.Kind == QUIC {
		return quicOverhead
	}
	return tcpOverhead
}

func (c *conn) initSender() {
	c.cwnd = float64(c.cfg.InitialWindow)
	c.ssthresh = math.Inf(1)
	c.rwnd = float64(c.cfg.ReceiveWindowBytes / c.cfg.MSSBytes)
	c.rto = c.cfg.RTOInitial
}

// window is how many segments may be in flight.
func (c *conn) window() int64 {
	w := c.cwnd
	if c.inRec && !c.rtoRec {
		w += float64(c.inflate)
	}
	if w > c.rwnd {
		w = c.rwnd
	}
	if w < 1 {
		w = 1
	}
	return int64(w)
}

// unserve forgets served request id and returns it (nil if unknown).
func (c *conn) unserve(id uint64) *wireMsg {
	for i, m := range c.served {
		if m.id == id {
			c.served = slices.Delete(c.served, i, i+1)
			return m
		}
	}
	return nil
}

// reqConn finds the connection carrying request id among a hop's hosts.
func (h *Hop) reqConn(id uint64) *conn {
	for _, hs := range h.hosts {
		if hs == nil {
			continue
		}
		for _, c := range hs.conns {
			if slices.Contains(c.ids, id) || slices.ContainsFunc(c.pend, func(m *wireMsg) bool { return m.id == id }) {
				return c
			}
		}
	}
	return nil
}

// enqueue appends a message to the send queue.
func (c *conn) enqueue(m *wireMsg) {
	if c.qhead > 32 && c.qhead*2 > len(c.q) {
		n := copy(c.q, c.q[c.qhead:])
		clear(c.q[n:])
		c.q = c.q[:n]
		c.qhead = 0
	}
	c.q = append(c.q, m)
}

func (c *conn) flightAt(seq int64) *flight {
	return &c.fly[(c.flyHead+int(seq-c.una))&(len(c.fly)-1)]
}

// pushFlight records the segment about to be sent as nxt.
func (c *conn) pushFlight(f flight) {
	n := int(c.nxt - c.una)
	if n == len(c.fly) {
		grown := make([]flight, max(8, 2*len(c.fly)))
		for i := 0; i < n; i++ {
			grown[i] = c.fly[(c.flyHead+i)&(len(c.fly)-1)]
		}
		c.fly, c.flyHead = grown, 0
	}
	c.fly[(c.flyHead+n)&(len(c.fly)-1)] = f
}

// popFlights forgets the k oldest flights, dropping their references to
// their messages.
func (c *conn) popFlights(k int, l *Layer) {
	for i := 0; i < k; i++ {
		f := &c.fly[(c.flyHead+i)&(len(c.fly)-1)]
		l.unref(f.p.m)
		for _, p := range f.more {
			l.unref(p.m)
		}
		*f = flight{}
	}
	c.flyHead = (c.flyHead + k) & (len(c.fly) - 1)
}

// onRTT updates the smoothed RTT and the timeout (RFC 6298).
func (c *conn) onRTT(r time.Duration) {
	if c.srtt == 0 {
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	c.rto = c.srtt + max(4*c.rttvar, time.Millisecond)
	if c.cfg.Kind == QUIC {
		// The probe timeout (RFC 9002 §6.2.1): no 200ms floor, plus the
		// peer's maximum ACK delay.
		c.rto = min(c.rto+c.cfg.DelayedAck, c.cfg.RTOMax)
		return
	}
	c.rto = min(max(c.rto, c.cfg.RTOMin), c.cfg.RTOMax)
}

// grow opens the congestion window for acked newly acknowledged segments.
func (c *conn) grow(acked int64, now sim.Time) {
	for ; acked > 0; acked-- {
		if c.cwnd < c.ssthresh {
			c.cwnd++ // slow start
			continue
		}
		if c.cfg.Congestion == Cubic {
			c.cubicStep(now)
			continue
		}
		c.cwnd += 1 / c.cwnd // Reno: one segment per window
	}
	if c.cwnd > c.rwnd*2 {
		c.cwnd = c.rwnd * 2
	}
}

// CUBIC constants (RFC 8312): C = 0.4, β = 0.7.
const (
	cubicC    = 0.4
	cubicBeta = 0.7
	renoBeta  = 0.5
)

func (c *conn) cubicStep(now sim.Time) {
	if c.epoch == 0 {
		c.epoch = now
		if c.wmax < c.cwnd {
			c.wmax = c.cwnd
			c.kcub = 0
		} else {
			c.kcub = math.Cbrt(c.wmax * (1 - cubicBeta) / cubicC)
		}
	}
	t := now.Sub(c.epoch).Seconds() + c.srtt.Seconds()
	target := cubicC*math.Pow(t-c.kcub, 3) + c.wmax
	if target > c.cwnd {
		c.cwnd += (target - c.cwnd) / c.cwnd
	} else {
		c.cwnd += 0.01 / c.cwnd
	}
}

// onLoss shrinks the window after a loss signal.
func (c *conn) onLoss(timeout bool, now sim.Time) {
	inflight := float64(c.nxt - c.una)
	beta := renoBeta
	if c.cfg.Congestion == Cubic {
		beta = cubicBeta
		c.wmax = max(c.cwnd, inflight)
		c.epoch = 0
	}
	c.ssthresh = max(inflight*beta, 2)
	if timeout {
		c.cwnd = 1
	} else {
		c.cwnd = c.ssthresh
	}
}
