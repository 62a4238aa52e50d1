package history

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind,Verdict -linecomment -output=history_string.go

// Kind is what an operation did. The delivery family uses Submit, Send,
// Deliver, Apply and Ack (one message, many steps); the quorum family uses Read,
// Write and CAS (one client operation each).
type Kind uint8

// Operation kinds.
const (
	// Send: a sender handed a message to the network (one per attempt).
	Send Kind = iota + 1 // send
	// Deliver: a message reached its receiver (before any dedupe).
	Deliver // deliver
	// Apply: the receiver applied the message's side effect.
	Apply // apply
	// Ack: the sender learned that the message was processed.
	Ack // ack
	// Read: a client read a key.
	Read // read
	// Write: a client wrote a key.
	Write // write
	// CAS: a client wrote a key on condition that its version matched.
	CAS // cas
	// Submit: a process committed to sending a message (its state change
	// is done; the message exists even if no send follows).
	Submit // submit
)

// Op is one recorded operation. For single-step events (a delivery, an
// apply) Invoke and Complete are equal.
type Op struct {
	// ID is the operation's identity: the message id for delivery events
	// (shared by every step of one message), a fresh id per client
	// operation for the quorum family.
	ID uint64
	// Process is the node that performed the operation.
	Process sim.NodeID
	// Peer is the other party where there is one (the receiver of a
	// send, the sender of a delivery), else sim.None.
	Peer sim.NodeID
	// Kind is what the operation did.
	Kind Kind
	// Key is the key operated on (a register, or a sender→receiver
	// channel for ordered delivery).
	Key uint64
	// Value is the value written, the value a read returned, or the
	// message's sequence number for ordered delivery.
	Value int64
	// Version is the version written or read, where the protocol keeps
	// versions (0 otherwise).
	Version uint64
	// Prev is, for a conditional write (CAS), the version it required
	// the current one to be (0 otherwise).
	Prev uint64
	// Expect is, for a conditional write (CAS), the value the client
	// read and expects to replace (0 otherwise).
	Expect int64
	// Invoke is when the operation started.
	Invoke sim.Time
	// Complete is when it ended; for an operation that never completed
	// (the run ended first) it stays Pending.
	Complete sim.Time
	// Outcome is how it ended: OK, Failed (it certainly had no effect) or
	// TimedOut (it may or may not have taken effect).
	Outcome sim.Outcome
}

// Pending is the Complete time of an operation that has not completed.
const Pending sim.Time = -1

// Done reports whether the operation completed.
func (o *Op) Done() bool { return o.Complete != Pending }

// Config bounds what a History keeps.
type Config struct {
	// Enabled turns recording on. A disabled History keeps nothing per
	// operation; its checkers answer Unknown.
	Enabled bool
	// MaxOps is the most operations kept (0 means DefaultMaxOps).
	// Past it recording stops and the history is marked truncated.
	MaxOps int
}

// DefaultMaxOps bounds a history when Config.MaxOps is 0: about 64 MB of
// operations.
const DefaultMaxOps = 1 << 20

// History is an append-only record of operations. It is not safe for
// concurrent use; within a run everything happens on one goroutine.
type History struct {
	cfg       Config
	ops       []Op
	truncated bool
}

// New returns an empty history.
func New(cfg Config) *History {
	if cfg.MaxOps <= 0 {
		cfg.MaxOps = DefaultMaxOps
	}
	return &History{cfg: cfg}
}

// Enabled reports whether the history records operations.
func (h *History) Enabled() bool { return h != nil && h.cfg.Enabled }

// Truncated reports whether operations were dropped because MaxOps was
// reached.
func (h *History) Truncated() bool { return h != nil && h.truncated }

// Full reports whether the history is a full record: enabled and not
// truncated. Checkers answer Unknown on an incomplete history.
func (h *History) Full() bool { return h.Enabled() && !h.truncated }

// Len returns how many operations are kept.
func (h *History) Len() int {
	if h == nil {
		return 0
	}
	return len(h.ops)
}

// Ops returns the kept operations in recording order. The slice is the
// history's own: callers must not modify it.
func (h *History) Ops() []Op {
	if h == nil {
		return nil
	}
	return h.ops
}

// Ref names a recorded operation so that it can be completed later. The
// zero Ref names nothing (recording was off or the history full).
type Ref int32

// Record appends a finished operation (Invoke and Complete set by the
// caller) and returns its Ref.
func (h *History) Record(op Op) Ref {
	if !h.Enabled() {
		return 0
	}
	if len(h.ops) >= h.cfg.MaxOps {
		h.truncated = true
		return 0
	}
	h.ops = append(h.ops, op)
	return Ref(len(h.ops))
}

// Event records a single-step event (Invoke = Complete = at, outcome OK).
func (h *History) Event(id uint64, process, peer sim.NodeID, kind Kind, key uint64, value int64, at sim.Time) Ref {
	return h.Record(Op{ID: id, Process: process, Peer: peer, Kind: kind, Key: key, Value: value, Invoke: at, Complete: at})
}

// Invoke records the start of an operation that completes later with
// Complete; until then it is pending.
func (h *History) Invoke(id uint64, process sim.NodeID, kind Kind, key uint64, value int64, at sim.Time) Ref {
	return h.Record(Op{ID: id, Process: process, Peer: sim.None, Kind: kind, Key: key, Value: value, Invoke: at, Complete: Pending})
}

// Complete ends the operation r at time at with the given outcome; for a
// read, value and version are what it returned. A zero Ref is ignored.
func (h *History) Complete(r Ref, outcome sim.Outcome, value int64, version uint64, at sim.Time) {
	if r <= 0 || h == nil || int(r) > len(h.ops) {
		return
	}
	op := &h.ops[r-1]
	op.Complete = at
	op.Outcome = outcome
	if op.Kind == Read {
		op.Value = value
	}
	if version != 0 {
		op.Version = version
	}
}

// Op returns the operation r names, or nil for the zero Ref.
func (h *History) Op(r Ref) *Op {
	if r <= 0 || h == nil || int(r) > len(h.ops) {
		return nil
	}
	return &h.ops[r-1]
}

// Verdict is a checker's answer.
type Verdict uint8

// Verdicts.
const (
	// Pass: the property holds on the recorded history.
	Pass Verdict = iota // pass
	// Fail: the property is violated; the report lists violations.
	Fail // fail
	// Unknown: the checker could not decide (recording off, history
	// truncated, or a time budget ran out).
	Unknown // unknown
)

// Violation is one breach of a property, naming the operations involved
// so that a user can find them in the trace.
type Violation struct {
	// IDs are the operations (message ids) involved, ascending.
	IDs []uint64
	// At is the simulated time of the breach (for example the second
	// application of a message), used to centre the run's timeline.
	At sim.Time
	// What says what happened, in one line.
	What string
}

// Report is a checker's result.
type Report struct {
	// Checker names the property ("no_lost_messages").
	Checker string
	// Verdict is the answer.
	Verdict Verdict
	// Violations lists breaches when Verdict is Fail, in time order
	// (at most MaxViolations are kept; Count has the total).
	Violations []Violation
	// Count is the total number of violations found.
	Count int
	// Reason explains an Unknown verdict.
	Reason string
}

// MaxViolations is the most violations a Report lists.
const MaxViolations = 20

// Add records a violation, keeping the first MaxViolations.
func (r *Report) Add(v Violation) {
	r.Verdict = Fail
	r.Count++
	if len(r.Violations) < MaxViolations {
		r.Violations = append(r.Violations, v)
	}
}

// ErrUnknown is wrapped by Report.Err for an Unknown verdict.
var ErrUnknown = errors.New("history check undecided")

// ViolationError is the error of a failed check. It carries the
// operations involved so that callers (the runner's timeline) can centre
// on them.
type ViolationError struct {
	Report Report
}

// Error lists the count and the first violations.
func (e *ViolationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d violation(s)", e.Report.Checker, e.Report.Count)
	for i, v := range e.Report.Violations {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %s", v.What)
	}
	return b.String()
}

// IDs returns the operation ids of every listed violation, ascending and
// without repeats.
func (e *ViolationError) IDs() []uint64 {
	seen := map[uint64]bool{}
	var ids []uint64
	for _, v := range e.Report.Violations {
		for _, id := range v.IDs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// First returns the time of the earliest listed violation.
func (e *ViolationError) First() sim.Time {
	first := sim.Time(-1)
	for _, v := range e.Report.Violations {
		if first < 0 || v.At < first {
			first = v.At
		}
	}
	return first
}

// Err returns nil for Pass, a *ViolationError for Fail and an error
// wrapping ErrUnknown for Unknown.
func (r Report) Err() error {
	switch r.Verdict {
	case Pass:
		return nil
	case Unknown:
		return fmt.Errorf("%s: %w: %s", r.Checker, ErrUnknown, r.Reason)
	}
	return &ViolationError{Report: r}
}
