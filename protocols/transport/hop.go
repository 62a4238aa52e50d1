package transport

import (
	"slices"

	"github.com/dsim-dev/dsim/sim"
)

// host is a client's connections to one server and the requests waiting
// for one of them.
type host struct {
	ep    *Endpoint
	hop   *Hop
	peer  sim.NodeID
	conns []*conn
	wait  []*wireMsg
	whead int
}

// Hop is one caller's transport to the replicas of one service: it
// resolves the service's name (when DNS is on), keeps the connection pool
// and sends requests. Its methods never call the Handler back directly:
// failures are reported from a timer.
type Hop struct {
	ep    *Endpoint
	cfg   *Config
	idx   uint64
	hosts []*host // by node ID
	dns   *dnsCache
	// recent remembers where the latest datagram requests went (by ID
	// modulo its size), so that a timeout can be blamed on the address it
	// was sent to.
	recent []sentTo
}

type sentTo struct {
	id uint64
	to sim.NodeID
}

// NewHop makes a hop with the transport cfg (resolved; see
// Config.Resolved). name is the service's DNS name, used when the layer
// has an Authority; "" resolves nothing.
func (ep *Endpoint) NewHop(env sim.Env, cfg *Config, name string) *Hop {
	h := &Hop{ep: ep, cfg: cfg, idx: uint64(len(ep.hops))}
	ep.hops = append(ep.hops, h)
	if a := ep.l.DNS; a != nil && name != "" {
		h.dns = &dnsCache{name: name}
		if f := a.cfg.StaleFraction; f > 0 {
			h.dns.sticky = ep.l.e.Stream("transport/dns/"+env.Name()+"/"+name).Float64() < f
		}
	}
	return h
}

// Stream reports whether the hop uses connections.
func (h *Hop) Stream() bool { return h.cfg.Kind == TCP || h.cfg.Kind == QUIC }

func (h *Hop) host(peer sim.NodeID) *host {
	for int(peer) >= len(h.hosts) {
		h.hosts = append(h.hosts, nil)
	}
	hs := h.hosts[peer]
	if hs == nil {
		hs = &host{ep: h.ep, hop: h, peer: peer}
		h.hosts[peer] = hs
	}
	return hs
}

// Request sends request id (the application's message msg) to node to, or
// to a node the hop's DNS answer lists instead when to is not in it.
func (h *Hop) Request(env sim.Env, to sim.NodeID, id uint64, msg sim.Message) {
	if d := h.dns; d != nil {
		now := env.Now()
		switch {
		case now < d.negUntil:
			h.ep.l.fail(DNSFailure)
			h.ep.deferFail(env, to, id, DNSFailure)
			return
		case d.addrs == nil || now >= d.expires:
			d.queue = append(d.queue, queued{to, id, msg})
			if !d.resolving {
				d.resolving = true
				h.ep.l.m.lookups.Add(1)
				h.ep.l.stats.DNSLookups++
				env.After(h.ep.l.DNS.cfg.LookupTime, h.ep.base|tDNS<<subBit|h.idx)
			}
			return
		}
		to = h.remap(to, id)
	}
	h.send(env, to, id, msg)
}

// remap keeps to when the cached answer lists it, else picks a listed
// address by the request ID.
func (h *Hop) remap(to sim.NodeID, id uint64) sim.NodeID {
	a := h.dns.addrs
	if len(a) == 0 || slices.Contains(a, to) {
		return to
	}
	return a[id%uint64(len(a))]
}

func (h *Hop) lookupDone(env sim.Env) {
	d := h.dns
	d.resolving = false
	now := env.Now()
	a := h.ep.l.DNS
	addrs, ok := a.Lookup(d.name, now)
	q := d.queue
	d.queue = nil
	if !ok {
		d.negUntil = now.Add(a.cfg.NegativeTTL)
		for _, r := range q {
			h.ep.l.fail(DNSFailure)
			h.ep.h.Failed(env, r.to, r.id, DNSFailure)
		}
		return
	}
	d.addrs = slices.Clone(addrs)
	ttl := a.cfg.TTL
	if d.sticky && a.cfg.StaleCap > ttl {
		ttl = a.cfg.StaleCap
	}
	d.expires = now.Add(ttl)
	for _, r := range q {
		h.send(env, h.remap(r.to, r.id), r.id, r.msg)
	}
}

// noteFailure counts a failure at an address DNS no longer lists.
func (h *Hop) noteFailure(to sim.NodeID) {
	if h.dns != nil && !h.ep.l.DNS.Lists(h.dns.name, to) {
		h.ep.l.m.stale.Add(1)
		h.ep.l.stats.DNSStaleFailures++
	}
}

func (h *Hop) send(env sim.Env, to sim.NodeID, id uint64, msg sim.Message) {
	if !h.Stream() {
		if h.dns != nil {
			if h.recent == nil {
				h.recent = make([]sentTo, 4096)
			}
			h.recent[id%uint64(len(h.recent))] = sentTo{id, to}
		}
		env.Send(to, msg)
		return
	}
	m := h.ep.l.newMsg()
	m.app, m.id, m.kind, m.bytes, m.start = msg, id, kRequest, h.cfg.payload(msg, true), env.Now()
	h.ep.cpu(env, cpuJob{kind: 1, m: m, hop: h, to: to}, m.bytes, h.cfg, false)
}

// payload is a message's bytes: the HTTP header plus the encoded fields.
func (c *Config) payload(msg sim.Message, request bool) int32 {
	e := c.Encoding
	body := sim.MessageSize(msg)
	if e.BytesPerField > 0 {
		n := e.ResponseFields
		if request {
			n = e.RequestFields
		}
		body = n * e.BytesPerField
	}
	return int32(c.HeaderBytes + body)
}

// dispatch hands an encoded request to a connection.
func (h *Hop) dispatch(env sim.Env, to sim.NodeID, m *wireMsg) {
	hs := h.host(to)
	if h.cfg.Pool.Mode == PerRequest {
		c := h.ep.connect(env, h, hs)
		if c == nil {
			h.ep.l.fail(PortExhaustion)
			h.ep.failReq(env, h, to, m.id, PortExhaustion)
			return
		}
		hs.conns = append(hs.conns, c)
		hs.assign(env, c, m)
		return
	}
	hs.wait = append(hs.wait, m)
	hs.pump(env)
}

// pump gives waiting requests to connections with room, opening
// connections up to the pool size.
func (hs *host) pump(env sim.Env) {
	cfg := hs.hop.cfg
	for hs.whead < len(hs.wait) {
		m := hs.wait[hs.whead]
		var c *conn
		for _, k := range hs.conns {
			if k.state != stClosed && !k.serverClosed && (k.active == 0 || cfg.HTTP.multiplexed() && k.active < cfg.Pool.MaxStreams) {
				c = k
				break
			}
		}
		if c == nil {
			if len(hs.conns) >= cfg.Pool.Size {
				return
			}
			c = hs.ep.connect(env, hs.hop, hs)
			if c == nil {
				hs.ep.l.fail(PortExhaustion)
				hs.popWait()
				hs.ep.failReq(env, hs.hop, hs.peer, m.id, PortExhaustion)
				continue
			}
			hs.conns = append(hs.conns, c)
		}
		hs.popWait()
		hs.assign(env, c, m)
	}
}

func (hs *host) popWait() {
	hs.wait[hs.whead] = nil
	hs.whead++
	if hs.whead == len(hs.wait) {
		hs.wait, hs.whead = hs.wait[:0], 0
	}
}

// assign puts request m on connection c.
func (hs *host) assign(env sim.Env, c *conn, m *wireMsg) {
	ep := hs.ep
	c.ids = append(c.ids, m.id)
	c.active++
	if c.requests > 0 {
		ep.l.m.reused.Add(1)
		ep.l.stats.ConnectionsReused++
	}
	c.requests++
	c.lastUsed = env.Now()
	if c.state == stReady {
		ep.enqueue(env, c, m)
	} else {
		c.pend = append(c.pend, m)
	}
}

// Abandon gives up on request id to node to (its caller timed out): a
// waiting request is forgotten; an HTTP/1.1 connection carrying it is
// closed, as clients do, since its answer would block the connection; on a
// multiplexed connection the stream is forgotten.
func (h *Hop) Abandon(env sim.Env, to sim.NodeID, id uint64) {
	h.forget(env, to, id, nil)
}

// Cancel withdraws request id (a hedge that lost): on a multiplexed
// connection msg travels to the server as a stream reset; a datagram hop
// sends msg as it is.
func (h *Hop) Cancel(env sim.Env, to sim.NodeID, id uint64, msg sim.Message) {
	if !h.Stream() {
		if h.dns != nil && h.dns.addrs != nil {
			to = h.remap(to, id)
		}
		env.Send(to, msg)
		return
	}
	h.forget(env, to, id, msg)
}

func (h *Hop) forget(env sim.Env, to sim.NodeID, id uint64, cancel sim.Message) {
	ep := h.ep
	if !h.Stream() {
		if h.recent != nil {
			if r := h.recent[id%uint64(len(h.recent))]; r.id == id {
				h.noteFailure(r.to)
			}
		}
		return
	}
	c := h.reqConn(id)
	if c == nil {
		// Still waiting for a connection (or for its encoding)?
		for _, hs := range h.hosts {
			if hs == nil {
				continue
			}
			for i := hs.whead; i < len(hs.wait); i++ {
				if hs.wait[i].id == id {
					hs.wait = slices.Delete(hs.wait, i, i+1)
					if cancel == nil {
						h.noteFailure(hs.peer)
					}
					return
				}
			}
		}
		return
	}
	if cancel == nil {
		h.noteFailure(c.peer)
	}
	if i := slices.Index(c.ids, id); i >= 0 {
		c.ids = slices.Delete(c.ids, i, i+1)
		c.active--
	}
	if i := slices.IndexFunc(c.pend, func(m *wireMsg) bool { return m.id == id }); i >= 0 {
		c.pend = slices.Delete(c.pend, i, i+1)
	}
	if !h.cfg.HTTP.multiplexed() || h.cfg.Pool.Mode == PerRequest {
		ep.closeActive(env, c)
		c.host.pump(env)
		return
	}
	if cancel != nil && c.state == stReady {
		m := ep.l.newMsg()
		m.app, m.id, m.kind, m.bytes = cancel, id, kCancel, 16
		ep.enqueue(env, c, m)
	}
	ep.freed(env, c)
}

// Forget drops request id from node from that will not be answered (the
// server gave up on it), so that its connection stops keeping it.
func (ep *Endpoint) Forget(from sim.NodeID, id uint64) {
	for _, c := range ep.byPeer[from] {
		if m := c.unserve(id); m != nil {
			ep.l.unref(m)
			c.active--
			return
		}
	}
	delete(ep.lost, srvKey{from, id})
}

// Respond sends the answer to request id from node to on the connection
// the request came on. It reports false when the request came as a
// datagram, so the caller sends msg itself.
func (ep *Endpoint) Respond(env sim.Env, to sim.NodeID, id uint64, msg sim.Message) bool {
	var c *conn
	var req *wireMsg
	for _, k := range ep.byPeer[to] {
		if req = k.unserve(id); req != nil {
			c = k
			break
		}
	}
	if c == nil {
		// Not served here, unless its connection died meanwhile: then
		// the answer is lost with it.
		k := srvKey{to, id}
		if _, ok := ep.lost[k]; ok {
			delete(ep.lost, k)
			return true
		}
		return false
	}
	c.active--
	m := ep.l.newMsg()
	m.app, m.id, m.kind, m.bytes = msg, id, kResponse, c.cfg.payload(msg, false)
	m.start, m.hasStart = req.start, true
	ep.l.unref(req)
	ep.cpu(env, cpuJob{kind: 3, c: c, m: m}, m.bytes, c.cfg, true)
	return true
}
