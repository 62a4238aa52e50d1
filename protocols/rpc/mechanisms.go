package rpc

import (
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/sim"
)

// This file wires the optional resilience mechanisms of package retry
// into callers and servers: adaptive throttling, the adaptive rate
// limiter, outlier ejection, outcome-charged budgets, server pushback and
// adaptive concurrency limits. Each is nil when off, so that hops and
// services without them behave, draw random numbers and register metrics
// exactly as before.

// extras builds a caller's optional mechanisms and registers their
// metrics.
func (c *caller) extras(env sim.Env, d *Deployment) {
	cfg, m, t := c.cfg, env.Metrics(), c.tier
	node := sim.Label{Key: "node", Value: env.Name()}
	if cfg.Throttle.Adaptive {
		c.thr = retry.NewThrottle(cfg.Throttle)
		t.throttled.register(m, "throttled", t.label)
		c.gauges.throttle = m.Gauge("throttle_probability", node, t.label)
	}
	if cfg.RateLimit.Adaptive {
		c.rl = retry.NewRateLimiter(cfg.RateLimit)
		t.rateLimited.register(m, "rate_limited", t.label)
		c.gauges.rate = m.Gauge("rate_limit_rps", node, t.label)
	}
	if cfg.Outlier.Consecutive > 0 {
		c.ej = retry.NewEjector(cfg.Outlier, len(c.reps))
		t.ejections.register(m, "ejections", t.label)
		c.gauges.ejected = m.Gauge("ejected_replicas", node, t.label)
		c.gauges.ejected.Set(0)
	}
	if cfg.Pushback.Honour {
		t.pushbackHonoured.register(m, "pushback_honoured", t.label)
		t.pushbackStopped.register(m, "pushback_stopped", t.label)
	}
}

// admit applies the rate limiter and adaptive throttling to an attempt
// about to be sent. It reports false when the attempt is not sent now:
// it waits for a rate-limiter token (the call asks again on a tagPace
// timer), or it was throttled (the call ends with 429 unless a hedge is
// still running).
func (c *caller) admit(env sim.Env, cl *call, hedge bool) bool {
	now := env.Now()
	if c.rl != nil && !hedge {
		var limit time.Duration
		if cl.deadline != sim.Never {
			limit = max(1, cl.deadline.Sub(env.Local()))
		}
		w, ok := c.rl.Acquire(now, limit)
		if w > 0 && !cl.waited {
			c.tier.rateLimited.inc() // counted once per attempt, however often it waits
		}
		cl.waited = w > 0
		if !ok {
			// No token before the deadline.
			c.tier.deadlineExceeded.inc()
			c.finish(env, now, cl, Timeout)
			return false
		}
		if w > 0 {
			cl.timer = env.After(w, tag(tagPace, cl.id))
			return false
		}
	}
	if c.thr != nil {
		ok := c.thr.Allow(now, c.rng.Float64())
		c.gauges.throttle.Set(c.thr.RejectProbability(now))
		if !ok {
			c.tier.throttled.inc()
			if len(cl.live) == 0 {
				c.finish(env, now, cl, TooManyRequests)
			}
			return false
		}
	}
	return true
}

// avoidEjected moves an attempt off an ejected replica to the next one
// in rotation that is not; when every replica is ejected it stays (as
// Envoy's panic threshold routes to all hosts).
func (c *caller) avoidEjected(now sim.Time, r int) int {
	n := len(c.reps)
	for k := 0; k < n; k++ {
		if i := (r + k) % n; !c.ej.Ejected(now, i) {
			return i
		}
	}
	return r
}

// observe feeds an attempt's outcome to the optional mechanisms.
func (c *caller) observe(now sim.Time, a *attempt, st Status) {
	cls := st.Class()
	if a.cost > 0 && c.tracker != nil {
		c.tracker.RetryEnded(now, a.cost)
	}
	if c.thr != nil && retry.Accepted(cls) {
		c.thr.Accept(now)
	}
	if c.ej != nil {
		if c.ej.Record(now, a.rep, cls) {
			c.tier.ejections.inc()
		}
		c.gauges.ejected.Set(float64(c.ej.Count(now)))
	}
	if c.rl != nil {
		c.rl.OnResponse(now, st == TooManyRequests)
		c.gauges.rate.Set(c.rl.Rate())
	}
}

// takeRetry asks the budget for a retry (or a hedge) after a failure of
// class cls; an outcome-charged budget records what the retry holds.
func (c *caller) takeRetry(now sim.Time, cl *call, cls retry.Class) bool {
	if c.tracker == nil {
		return !c.limited || c.budget.TryRetry(now)
	}
	cost, ok := c.tracker.RetryAfter(now, cls)
	if !ok {
		return false
	}
	if cl.cost > 0 {
		c.tracker.RetryEnded(now, cl.cost)
	}
	cl.cost, cl.lastCost = cost, cost
	return true
}

// pushedBack counts a retry delayed (honoured) or stopped by a server's
// pushback.
func (c *caller) pushedBack(delayed bool) {
	if delayed {
		c.tier.pushbackHonoured.inc()
		return
	}
	c.tier.pushbackStopped.inc()
}

// serverExtras builds a replica's concurrency limiter and registers the
// service's optional metrics.
func (s *server) serverExtras(env sim.Env) {
	cfg, m, t := &s.svc.cfg, env.Metrics(), s.svc.tier
	if cfg.Limit.Kind != retry.NoLimit {
		s.lim = retry.NewLimiter(cfg.Limit)
		t.limitRejected.register(m, "server_limit_rejected", t.label)
		s.limGauge = m.Gauge("concurrency_limit", sim.Label{Key: "node", Value: env.Name()}, t.label)
		s.limGauge.Set(float64(s.lim.Limit()))
	}
	if cfg.Pushback.hint() != 0 {
		t.pushbacks.register(m, "server_pushbacks", t.label)
	}
}

// refuse answers a request this replica turns away for lack of capacity
// (overload, full queue, queue timeout, concurrency limit), with the
// service's pushback hint if it has one.
func (s *server) refuse(env sim.Env, to sim.NodeID, id uint64, st Status) {
	h := s.svc.cfg.Pushback.hint()
	if h == 0 {
		s.reply(env, to, id, st)
		return
	}
	s.svc.tier.answered[st].inc()
	s.svc.tier.pushbacks.inc()
	env.Send(to, &Response{ID: id, Status: st, RetryAfter: h})
}

// sample feeds a finished job to the concurrency limiter.
func (s *server) sample(env sim.Env, j *job, dropped bool) {
	s.lim.Sample(env.Now().Sub(j.arrived), int(j.inflight), dropped)
	s.limGauge.Set(float64(s.lim.Limit()))
}
