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
	freed int // values put on free (tests: freed − len(free) were handed out again)
}

// carve returns the next value of the current block, starting a new block
// when it is used up: the rare path, kept out of line.
//
//go:noinline
func (p *msgPool[T]) carve() *T {
	if len(p.block) == 0 {
		p.block = make([]T, msgBlock)
	}
	m := &p.block[0]
	p.block = p.block[1:]
	return m
}

// put frees m, overwriting its ID (at id) with staleID, unless *refs
// says a duplicate is still to be delivered (then it counts that delivery
// off) or m is pinned. The other fields keep their values: whoever takes
// m next sets them all.
func (p *msgPool[T]) put(m *T, refs *uint8, id *uint64) {
	switch {
	case *refs == 0:
		*id = staleID
		p.free = append(p.free, m)
		p.freed++
	case *refs < refsPinned:
		*refs--
	}
}

// request, response and cancel return a message holding the given
// fields: a freed value if there is one, else the next of the current
// block. They set every field (a freed value holds a stale message)
// instead of copying a whole value in, and pop the free list themselves:
// a generic helper for that would be a call of its own (its shape
// instantiation does not inline).
func (s *msgSlab) request(id uint64, budget time.Duration, attempt int32, hedge bool) *Request {
	var m *Request
	if n := len(s.reqs.free); n > 0 {
		m = s.reqs.free[n-1]
		s.reqs.free = s.reqs.free[:n-1]
	} else {
		m = s.reqs.carve()
	}
	m.ID, m.Budget, m.Attempt, m.Hedge, m.refs = id, budget, attempt, hedge, 0
	return m
}

func (s *msgSlab) response(id uint64, st Status) *Response {
	var m *Response
	if n := len(s.resps.free); n > 0 {
		m = s.resps.free[n-1]
		s.resps.free = s.resps.free[:n-1]
	} else {
		m = s.resps.carve()
	}
	m.ID, m.Status, m.refs, m.RetryAfter = id, st, 0, 0
	return m
}

func (s *msgSlab) cancel(id uint64) *Cancel {
	var m *Cancel
	if n := len(s.cancels.free); n > 0 {
		m = s.cancels.free[n-1]
		s.cancels.free = s.cancels.free[:n-1]
	} else {
		m = s.cancels.carve()
	}
	m.ID, m.refs = id, 0
	return m
}

// reused returns how many messages were handed out again (tests).
func (s *msgSlab) reused() int { return s.reqs.reused() + s.resps.reused() + s.cancels.reused() }

func (p *msgPool[T]) reused() int { return p.freed - len(p.free) }

// reusable reports whether handled messages may be reused now.
func (s *msgSlab) reusable() bool { return s.reuse && !s.e.Observed() }

// doneRequest, doneResponse and doneCancel take back a message its
// receiver has handled.
func (s *msgSlab) doneRequest(m *Request) {
	if s.reusable() {
		s.reqs.put(m, &m.refs, &m.ID)
	}
}

func (s *msgSlab) doneResponse(m *Response) {
	if s.reusable() {
		s.resps.put(m, &m.refs, &m.ID)
	}
}

func (s *msgSlab) doneCancel(m *Cancel) {
	if s.reusable() {
		s.cancels.put(m, &m.refs, &m.ID)
	}
}
