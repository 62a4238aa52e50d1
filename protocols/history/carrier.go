package history

// Carrier is implemented by messages that belong to a recorded
// operation. Tools that show a run (the timeline of a failing run) use it
// to pick out the messages of the operations a violation names.
type Carrier interface {
	// HistoryID returns the id of the operation (Op.ID) the message
	// belongs to.
	HistoryID() uint64
}
