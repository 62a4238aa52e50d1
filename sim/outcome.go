package sim

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Outcome -linecomment -output=outcome_string.go

// Outcome is how an operation ended: protocols record it for each
// operation (history, fault coverage), results count it per fault window.
type Outcome uint8

// Outcomes of an operation.
const (
	// OK: the operation succeeded.
	OK Outcome = iota // ok
	// Failed: the operation got an error answer (it certainly had no
	// effect, or the protocol says what effect it had).
	Failed // failed
	// TimedOut: no answer came in time; the effect is unknown.
	TimedOut // timed_out
)
