package rpc

import "github.com/dsim-dev/dsim/protocols/retry"

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Status -linecomment -output=status_string.go

// Status is the outcome of an RPC, in the spirit of HTTP status codes.
// The first six travel on the wire; CircuitOpen and BulkheadFull are
// decided by the caller without sending anything.
type Status uint8

// Statuses.
const (
	// OK (200): the request was served.
	OK Status = iota // ok
	// BadRequest (400): the request is wrong; never retried.
	BadRequest // bad_request
	// TooManyRequests (429): the server sheds load it could queue
	// (overload mode reject).
	TooManyRequests // too_many_requests
	// Internal (500): the server failed while handling the request.
	Internal // internal
	// Unavailable (503): the server's queue is full, the request waited
	// longer than the queue timeout, or a dependency is unavailable.
	Unavailable // unavailable
	// Timeout (504): no answer within the per-try timeout or the
	// deadline.
	Timeout // timeout
	// CircuitOpen: the caller's circuit breaker refused the call.
	CircuitOpen // circuit_open
	// BulkheadFull: the caller's concurrency pool for the callee was full.
	BulkheadFull // bulkhead_full

	numStatus = iota // the number of statuses (untyped: not a status)
)

var statusCodes = [...]int{200, 400, 429, 500, 503, 504, 503, 503}

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
	if s < numStatus {
		return statusClasses[s] // a load instead of a switch: settle asks for every attempt
	}
	return retry.Failure
}

var statusClasses = [numStatus]retry.Class{
	OK:              retry.Success,
	BadRequest:      retry.ClientError,
	TooManyRequests: retry.Overload,
	Internal:        retry.Failure,
	Unavailable:     retry.Overload,
	Timeout:         retry.Timeout,
	CircuitOpen:     retry.Overload,
	BulkheadFull:    retry.Overload,
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
