// Package echo is the simplest protocol family: client nodes send pings
// to server nodes at the workload's rate (or in closed loops), servers
// echo them back, and clients time the round trip, with a timeout. It
// needs nothing but the network, so it shows what the network model does:
// latency by zone, loss, partitions and their effect on timeouts.
//
//	protocol:
//	  name: echo
//	  clients: [eu]        # node or zone names, "*" for all
//	  servers: ["*"]
//	  timeout: 400ms
//	  pick: round_robin    # or random
//
// Metrics: counters pings_sent, pings_ok, pings_timed_out, echoes_late
// (answers that came after their timeout) and echoes_duplicate (extra
// echoes of answered pings, from network duplication); histograms rtt,
// rtt_same_zone and rtt_cross_zone; run scalars success_ratio,
// timeout_ratio and loss_ratio over the pings sent after the warm-up and
// resolved by the end of the run. Each ping is
// one operation for fault coverage. Invariants: every echo answers a ping
// its client sent (echo_matches_ping) and the counts add up
// (echo_accounting).
package echo
