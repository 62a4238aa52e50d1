package sim

// Outcome is how an operation ended: protocols record it for each
// operation (history, fault coverage), results count it per fault window.
type Outcome uint8

// Outcomes of an operation.
const (
	// OK: the operation succeeded.
	OK Outcome = iota
	// Failed: the operation got an error answer (it certainly had no
	// effect, or the protocol says what effect it had).
	Failed
	// TimedOut: no answer came in time; the effect is unknown.
	TimedOut
)

var outcomeNames = [...]string{"ok", "failed", "timed_out"}

// String returns the outcome's snake_case name: "ok", "failed" or
// "timed_out" (the spelling of the fault coverage columns).
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}
