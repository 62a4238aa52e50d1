package quorum

import (
	"fmt"

	"github.com/dsim-dev/dsim/sim"
)

// Ver is a last-writer-wins version: the coordinator's local clock
// reading when it issued the write, ties broken by the coordinator's node
// ID. Zero means "no value".
type Ver struct {
	// TS is the local clock reading in nanoseconds.
	TS int64
	// Node is one more than the ID of the coordinator that issued the
	// version, so that no real version is zero.
	Node sim.NodeID
}

// Less orders versions: "no value" first, then by clock reading (which
// may be negative: a clock behind true time early in a run), then by
// node.
func (v Ver) Less(o Ver) bool {
	if v.IsZero() || o.IsZero() {
		return v.IsZero() && !o.IsZero()
	}
	if v.TS != o.TS {
		return v.TS < o.TS
	}
	return v.Node < o.Node
}

// IsZero reports whether v is "no value".
func (v Ver) IsZero() bool { return v == Ver{} }

// Key maps the version to a uint64 with the same order, for the history
// (0 stays 0): 47 bits of clock (nanoseconds, offset by 2^36 so that
// clocks up to about a minute behind true zero stay positive, saturating
// after about 39 hours) and 17 bits of node.
func (v Ver) Key() uint64 {
	if v.IsZero() {
		return 0
	}
	ts := v.TS + 1<<36
	ts = max(0, min(ts, 1<<47-1))
	return uint64(ts)<<17 | uint64(v.Node)&(1<<17-1)
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=status,opKind -linecomment -output=msg_string.go

// status is how a coordinated attempt ended.
type status uint8

const (
	stOK status = iota // ok
	// stConflict: a conditional write found a newer version.
	stConflict // conflict
	// stUnavailable: the coordinator could not gather its quorum in time.
	stUnavailable // unavailable
)

// opKind is what a coordinator is asked to do.
type opKind uint8

const (
	kRead  opKind = iota // read
	kWrite               // write
	kCAS                 // cas
)

// ClientReq asks a coordinator to run one attempt.
type ClientReq struct {
	ID     uint64
	Kind   opKind
	Key    uint64
	Value  int64
	Expect Ver
	// Ctx is the client's version vector of the key (merge siblings).
	Ctx VClock
}

// ClientResp answers a ClientReq.
type ClientResp struct {
	ID     uint64
	Status status
	Value  int64
	Ver    Ver
	// Applied is false when the attempt certainly had no effect.
	Applied bool
	// Ctx is the version vector the client keeps for its next write, and
	// NSibs how many values a read found (merge siblings).
	Ctx   VClock
	NSibs int
}

// WriteReq stores a value at a replica. A conditional write is applied
// only if the replica's version is not newer than Expect. Hint names the
// replica the write was meant for when a fallback node takes it (sloppy
// quorum), else -1.
type WriteReq struct {
	Op     uint64
	Key    uint64
	Value  int64
	Ver    Ver
	Cond   bool
	Expect Ver
	Hint   int
	// Handoff marks a hinted write being handed to its replica.
	Handoff bool
	// Repair marks a read repair or write-back that needs no answer.
	Repair bool
	// VV is the write's version vector (merge siblings only).
	VV VClock
}

// WriteAck answers a WriteReq: OK false means a conditional write was
// refused because the replica holds Cur, which is newer than expected.
type WriteAck struct {
	Op      uint64
	Key     uint64
	OK      bool
	Cur     Ver
	Handoff bool
	Hinted  int
}

// ReadReq asks a replica for its value of a key.
type ReadReq struct {
	Op  uint64
	Key uint64
}

// ReadResp answers a ReadReq.
type ReadResp struct {
	Op    uint64
	Key   uint64
	Value int64
	Ver   Ver
	// Sibs is the replica's sibling set (merge siblings only).
	Sibs []Sibling
}

// SyncMsg carries a store's values for keys it shares with the receiver
// (anti-entropy); the receiver merges them by last-writer-wins.
type SyncMsg struct {
	Entries []SyncEntry
}

// SyncEntry is one key's value in a SyncMsg.
type SyncEntry struct {
	Key   uint64
	Value int64
	Ver   Ver
	VV    VClock
}

// Size returns the entries' size on the wire, roughly.
func (m *SyncMsg) Size() int { return 32 + 32*len(m.Entries) }

// String formats a version as "ts@node" in microseconds.
func (v Ver) String() string {
	if v.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%dus@%d", v.TS/1000, v.Node-1)
}

// String describes the request for traces.
func (m *ClientReq) String() string {
	return fmt.Sprintf("client-req #%d %s key %d value %d expect %v", m.ID, m.Kind, m.Key, m.Value, m.Expect)
}

// String describes the answer for traces.
func (m *ClientResp) String() string {
	return fmt.Sprintf("client-resp #%d %s value %d %v", m.ID, m.Status, m.Value, m.Ver)
}

// String describes the write for traces.
func (m *WriteReq) String() string {
	s := fmt.Sprintf("write #%d key %d value %d %v", m.Op, m.Key, m.Value, m.Ver)
	if m.Cond {
		s += fmt.Sprintf(" if ≤ %v", m.Expect)
	}
	if m.Hint >= 0 {
		s += fmt.Sprintf(" hint store %d", m.Hint)
	}
	if m.Handoff {
		s += " handoff"
	}
	if m.Repair {
		s += " repair"
	}
	return s
}

// String describes the acknowledgement for traces.
func (m *WriteAck) String() string {
	s := fmt.Sprintf("ack #%d key %d ok %v %v", m.Op, m.Key, m.OK, m.Cur)
	if m.Handoff {
		s += " handoff"
	}
	return s
}

// String describes the read for traces.
func (m *ReadReq) String() string { return fmt.Sprintf("read #%d key %d", m.Op, m.Key) }

// String describes the answer for traces.
func (m *ReadResp) String() string {
	return fmt.Sprintf("read-resp #%d key %d value %d %v", m.Op, m.Key, m.Value, m.Ver)
}
