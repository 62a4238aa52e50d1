package transport

import "github.com/dsim-dev/dsim/sim"

// Recycling. A run sends millions of segments and messages; instead of
// leaving each to the garbage collector, the layer keeps free lists of
// both and reuses a record once nothing can reach it any more. Reusing a
// record too early would change what a later reader sees, so the rules
// are strict, and anything they do not cover is simply never recycled
// (the collector takes it, as before):
//
// A Segment is free when the network holds no copy of it (net == 0: the
// kernel counts the deliveries the network schedules in Send, one per
// copy, and takes one off for each copy delivered or dropped), the
// receiver holds none (held: it waits out of order) and the receiver has
// returned from handling it. The sender keeps nothing of a segment it
// sent: its flights copy the parts. Observers therefore see every send,
// duplicate, delivery and drop of a segment before it is reused; a drop
// the engine makes itself (the receiver is down) is traced after the
// network hears of it, so such a segment waits in dropped until the next
// newSeg.
//
// A wireMsg counts its references in refs: one for its creator until its
// last byte is packed into a segment, one per segment and per flight
// whose parts name it, and one for the receiver from its first segment
// until it has been handed to the application (a request: until it is
// answered or forgotten). It is free when refs drops to 0.
//
// The counting assumes what sim.Direct and netmodel do: a network
// schedules each copy of a message with Engine.Deliver during its Send
// (or during Arrive, when it re-queues one), and drops the rest.

// poolOff turns recycling off: nothing is cleared or reused, as before
// recycling existed (tests compare runs with and without it).
var poolOff = false

// newSeg returns a clear segment.
func (l *Layer) newSeg() *Segment {
	if len(l.dropped) > 0 {
		l.releaseDropped()
	}
	if n := len(l.segs); n > 0 && !poolOff {
		s := l.segs[n-1]
		l.segs[n-1] = nil
		l.segs = l.segs[:n-1]
		return s
	}
	return &Segment{}
}

// newMsg returns a clear message with its creator's reference.
func (l *Layer) newMsg() *wireMsg {
	var m *wireMsg
	if n := len(l.msgs); n > 0 && !poolOff {
		m = l.msgs[n-1]
		l.msgs[n-1] = nil
		l.msgs = l.msgs[:n-1]
	} else {
		m = &wireMsg{}
	}
	m.refs = 1
	return m
}

// unref drops one reference to m, recycling it with the last.
func (l *Layer) unref(m *wireMsg) {
	m.refs--
	if m.refs == 0 && !poolOff {
		*m = wireMsg{}
		l.msgs = append(l.msgs, m)
	}
}

// release recycles s if nothing holds it: no copy in the network, not
// kept by the receiver.
func (l *Layer) release(s *Segment) {
	if !s.tracked || s.net != 0 || s.held || poolOff {
		return
	}
	for _, p := range s.parts {
		l.unref(p.m)
	}
	*s = Segment{}
	l.segs = append(l.segs, s)
}

// releaseDropped releases the segments whose last copy the engine
// dropped (the receiver was down). They wait for the next newSeg because
// the engine traces such a drop after telling the network, and observers
// must still see the segment as it was.
func (l *Layer) releaseDropped() {
	for i, s := range l.dropped {
		l.dropped[i] = nil
		l.release(s)
	}
	l.dropped = l.dropped[:0]
}

// Send counts the copies of a segment the network schedules; a segment
// the network dropped at once is free.
func (k *kernel) Send(from, to sim.NodeID, msg sim.Message) {
	s, ok := msg.(*Segment)
	if !ok {
		k.Network.Send(from, to, msg)
		return
	}
	before := k.e.Pending()
	k.Network.Send(from, to, msg)
	s.net += int32(k.e.Pending() - before)
	s.tracked = true
	k.l.release(s)
}

// Arrive takes a copy off the count: it reaches the receiver (which
// releases the segment after handling it), is re-queued by the network,
// or is dropped.
func (k *kernel) Arrive(from, to sim.NodeID, msg sim.Message, flags uint32) bool {
	s, ok := msg.(*Segment)
	if !ok || !s.tracked {
		return k.Network.Arrive(from, to, msg, flags)
	}
	before := k.e.Pending()
	ok = k.Network.Arrive(from, to, msg, flags)
	s.net += int32(k.e.Pending()-before) - 1
	if !ok {
		k.l.release(s)
	}
	return ok
}
