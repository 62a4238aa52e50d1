// Package swim is the SWIM membership protocol (Das, Gupta, Motivala,
// "SWIM: Scalable Weakly-consistent Infection-style Process Group
// Membership Protocol", DSN 2002) with the Lifeguard extensions (Dadgar,
// Phillips, Currey, 2018), as run by hashicorp/memberlist.
//
//	protocol:
//	  name: swim
//	  variant: lifeguard     # suspicion, basic, or heartbeat (the all-to-all baseline)
//	  preset: memberlist_lan # or none: then period, probe_timeout, ... as given
//	  target: round_robin    # or random
//	  group_size: 0          # 0: every selected member
//	  joins:  [{nodes: [n40], at: 30s}]
//	  leaves: [{nodes: [n3], at: 60s}]
//
// Each period a member pings one member, falls back to k ping-reqs after
// the probe timeout, and at the end of the period suspects the target
// (basic: declares it dead). Membership updates ride on pings and acks,
// λ·⌈log10(N+1)⌉ times each; incarnation numbers order them and let a
// suspected member refute. Lifeguard's local health stretches a member's
// own period and timeout when it misses acks and nacks, its dynamic
// suspicion timeouts shrink with independent confirmations, and its buddy
// system tells a suspect it is suspected in the ping itself.
//
// The loop of one member, driven by the engine:
//
//	Start          → bootstrap list (or join through a seed), arm the first tick
//	Timer(tick)    → conclude last period's probe (suspect/dead), ping the next target
//	Timer(probeTO) → no ack yet: ping-req to k members
//	Receive(Ping)  → merge piggybacked updates, ack with updates
//	Receive(Ack)   → probe succeeded (or relay it to the ping-req's sender)
//	Timer(suspect) → suspicion expired: declare dead, gossip it
//
// Lists are slices of packed 32-bit entries indexed by node ID, so 10,000
// members fit in 400 MB of lists; measurement (detection times, false
// suspicions and deaths, traffic, convergence) is detector.Tracker's, fed
// with every change of a member's opinion. Counters: swim_probes,
// swim_probe_failures, swim_indirect_probes, swim_refutes; run scalars:
// the Tracker's plus swim_health_max. Invariant: membership_accounting.
package swim
