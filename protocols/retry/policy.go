package retry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind,Jitter,Class -linecomment -output=policy_string.go

// Kind is the shape of a retry schedule.
type Kind uint8

// Retry schedules.
const (
	// None never retries: one attempt per call.
	None Kind = iota // none
	// Immediate retries at once, with no delay ("naive" retries).
	Immediate // immediate
	// Fixed waits Base between attempts.
	Fixed // fixed
	// Exponential waits Base·Multiplier^(n-1) before retry n, capped at
	// Cap.
	Exponential // exponential
)

// ParseKind parses a kind name; "naive" is an alias of "immediate".
func ParseKind(s string) (Kind, error) { return enum.Parse("retry policy", s, kindAliases...) }

// kindAliases are the names ParseKind accepts besides String's.
var kindAliases = []enum.Alias[Kind]{{Name: "naive", Value: Immediate}}

// EnumNames lists every name ParseKind accepts, aliases included (for
// the experiment file's JSON Schema).
func (Kind) EnumNames() []string { return enum.Names(kindAliases...) }

// MarshalText returns the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	return enum.Set(k, "retry policy", string(b), kindAliases...)
}

// Jitter is how a backoff delay is randomised. The definitions follow
// M. Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog,
// 2015, where d = min(cap, base·2^n) is the un-jittered delay:
//
//	full:         sleep = random_between(0, d)
//	equal:        sleep = d/2 + random_between(0, d/2)
//	decorrelated: sleep = min(cap, random_between(base, previous_sleep·3))
type Jitter uint8

// Jitter variants.
const (
	// NoJitter uses the delay as computed.
	NoJitter Jitter = iota // none
	// FullJitter draws uniformly from [0, d).
	FullJitter // full
	// EqualJitter keeps half of d and draws the other half.
	EqualJitter // equal
	// DecorrelatedJitter draws from [base, 3·previous), capped; it
	// ignores the attempt number and grows from the previous delay.
	DecorrelatedJitter // decorrelated
)

// ParseJitter parses a jitter name.
func ParseJitter(s string) (Jitter, error) { return enum.Parse[Jitter]("jitter", s) }

// MarshalText returns the jitter's name.
func (j Jitter) MarshalText() ([]byte, error) { return []byte(j.String()), nil }

// UnmarshalText parses a jitter name.
func (j *Jitter) UnmarshalText(b []byte) error { return enum.Set(j, "jitter", string(b)) }

// Class is what kind of outcome an attempt had, which decides whether it
// may be retried.
type Class uint8

// Outcome classes, in the spirit of HTTP status classes.
const (
	// Success: the call did what was asked.
	Success Class = iota // success
	// ClientError: the request itself is wrong (4xx). Never retried:
	// sending it again cannot help.
	ClientError // client_error
	// Overload: the server refused for lack of capacity (429, 503).
	Overload // overload
	// Failure: the server failed while handling the request (5xx).
	Failure // failure
	// Timeout: no answer came within the per-try timeout.
	Timeout // timeout
)

// ParseClass parses a class name.
func ParseClass(s string) (Class, error) { return enum.Parse[Class]("outcome class", s) }

// MarshalText returns the class's name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a class name.
func (c *Class) UnmarshalText(b []byte) error { return enum.Set(c, "outcome class", string(b)) }

// DefaultRetryOn is the classes retried when a policy names none:
// overload, failure and timeout.
var DefaultRetryOn = []Class{Overload, Failure, Timeout}

// Policy is a retry schedule: how many attempts, how long to wait before
// each retry, and which outcomes are worth retrying. It is pure: time and
// randomness come in as arguments.
type Policy struct {
	// Kind is the schedule: none, immediate (alias naive), fixed or
	// exponential.
	Kind Kind `yaml:"policy"`
	// MaxAttempts bounds the attempts of one call, the first included
	// (3 = one try and two retries). Every retrying policy needs a bound.
	MaxAttempts int `yaml:"max_attempts"`
	// Base is the fixed delay, or the first exponential delay. Larger
	// values give a struggling server more room but slow recovery from
	// isolated failures.
	Base time.Duration `yaml:"base"`
	// Cap bounds every exponential delay (and decorrelated draws).
	Cap time.Duration `yaml:"cap"`
	// Multiplier is the exponential growth factor per retry (≥ 1).
	Multiplier float64 `yaml:"multiplier"`
	// Jitter randomises delays so that clients that failed together do not
	// retry together: none, full, equal or decorrelated.
	Jitter Jitter `yaml:"jitter"`
	// RetryOn lists the outcome classes that are retried (default
	// overload, failure, timeout). client_error is never retried.
	RetryOn []Class `yaml:"retry_on"`
}

// DefaultPolicy returns a sensible production policy: up to 3 attempts,
// exponential backoff from 10ms capped at 1s with full jitter.
func DefaultPolicy() Policy {
	return Policy{Kind: Exponential, MaxAttempts: 3, Base: 10 * time.Millisecond, Cap: time.Second, Multiplier: 2, Jitter: FullJitter}
}

// NoRetry returns a policy that makes exactly one attempt.
func NoRetry() Policy { return Policy{Kind: None, MaxAttempts: 1} }

// Validate reports impossible settings. A retrying policy without a bound
// (max_attempts < 2 means "no retries", 0 means unbounded) is rejected.
func (p Policy) Validate() error {
	var fe sim.FieldErrors
	if p.Kind > Exponential {
		fe.Add("policy", "unknown retry policy %d", p.Kind)
	}
	if p.Jitter > DecorrelatedJitter {
		fe.Add("jitter", "unknown jitter %d", p.Jitter)
	}
	switch {
	case p.Kind != None && p.MaxAttempts <= 0:
		fe.Add("max_attempts", "a %s retry policy needs a bound: set max_attempts ≥ 1 (got %d)", p.Kind, p.MaxAttempts)
	case p.MaxAttempts < 0:
		fe.Add("max_attempts", "must not be negative, got %d", p.MaxAttempts)
	case p.Kind == None && p.MaxAttempts > 1:
		fe.Add("max_attempts", "policy none makes one attempt; got max_attempts %d (pick a retrying policy)", p.MaxAttempts)
	}
	if p.MaxAttempts > 1000 {
		fe.Add("max_attempts", "at most 1000, got %d", p.MaxAttempts)
	}
	if p.Base < 0 {
		fe.Add("base", "must not be negative, got %v", p.Base)
	}
	if (p.Kind == Fixed || p.Kind == Exponential) && p.Base == 0 {
		fe.Add("base", "a %s policy needs a positive base delay", p.Kind)
	}
	if p.Kind == Exponential {
		if p.Cap < p.Base {
			fe.Add("cap", "must be at least base (%v), got %v", p.Base, p.Cap)
		}
		if !(p.Multiplier >= 1) || math.IsInf(p.Multiplier, 0) {
			fe.Add("multiplier", "must be a finite number ≥ 1, got %v", p.Multiplier)
		}
	}
	if p.Jitter == DecorrelatedJitter && p.Kind != Exponential {
		fe.Add("jitter", "decorrelated jitter needs the exponential policy (it grows from the previous delay up to cap)")
	}
	if p.Jitter != NoJitter && (p.Kind == None || p.Kind == Immediate) {
		fe.Add("jitter", "policy %s has no delay to jitter", p.Kind)
	}
	for i, c := range p.RetryOn {
		switch {
		case c == ClientError:
			fe.Add(fmt.Sprintf("retry_on[%d]", i), "client errors are never retried")
		case c == Success || c > Timeout:
			fe.Add(fmt.Sprintf("retry_on[%d]", i), "cannot retry on %s", c)
		}
	}
	return fe.Err()
}

// Attempts returns the number of attempts a call may make (at least 1).
func (p Policy) Attempts() int {
	if p.Kind == None || p.MaxAttempts < 1 {
		return 1
	}
	return p.MaxAttempts
}

// Retryable reports whether an attempt that ended in class c may be
// retried under this policy (ignoring the attempt bound).
func (p Policy) Retryable(c Class) bool {
	if p.Kind == None || c == Success || c == ClientError {
		return false
	}
	set := p.RetryOn
	if len(set) == 0 {
		set = DefaultRetryOn
	}
	for _, r := range set {
		if r == c {
			return true
		}
	}
	return false
}

// ShouldRetry reports whether a call whose attempt number n (1 = the first
// attempt) ended in class c may make another attempt.
func (p Policy) ShouldRetry(n int, c Class) bool {
	return n < p.Attempts() && p.Retryable(c)
}

// Delay returns the wait before retry n (1 = the first retry). prev is the
// previous delay (used by decorrelated jitter; pass 0 before the first
// retry) and u is a uniform draw in [0, 1) (ignored without jitter). It is
// a pure function, so schedules can be tabulated exactly.
func (p Policy) Delay(n int, prev time.Duration, u float64) time.Duration {
	if n < 1 {
		n = 1
	}
	switch p.Kind {
	case None, Immediate:
		return 0
	case Fixed:
		return jitter(p.Jitter, p.Base, u)
	}
	if p.Jitter == DecorrelatedJitter {
		// sleep = min(cap, random_between(base, prev*3)), prev starting at
		// base (Brooker 2015).
		if prev < p.Base {
			prev = p.Base
		}
		hi := float64(prev) * 3
		d := float64(p.Base) + u*(hi-float64(p.Base))
		return capAt(d, p.Cap)
	}
	mult := p.Multiplier
	if mult < 1 {
		mult = 1
	}
	d := float64(p.Base) * math.Pow(mult, float64(n-1))
	return jitter(p.Jitter, capAt(d, p.Cap), u)
}

// Next is Delay with u drawn from r (only when the policy has jitter).
func (p Policy) Next(n int, prev time.Duration, r *rand.Rand) time.Duration {
	u := 0.0
	if p.Jitter != NoJitter && p.Kind != None && p.Kind != Immediate {
		u = r.Float64()
	}
	return p.Delay(n, prev, u)
}

func capAt(d float64, c time.Duration) time.Duration {
	if c > 0 && d >= float64(c) {
		return c
	}
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

func jitter(j Jitter, d time.Duration, u float64) time.Duration {
	switch j {
	case FullJitter:
		return time.Duration(u * float64(d))
	case EqualJitter:
		h := d / 2
		return h + time.Duration(u*float64(d-h))
	}
	return d
}
