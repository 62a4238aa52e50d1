package rpc

import (
	"fmt"
	"path"
	"time"

	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/sim"
)

// The seam between rpc and package transport. Without a stream hop and
// without DNS there is no transport layer: callers and servers send plain
// datagrams with env.Send, exactly as before. Otherwise every node gets a
// transport.Endpoint and every caller a transport.Hop; the transport's
// timers use tag kind tagTransport.

// tagTransport is the timer kind reserved for a node's transport endpoint.
const tagTransport uint64 = 15

// usesTransport reports whether any hop runs over a stream or DNS is on.
func (c Config) usesTransport() bool {
	if c.DNS.Enabled || c.Client.Call.Transport.Stream() {
		return true
	}
	for _, n := range c.Names() {
		for _, call := range c.Services[n].Calls {
			if call.Transport.Stream() {
				return true
			}
		}
	}
	return false
}

// validateDNS checks the DNS section against the services.
func (c Config) validateDNS() error {
	var fe sim.FieldErrors
	fe.Merge("", c.DNS.Validate())
	for i, m := range c.DNS.Moves {
		if _, ok := c.Services[m.Service]; !ok && m.Service != "" {
			fe.Add(fmt.Sprintf("moves[%d].service", i), "moves undefined service %q", m.Service)
		}
	}
	if len(c.DNS.Moves) > 0 && !c.DNS.Enabled {
		fe.Add("moves", "moving a service needs enabled: true (callers must resolve names)")
	}
	return fe.Err()
}

// setupTransport builds the run's transport layer when the config needs
// one: the DNS records (each service's replicas except those a move will
// bring in) and the moves themselves.
func (d *Deployment) setupTransport(e *sim.Engine, pl placement, warmup time.Duration) error {
	cfg := d.Config
	if !cfg.usesTransport() {
		return nil
	}
	d.tx = transport.NewLayer(e, warmup, 100*time.Millisecond)
	if !cfg.DNS.Enabled {
		return nil
	}
	a := transport.NewAuthority(cfg.DNS)
	d.tx.DNS = a
	type move struct {
		at       time.Duration
		svc      string
		old, new []sim.NodeID
	}
	var moves []move
	incoming := map[string]map[sim.NodeID]bool{}
	for i, m := range cfg.DNS.Moves {
		names := pl.replicas[m.Service]
		ids := d.Replicas[m.Service]
		mv := move{at: m.At, svc: m.Service}
		for k, n := range names {
			if matchAny(m.To, n) {
				mv.new = append(mv.new, ids[k])
			} else {
				mv.old = append(mv.old, ids[k])
			}
		}
		if len(mv.new) == 0 {
			return fmt.Errorf("dns.moves[%d].to: selects none of %s's replicas %v", i, m.Service, names)
		}
		if incoming[m.Service] == nil {
			incoming[m.Service] = map[sim.NodeID]bool{}
		}
		for _, id := range mv.new {
			incoming[m.Service][id] = true
		}
		moves = append(moves, mv)
	}
	for _, n := range cfg.Names() {
		var rec []sim.NodeID
		for _, id := range d.Replicas[n] {
			if !incoming[n][id] {
				rec = append(rec, id)
			}
		}
		if len(rec) == 0 {
			rec = d.Replicas[n]
		}
		a.Set(n, rec)
	}
	for _, mv := range moves {
		mv := mv
		e.At(sim.Time(mv.at), func() {
			a.Set(mv.svc, mv.new)
			for _, id := range mv.old {
				d.tx.SetListening(id, false)
			}
			for _, id := range mv.new {
				d.tx.SetListening(id, true)
			}
		})
	}
	return nil
}

// matchAny reports whether node name matches a selector: a name or a
// glob such as "api-new-*".
func matchAny(sel []string, name string) bool {
	for _, s := range sel {
		if s == name || s == "*" {
			return true
		}
		if ok, _ := path.Match(s, name); ok {
			return true
		}
	}
	return false
}

// transportFigures are the transport's end-of-run figures: the servers'
// serialization CPU busy ratio.
func (d *Deployment) transportFigures(span time.Duration) []Figure {
	if d.tx == nil {
		return nil
	}
	return []Figure{{Name: transport.MetricServerCPUBusy, Value: d.tx.ServerCPUBusyRatio(span)}}
}

// TransportStats returns the transport layer's counts, or nil when every
// hop is a plain datagram.
func (d *Deployment) TransportStats() *transport.Stats {
	if d.tx == nil {
		return nil
	}
	return d.tx.Stats()
}

// attach gives the caller its transport hop on endpoint ep.
func (c *caller) attach(env sim.Env, ep *transport.Endpoint) {
	tc := c.cfg.Transport.Resolved()
	c.tx = ep.NewHop(env, &tc, c.cfg.Service)
}

func (c *caller) sendRequest(env sim.Env, to sim.NodeID, r *Request) {
	if c.tx == nil {
		env.Send(to, r)
		return
	}
	c.tx.Request(env, to, r.ID, r)
}

func (c *caller) sendCancel(env sim.Env, to sim.NodeID, m *Cancel) {
	if c.tx == nil {
		env.Send(to, m)
		return
	}
	c.tx.Cancel(env, to, m.ID, m)
}

// abandon tells the transport that attempt a timed out.
func (c *caller) abandon(env sim.Env, a *attempt) {
	if c.tx != nil {
		c.tx.Abandon(env, c.reps[a.rep], a.id)
	}
}

// failed settles an attempt the transport could not deliver: a refused,
// reset or exhausted connection, or a failed lookup, is unavailable (503,
// retryable); a connection that timed out or was found half-open is a
// timeout.
func (c *caller) failed(env sim.Env, id uint64, cause transport.Cause) {
	a := c.atts.get(id)
	if a == nil {
		return
	}
	env.Cancel(a.timer)
	a.timer = 0
	st := Unavailable
	if cause == transport.Timeout || cause == transport.HalfOpen {
		st = Timeout
	}
	c.settle(env, env.Now(), a, st, 0)
}

// startTransport gives a server node its endpoint and its callers their
// hops.
func (s *server) startTransport(env sim.Env, inc uint64) {
	s.ep = s.d.tx.NewEndpoint(env, s, tagTransport, inc)
	s.d.tx.MarkServer(env.ID())
	for _, c := range s.callers {
		c.attach(env, s.ep)
	}
}

// intercept routes segments to the endpoint and drops datagram requests
// to an address the service moved away from. It reports whether it took
// the message.
func (s *server) intercept(env sim.Env, from sim.NodeID, msg sim.Message) bool {
	if seg, ok := msg.(*transport.Segment); ok {
		s.ep.Receive(env, from, seg)
		return true
	}
	switch msg.(type) {
	case *Request, *Cancel:
		return !s.d.tx.Listening(env.ID())
	}
	return false
}

func (s *server) sendResponse(env sim.Env, to sim.NodeID, r *Response) {
	if s.ep != nil && s.ep.Respond(env, to, r.ID, r) {
		return
	}
	env.Send(to, r)
}

// unanswered tells the transport that j will get no answer (expired or
// cancelled), so its connection stops keeping it.
func (s *server) unanswered(j *job) {
	if s.ep != nil {
		s.ep.Forget(j.from, j.req)
	}
}

// Deliver takes a message the transport reassembled.
func (s *server) Deliver(env sim.Env, from sim.NodeID, msg sim.Message) { s.Receive(env, from, msg) }

// Failed settles a downstream attempt the transport could not deliver.
func (s *server) Failed(env sim.Env, _ sim.NodeID, id uint64, cause transport.Cause) {
	if i := int(id >> idxShift & 0xff); i < len(s.callers) {
		s.callers[i].failed(env, id, cause)
	}
}

// Deliver takes a message the transport reassembled.
func (c *client) Deliver(env sim.Env, from sim.NodeID, msg sim.Message) { c.Receive(env, from, msg) }

// Failed settles an attempt the transport could not deliver.
func (c *client) Failed(env sim.Env, _ sim.NodeID, id uint64, cause transport.Cause) {
	c.caller.failed(env, id, cause)
}
