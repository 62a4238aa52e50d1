package rpc

import (
	"fmt"
	"time"
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
type Cancel struct{ ID uint64 }

// String describes the cancellation for traces.
func (c *Cancel) String() string { return fmt.Sprintf("cancel %x", c.ID) }

// msgBlock is how many messages of one type msgSlab carves from one
// allocation.
const msgBlock = 256

// msgSlab hands out the messages of one deployment from blocks, one heap
// allocation per msgBlock messages instead of one per message. A message
// is never reused: the network may deliver the same value twice (a
// netmodel duplicate is the same pointer, delivered again), observers and
// the transport may keep it, and nothing tells the sender when the last
// reference is gone. So every message is a distinct value for good, and a
// block is freed by the garbage collector once none of its messages is
// referenced (the types hold no pointers, so blocks are never scanned).
type msgSlab struct {
	reqs    []Request
	resps   []Response
	cancels []Cancel
}

func (s *msgSlab) request(r Request) *Request {
	if len(s.reqs) == 0 {
		s.reqs = make([]Request, msgBlock)
	}
	m := &s.reqs[0]
	s.reqs = s.reqs[1:]
	*m = r
	return m
}

func (s *msgSlab) response(r Response) *Response {
	if len(s.resps) == 0 {
		s.resps = make([]Response, msgBlock)
	}
	m := &s.resps[0]
	s.resps = s.resps[1:]
	*m = r
	return m
}

func (s *msgSlab) cancel(c Cancel) *Cancel {
	if len(s.cancels) == 0 {
		s.cancels = make([]Cancel, msgBlock)
	}
	m := &s.cancels[0]
	s.cancels = s.cancels[1:]
	*m = c
	return m
}
