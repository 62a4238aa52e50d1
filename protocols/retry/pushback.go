package retry

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=PushbackMode -linecomment -output=pushback_string.go

// PushbackMode is how a client combines a server's retry-after hint with
// its own backoff.
type PushbackMode uint8

// Pushback modes.
const (
	// AtLeast waits at least the hint: max(backoff, hint), the way HTTP
	// clients honour Retry-After.
	AtLeast PushbackMode = iota // at_least
	// Replace waits exactly the hint instead of the backoff, as gRPC does
	// with the grpc-retry-pushback-ms trailer (gRFC A6 "Pushback").
	Replace // replace
)

// MarshalText returns the mode's name.
func (m PushbackMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a mode name.
func (m *PushbackMode) UnmarshalText(b []byte) error { return enum.Set(m, "pushback mode", string(b)) }

// NoRetryHint is the hint value that means "do not retry" (gRPC: a
// negative or malformed grpc-retry-pushback-ms).
const NoRetryHint time.Duration = -1

// PushbackConfig is whether and how a client honours a server's pushback.
type PushbackConfig struct {
	// Honour makes the client obey retry-after hints and "do not retry"
	// answers; without it hints are ignored.
	Honour bool `yaml:"honour"`
	// Mode is at_least (wait max(backoff, hint)) or replace (wait the
	// hint instead of the backoff).
	Mode PushbackMode `yaml:"mode"`
	// Max, if positive, is the longest hint worth waiting for: a longer
	// one ends the call instead (0 = wait whatever is asked).
	Max time.Duration `yaml:"max"`
}

// PushbackFields lists the YAML fields of client pushback.
func PushbackFields() []string { return []string{"honour", "mode", "max"} }

// Validate reports impossible settings.
func (c PushbackConfig) Validate() error {
	var fe sim.FieldErrors
	if c.Mode > Replace {
		fe.Add("mode", "unknown pushback mode %d", c.Mode)
	}
	if c.Max < 0 {
		fe.Add("max", "must not be negative, got %v", c.Max)
	}
	return fe.Err()
}

// Delay combines a server hint with the backoff the policy chose. hint 0
// means no hint, NoRetryHint (any negative value) "do not retry". It
// returns the wait before the retry and whether to retry at all; a client
// that does not honour pushback keeps its backoff.
func (c PushbackConfig) Delay(backoff, hint time.Duration) (time.Duration, bool) {
	if !c.Honour || hint == 0 {
		return backoff, true
	}
	if hint < 0 || (c.Max > 0 && hint > c.Max) {
		return 0, false
	}
	if c.Mode == Replace {
		return hint, true
	}
	return max(backoff, hint), true
}
