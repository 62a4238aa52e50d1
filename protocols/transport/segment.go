package transport

import (
	"fmt"
	"strings"

	"github.com/dsim-dev/dsim/sim"
)

// Segment flags.
const (
	fSYN    uint16 = 1 << iota // TCP connection request
	fSYNACK                    // TCP connection accepted
	fACK                       // Ack is valid
	fDATA                      // carries data segment Seq
	fFIN                       // the sender closed the connection
	fRST                       // reset: no such connection, or refused
	fPROBE                     // keep-alive probe, or the answer to one
	fOPEN                      // QUIC: may create the connection (Initial and 0-RTT packets)
)

// Per-segment overheads on the wire: IPv4 + TCP with timestamps, and
// IPv4 + UDP + a short QUIC header with its AEAD tag.
const (
	tcpOverhead  = 52
	quicOverhead = 56
)

// Segment is one packet of a stream transport on the network. The network
// sees its Size; the endpoints exchange the rest.
//
// Segments are recycled (see pool.go): once every copy the network made
// of one has been delivered or dropped and the receiver no longer holds
// it, it carries another packet.
type Segment struct {
	// Conn identifies the connection (assigned by the connecting side).
	Conn uint64
	// Seq is the data segment number when the segment carries data.
	Seq int64
	// Ack is the next data segment number the sender expects.
	Ack int64
	// TS is when a data segment was sent; Echo, on an ACK, is the TS of
	// the latest in-order data segment (TCP timestamps, RFC 7323), so
	// every ACK gives an RTT sample, retransmissions included.
	TS, Echo sim.Time
	// Top is one past the highest data segment number the sender of the
	// ACK has received (QUIC's largest acknowledged, RFC 9000 §19.3).
	Top   int64
	flags uint16
	wire  int32
	// net counts the copies the network holds (scheduled deliveries);
	// tracked says the kernel counted them (the segment went through
	// kernel.Send); held says the receiver keeps it (out of order).
	net     int32
	tracked bool
	held    bool
	parts   []part // the messages whose bytes the segment carries, in order
	cfg     *Config
	one     [1]part // parts' storage for the usual single message
}

// part is a piece of one message in a segment: a TCP segment or QUIC
// packet packs small messages together up to the MSS.
type part struct {
	m    *wireMsg
	last bool // the piece holds the message's last byte
}

// Size returns the segment's bytes on the wire.
func (s *Segment) Size() int { return int(s.wire) }

// String describes the segment for traces.
func (s *Segment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seg %x", s.Conn)
	names := []string{"SYN", "SYNACK", "ACK", "DATA", "FIN", "RST", "PROBE", "OPEN"}
	for i, n := range names {
		if s.flags&(1<<i) != 0 {
			b.WriteByte(' ')
			b.WriteString(n)
		}
	}
	if s.flags&fDATA != 0 {
		fmt.Fprintf(&b, " seq=%d", s.Seq)
	}
	if s.flags&fACK != 0 {
		fmt.Fprintf(&b, " ack=%d", s.Ack)
	}
	for _, p := range s.parts {
		if p.last {
			fmt.Fprintf(&b, " [%s]", p.m)
		}
	}
	return b.String()
}

// msgKind says what a message on a connection is.
type msgKind uint8

const (
	kRequest msgKind = iota
	kResponse
	kCancel
	kCtl // a handshake flight
)

// Handshake flights (ctl codes) and their sizes in bytes.
const (
	ctlClientHello       = iota + 1 // full handshake
	ctlClientHelloResume            // with a session ticket
	ctlServerFlight                 // ServerHello … Finished (certificate chain on a full handshake)
	ctlServerFlightShort            // ServerHello + Finished when resuming
	ctlClientKeyExchange            // TLS 1.2: ClientKeyExchange, ChangeCipherSpec, Finished
	ctlServerFinished               // TLS 1.2: ChangeCipherSpec, Finished
	ctlClientFinished               // TLS 1.3 / QUIC client Finished
)

var ctlSize = [...]int{
	ctlClientHello:       300,
	ctlClientHelloResume: 400,
	ctlServerFlight:      4000,
	ctlServerFlightShort: 200,
	ctlClientKeyExchange: 200,
	ctlServerFinished:    60,
	ctlClientFinished:    60,
}

var ctlNames = [...]string{
	ctlClientHello:       "ClientHello",
	ctlClientHelloResume: "ClientHello+ticket",
	ctlServerFlight:      "ServerHello..Finished",
	ctlServerFlightShort: "ServerHello+Finished",
	ctlClientKeyExchange: "ClientKeyExchange+Finished",
	ctlServerFinished:    "ServerFinished",
	ctlClientFinished:    "ClientFinished",
}

// wireMsg is one application message (or handshake flight) on a
// connection, shared by both ends: the sender splits it into segments and
// the receiver counts them back. Messages are recycled once nothing
// refers to them (see pool.go).
type wireMsg struct {
	app      sim.Message
	id       uint64
	done     sim.Time // when the receiver held all segments
	start    sim.Time // request: when the application handed it over; response: when its request was
	bytes    int32    // payload bytes
	segs     int32    // segments carrying its bytes (final once lastIn)
	rcvd     int32    // unique segments the receiver holds
	refs     int32    // references: see pool.go
	kind     msgKind
	ctl      uint8
	lastIn   bool // the receiver holds its last byte
	hasStart bool // response: start is its request's
}

func (m *wireMsg) String() string {
	switch m.kind {
	case kRequest:
		return fmt.Sprintf("request %x %dB", m.id, m.bytes)
	case kResponse:
		return fmt.Sprintf("response %x %dB", m.id, m.bytes)
	case kCancel:
		return fmt.Sprintf("cancel %x", m.id)
	}
	return fmt.Sprintf("%s %dB", ctlNames[m.ctl], m.bytes)
}
