package rpc

import (
	"fmt"

	"github.com/dsim-dev/dsim/protocols/retry"
)

// Status is the outcome of an RPC, in the spirit of HTTP status codes.
// The first six travel on the wire; CircuitOpen and BulkheadFull are
// decided by the caller without sending anything.
type Status uint8

// Statuses.
const (
	// OK (200): the request was served.
	OK Status = iota
	// BadRequest (400): the request is wrong; never retried.
	BadRequest
	// TooManyRequests (429): the server sheds load it could queue
	// (overload mode reject).
	TooManyRequests
	// Internal (500): the server failed while handling the request.
	Internal
	// Unavailable (503): the server's queue is full, the request waited
	// longer than the queue timeout, or a dependency is unavailable.
	Unavailable
	// Timeout (504): no answer within the per-try timeout or the
	// deadline.
	Timeout
	// CircuitOpen: the caller's circuit breaker refused the call.
	CircuitOpen
	// BulkheadFull: the caller's concurrency pool for the callee was full.
	BulkheadFull
	numStatus
)

var statusNames = [...]string{"ok", "bad_request", "too_many_requests", "internal", "unavailable", "timeout", "circuit_open", "bulkhead_full"}

var statusCodes = [...]int{200, 400, 429, 500, 503, 504, 503, 503}

// String returns the status's snake_case name, used in metric names.
func (s Status) String() string {
	if s < numStatus {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Code returns the HTTP status code closest to s.
func (s Status) Code() int {
	if s < numStatus {
		return statusCodes[s]
	}
	return 500
}

// Class returns the retry class of s: whether it is a success, a client
// error (never retried), overload, failure or timeout.
func (s Status) Class() retry.Class {
	switch s {
	case OK:
		return retry.Success
	case BadRequest:
		return retry.ClientError
	case TooManyRequests, Unavailable, CircuitOpen, BulkheadFull:
		return retry.Overload
	case Timeout:
		return retry.Timeout
	}
	return retry.Failure
}

// upstream maps the status of a failed dependency call to the status a
// server returns to its own caller: timeouts stay timeouts, a client error
// towards a dependency is this server's bug (500), and every kind of
// unavailability becomes 503 (a 429 is addressed to the direct caller, not
// to its callers).
func (s Status) upstream() Status {
	switch s {
	case OK, Timeout, Internal:
		return s
	case BadRequest:
		return Internal
	}
	return Unavailable
}
