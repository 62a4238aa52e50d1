package sim

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=EventKind -linecomment -output=event_string.go

// EventKind says what an event or trace record is.
type EventKind uint8

// Kinds of events. Start, Deliver, Timer and Control are dispatched from
// the queue; the others are trace records emitted as things happen.
// The line comments are the kinds' names (String).
const (
	// KindStart: a node boots (Node.Start).
	KindStart EventKind = iota + 1 // start
	// KindDeliver: a message reaches a node (Node.Receive).
	KindDeliver // deliver
	// KindTimer: a node's timer fires (Node.Timer).
	KindTimer // timer
	// KindControl: an engine-level action (faults, workload).
	KindControl // control
	// KindSend: trace: a node sent a message.
	KindSend // send
	// KindDrop: trace: a message was dropped (Cause says why).
	KindDrop // drop
	// KindDuplicate: trace: the network duplicated a message.
	KindDuplicate // duplicate
	// KindCrash: trace: a node crashed.
	KindCrash // crash
	// KindRestart: trace: a crashed node restarted.
	KindRestart // restart
	// KindPause: trace: a node was paused.
	KindPause // pause
	// KindResume: trace: a paused node resumed.
	KindResume // resume
	// KindNote: trace: a free-form annotation (fault windows, ...).
	KindNote // note
)

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
