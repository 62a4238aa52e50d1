package delivery

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Semantics,Store,Effect,Point -linecomment -output=config_string.go

// Semantics is the delivery guarantee a configuration implements.
type Semantics uint8

// Delivery semantics.
const (
	// AtMostOnce sends each message once and never retransmits (fire and
	// forget); the receiver does not acknowledge.
	AtMostOnce Semantics = iota // at_most_once
	// AtLeastOnce retransmits until acknowledged (or until the retry
	// policy's max_attempts, when set); the receiver applies every copy.
	AtLeastOnce // at_least_once
	// IdempotencyKeys is at-least-once with a dedupe store of message
	// ids at the receiver: effectively exactly once while the store
	// remembers the key.
	IdempotencyKeys // idempotency_keys
	// SequenceNumbers numbers messages per sender→receiver session; the
	// receiver applies them in order without gaps through a receive
	// window and drops duplicates (TCP-like).
	SequenceNumbers // sequence_numbers
	// TransactionalOutbox writes each message to the sender's durable
	// outbox together with its state change; a relay delivers from the
	// outbox (also after a sender restart) and deletes on ack. The
	// receiver dedupes with idempotency keys.
	TransactionalOutbox // transactional_outbox
)

// MarshalText returns the name.
func (s Semantics) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name.
func (s *Semantics) UnmarshalText(b []byte) error { return enum.Set(s, "semantics", string(b)) }

// Guarantee returns the promises the semantics makes. With a give-up
// bound, at-least-once semantics promise no silent loss only (the
// checker excuses messages whose sender was told they failed).
func (s Semantics) Guarantee() history.Guarantee {
	switch s {
	case AtMostOnce:
		return history.NoDuplicates
	case AtLeastOnce:
		return history.NoLoss
	case SequenceNumbers:
		return history.NoLoss | history.NoDuplicates | history.InOrder
	}
	return history.NoLoss | history.NoDuplicates
}

func (s Semantics) acks() bool    { return s != AtMostOnce }
func (s Semantics) dedupes() bool { return s == IdempotencyKeys || s == TransactionalOutbox }

// Store is where the receiver keeps its dedupe keys and sequence state.
type Store uint8

// Stores.
const (
	// Volatile keeps the state in memory: a receiver crash forgets it.
	Volatile Store = iota // volatile
	// Durable keeps it in the node's durable storage, written atomically
	// with the effect: it survives crashes.
	Durable // durable
)

// MarshalText returns the name.
func (s Store) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name.
func (s *Store) UnmarshalText(b []byte) error { return enum.Set(s, "store", string(b)) }

// Effect is the side effect a receiver applies per message.
type Effect uint8

// Effects.
const (
	// Counter increments a counter by one.
	Counter Effect = iota // counter
	// Payment charges the message's amount to an account.
	Payment // payment
)

// MarshalText returns the name.
func (e Effect) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText parses a name.
func (e *Effect) UnmarshalText(b []byte) error { return enum.Set(e, "effect", string(b)) }

// Point is a protocol event at which a crash can be scheduled.
type Point uint8

// Crash points.
const (
	// OnDeliver: a message reached the receiver, before it did anything
	// with it (the server crashes before processing).
	OnDeliver Point = iota // on_deliver
	// AfterApply: the receiver applied the effect and has not yet sent
	// the ack (processed, but the client never hears).
	AfterApply // after_apply
	// AfterWrite: the sender committed the message (its state change,
	// or the outbox row) and has not yet sent it.
	AfterWrite // after_write
	// AfterSend: the sender sent an attempt and is waiting for the ack.
	AfterSend // after_send
)

// MarshalText returns the name.
func (p Point) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a name.
func (p *Point) UnmarshalText(b []byte) error { return enum.Set(p, "crash point", string(b)) }

func (p Point) receiverSide() bool { return p == OnDeliver || p == AfterApply }

// Role words a crash point's node may name instead of a node.
const (
	RoleSender   = "sender"
	RoleReceiver = "receiver"
)

// CrashPoint crashes a node at the nth occurrence of a protocol event
// there, and restarts it after DownFor.
type CrashPoint struct {
	// AtEvent is the instant: on_deliver, after_apply (receiver events),
	// after_write or after_send (sender events).
	AtEvent Point `yaml:"at_event"`
	// Node is the node that crashes: a node name, or "receiver" /
	// "sender" for any node in that role (occurrences are then counted
	// across the role).
	Node string `yaml:"node"`
	// Nth is which occurrence of the event crashes the node (1 = the
	// first).
	Nth int `yaml:"nth"`
	// Every repeats the crash every this many further occurrences after
	// the nth (0: crash once).
	Every int `yaml:"every"`
	// DownFor is how long the node stays down before it restarts.
	DownFor time.Duration `yaml:"down_for"`
}

// Validate checks one crash point (its node is checked against the
// topology by ValidateNodes).
func (c CrashPoint) Validate() error {
	var fe sim.FieldErrors
	if c.AtEvent > AfterSend {
		fe.Add("at_event", "unknown event (one of: %s)", strings.Join(enum.Names[Point](), ", "))
	}
	if c.Node == "" {
		fe.Add("node", "must name a node, %q or %q", RoleSender, RoleReceiver)
	}
	if c.AtEvent <= AfterSend {
		if c.Node == RoleSender && c.AtEvent.receiverSide() {
			fe.Add("node", "%s happens at a receiver, not at a sender", c.AtEvent)
		}
		if c.Node == RoleReceiver && !c.AtEvent.receiverSide() {
			fe.Add("node", "%s happens at a sender, not at a receiver", c.AtEvent)
		}
	}
	if c.Nth < 1 {
		fe.Add("nth", "must be at least 1 (the first occurrence), got %d", c.Nth)
	}
	if c.Every < 0 {
		fe.Add("every", "must not be negative, got %d", c.Every)
	}
	if c.DownFor <= 0 {
		fe.Add("down_for", "must be positive, got %v", c.DownFor)
	}
	return fe.Err()
}

// Dedupe configures the receiver's dedupe store (idempotency_keys,
// transactional_outbox) and where sequence state lives
// (sequence_numbers).
type Dedupe struct {
	// Store is volatile (lost when the receiver crashes) or durable (in
	// the node's storage, written atomically with the effect).
	Store Store `yaml:"store"`
	// MaxKeys bounds the keys kept; past it the oldest key is evicted,
	// and a late duplicate of an evicted message is applied again.
	MaxKeys int `yaml:"max_keys"`
	// TTL is how long a key is kept; an older key is evicted, and a
	// duplicate arriving later is applied again.
	TTL time.Duration `yaml:"ttl"`
}

// Failure is a named failure case: settings that replace the
// configuration's own when Config.Case selects it. Zero fields leave
// the configuration's value; crash points are added.
type Failure struct {
	// RequestLoss is the probability that the family drops an attempt
	// before it reaches the network (the request is lost).
	RequestLoss float64 `yaml:"request_loss"`
	// AckLoss is the probability that an ack is dropped (the server
	// processed the message, the response was lost).
	AckLoss float64 `yaml:"ack_loss"`
	// Duplicate is the probability that an attempt is delivered twice.
	Duplicate float64 `yaml:"duplicate"`
	// ProcessingTime is how long the receiver takes to apply a message
	// (0: at once). Longer than ack_timeout, it makes senders retransmit
	// messages that are still being processed.
	ProcessingTime time.Duration `yaml:"processing_time"`
	// Workers bounds the messages a receiver processes at once (0:
	// unbounded); with processing_time it sets the receiver's capacity.
	Workers int `yaml:"workers"`
	// Queue bounds the messages waiting for a busy worker (0:
	// unbounded); an attempt arriving at a full queue is turned away.
	Queue int `yaml:"queue"`
	// CrashPoints crash nodes at protocol events (see CrashPoint); a
	// case's crash points are added to the configuration's own.
	CrashPoints []CrashPoint `yaml:"crash_points"`
}

// Validate checks a failure case.
func (f Failure) Validate() error {
	var fe sim.FieldErrors
	for _, p := range []struct {
		name string
		v    float64
	}{{"request_loss", f.RequestLoss}, {"ack_loss", f.AckLoss}, {"duplicate", f.Duplicate}} {
		if !(p.v >= 0 && p.v < 1) {
			fe.Add(p.name, "must be a probability in [0, 1), got %v", p.v)
		}
	}
	if f.ProcessingTime < 0 {
		fe.Add("processing_time", "must not be negative, got %v", f.ProcessingTime)
	}
	if f.Workers < 0 {
		fe.Add("workers", "must not be negative (0: unbounded), got %d", f.Workers)
	}
	if f.Queue < 0 {
		fe.Add("queue", "must not be negative (0: unbounded), got %d", f.Queue)
	}
	for i, c := range f.CrashPoints {
		fe.Merge(fmt.Sprintf("crash_points[%d]", i), c.Validate())
	}
	return fe.Err()
}

// BuiltinFailures are the failure cases every configuration can select
// by name, one per classic way a request/response exchange goes wrong
// (names are short so that plots over them stay legible):
//
//	none       nothing injected
//	req_lost   20% of requests lost
//	rx_crash   the receiver crashes on receipt, before processing (20th
//	           delivery, then every 40th; down 300ms)
//	ack_lost   20% of acks lost: processed, but the response was lost
//	ack_crash  the receiver crashes after applying, before acking
//	slow       processing takes 300ms (longer than typical timeouts)
//	dup        20% of requests delivered twice
//	overload   one worker, 20ms per message, queue of 5
//	tx_crash   the sender crashes after committing a message, before
//	           sending it (20th, then every 40th; down 300ms)
//
// A configuration's own cases of the same name replace them.
func BuiltinFailures() map[string]Failure {
	return map[string]Failure{
		"none":     {},
		"req_lost": {RequestLoss: 0.2},
		"rx_crash": {CrashPoints: []CrashPoint{
			{AtEvent: OnDeliver, Node: RoleReceiver, Nth: 20, Every: 40, DownFor: 300 * time.Millisecond}}},
		"ack_lost": {AckLoss: 0.2},
		"ack_crash": {CrashPoints: []CrashPoint{
			{AtEvent: AfterApply, Node: RoleReceiver, Nth: 20, Every: 40, DownFor: 300 * time.Millisecond}}},
		"slow":     {ProcessingTime: 300 * time.Millisecond},
		"dup":      {Duplicate: 0.2},
		"overload": {ProcessingTime: 20 * time.Millisecond, Workers: 1, Queue: 5},
		"tx_crash": {CrashPoints: []CrashPoint{
			{AtEvent: AfterWrite, Node: RoleSender, Nth: 20, Every: 40, DownFor: 300 * time.Millisecond}}},
	}
}

// HistoryConfig bounds the recorded history the checkers read.
type HistoryConfig struct {
	// Record turns recording on. Off, nothing is kept per message and
	// the checkers (invariants) are not registered; the metrics still
	// count losses and duplicates.
	Record bool `yaml:"record"`
	// MaxOps is the most history entries kept (about 64 bytes each);
	// past it the checkers answer "unknown" and the invariants fail.
	MaxOps int `yaml:"max_ops"`
}

// Config is the delivery family's section of an experiment.
type Config struct {
	// Senders selects the nodes that send messages: node or zone names
	// ("*" for all).
	Senders []string `yaml:"senders"`
	// Receivers selects the nodes that receive and apply them.
	Receivers []string `yaml:"receivers"`
	// Semantics is the delivery guarantee: at_most_once, at_least_once,
	// idempotency_keys, sequence_numbers or transactional_outbox. It
	// decides which invariants are checked.
	Semantics Semantics `yaml:"semantics"`
	// FanOut sends every message to every receiver (a notification
	// fan-out), instead of to one receiver in turn.
	FanOut bool `yaml:"fan_out"`
	// AckTimeout is how long a sender waits for the ack of an attempt
	// before retransmitting. Shorter reacts sooner to loss but
	// retransmits messages that were only slow.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// Retry is the backoff between an attempt's timeout and the next
	// attempt (policy none: at once). Its max_attempts is the give-up
	// bound (0: retransmit until acknowledged); a message given up goes
	// to the dead-letter queue.
	Retry retry.Policy `yaml:"retry"`
	// Dedupe is the receiver's dedupe store (and sequence state).
	Dedupe Dedupe `yaml:"dedupe"`
	// Window is the receive window of sequence_numbers, in messages:
	// how far ahead of the next expected one a message is buffered
	// rather than dropped.
	Window int `yaml:"window"`
	// Effect is what the receiver applies per message: counter or
	// payment.
	Effect Effect `yaml:"effect"`
	// AmountCents is what one payment charges.
	AmountCents int `yaml:"amount_cents"`
	// Liveness is the final phase of the run in which no new messages
	// are sent, so that retransmissions can finish; the loss checker
	// requires every message sent before it to be applied.
	Liveness time.Duration `yaml:"liveness"`
	// Case selects a failure case by name, from BuiltinFailures or
	// Cases ("" or "none": only the failure settings below). The
	// selected case's non-zero settings replace those below and its
	// crash points are added.
	Case string `yaml:"case"`
	// Cases are named failure cases that Case can select; they add to
	// and override the built-in ones.
	Cases map[string]Failure `yaml:"cases"`
	// Failure holds the injected failures used whatever Case selects:
	// request_loss, ack_loss, duplicate, processing_time, workers, queue
	// and crash_points.
	Failure `yaml:",inline"`
	// History bounds the recorded history.
	History HistoryConfig `yaml:"history"`
	// SizeBytes is the size on the wire of a message (acks are 64 bytes).
	SizeBytes int `yaml:"size_bytes"`
}

// DefaultConfig sends from "*" to "*" at least once, acks timing out
// after 200ms, exponential backoff from 50ms to 1s, a durable dedupe store
// of a million keys kept a day, a 64-message window, a 2s liveness phase
// and a recorded history.
func DefaultConfig() Config {
	return Config{
		Senders:     []string{"*"},
		Receivers:   []string{"*"},
		Semantics:   AtLeastOnce,
		AckTimeout:  200 * time.Millisecond,
		Retry:       retry.Policy{Kind: retry.Exponential, Base: 50 * time.Millisecond, Cap: time.Second, Multiplier: 2, Jitter: retry.FullJitter},
		Dedupe:      Dedupe{Store: Durable, MaxKeys: 1_000_000, TTL: 24 * time.Hour},
		Window:      64,
		AmountCents: 100,
		Liveness:    2 * time.Second,
		History:     HistoryConfig{Record: true, MaxOps: history.DefaultMaxOps},
		SizeBytes:   256,
	}
}

// Validate reports every impossible setting at once.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Senders) == 0 {
		fe.Add("senders", "must select at least one node")
	}
	if len(c.Receivers) == 0 {
		fe.Add("receivers", "must select at least one node")
	}
	if c.Semantics > TransactionalOutbox {
		fe.Add("semantics", "unknown semantics (one of: %s)", strings.Join(enum.Names[Semantics](), ", "))
	}
	if c.AckTimeout <= 0 {
		fe.Add("ack_timeout", "must be positive, got %v", c.AckTimeout)
	}
	p := c.Retry
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 2 // 0 means unbounded here; check the rest
	}
	fe.Merge("retry", p.Validate())
	if c.Dedupe.Store > Durable {
		fe.Add("dedupe.store", "must be volatile or durable")
	}
	if c.Dedupe.MaxKeys <= 0 {
		fe.Add("dedupe.max_keys", "must be positive, got %d", c.Dedupe.MaxKeys)
	}
	if c.Dedupe.TTL <= 0 {
		fe.Add("dedupe.ttl", "must be positive, got %v", c.Dedupe.TTL)
	}
	if c.Window <= 0 {
		fe.Add("window", "must be at least 1 message, got %d", c.Window)
	}
	if c.Effect > Payment {
		fe.Add("effect", "must be counter or payment")
	}
	if c.AmountCents <= 0 {
		fe.Add("amount_cents", "must be positive, got %d", c.AmountCents)
	}
	if c.Liveness < 0 {
		fe.Add("liveness", "must not be negative, got %v", c.Liveness)
	}
	if _, ok := c.failures()[c.caseName()]; !ok {
		fe.Add("case", "%q is not a failure case (one of: %s)", c.Case, strings.Join(c.caseNames(), ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Cases)) {
		fe.Merge("cases."+name, c.Cases[name].Validate())
	}
	fe.Merge("", c.Failure.Validate())
	if c.History.MaxOps < 1 {
		fe.Add("history.max_ops", "must be at least 1, got %d", c.History.MaxOps)
	}
	if c.SizeBytes < 1 || c.SizeBytes > 1<<30 {
		fe.Add("size_bytes", "must be in [1, 1GiB], got %d", c.SizeBytes)
	}
	return fe.Err()
}

var _ protocols.NodeValidator = (*Config)(nil)

// ValidateNodes checks that every crash point names a node of the
// topology or a role.
func (c *Config) ValidateNodes(nodes []protocols.Placement) error {
	var fe sim.FieldErrors
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	check := func(path string, cps []CrashPoint) {
		for i, cp := range cps {
			if cp.Node == "" || cp.Node == RoleSender || cp.Node == RoleReceiver || slices.Contains(names, cp.Node) {
				continue
			}
			fe.Add(fmt.Sprintf("%scrash_points[%d].node", path, i), "%q is not a node of the topology (nor %q or %q)", cp.Node, RoleSender, RoleReceiver)
		}
	}
	check("", c.CrashPoints)
	for _, name := range slices.Sorted(maps.Keys(c.Cases)) {
		check("cases."+name+".", c.Cases[name].CrashPoints)
	}
	return fe.Err()
}

func (c *Config) caseName() string {
	if c.Case == "" {
		return "none"
	}
	return c.Case
}

func (c *Config) failures() map[string]Failure {
	fs := BuiltinFailures()
	for k, v := range c.Cases {
		fs[k] = v
	}
	return fs
}

func (c *Config) caseNames() []string { return slices.Sorted(maps.Keys(c.failures())) }

// effective returns the injected failure settings: the configuration's
// own with the selected failure case's non-zero fields on top.
func (c *Config) effective() Failure {
	f := c.Failure
	sel := c.failures()[c.caseName()]
	if sel.RequestLoss != 0 {
		f.RequestLoss = sel.RequestLoss
	}
	if sel.AckLoss != 0 {
		f.AckLoss = sel.AckLoss
	}
	if sel.Duplicate != 0 {
		f.Duplicate = sel.Duplicate
	}
	if sel.ProcessingTime != 0 {
		f.ProcessingTime = sel.ProcessingTime
	}
	if sel.Workers != 0 {
		f.Workers = sel.Workers
	}
	if sel.Queue != 0 {
		f.Queue = sel.Queue
	}
	f.CrashPoints = slices.Concat(f.CrashPoints, sel.CrashPoints)
	return f
}
