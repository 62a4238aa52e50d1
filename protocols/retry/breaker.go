package retry

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=State,Trip,BreakerMode -linecomment -output=breaker_string.go

// State is a circuit breaker's state.
type State uint8

// Breaker states. Their numeric values are what the breaker state gauge
// records.
const (
	// Closed lets every call through and watches the failures.
	Closed State = iota // closed
	// Open rejects every call until the recovery timeout has passed.
	Open // open
	// HalfOpen lets a few probe calls through: if they all succeed the
	// breaker closes, if one fails it opens again.
	HalfOpen // half_open
)

// Trip selects what trips a breaker.
type Trip uint8

// Trip conditions.
const (
	// NoBreaker disables the breaker.
	NoBreaker Trip = iota // none
	// TripCount opens once failures within the window reach Failures.
	TripCount // count
	// TripRate opens once the failure fraction within the window reaches
	// FailureRate, with at least MinRequests outcomes in the window.
	TripRate // rate
)

// ParseTrip parses a trip condition name.
func ParseTrip(s string) (Trip, error) { return enum.Parse[Trip]("breaker trip", s) }

// MarshalText returns the condition's name.
func (t Trip) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a condition name.
func (t *Trip) UnmarshalText(b []byte) error { return enum.Set(t, "breaker trip", string(b)) }

// BreakerMode is what an open breaker stops.
type BreakerMode uint8

// Breaker modes.
const (
	// BlockAll is the classic breaker: while open it refuses every call.
	BlockAll BreakerMode = iota // all
	// BlockRetries only suppresses retries: first tries always go out
	// (and their outcomes are counted), as in the circuit breaker of
	// M. Brooker's retry simulator.
	BlockRetries // retries
)

// MarshalText returns the mode's name.
func (m BreakerMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a mode name.
func (m *BreakerMode) UnmarshalText(b []byte) error { return enum.Set(m, "breaker mode", string(b)) }

// BreakerFields lists the YAML fields a breaker with trip t uses (besides
// trip itself), for telling a user that a field does nothing.
func BreakerFields(t Trip) []string {
	switch t {
	case TripCount:
		return []string{"failures", "window", "open_for", "half_open_probes", "mode"}
	case TripRate:
		return []string{"failure_rate", "min_requests", "window", "window_calls", "open_for", "half_open_probes", "mode"}
	}
	return nil
}

// BreakerConfig configures a circuit breaker.
type BreakerConfig struct {
	// Trip is none, count or rate.
	Trip Trip `yaml:"trip"`
	// Failures is how many failures within the window open the breaker
	// (trip: count).
	Failures int `yaml:"failures"`
	// FailureRate is the failure fraction within the window that opens
	// the breaker (trip: rate), in (0, 1].
	FailureRate float64 `yaml:"failure_rate"`
	// MinRequests is the fewest outcomes in the window before the rate is
	// trusted (trip: rate); it stops one early failure from tripping.
	MinRequests int `yaml:"min_requests"`
	// Window is the sliding window over which outcomes are counted.
	Window time.Duration `yaml:"window"`
	// OpenFor is the recovery timeout: how long the breaker stays open
	// before it lets probes through. Short values probe a sick server
	// often; long ones keep a recovered server idle.
	OpenFor time.Duration `yaml:"open_for"`
	// HalfOpenProbes is how many calls may be in flight while half-open;
	// that many successes close the breaker.
	HalfOpenProbes int `yaml:"half_open_probes"`
	// Mode is all (an open breaker refuses every call) or retries (it
	// only suppresses retries; first tries always go out).
	Mode BreakerMode `yaml:"mode"`
	// WindowCalls, if positive, makes the window the last that many
	// outcomes instead of a span of time (Resilience4j's count-based
	// sliding window; trip: rate).
	WindowCalls int `yaml:"window_calls"`
}

// DefaultBreakerConfig returns a disabled breaker whose other fields are
// ready for trip: rate — 50% failures over 10s with at least 20 calls,
// open for 5s, 3 half-open probes; trip: count uses 5 failures.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{Failures: 5, FailureRate: 0.5, MinRequests: 20, Window: 10 * time.Second, OpenFor: 5 * time.Second, HalfOpenProbes: 3}
}

// Validate reports impossible settings.
func (c BreakerConfig) Validate() error {
	var fe sim.FieldErrors
	switch c.Trip {
	case NoBreaker:
		return nil
	case TripCount:
		if c.Failures < 1 {
			fe.Add("failures", "must be at least 1, got %d", c.Failures)
		}
	case TripRate:
		if !(c.FailureRate > 0 && c.FailureRate <= 1) {
			fe.Add("failure_rate", "must be in (0, 1], got %v", c.FailureRate)
		}
		if c.MinRequests < 1 {
			fe.Add("min_requests", "must be at least 1, got %d", c.MinRequests)
		}
	default:
		fe.Add("trip", "unknown trip condition %d", c.Trip)
	}
	if c.Window <= 0 {
		fe.Add("window", "must be positive, got %v", c.Window)
	}
	if c.OpenFor <= 0 {
		fe.Add("open_for", "must be positive, got %v", c.OpenFor)
	}
	if c.HalfOpenProbes < 1 {
		fe.Add("half_open_probes", "must be at least 1, got %d", c.HalfOpenProbes)
	}
	if c.Mode > BlockRetries {
		fe.Add("mode", "unknown breaker mode %d", c.Mode)
	}
	if c.WindowCalls < 0 || c.WindowCalls > 1_000_000 {
		fe.Add("window_calls", "must be in [0, 1000000], got %d", c.WindowCalls)
	}
	if c.WindowCalls > 0 && c.Trip != TripRate {
		fe.Add("window_calls", "a count-based window needs trip: rate")
	}
	return fe.Err()
}

// Ticket is what Allow hands out; Record takes it back. It ties an
// outcome to the breaker state it was allowed in, so that a slow answer
// to a call made before the breaker opened cannot count as a probe.
type Ticket struct {
	gen    uint64
	probe  bool
	ignore bool // a first try let through an open breaker (mode retries)
}

// Breaker is a circuit breaker state machine (closed → open → half-open →
// closed, as described by M. Nygard, "Release It!", 2007). Time is passed
// in; it keeps no clock of its own.
type Breaker struct {
	cfg      BreakerConfig
	state    State
	gen      uint64
	openedAt sim.Time
	probes   int // in flight while half-open
	passed   int // successful probes while half-open

	slice time.Duration
	head  int
	start sim.Time
	fails [breakerSlices]int32
	total [breakerSlices]int32

	// Count-based window (window_calls): the last outcomes, failed or not.
	ring          []bool
	pos, n, nfail int
}

const breakerSlices = 10

// NewBreaker returns a closed breaker. A config with trip none gives a
// breaker that always allows.
func NewBreaker(cfg BreakerConfig) *Breaker {
	b := &Breaker{cfg: cfg, slice: cfg.Window / breakerSlices}
	if b.slice <= 0 {
		b.slice = 1
	}
	if cfg.WindowCalls > 0 {
		b.ring = make([]bool, cfg.WindowCalls)
	}
	return b
}

// State returns the state at now (an open breaker whose timeout has
// passed reports half-open).
func (b *Breaker) State(now sim.Time) State {
	if b.state == Open && now >= b.openedAt.Add(b.cfg.OpenFor) {
		return HalfOpen
	}
	return b.state
}

// Allow reports whether a call may go out now. When it may, the caller
// must pass the ticket to Record (or Release) once the outcome is known.
func (b *Breaker) Allow(now sim.Time) (Ticket, bool) {
	if b.cfg.Trip == NoBreaker { // inlined: most hops have no breaker
		return Ticket{}, true // Record and Release ignore it
	}
	return b.allow(now)
}

func (b *Breaker) allow(now sim.Time) (Ticket, bool) {
	if b.state == Open {
		if now < b.openedAt.Add(b.cfg.OpenFor) {
			return Ticket{}, false
		}
		b.set(HalfOpen)
	}
	if b.state == HalfOpen {
		if b.probes >= b.cfg.HalfOpenProbes {
			return Ticket{}, false
		}
		b.probes++
		return Ticket{gen: b.gen, probe: true}, true
	}
	return Ticket{gen: b.gen}, true
}

// Pass lets a first try through a breaker in mode retries, whatever its
// state: its outcome is counted like any call's while the breaker is
// closed, as a probe while half-open, and not at all while open. In mode
// all it is Allow.
func (b *Breaker) Pass(now sim.Time) (Ticket, bool) {
	if b.cfg.Trip == NoBreaker {
		return Ticket{}, true
	}
	return b.pass(now)
}

func (b *Breaker) pass(now sim.Time) (Ticket, bool) {
	if b.cfg.Mode != BlockRetries {
		return b.allow(now)
	}
	if b.state == Open {
		if now < b.openedAt.Add(b.cfg.OpenFor) {
			return Ticket{gen: b.gen, ignore: true}, true
		}
		b.set(HalfOpen)
	}
	if b.state == HalfOpen {
		b.probes++
		return Ticket{gen: b.gen, probe: true}, true
	}
	return Ticket{gen: b.gen}, true
}

// Record reports the outcome of a call allowed with t. Failures are
// overload, failure and timeout; client errors count as successes (the
// server answered).
func (b *Breaker) Record(now sim.Time, t Ticket, c Class) {
	if b.cfg.Trip == NoBreaker || t.gen != b.gen || t.ignore {
		return
	}
	b.record(now, t, c)
}

func (b *Breaker) record(now sim.Time, t Ticket, c Class) {
	failed := c == Overload || c == Failure || c == Timeout
	if t.probe {
		b.probes--
		if failed {
			b.trip(now)
			return
		}
		b.passed++
		if b.passed >= b.cfg.HalfOpenProbes {
			b.set(Closed)
		}
		return
	}
	var f, n int32
	if b.ring != nil {
		if b.n == len(b.ring) {
			if b.ring[b.pos] {
				b.nfail--
			}
		} else {
			b.n++
		}
		b.ring[b.pos] = failed
		if failed {
			b.nfail++
		}
		b.pos = (b.pos + 1) % len(b.ring)
		f, n = int32(b.nfail), int32(b.n)
	} else {
		b.advance(now)
		b.total[b.head]++
		if failed {
			b.fails[b.head]++
		}
		for i := range b.fails {
			f += b.fails[i]
			n += b.total[i]
		}
	}
	switch b.cfg.Trip {
	case TripCount:
		if int(f) >= b.cfg.Failures {
			b.trip(now)
		}
	case TripRate:
		if int(n) >= b.cfg.MinRequests && float64(f) >= b.cfg.FailureRate*float64(n) {
			b.trip(now)
		}
	}
}

// Release gives back a ticket whose outcome will never be known (a
// cancelled hedge): a probe slot is freed, nothing is counted.
func (b *Breaker) Release(t Ticket) {
	if t.probe && t.gen == b.gen && b.probes > 0 {
		b.probes--
	}
}

func (b *Breaker) trip(now sim.Time) {
	b.set(Open)
	b.openedAt = now
}

// set changes state, starting a new generation with a clean window.
func (b *Breaker) set(s State) {
	b.state = s
	b.gen++
	b.probes, b.passed = 0, 0
	b.fails = [breakerSlices]int32{}
	b.total = [breakerSlices]int32{}
	if b.ring != nil {
		clear(b.ring)
		b.pos, b.n, b.nfail = 0, 0, 0
	}
}

func (b *Breaker) advance(now sim.Time) {
	if now < b.start+sim.Time(b.slice) {
		return
	}
	steps := int64(now.Sub(b.start) / b.slice)
	if steps >= breakerSlices {
		b.fails = [breakerSlices]int32{}
		b.total = [breakerSlices]int32{}
	} else {
		for i := int64(0); i < steps; i++ {
			b.head = (b.head + 1) % breakerSlices
			b.fails[b.head], b.total[b.head] = 0, 0
		}
	}
	b.start += sim.Time(steps * int64(b.slice))
}
