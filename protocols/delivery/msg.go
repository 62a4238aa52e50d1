package delivery

import (
	"encoding/binary"
	"fmt"

	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/sim"
)

// Msg is one attempt to deliver a message. Retransmissions of a message
// carry the same ID and a higher Attempt.
type Msg struct {
	// ID names the message across attempts (and in the history).
	ID uint64
	// To is the receiver.
	To sim.NodeID
	// Epoch is the sender's session (sequence_numbers): it changes when
	// the sender restarts, and sequence numbers restart at 1.
	Epoch uint32
	// Seq is the message's sequence number in its session (1, 2, ...;
	// sequence_numbers only).
	Seq int64
	// Created is when the message was submitted.
	Created sim.Time
	// AmountCents is what a payment effect charges.
	AmountCents int64
	// Attempt is the attempt number, 1 for the first send.
	Attempt int
	from    sim.NodeID
	size    int
}

var (
	_ history.Carrier = (*Msg)(nil)
	_ sim.Sizer       = (*Msg)(nil)
)

// Size returns the configured size on the wire.
func (m *Msg) Size() int { return m.size }

// HistoryID returns the message id.
func (m *Msg) HistoryID() uint64 { return m.ID }

// String labels the attempt in timelines: "msg 17" or "msg 17 #2".
func (m *Msg) String() string {
	if m.Attempt > 1 {
		return fmt.Sprintf("msg %d #%d", m.ID, m.Attempt)
	}
	return fmt.Sprintf("msg %d", m.ID)
}

// Ack acknowledges that message ID was applied (or already had been).
type Ack struct {
	// ID is the acknowledged message.
	ID uint64
}

var _ history.Carrier = (*Ack)(nil)

// Size is 64 bytes.
func (a *Ack) Size() int { return 64 }

// HistoryID returns the acknowledged message's id.
func (a *Ack) HistoryID() uint64 { return a.ID }

// String labels the ack in timelines.
func (a *Ack) String() string { return fmt.Sprintf("ack %d", a.ID) }

// encode is the outbox row of a message.
func (m *Msg) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, m.ID)
	b = binary.BigEndian.AppendUint32(b, uint32(m.To))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Created))
	b = binary.BigEndian.AppendUint64(b, uint64(m.AmountCents))
	return b
}

func decodeMsg(b []byte, size int) (*Msg, bool) {
	if len(b) != 28 {
		return nil, false
	}
	return &Msg{
		ID:          binary.BigEndian.Uint64(b),
		To:          sim.NodeID(binary.BigEndian.Uint32(b[8:])),
		Created:     sim.Time(binary.BigEndian.Uint64(b[12:])),
		AmountCents: int64(binary.BigEndian.Uint64(b[20:])),
		size:        size,
	}, true
}

// channel is the history key of a sender→receiver session.
func channel(from, to sim.NodeID, epoch uint32) uint64 {
	return uint64(epoch)<<40 | uint64(uint32(from))<<20 | uint64(uint32(to))
}
