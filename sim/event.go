package sim

// EventKind says what an event or trace record is.
type EventKind uint8

// Kinds of events. Start, Deliver, Timer and Control are dispatched from
// the queue; the others are trace records emitted as things happen.
const (
	KindStart     EventKind = iota + 1 // a node boots (Node.Start)
	KindDeliver                        // a message reaches a node (Node.Receive)
	KindTimer                          // a node's timer fires (Node.Timer)
	KindControl                        // an engine-level action (faults, workload)
	KindSend                           // trace: a node sent a message
	KindDrop                           // trace: a message was dropped (Cause says why)
	KindDuplicate                      // trace: the network duplicated a message
	KindCrash                          // trace: a node crashed
	KindRestart                        // trace: a crashed node restarted
	KindPause                          // trace: a node was paused
	KindResume                         // trace: a paused node resumed
	KindNote                           // trace: a free-form annotation (fault windows, ...)
)

var kindNames = [...]string{"", "start", "deliver", "timer", "control", "send",
	"drop", "duplicate", "crash", "restart", "pause", "resume", "note"}

// String returns the kind's lower-case name.
func (k EventKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Event describes a dispatched event or a trace record to observers. The
// engine reuses one Event value: observers must copy what they keep.
type Event struct {
	At   Time
	Seq  uint64 // queue sequence number; 0 for trace records
	Kind EventKind
	Node NodeID // the node acted on (receiver for messages)
	From NodeID // the sender of a message, else None
	Tag  uint64 // the timer tag (timers only)
	Msg  Message
	// Cause names why a message was dropped, or what a note is about.
	Cause string
}

// Observer sees every dispatched event and every trace record, in order.
// Observers are for metrics, timelines and checks; they must not schedule
// events or otherwise change the run.
type Observer interface {
	OnEvent(ev *Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(ev *Event)

// OnEvent calls f(ev).
func (f ObserverFunc) OnEvent(ev *Event) { f(ev) }
