package sim

import "time"

// Direct is the simplest Network: every message arrives after a fixed
// Delay, in order, never lost. It is the engine's default; package netmodel
// provides the realistic one.
type Direct struct {
	// Delay is the one-way latency of every message.
	Delay time.Duration
	e     *Engine
}

var _ Network = (*Direct)(nil)

// Attach remembers the engine.
func (d *Direct) Attach(e *Engine) { d.e = e }

// Send delivers msg after Delay.
func (d *Direct) Send(from, to NodeID, msg Message) {
	d.e.Deliver(d.e.now.Add(d.Delay), from, to, msg, 0)
}

// Arrive accepts every message.
func (d *Direct) Arrive(NodeID, NodeID, Message, uint32) bool { return true }

// Dropped ignores drops.
func (d *Direct) Dropped(NodeID, NodeID, Message, DropCause) {}
