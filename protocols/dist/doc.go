// Package dist is the distribution of spans that protocol configs give in
// YAML: rpc's service times and quorum's leg delays. It uses the network
// section's field names, so that a latency model can be pasted from one
// to the other:
//
//	service_time: {dist: lognormal, median: 5ms, p99: 40ms}
//
//	c := dist.Config{Dist: "exponential", Mean: 2 * time.Millisecond}
//	if err := c.Validate(); err != nil { ... }   // paths relative to c
//	d := c.Build()                                 // nil for an empty c
//	span := d.Sample(env.Rand())
//
// Sampling draws from the caller's stream, so a Dist holds no random
// state: one Dist can serve every node.
package dist
