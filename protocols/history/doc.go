// Package history records what a protocol's processes did — operations
// with invoke and complete times, process, kind, key, value and outcome —
// and checks the record against the guarantee the protocol claims.
//
// One history serves many checkers: the delivery family asks whether any
// message was lost, applied twice or applied out of order; the quorum
// family asks whether each key's history is linearizable and how stale
// its reads were. A protocol records into a History during the run and
// registers invariants built from checkers at Build time:
//
//	h := history.New(history.Config{Enabled: true, MaxOps: 1_000_000})
//	id := h.Invoke(env.ID(), history.Write, key, value, env.Now())
//	...
//	h.Complete(id, sim.OK, env.Now())
//	setup.Invariant("no_lost_writes", func() error { return check(h).Err() })
//
// Memory is bounded: a disabled History keeps nothing per operation, and an
// enabled one stops recording at MaxOps, after which checkers answer
// Unknown rather than a verdict drawn from a partial record.
package history
