package sim

import (
	"math/rand/v2"
	"time"
)

// nodeEnv is the Env the engine gives a node. It lives inside the node's
// state, so handing it out allocates nothing.
type nodeEnv struct {
	e *Engine
	n *nodeState
}

var _ Env = (*nodeEnv)(nil)

func (v *nodeEnv) ID() NodeID   { return v.n.id }
func (v *nodeEnv) Name() string { return v.n.name }
func (v *nodeEnv) Now() Time    { return v.e.now }
func (v *nodeEnv) Rand() *rand.Rand {
	if r := v.n.rng; r != nil {
		return r
	}
	return v.n.newStream(v.e)
}
func (v *nodeEnv) Metrics() Metrics { return v.e.metrics }
func (v *nodeEnv) Storage() Storage { return v.n.store() }

func (v *nodeEnv) Local() Time {
	if v.n.clock == nil {
		return v.e.now
	}
	return v.n.clock.Local(v.e.now)
}

func (v *nodeEnv) Send(to NodeID, msg Message) {
	e := v.e
	if len(e.obs) > 0 {
		e.trace(KindSend, to, v.n.id, msg, "")
	}
	e.net.Send(v.n.id, to, msg)
}

func (v *nodeEnv) After(d time.Duration, tag uint64) TimerID { return v.e.after(v.n, d, tag) }
func (v *nodeEnv) Cancel(id TimerID) bool                    { return v.e.cancel(v.n, id) }
func (v *nodeEnv) Lookup(name string) (NodeID, bool)         { return v.e.Lookup(name) }
func (v *nodeEnv) NodeName(id NodeID) string                 { return v.e.NodeName(id) }
