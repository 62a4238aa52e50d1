package transport

import (
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Timer sub-kinds inside an Endpoint's tag space.
const (
	tRTO   uint64 = 1 // a connection's retransmission (or SYN) timer
	tDack  uint64 = 2 // a connection's delayed ACK
	tIdle  uint64 = 3 // a connection's idle timeout and keep-alive probes
	tCPU   uint64 = 4 // the head serialization job is done
	tFail  uint64 = 5 // deferred failure reports
	tDNS   uint64 = 6 // a hop's lookup finished
	subBit        = 56
	idMask        = 1<<subBit - 1
)

// failure is a Failed call waiting to be made.
type failure struct {
	to    sim.NodeID
	id    uint64
	cause Cause
}

// srvKey names a request at a server: its client and ID.
type srvKey struct {
	from sim.NodeID
	id   uint64
}

// cpuJob is serialization work queued on the node's CPU.
type cpuJob struct {
	kind  uint8 // 1 encode request, 2 decode at receiver, 3 encode response
	c     *conn
	m     *wireMsg
	hop   *Hop
	to    sim.NodeID
	until sim.Time
}

// Endpoint is one node's transport: its connections (as client and as
// server), its ephemeral ports and TIME_WAIT list, its serialization CPU
// and its hops. Make a fresh one in the node's Start; route the node's
// Segments to Receive and its transport timers (those whose tag has the
// kind given to NewEndpoint) to Timer.
type Endpoint struct {
	l      *Layer
	h      Handler
	self   sim.NodeID
	base   uint64 // tag kind bits of the owner
	inc    uint64
	seq    uint64
	conns  map[uint64]*conn
	byPeer map[sim.NodeID][]*conn // server: open connections by client
	lost   map[srvKey]struct{}    // server: requests whose connection died before the answer
	hops   []*Hop
	// TIME_WAIT expiry times (all of one length per config, so FIFO).
	tw      []sim.Time
	twHead  int
	twSrvQ  []sim.Time // server-side TIME_WAITs: no port held
	twSrvH  int
	ports   int // ports held by open client connections
	cpuFree sim.Time
	cpuQ    []cpuJob
	cpuHead int
	fails   []failure
	failArm bool
	tickets map[sim.NodeID]bool // TLS session tickets by server
	scratch []*wireMsg
	// recent caches conns by a hash of their ID, in front of the map.
	recent [64]*conn
}

func connSlot(id uint64) uint64 { return (id ^ id>>40) & 63 }

// conn returns connection id, or nil.
func (ep *Endpoint) conn(id uint64) *conn {
	k := connSlot(id)
	if c := ep.recent[k]; c != nil && c.id == id {
		return c
	}
	c := ep.conns[id]
	if c != nil {
		ep.recent[k] = c
	}
	return c
}

// NewEndpoint makes node env's endpoint. kind is the value of the top 4
// bits of the owner's timer tags reserved for the transport (the low 60
// bits are the transport's); inc is the node's incarnation (it keeps
// connection IDs of a restarted node apart from its previous life).
func (l *Layer) NewEndpoint(env sim.Env, h Handler, kind, inc uint64) *Endpoint {
	ep := &Endpoint{
		l: l, h: h, self: env.ID(), base: kind << 60, inc: inc & 0xff,
		conns: map[uint64]*conn{}, byPeer: map[sim.NodeID][]*conn{},
		tickets: map[sim.NodeID]bool{},
	}
	for int(ep.self) >= len(l.eps) {
		l.eps = append(l.eps, nil)
	}
	l.eps[ep.self] = ep
	return ep
}

// Timer handles a transport timer; t is the tag's low 60 bits.
func (ep *Endpoint) Timer(env sim.Env, t uint64) {
	sub, id := t>>subBit&0xf, t&idMask
	switch sub {
	case tFail:
		ep.failArm = false
		fs := ep.fails
		ep.fails = nil
		for _, f := range fs {
			ep.h.Failed(env, f.to, f.id, f.cause)
		}
	case tCPU:
		ep.cpuDone(env)
	case tDNS:
		if int(id) < len(ep.hops) {
			ep.hops[id].lookupDone(env)
		}
	default:
		c := ep.conn(id)
		if c == nil {
			return
		}
		switch sub {
		case tRTO:
			// The deadline moves with every ACK without touching the
			// timer; a timer that fires early is re-armed for the rest.
			c.rtoTimer = 0
			now := env.Now()
			switch {
			case c.rtoAt == 0:
			case now < c.rtoAt:
				ep.timerRTO(env, c, c.rtoAt)
			default:
				c.rtoAt = 0
				ep.onRTO(env, c)
			}
		case tDack:
			c.dackTimer = 0
			if c.ackOwed > 0 {
				if now := env.Now(); now < c.dackAt {
					c.dackTimer = env.After(c.dackAt.Sub(now), ep.base|tDack<<subBit|c.id&idMask)
				} else {
					ep.sendAck(env, c, 0)
				}
			}
		case tIdle:
			c.idleArmed = false
			ep.onIdle(env, c)
		}
	}
}

// defer reports a failure from a timer, never from inside the caller's
// own call.
func (ep *Endpoint) deferFail(env sim.Env, to sim.NodeID, id uint64, cause Cause) {
	ep.fails = append(ep.fails, failure{to, id, cause})
	if !ep.failArm {
		ep.failArm = true
		env.After(0, ep.base|tFail<<subBit)
	}
}

// send puts a segment on the network.
func (ep *Endpoint) send(env sim.Env, c *conn, s *Segment) {
	s.Conn, s.cfg = c.id, c.cfg
	ep.l.m.bytes.Add(int64(s.wire))
	ep.l.stats.BytesOnWire += int64(s.wire)
	env.Send(c.peer, s)
}

// ---- CPU ----

// cpu runs job after its serialization time on the node's single codec
// CPU (FIFO); server-side work counts toward the server busy ratio.
func (ep *Endpoint) cpu(env sim.Env, job cpuJob, bytes int32, cfg *Config, server bool) {
	d := cfg.Encoding.CPUPerByte * time.Duration(bytes)
	if d <= 0 {
		ep.runJob(env, job)
		return
	}
	now := env.Now()
	start := max(now, ep.cpuFree)
	ep.cpuFree = start.Add(d)
	if server && start >= ep.l.warmup {
		ep.l.stats.ServerCPU += d
	}
	job.until = ep.cpuFree
	ep.cpuQ = append(ep.cpuQ, job)
	env.After(ep.cpuFree.Sub(now), ep.base|tCPU<<subBit)
}

func (ep *Endpoint) cpuDone(env sim.Env) {
	if ep.cpuHead >= len(ep.cpuQ) {
		return
	}
	job := ep.cpuQ[ep.cpuHead]
	ep.cpuQ[ep.cpuHead] = cpuJob{}
	ep.cpuHead++
	if ep.cpuHead == len(ep.cpuQ) {
		ep.cpuQ, ep.cpuHead = ep.cpuQ[:0], 0
	}
	ep.runJob(env, job)
}

func (ep *Endpoint) runJob(env sim.Env, j cpuJob) {
	switch j.kind {
	case 1:
		j.hop.dispatch(env, j.to, j.m)
	case 2:
		ep.deliver(env, j.c, j.m)
	case 3:
		if j.c.state != stClosed {
			ep.enqueue(env, j.c, j.m)
			if j.c.cfg.Pool.Mode == PerRequest && j.c.cfg.Closer == ServerSide {
				j.c.closeWhenDrained = true
			}
		}
	}
}

// ---- ports and TIME_WAIT ----

func (ep *Endpoint) expireTW(now sim.Time) {
	for ep.twHead < len(ep.tw) && ep.tw[ep.twHead] <= now {
		ep.twHead++
	}
	if ep.twHead > 1024 && ep.twHead*2 > len(ep.tw) {
		n := copy(ep.tw, ep.tw[ep.twHead:])
		ep.tw, ep.twHead = ep.tw[:n], 0
	}
	for ep.twSrvH < len(ep.twSrvQ) && ep.twSrvQ[ep.twSrvH] <= now {
		ep.twSrvH++
	}
	if ep.twSrvH > 1024 && ep.twSrvH*2 > len(ep.twSrvQ) {
		n := copy(ep.twSrvQ, ep.twSrvQ[ep.twSrvH:])
		ep.twSrvQ, ep.twSrvH = ep.twSrvQ[:n], 0
	}
}

func (ep *Endpoint) twCount() int { return len(ep.tw) - ep.twHead + len(ep.twSrvQ) - ep.twSrvH }

// TimeWait returns the node's connections in TIME_WAIT now.
func (ep *Endpoint) TimeWait(now sim.Time) int {
	ep.expireTW(now)
	return ep.twCount()
}

// ---- connections ----

// connect opens a client connection for hop to peer, or reports port
// exhaustion (nil).
func (ep *Endpoint) connect(env sim.Env, h *Hop, hs *host) *conn {
	now := env.Now()
	cfg := h.cfg
	if cfg.Kind == TCP {
		ep.expireTW(now)
		if ep.ports+len(ep.tw)-ep.twHead >= cfg.Ports.Size() {
			ep.l.m.portExh.Add(1)
			ep.l.stats.PortExhaustion++
			return nil
		}
	}
	ep.seq++
	c := &conn{
		id:     uint64(uint16(ep.self))<<40 | ep.inc<<32 | ep.seq&0xffffffff,
		peer:   hs.peer,
		cfg:    cfg,
		client: true,
		hop:    h,
		host:   hs,
		start:  now,
	}
	c.initSender()
	ep.conns[c.id] = c
	ep.l.m.opened.Add(1)
	ep.l.stats.ConnectionsOpened++
	if cfg.Kind == TCP {
		c.port = true
		ep.ports++
		c.state = stSynSent
		c.synAt = now
		ep.send(env, c, &Segment{flags: fSYN, wire: tcpOverhead + 8})
		ep.armRTO(env, c, cfg.RTOInitial)
		return c
	}
	// QUIC: the first flight is the Initial, reliable like any data.
	c.state = stHandshake
	ep.startTLS(env, c)
	return c
}

// startTLS begins the cryptographic handshake once the transport is up.
func (ep *Endpoint) startTLS(env sim.Env, c *conn) {
	cfg := c.cfg
	if cfg.Kind == TCP && cfg.TLS == NoTLS {
		ep.ready(env, c)
		return
	}
	c.state = stHandshake
	resume := cfg.Resume && ep.tickets[c.peer]
	code := uint8(ctlClientHello)
	if resume {
		code = ctlClientHelloResume
	}
	size := ctlSize[code]
	if cfg.Kind == QUIC && size < 1200 {
		size = 1200 // Initial packets are padded (RFC 9000 §14.1)
	}
	ep.enqueue(env, c, ep.ctlMsg(code, size))
	if resume && cfg.ZeroRTT {
		ep.ready(env, c)
	}
}

// ctlMsg makes a handshake flight.
func (ep *Endpoint) ctlMsg(code uint8, size int) *wireMsg {
	m := ep.l.newMsg()
	m.kind, m.ctl, m.bytes = kCtl, code, int32(size)
	return m
}

// ready makes a client connection carry requests.
func (ep *Endpoint) ready(env sim.Env, c *conn) {
	if c.state == stReady || c.state == stClosed {
		return
	}
	c.state = stReady
	ep.l.m.handshake.Record(env.Now().Sub(c.start))
	pend := c.pend
	c.pend = nil
	for _, m := range pend {
		ep.enqueue(env, c, m)
	}
	if len(pend) == 0 {
		ep.pump(env, c)
	}
}

// enqueue queues a message on c and sends what the window allows.
func (ep *Endpoint) enqueue(env sim.Env, c *conn, m *wireMsg) {
	if m.bytes <= 0 {
		m.bytes = 1
	}
	c.enqueue(m)
	ep.pump(env, c)
}

// pump sends new segments while the window allows.
func (ep *Endpoint) pump(env sim.Env, c *conn) {
	if c.state == stSynSent || c.state == stClosed {
		return
	}
	now := env.Now()
	mss := int32(c.cfg.MSSBytes)
	for c.qhead < len(c.q) && c.nxt-c.una < c.window() {
		// Pack queued bytes into one segment of up to one MSS.
		room := mss
		seg := ep.l.newSeg()
		parts := seg.one[:0]
		for room > 0 && c.qhead < len(c.q) {
			m := c.q[c.qhead]
			n := min(room, m.bytes-c.qoff)
			c.qoff += n
			room -= n
			last := c.qoff >= m.bytes
			m.segs++
			parts = append(parts, part{m, last})
			if last {
				c.q[c.qhead] = nil
				c.qhead++
				c.qoff = 0
			}
		}
		f := flight{p: parts[0], bytes: mss - room, sent: now}
		if len(parts) > 1 {
			f.more = slices.Clone(parts[1:])
		}
		for _, p := range parts {
			p.m.refs += 2 // the segment's and the flight's
			if p.last {
				ep.l.unref(p.m) // the creator's: all of it is packed
			}
		}
		c.pushFlight(f)
		seg.parts = parts
		ep.sendSeg(env, c, seg, c.nxt, mss-room)
		c.nxt++
	}
	if c.nxt > c.una && c.rtoAt == 0 {
		ep.armRTO(env, c, c.rto)
	}
	if c.closeWhenDrained && c.una == c.nxt && c.qhead == len(c.q) {
		ep.serverClose(env, c)
	}
}

func (ep *Endpoint) sendSeg(env sim.Env, c *conn, s *Segment, seq int64, n int32) {
	s.Seq, s.Ack, s.Top, s.TS, s.Echo, s.flags, s.wire = seq, c.rnxt, c.rtop, env.Now(), c.tsRecent, fDATA|fACK, n+c.overhead()
	if c.client && c.cfg.Kind == QUIC && !c.heard {
		s.flags |= fOPEN // the server may not know this connection yet
	}
	c.ackOwed = 0 // piggybacked; a pending delayed-ACK timer finds nothing owed
	ep.send(env, c, s)
}

// armRTO sets the retransmission timeout d from now. The engine timer is
// only touched when it would fire too late.
func (ep *Endpoint) armRTO(env sim.Env, c *conn, d time.Duration) {
	c.rtoAt = env.Now().Add(d)
	if c.rtoTimer != 0 && c.rtoFire <= c.rtoAt {
		return
	}
	if c.rtoTimer != 0 {
		env.Cancel(c.rtoTimer)
	}
	ep.timerRTO(env, c, c.rtoAt)
}

func (ep *Endpoint) timerRTO(env sim.Env, c *conn, at sim.Time) {
	c.rtoFire = at
	c.rtoTimer = env.After(at.Sub(env.Now()), ep.base|tRTO<<subBit|c.id&idMask)
}

func (ep *Endpoint) retransmit(env sim.Env, c *conn, seq int64) {
	f := c.flightAt(seq)
	f.retx = true
	f.sent = env.Now()
	ep.l.m.retx.Add(1)
	ep.l.stats.Retransmits++
	s := ep.l.newSeg()
	if f.more == nil {
		s.one[0] = f.p
		s.parts = s.one[:]
	} else {
		s.parts = append(append(make([]part, 0, 1+len(f.more)), f.p), f.more...)
	}
	for _, p := range s.parts {
		p.m.refs++
	}
	ep.sendSeg(env, c, s, seq, f.bytes)
}

// onRTO handles a retransmission timeout: SYN retry or data retry, with
// the timeout doubled each time.
func (ep *Endpoint) onRTO(env sim.Env, c *conn) {
	if c.state == stClosed {
		return
	}
	now := env.Now()
	if c.state == stSynSent {
		c.synTry++
		if c.synTry > c.cfg.SynRetries {
			ep.abort(env, c, Timeout)
			return
		}
		ep.l.m.retx.Add(1)
		ep.l.stats.Retransmits++
		ep.send(env, c, &Segment{flags: fSYN, wire: tcpOverhead + 8})
		ep.armRTO(env, c, min(c.cfg.RTOInitial<<c.synTry, c.cfg.RTOMax))
		return
	}
	if c.una == c.nxt {
		return
	}
	c.retries++
	limit := c.cfg.MaxRetries
	if c.state == stHandshake && c.client && c.cfg.Kind == QUIC {
		limit = c.cfg.SynRetries
	}
	if c.retries > limit {
		ep.abort(env, c, Timeout)
		return
	}
	if c.retries == 1 {
		c.onLoss(true, now)
	} else {
		c.cwnd = 1
	}
	c.inRec, c.rtoRec, c.recover, c.inflate, c.dup = true, true, c.nxt-1, 0, 0
	c.rto = min(c.rto*2, c.cfg.RTOMax)
	ep.retransmit(env, c, c.una)
	ep.armRTO(env, c, c.rto)
}

// onAck processes a cumulative acknowledgement.
func (ep *Endpoint) onAck(env sim.Env, c *conn, ack int64, echo sim.Time, pure bool) {
	now := env.Now()
	if ack > c.nxt {
		ack = c.nxt
	}
	if ack > c.una {
		acked := ack - c.una
		if c.inRec && !c.rtoRec && c.fastAt > 0 && echo > 0 && echo < c.fastAt {
			// Eifel detection (RFC 3522 §3.2): the first ACK past the
			// fast retransmission echoes a timestamp older than it, so
			// the original arrived and the "loss" was reordering. Undo
			// the RFC 5681 §3.2 cut (RFC 4015 §3) and leave recovery, as
			// Linux does: without this, a path that reorders three
			// segments now and then (jitter wider than the gap between
			// back-to-back segments) halves the window on every
			// multi-segment message and never opens it again.
			c.cwnd, c.ssthresh = max(c.cwnd, c.undoCwnd), max(c.ssthresh, c.undoSsthresh)
			c.inRec, c.inflate = false, 0
		}
		c.fastAt = 0
		if echo > 0 {
			c.onRTT(now.Sub(echo))
		}
		c.popFlights(int(acked), ep.l)
		c.una = ack
		c.retries = 0
		c.dup = 0
		switch {
		case c.inRec && ack > c.recover:
			c.inRec, c.inflate = false, 0
			if !c.rtoRec {
				c.cwnd = c.ssthresh
			}
			c.rtoRec = false
		case c.inRec:
			// Partial ACK: the next hole is lost too (NewReno, RFC 6582);
			// deflate the window by what was acknowledged.
			if c.rtoRec {
				c.grow(acked, now)
			}
			c.inflate = max(0, c.inflate-int(acked))
			ep.retransmit(env, c, c.una)
		default:
			c.grow(acked, now)
		}
		if c.una == c.nxt {
			c.rtoAt = 0
		} else {
			ep.armRTO(env, c, c.rto)
		}
		ep.pump(env, c)
		return
	}
	if !pure || ack != c.una || c.una == c.nxt {
		return
	}
	c.dup++
	switch {
	case c.dup == 3 && !c.inRec:
		c.undoCwnd, c.undoSsthresh, c.fastAt = c.cwnd, c.ssthresh, now
		c.onLoss(false, now)
		c.inRec, c.rtoRec, c.recover, c.inflate = true, false, c.nxt-1, 0
		ep.retransmit(env, c, c.una)
		ep.armRTO(env, c, c.rto)
	case c.dup > 3 && c.inRec && !c.rtoRec:
		c.inflate++
		ep.pump(env, c)
	}
}

// quicLoss declares the oldest unacknowledged packet lost once a packet
// three numbers later was received (RFC 9002 §6.1.1, kPacketThreshold),
// whether or not the ACK rode on data: QUIC needs no duplicate ACKs.
func (ep *Endpoint) quicLoss(env sim.Env, c *conn, top int64) {
	if c.inRec || c.state == stClosed || c.una >= c.nxt || top-1 < c.una+3 {
		return
	}
	c.onLoss(false, env.Now())
	c.inRec, c.rtoRec, c.recover, c.inflate, c.dup = true, false, c.nxt-1, 0, 0
	ep.retransmit(env, c, c.una)
	ep.armRTO(env, c, c.rto)
}

// onData processes a data segment at the receiver: it advances the
// in-order point first, then hands complete messages to the application
// (so that answers it sends at once carry the newest ACK), then sends an
// ACK unless an answer already carried it.
func (ep *Endpoint) onData(env sim.Env, c *conn, s *Segment) {
	switch {
	case s.Seq < c.rnxt || c.ooo[s.Seq] != nil:
		ep.sendAck(env, c, 0) // a duplicate: tell the sender where we are
		return
	case s.Seq >= c.rnxt+int64(c.rwnd):
		return // beyond the window
	}
	out := ep.scratch[:0]
	c.rtop = max(c.rtop, s.Seq+1)
	out = ep.accept(env, c, s, out)
	immediate := true
	if s.Seq == c.rnxt {
		immediate = len(c.ooo) > 0 // a hole was filled
		c.tsRecent = s.TS
		out = ep.consume(env, c, s, out)
		for len(c.ooo) > 0 {
			n := c.ooo[c.rnxt]
			if n == nil {
				break
			}
			delete(c.ooo, c.rnxt)
			out = ep.consume(env, c, n, out)
			n.held = false
			ep.l.release(n)
		}
	} else {
		if c.ooo == nil {
			c.ooo = map[int64]*Segment{}
		}
		c.ooo[s.Seq] = s // out of order: a duplicate ACK at once
		s.held = true
	}
	c.ackOwed += max(1, int(s.wire-c.overhead()))
	ep.scratch = out[:0]
	for i, m := range out {
		out[i] = nil
		if c.state == stClosed {
			break
		}
		ep.arrived(env, c, m)
	}
	if c.state == stClosed || c.ackOwed == 0 {
		return // closed, or an answer carried the ACK
	}
	// Acknowledge at least every second full-sized segment (RFC 5681
	// §4.2), else within the delayed-ACK time unless data carries it.
	if immediate || c.cfg.DelayedAck == 0 || c.ackOwed >= 2*c.cfg.MSSBytes {
		ep.sendAck(env, c, 0)
	} else {
		c.dackAt = env.Now().Add(c.cfg.DelayedAck)
		if c.dackTimer == 0 {
			c.dackTimer = env.After(c.cfg.DelayedAck, ep.base|tDack<<subBit|c.id&idMask)
		}
	}
}

// accept counts a new segment toward its messages; on QUIC a message is
// complete, and goes to out, as soon as all of its segments are here.
func (ep *Endpoint) accept(env sim.Env, c *conn, s *Segment, out []*wireMsg) []*wireMsg {
	for _, p := range s.parts {
		m := p.m
		m.rcvd++
		if p.last {
			m.lastIn = true
		}
		if m.rcvd == 1 {
			m.refs++ // the receiver's, until the application has it
			if m.kind == kResponse && c.client && m.hasStart {
				ep.l.m.ttfb.Record(env.Now().Sub(m.start))
			}
		}
		if m.lastIn && m.rcvd == m.segs {
			m.done = env.Now()
			if c.cfg.Kind == QUIC {
				out = append(out, m)
			}
		}
	}
	return out
}

// consume takes the next in-order segment; on TCP a message is complete
// with its last segment, after any wait behind an earlier loss.
func (ep *Endpoint) consume(env sim.Env, c *conn, s *Segment, out []*wireMsg) []*wireMsg {
	c.rnxt++
	if c.cfg.Kind != TCP {
		return out
	}
	for _, p := range s.parts {
		if !p.last {
			continue
		}
		if stall := env.Now().Sub(p.m.done); stall > 0 {
			ep.l.m.hol.Record(stall)
			ep.l.stats.HOLStalls++
		}
		out = append(out, p.m)
	}
	return out
}

func (ep *Endpoint) sendAck(env sim.Env, c *conn, extra uint16) {
	c.ackOwed = 0
	ep.send(env, c, &Segment{Ack: c.rnxt, Top: c.rtop, Echo: c.tsRecent, flags: fACK | extra, wire: c.overhead()})
}

// arrived handles a complete message at the receiver.
func (ep *Endpoint) arrived(env sim.Env, c *conn, m *wireMsg) {
	switch m.kind {
	case kCtl:
		ep.handshakeStep(env, c, m)
		ep.l.unref(m)
	case kCancel:
		if c.active > 0 {
			c.active--
		}
		if r := c.unserve(m.id); r != nil {
			ep.l.unref(r)
		}
		ep.h.Deliver(env, c.peer, m.app)
		ep.l.unref(m)
	default:
		ep.cpu(env, cpuJob{kind: 2, c: c, m: m}, m.bytes, c.cfg, !c.client)
	}
}

// deliver hands a decoded request or response to the application.
func (ep *Endpoint) deliver(env sim.Env, c *conn, m *wireMsg) {
	if m.kind == kRequest {
		kept := c.state != stClosed
		if kept {
			c.served = append(c.served, m) // keeps the receiver's reference
			c.active++
			c.requests++
		}
		ep.h.Deliver(env, c.peer, m.app)
		if !kept {
			ep.l.unref(m)
		}
		return
	}
	if c.client && c.state != stClosed {
		if i := slices.Index(c.ids, m.id); i >= 0 {
			c.ids = slices.Delete(c.ids, i, i+1)
			c.active--
			c.lastUsed = env.Now()
			ep.freed(env, c)
		}
	}
	ep.h.Deliver(env, c.peer, m.app)
	ep.l.unref(m)
}

// handshakeStep advances the TLS or QUIC handshake on a flight's arrival.
func (ep *Endpoint) handshakeStep(env sim.Env, c *conn, m *wireMsg) {
	cfg := c.cfg
	send := func(code uint8) {
		ep.enqueue(env, c, ep.ctlMsg(code, ctlSize[code]))
	}
	switch m.ctl {
	case ctlClientHello:
		send(ctlServerFlight)
	case ctlClientHelloResume:
		send(ctlServerFlightShort)
	case ctlServerFlight, ctlServerFlightShort:
		if !c.client {
			return
		}
		if cfg.Resume {
			ep.tickets[c.peer] = true
		}
		if cfg.Kind == TCP && cfg.TLS == TLS12 {
			if m.ctl == ctlServerFlight {
				send(ctlClientKeyExchange) // a second round trip
				return
			}
			send(ctlClientFinished)
			ep.ready(env, c)
			return
		}
		send(ctlClientFinished)
		ep.ready(env, c)
	case ctlClientKeyExchange:
		send(ctlServerFinished)
	case ctlServerFinished:
		if c.client {
			ep.ready(env, c)
		}
	}
}

// Receive handles a segment from the network. The segment may be
// recycled once it returns: the caller must not keep it.
func (ep *Endpoint) Receive(env sim.Env, from sim.NodeID, s *Segment) {
	ep.receive(env, from, s)
	ep.l.release(s)
}

func (ep *Endpoint) receive(env sim.Env, from sim.NodeID, s *Segment) {
	if !ep.l.Listening(ep.self) {
		return // moved away: this address answers nothing
	}
	c := ep.conn(s.Conn)
	if s.flags&fRST != 0 {
		if c != nil && c.peer == from {
			cause := Reset
			if c.state == stSynSent {
				cause = Refused
			}
			ep.abort(env, c, cause)
		}
		return
	}
	if c == nil {
		switch {
		case s.flags&fSYN != 0:
			c = ep.newServerConn(env, from, s)
			ep.send(env, c, &Segment{flags: fSYNACK | fACK, wire: tcpOverhead + 8})
			return
		case s.flags&fOPEN != 0:
			c = ep.newServerConn(env, from, s)
			c.state = stReady
		case s.flags&fFIN != 0:
			return
		case s.flags&(fDATA|fPROBE) == 0:
			return // a late ACK or FIN for a closed connection
		default:
			// No such connection (we restarted, or it was closed): reset.
			ep.l.m.bytes.Add(tcpOverhead)
			ep.l.stats.BytesOnWire += tcpOverhead
			env.Send(from, &Segment{Conn: s.Conn, flags: fRST, wire: tcpOverhead, cfg: s.cfg})
			return
		}
	}
	if c.peer != from {
		return
	}
	c.probes = 0
	c.heard = true
	c.lastHeard = env.Now()
	switch {
	case s.flags&fSYN != 0:
		ep.send(env, c, &Segment{flags: fSYNACK | fACK, wire: tcpOverhead + 8}) // our SYN-ACK was lost
		return
	case s.flags&fSYNACK != 0:
		if c.state != stSynSent {
			return
		}
		if c.synTry == 0 {
			c.onRTT(env.Now().Sub(c.synAt))
		}
		c.rtoAt = 0
		c.state = stHandshake
		c.ackOwed = 1
		ep.startTLS(env, c)
		if c.ackOwed > 0 {
			ep.sendAck(env, c, 0) // the third leg, when no data rides on it
		}
		return
	case s.flags&fFIN != 0:
		ep.onFin(env, c)
		return
	case s.flags&fPROBE != 0:
		if s.flags&fACK == 0 {
			ep.sendAck(env, c, fPROBE)
		}
		return
	}
	if s.flags&fACK != 0 {
		ep.onAck(env, c, s.Ack, s.Echo, s.flags&fDATA == 0)
		if c.cfg.Kind == QUIC && s.Top > 0 {
			ep.quicLoss(env, c, s.Top)
		}
	}
	if s.flags&fDATA != 0 && c.state != stClosed {
		ep.onData(env, c, s)
	}
}

func (ep *Endpoint) newServerConn(env sim.Env, from sim.NodeID, s *Segment) *conn {
	c := &conn{id: s.Conn, peer: from, cfg: s.cfg, state: stHandshake, start: env.Now()}
	c.initSender()
	ep.conns[c.id] = c
	ep.byPeer[from] = append(ep.byPeer[from], c)
	return c
}

// ---- closing ----

// abort ends a connection on an error: every request on it fails.
func (ep *Endpoint) abort(env sim.Env, c *conn, cause Cause) {
	if c.state == stClosed {
		return
	}
	if c.client {
		ep.l.fail(cause)
	}
	ids := c.ids
	pend := c.pend
	ep.drop(env, c)
	if !c.client {
		return
	}
	for _, id := range ids {
		ep.failReq(env, c.hop, c.peer, id, cause)
	}
	for _, m := range pend {
		ep.failReq(env, c.hop, c.peer, m.id, cause)
	}
	// Requests still waiting for a connection try a new one.
	c.host.pump(env)
}

func (ep *Endpoint) failReq(env sim.Env, h *Hop, to sim.NodeID, id uint64, cause Cause) {
	h.noteFailure(to)
	ep.deferFail(env, to, id, cause)
}

// drop forgets a connection and its timers, releasing its port.
func (ep *Endpoint) drop(env sim.Env, c *conn) {
	c.state = stClosed
	delete(ep.conns, c.id)
	if k := connSlot(c.id); ep.recent[k] == c {
		ep.recent[k] = nil
	}
	for _, t := range []sim.TimerID{c.rtoTimer, c.dackTimer} {
		if t != 0 {
			env.Cancel(t)
		}
	}
	c.rtoTimer, c.dackTimer = 0, 0
	if c.port {
		c.port = false
		ep.ports--
	}
	if c.fly != nil {
		c.popFlights(int(c.nxt-c.una), ep.l)
	}
	if !c.client {
		for _, m := range c.served {
			if ep.lost == nil {
				ep.lost = map[srvKey]struct{}{}
			}
			ep.lost[srvKey{c.peer, m.id}] = struct{}{}
			ep.l.unref(m)
		}
		l := ep.byPeer[c.peer]
		if i := slices.Index(l, c); i >= 0 {
			l = slices.Delete(l, i, i+1)
		}
		if len(l) == 0 {
			delete(ep.byPeer, c.peer)
		} else {
			ep.byPeer[c.peer] = l
		}
	}
	c.q, c.fly, c.ooo, c.pend, c.ids, c.served = nil, nil, nil, nil, nil, nil
	if c.host != nil {
		if i := slices.Index(c.host.conns, c); i >= 0 {
			c.host.conns = slices.Delete(c.host.conns, i, i+1)
		}
	}
}

// closeActive closes c from this side first: a FIN to the peer and, for
// TCP, TIME_WAIT for 2×MSL holding the port.
func (ep *Endpoint) closeActive(env sim.Env, c *conn) {
	if c.state == stClosed {
		return
	}
	ep.send(env, c, &Segment{flags: fFIN | fACK, Ack: c.rnxt, wire: c.overhead()})
	ep.drop(env, c)
	if c.cfg.Kind == TCP {
		ep.expireTW(env.Now())
		ep.tw = append(ep.tw, env.Now().Add(2*c.cfg.MSL))
	}
}

// serverClose is the server closing first after its response (per-request
// connections with closer: server): the server holds the TIME_WAIT.
func (ep *Endpoint) serverClose(env sim.Env, c *conn) {
	ep.send(env, c, &Segment{flags: fFIN | fACK, Ack: c.rnxt, wire: c.overhead()})
	ep.drop(env, c)
	if c.cfg.Kind == TCP {
		ep.expireTW(env.Now())
		ep.twSrvQ = append(ep.twSrvQ, env.Now().Add(2*c.cfg.MSL))
	}
}

// onFin handles the peer's close: a passive close holds no TIME_WAIT.
func (ep *Endpoint) onFin(env sim.Env, c *conn) {
	if !c.client {
		ep.drop(env, c)
		return
	}
	if c.active > 0 {
		c.serverClosed = true // the response is still arriving
		return
	}
	ep.drop(env, c)
	c.host.pump(env)
}

// freed is called when a client connection finished a request.
func (ep *Endpoint) freed(env sim.Env, c *conn) {
	if c.cfg.Pool.Mode == PerRequest || c.serverClosed {
		if c.active == 0 {
			if c.cfg.Closer == ClientSide && !c.serverClosed {
				ep.closeActive(env, c)
			} else {
				// The server closes first: acknowledge its data (and FIN)
				// and forget the connection, with no TIME_WAIT here.
				ep.sendAck(env, c, 0)
				ep.drop(env, c)
			}
		}
	} else if c.active == 0 {
		ep.armIdle(env, c)
	}
	c.host.pump(env)
}

// armIdle starts watching an idle pooled connection: close it after the
// idle timeout, probe it once the peer has been silent for the keep-alive
// idle time.
func (ep *Endpoint) armIdle(env sim.Env, c *conn) {
	if c.idleArmed || c.state == stClosed || c.active > 0 {
		return
	}
	now := env.Now()
	next := sim.Never
	if it := c.cfg.Pool.IdleTimeout; it > 0 {
		next = c.lastUsed.Add(it)
	}
	if ka := c.cfg.KeepAlive; ka.Idle > 0 {
		at := c.lastHeard.Add(ka.Idle)
		if c.probes > 0 {
			at = now.Add(ka.Interval)
		}
		next = min(next, at)
	}
	if next == sim.Never {
		return
	}
	c.idleArmed = true
	env.After(max(0, next.Sub(now)), ep.base|tIdle<<subBit|c.id&idMask)
}

func (ep *Endpoint) onIdle(env sim.Env, c *conn) {
	if c.state == stClosed || c.active > 0 {
		return
	}
	now := env.Now()
	if it := c.cfg.Pool.IdleTimeout; it > 0 && now.Sub(c.lastUsed) >= it {
		ep.closeActive(env, c)
		c.host.pump(env)
		return
	}
	ka := c.cfg.KeepAlive
	if ka.Idle > 0 && (c.probes > 0 || now.Sub(c.lastHeard) >= ka.Idle) {
		if c.probes >= ka.Probes {
			ep.abort(env, c, HalfOpen)
			return
		}
		c.probes++
		ep.send(env, c, &Segment{flags: fPROBE, wire: c.overhead()})
	}
	ep.armIdle(env, c)
}
