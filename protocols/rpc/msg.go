package rpc

import (
	"fmt"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Request asks a replica to serve one attempt of a call.
type Request struct {
	// ID identifies the attempt at the caller; the response carries it
	// back.
	ID uint64
	// Budget is the time left until the caller's deadline when the
	// request was sent (0 = no deadline). As in gRPC, the deadline travels
	// as a remaining span, not a timestamp, so clock skew between nodes
	// does not matter; the receiver turns it into a local deadline.
	Budget time.Duration
	// Attempt is the attempt number within the call, from 1.
	Attempt int32
	// Hedge marks a backup attempt.
	Hedge bool

	refs uint8 // deliveries still pending beyond the next (Retain)
}

// String describes the request for traces.
func (r *Request) String() string {
	s := fmt.Sprintf("req %x #%d", r.ID, r.Attempt)
	if r.Hedge {
		s += " hedge"
	}
	if r.Budget > 0 {
		s += " budget " + r.Budget.String()
	}
	return s
}

// Response answers a Request.
type Response struct {
	ID     uint64
	Status Status
	refs   uint8 // deliveries still pending beyond the next (Retain)
	// RetryAfter is the server's pushback: 0 for none, a positive wait
	// before any retry (HTTP Retry-After, gRPC grpc-retry-pushback-ms), or
	// negative for "do not retry".
	RetryAfter time.Duration
}

// String describes the response for traces.
func (r *Response) String() string {
	switch {
	case r.RetryAfter > 0:
		return fmt.Sprintf("resp %x %s retry-after %v", r.ID, r.Status, r.RetryAfter)
	case r.RetryAfter < 0:
		return fmt.Sprintf("resp %x %s no-retry", r.ID, r.Status)
	}
	return fmt.Sprintf("resp %x %s", r.ID, r.Status)
}

// Cancel tells a replica that the caller no longer wants the answer to
// request ID (a hedge lost the race): queued work is dropped, work in
// progress is abandoned at its next step.
type Cancel struct {
	ID uint64

	refs uint8 // deliveries still pending beyond the next (Retain)
}

// String describes the cancellation for traces.
func (c *Cancel) String() string { return fmt.Sprintf("cancel %x", c.ID) }

// msgBlock is how many messages of one type msgSlab carves from one
// allocation.
const msgBlock = 256

// refsPinned is a reference count that never drops back: a message
// retained that many times is left to the garbage collector.
const refsPinned = 0xff

// Retain records a network duplicate of the request still to be delivered
// (sim.Retainer).
func (r *Request) Retain() { r.refs = retain(r.refs) }

// Retain records a network duplicate of the response still to be
// delivered (sim.Retainer).
func (r *Response) Retain() { r.refs = retain(r.refs) }

// Retain records a network duplicate of the cancellation still to be
// delivered (sim.Retainer).
func (c *Cancel) Retain() { c.refs = retain(c.refs) }

func retain(n uint8) uint8 {
	if n < refsPinned {
		n++
	}
	return n
}

// msgSlab hands out the messages of one deployment. They are carved from
// blocks, one heap allocation per msgBlock messages, and reused once
// handled: a receiver calls done after its last look at a message, and
// the value goes back to a free list unless another delivery of it is
// pending. Those are the network's duplicates, which it announces with
// sim.Retain; an extra delivery without Retain would see a reused value.
// Messages are not reused when the engine is observed (an observer may
// keep what it sees) or when a transport carries them (it keeps them for
// retransmission); messages lost on the way are left to the collector.
// A freed value is overwritten with an ID no attempt has, so a stale
// reference shows up as a late answer in the figures instead of passing
// unnoticed.
type msgSlab struct {
	reqs    msgPool[Request]
	resps   msgPool[Response]
	cancels msgPool[Cancel]
	e       *sim.Engine
	reuse   bool // no transport: every delivery comes straight from the network
	reused  int  // messages handed out again (tests)
}

// noReuse turns message reuse off for the deployments built after it is
// set. Only tests set it, to show that reuse changes no run.
var noReuse bool

// staleID is the ID a freed message carries.
const staleID = ^uint64(0)

// msgPool is the block and the free list of one message type.
type msgPool[T any] struct {
	block []T
	free  []*T
}

// get returns a value holding v: a freed one if there is one (reported by
// reused), else the next of the current block.
func (p *msgPool[T]) get(v T) (m *T, reused bool) {
	if n := len(p.free); n > 0 {
		m = p.free[n-1]
		p.free = p.free[:n-1]
		reused = true
	} else {
		if len(p.block) == 0 {
			p.block = make([]T, msgBlock)
		}
		m = &p.block[0]
		p.block = p.block[1:]
	}
	*m = v
	return m, reused
}

// put frees m, overwriting it with stale, unless *refs says a duplicate is
// still to be delivered (then it counts that delivery off) or m is
// pinned.
func (p *msgPool[T]) put(m *T, refs *uint8, stale T) {
	switch {
	case *refs == 0:
		*m = stale
		p.free = append(p.free, m)
	case *refs < refsPinned:
		*refs--
	}
}

func (s *msgSlab) request(r Request) *Request {
	m, again := s.reqs.get(r)
	if again {
		s.reused++
	}
	return m
}

func (s *msgSlab) response(r Response) *Response {
	m, again := s.resps.get(r)
	if again {
		s.reused++
	}
	return m
}

func (s *msgSlab) cancel(c Cancel) *Cancel {
	m, again := s.cancels.get(c)
	if again {
		s.reused++
	}
	return m
}

// reusable reports whether handled messages may be reused now.
func (s *msgSlab) reusable() bool { return s.reuse && !s.e.Observed() }

// doneRequest, doneResponse and doneCancel take back a message its
// receiver has handled.
func (s *msgSlab) doneRequest(m *Request) {
	if s.reusable() {
		s.reqs.put(m, &m.refs, Request{ID: staleID})
	}
}

func (s *msgSlab) doneResponse(m *Response) {
	if s.reusable() {
		s.resps.put(m, &m.refs, Response{ID: staleID})
	}
}

func (s *msgSlab) doneCancel(m *Cancel) {
	if s.reusable() {
		s.cancels.put(m, &m.refs, Cancel{ID: staleID})
	}
}
