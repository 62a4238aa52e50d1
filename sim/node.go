package sim

import (
	"math/rand/v2"
	"time"
)

// NodeID identifies a node within one run. IDs are dense, starting at 0, in
// the order nodes were added.
type NodeID int32

// None is the NodeID of "no node", used as the sender of engine-made inputs.
const None NodeID = -1

// Message is the payload of a message between nodes. Any value will do; a
// message that implements Sizer tells the network its size on the wire.
type Message = any

// Sizer is implemented by messages that know their size on the wire.
type Sizer interface {
	// Size returns the message size in bytes.
	Size() int
}

// Retainer is implemented by messages whose sender reuses their memory
// once the last delivery is handled. A message value normally reaches its
// receiver at most once; a network that delivers the same value again (a
// duplicate) calls Retain once for every extra delivery it schedules, so
// the receiver can tell the last delivery from an earlier one. A network
// that never delivers a value twice need not call it.
type Retainer interface {
	// Retain records one more pending delivery of the message.
	Retain()
}

// Retain calls m.Retain if m is a Retainer. Networks call it before they
// schedule an extra delivery of a message they already delivered or will
// deliver.
func Retain(m Message) {
	if r, ok := m.(Retainer); ok {
		r.Retain()
	}
}

// DefaultMessageSize is the size in bytes the network assumes for a message
// that does not implement Sizer.
const DefaultMessageSize = 64

// MessageSize returns m's size in bytes: m.Size() for a Sizer, else
// DefaultMessageSize.
func MessageSize(m Message) int {
	if s, ok := m.(Sizer); ok {
		return s.Size()
	}
	return DefaultMessageSize
}

// TimerID is the handle of a pending timer, used to cancel it. The zero
// TimerID never names a live timer, so it can be used as "no timer".
type TimerID uint64

// Node is the behaviour hosted on one simulated machine: a state machine
// driven by inputs. The engine calls exactly one method at a time, never
// concurrently, always with the node's own Env. A Node must not keep
// references to Env across a crash: a restart creates a new instance.
type Node interface {
	// Start runs once when the node boots (at time 0, or on restart).
	Start(env Env)
	// Receive handles a message from another node.
	Receive(env Env, from NodeID, msg Message)
	// Timer handles a timer armed with Env.After; tag is the value given
	// there.
	Timer(env Env, tag uint64)
}

// Env is a node's whole view of the world. Protocols use it instead of the
// wall clock, global randomness, goroutines or sockets; tests can provide a
// fake.
type Env interface {
	// ID returns this node's ID.
	ID() NodeID
	// Name returns this node's name.
	Name() string
	// Now returns the true simulated time. Use it for metrics; protocol
	// logic that a real node would base on its own clock uses Local.
	Now() Time
	// Local returns this node's clock reading, which may be offset, drift
	// or jump relative to true time.
	Local() Time
	// Send hands msg to the network for delivery to node to.
	Send(to NodeID, msg Message)
	// After arms a timer that fires Timer(env, tag) once the node's local
	// clock has advanced by d. It returns a handle for Cancel.
	After(d time.Duration, tag uint64) TimerID
	// Cancel disarms a timer. It reports whether the timer was still
	// pending. Cancelling a fired, cancelled or zero TimerID is a no-op.
	Cancel(id TimerID) bool
	// Rand returns this node's random stream ("node/<name>").
	Rand() *rand.Rand
	// Metrics returns the run's metric recorder.
	Metrics() Metrics
	// Storage returns this node's durable storage, which survives crashes.
	Storage() Storage
	// Lookup returns the ID of the node with the given name.
	Lookup(name string) (NodeID, bool)
	// NodeName returns the name of node id, or "" if there is none.
	NodeName(id NodeID) string
}

// Network carries messages between nodes. The engine calls Send for every
// Env.Send; the network decides each message's fate and schedules its
// delivery (zero, one or more times) with Engine.Deliver. Implementations
// live in package netmodel; Direct is a minimal one.
type Network interface {
	// Attach is called once, before the run starts.
	Attach(e *Engine)
	// Send is called when from sends msg to to at e.Now().
	Send(from, to NodeID, msg Message)
	// Arrive is called when a delivery scheduled with Engine.Deliver comes
	// due, before the receiver sees it. Returning false drops the message
	// (for example because it was corrupted and fails its checksum, or a
	// partition that drops in-flight traffic now cuts the link).
	Arrive(from, to NodeID, msg Message, flags uint32) bool
	// Dropped is told about messages the engine itself dropped at arrival:
	// the receiver was crashed.
	Dropped(from, to NodeID, msg Message, cause DropCause)
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=DropCause -linecomment -output=node_string.go

// DropCause says why the engine dropped a message.
type DropCause uint8

// Causes of engine-side drops.
const (
	// DropCrashed: the receiving node was down when the message arrived.
	DropCrashed DropCause = iota + 1 // crashed_receiver
)

// Clock maps true time to a node's local clock. The engine uses it for
// Env.Local and to convert local timer spans to true time. A nil Clock is
// a perfect clock.
type Clock interface {
	// Local returns the local clock reading at true time t.
	Local(t Time) Time
	// Span returns the true span during which the local clock, read at
	// true time t, advances by d.
	Span(t Time, d time.Duration) time.Duration
}

// Storage is a node's durable key-value store: it survives crash and
// restart, unlike the Node's own fields.
type Storage interface {
	// Get returns the value stored under key.
	Get(key string) ([]byte, bool)
	// Put stores a copy of value under key.
	Put(key string, value []byte)
	// Delete removes key.
	Delete(key string)
	// Keys returns every key in ascending order.
	Keys() []string
}

// Metrics is how protocols and the network record measurements. Handles
// are fetched once (in Start) and then used on the hot path without lookups.
// Names are snake_case with the unit last; labels are the metric's
// dimensions, given separately ("attempts" with tier=db), never built into
// the name. A name and a set of labels identify one instrument: asking
// again returns the same handle. Label order is kept as given. See package
// results for the conventions.
type Metrics interface {
	// Counter returns the counter with the given name and labels.
	Counter(name string, labels ...Label) Counter
	// Gauge returns the gauge with the given name and labels.
	Gauge(name string, labels ...Label) Gauge
	// Histogram returns the latency histogram with the given name and
	// labels.
	Histogram(name string, labels ...Label) Histogram
}

// Counter is a monotonically increasing count.
type Counter interface {
	// Add increases the counter by n.
	Add(n int64)
}

// Gauge is a value that goes up and down.
type Gauge interface {
	// Set records the current value.
	Set(v float64)
}

// Histogram records a distribution of spans, usually latencies.
type Histogram interface {
	// Record adds one sample.
	Record(d time.Duration)
}
