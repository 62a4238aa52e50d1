// Package delivery is the delivery-semantics family: senders submit
// messages at the workload's rate, receivers apply one side effect per
// message (a counter increment or a payment), and the configuration
// decides what is promised — at most once, at least once, or effectively
// exactly once by idempotency keys, sequence numbers or a transactional
// outbox. Every step is recorded in a history (package history) and the
// family registers exactly the checkers of the promise its semantics make,
// so `dsim check` fails when a run loses, duplicates or reorders an
// effect that was promised, naming the message ids.
//
//	protocol:
//	  name: delivery
//	  senders: [client]
//	  receivers: [server]
//	  semantics: idempotency_keys   # at_most_once, at_least_once, sequence_numbers, transactional_outbox
//	  ack_timeout: 200ms
//	  retry: {policy: exponential, base: 50ms, cap: 1s, multiplier: 2, jitter: full, max_attempts: 0}
//	  dedupe: {store: volatile, max_keys: 100000, ttl: 1h}
//	  crash_points:
//	    - {at_event: after_apply, node: receiver, nth: 3, down_for: 1s}
//	  case: ack_lost               # a built-in or own failure case
//
// Semantics and their promises (the invariants registered):
//
//	at_most_once          no_duplicate_effects
//	at_least_once         no_lost_messages (give-ups excused when retry.max_attempts > 0)
//	idempotency_keys      no_lost_messages, no_duplicate_effects
//	sequence_numbers      no_lost_messages, no_duplicate_effects, in_order_effects
//	transactional_outbox  no_lost_messages, no_duplicate_effects
//
// "Lost" means submitted after the warm-up and before the liveness phase
// (the last `liveness` of the run, when no new messages are sent) and
// never applied by the end of the run.
//
// Crash points crash a node at a protocol event rather than at a time:
// on_deliver and after_apply at a receiver, after_write and after_send at
// a sender; node is a node name or the role word "sender" or "receiver";
// the nth occurrence crashes it (and every `every` further ones), and it
// restarts after down_for. Receivers keep the effect, and with a durable
// store the dedupe keys and sequence state, in env.Storage(), written
// together; everything else a node holds is lost in a crash. Senders
// other than the outbox lose their unacknowledged messages when they
// crash.
//
// Failure cases inject faults the family controls: request_loss,
// ack_loss, duplicate (per attempt), processing_time, workers and queue
// (a slow or overloaded receiver) and crash points. `case:` selects a
// named case — none, req_lost, rx_crash, ack_lost, ack_crash, slow, dup,
// overload, tx_crash (see BuiltinFailures), or one of `cases:` — so that a
// sweep over protocol.case compares them. The network's own loss, duplication
// and reordering apply as well. Each firing of a crash point opens a fault
// window (kind crash_point, label node/event) from the crash to the
// restart, through Setup.Window, so plots shade it and fault coverage
// counts it.
//
// Metrics: histogram delivery_latency (submission to first
// application); counters messages_submitted, sends, messages_applied,
// duplicate_effects, acks, dead_letters, dedupe_hits, rejected; gauges
// (time series) dedupe_store_size and outbox_size; run scalars
// sends_per_message, duplicate_effect_ratio, lost_messages, loss_ratio
// and give_up_ratio over the messages submitted after the warm-up and
// before the liveness phase, and effect_total (the receivers' counters, or
// cents charged, at the end).
//
// Memory: the run keeps one byte per message (the ground truth behind the
// scalars); the history keeps about 64 bytes per step when history.record
// is on, bounded by history.max_ops, and nothing when it is off (the
// invariants are then not registered).
package delivery
