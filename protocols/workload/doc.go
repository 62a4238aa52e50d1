// Package workload describes and generates the requests a protocol's
// clients send: open loop (a total rate, Poisson or constant spacing,
// with bursts) or closed loop (N clients that wait for each answer and
// think before the next request).
//
// The YAML section `workload:` of an experiment decodes into Config. A
// protocol's client node drives a Generator from its own timers, so
// generation happens inside the run and is deterministic:
//
//	func (c *client) Start(env sim.Env) {
//		c.gen = workload.NewGenerator(cfg, 1/float64(nClients), env.Rand())
//		c.arm(env)
//	}
//	func (c *client) arm(env sim.Env) {
//		if next := c.gen.Next(env.Now()); next != sim.Never {
//			env.After(next.Sub(env.Now()), tagSend)
//		}
//	}
//	func (c *client) Timer(env sim.Env, tag uint64) { c.send(env); c.arm(env) }
//
// Rates are written "1000/s" (Rate); durations "250ms".
package workload
