// Package quorum is a replicated key-value store in the style of Dynamo:
// each key lives on N replicas placed by a consistent-hash ring over the
// store nodes, reads wait for R answers and writes for W
// acknowledgements, and versions are last-writer-wins on the
// coordinator's local clock (env.Local()), so clock offset, drift and
// jumps from the fault model silently lose writes; merge: siblings uses
// version vectors instead and returns concurrent values to readers.
//
// Four strategies show what a partition costs: dynamo (plain partial or
// strict quorums), cp (majority quorums in two phases, linearizable; the
// minority side refuses), ap (sloppy quorums with hinted handoff: both
// sides accept writes and reconcile by last-writer-wins on heal) and
// primary (writes only where the primary is; stale reads elsewhere).
// Conditional writes (compare-and-set on the version) model optimistic
// concurrency: an increment reads a key and writes it back on condition,
// retrying on conflict with a protocols/retry policy.
//
//	protocol:
//	  name: quorum
//	  stores: [store]          # node or zone names
//	  clients: [client]
//	  n: 3
//	  r: 2
//	  w: 2
//	  strategy: cp             # dynamo, cp, ap or primary
//	  legs:                    # the WARS model's extra delays
//	    write_request: {dist: exponential, mean: 2ms}
//	  mix: {read: 0.8, write: 0.2}
//	  t_visibility: [0ms, 1ms, 10ms]
//	  check: {history: true}
//
// Every client operation is recorded in a protocols/history History when
// check.history is on (nothing per operation otherwise), and the run
// reports read_latency, write_latency, availability (also inside and
// outside partition windows), stale_read_ratio, versions_behind{k=…},
// p_consistent{t_ms=…}, lost_acked_writes, conflicts and linearizable (1,
// 0, or empty when unknown). Staleness is measured online with bounded
// memory; the linearizability check runs porcupine after the run within
// a time budget.
package quorum
