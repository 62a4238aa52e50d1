// Package detector holds heartbeat failure detectors — a fixed timeout
// with k consecutive misses, and phi accrual in its normal (Akka) and
// exponential (Cassandra) variants — and the Tracker that measures any
// membership protocol against the truth (detection times, false
// suspicions and deaths, traffic, convergence); package swim uses it too.
//
//	protocol:
//	  name: detector
//	  kind: phi            # or heartbeat
//	  monitors: 0          # 0: all-to-all; k: each member watched by k others
//	  interval: 1s
//	  timeout: 2s          # heartbeat kind: a miss after 2s of silence
//	  misses: 3            # heartbeat kind: dead after 3 misses
//	  phi: {variant: normal, threshold: 8, min_std_dev: 100ms, acceptable_pause: 0s}
//
// A phi detector computes, at each heartbeat, the exact silence after
// which φ reaches its threshold (PhiConfig.Crossing, the inverse of
// PhiConfig.Phi) and arms one timer for it, so detection times are not
// quantised by a polling loop; phi.check_interval switches to polling.
//
// The Tracker learns crash and restart times from the engine's trace
// records (it is an observer), so it works with any fault source —
// scheduled faults, seeded chaos, or a test calling Engine.Crash — and the
// protocol reports only its own opinions:
//
//	tr := detector.NewTracker(s.Engine, len(s.Nodes), nil, s.Warmup)
//	tr.Bootstrap(members)              // everyone knows everyone at t=0
//	tr.View(observer, member, detector.Dead)
//	tr.Sent(sender, sizeBytes)
//	s.AtEnd(func() { tr.Report(s, period) })
//
// Run scalars (Tracker.Report): detect_first_s, detect_all_s (and _max_s),
// crashes, crashes_undetected, false_suspicions, false_deaths,
// false_suspicions_per_member_hour, false_deaths_per_member_hour,
// false_death_per_member_period, msgs_sent_per_member_per_period and
// bytes_sent_per_member_per_period (mean, and _max), converge_s (and
// converge_max_s, converge_unresolved). Invariant: membership_accounting
// (the running counts match a recount from the opinion bits).
package detector
