// Package gossip spreads one rumor through a group by epidemic
// dissemination and measures how many rounds and messages it takes to
// reach everyone, and who is missed: push, pull and push-pull with a
// fanout; rumor mongering that stops by counter or coin, blind or with
// feedback (Demers et al., PODC 1987); periodic anti-entropy as a backup.
//
//	protocol:
//	  name: gossip
//	  mode: push           # pull, push_pull
//	  fanout: 1
//	  round: 100ms         # rounds are aligned across nodes
//	  stop: counter        # never (flood), counter, coin
//	  feedback: true       # count only contacts with nodes that knew
//	  k: 2
//	  anti_entropy: 0s     # e.g. 1s: full push-pull exchange per node
//
// Node states (susceptible, infective, removed) live in one byte per
// member in a run-wide slice, so 100,000 members cost little beyond the
// engine's own per-node state.
//
// Run scalars: rounds_to_all and time_to_all_s (until every live member
// has the rumor; NaN if never), residue (fraction of live members never
// reached), msgs_per_node (messages per member until everyone had it, or
// until spreading stopped), msgs_per_node_total, rounds_to_stop. Counter:
// gossip_msgs. Invariant: rumor_accounting.
package gossip
