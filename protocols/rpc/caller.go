package rpc

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/sim"
)

// IDs and timer tags. An ID is caller index (8 bits) | incarnation (12
// bits) | sequence (40 bits); a timer tag puts its kind in the top 4 bits.
// The incarnation, kept in durable storage, keeps the IDs of a restarted
// node apart from answers to its previous life.
const (
	seqBits  = 40
	incBits  = 12
	idxShift = seqBits + incBits
	kindBits = 60
	idMask   = 1<<kindBits - 1
	jobIdx   = 255 // caller index reserved for a server's own jobs

	tagAttempt uint64 = 1 // an attempt's per-try timeout
	tagBackoff uint64 = 2 // a call's backoff before its next attempt
	tagHedge   uint64 = 3 // a call's hedge delay
	tagService uint64 = 4 // a job's local work is done
	tagArrival uint64 = 5 // a client's next request
	tagPace    uint64 = 6 // a call's wait for a rate-limiter token
)

func tag(kind, id uint64) uint64 { return kind<<kindBits | id }

// host is the component a caller reports finished calls to.
type host interface {
	callDone(env sim.Env, now sim.Time, token uint64, st Status)
}

// call is one logical call: one or more attempts.
type call struct {
	id, token uint64
	deadline  sim.Time // local clock; sim.Never for none
	start     sim.Time // true time, for latency
	n         int      // attempts made, hedges included
	hedges    int
	prev      time.Duration // previous backoff (decorrelated jitter)
	live      []*attempt    // in liveBuf unless hedges outgrew it
	liveBuf   [2]*attempt   // beside the call: one cache line fewer to fetch
	timer     sim.TimerID   // backoff or hedge timer

	cost     float64 // tokens held by the retry about to be sent (Tracker budgets)
	lastCost float64 // cost of the call's last retry
	last     Status  // the last attempt's status
	waited   bool    // the rate limiter made this attempt wait already
}

// attempt is one request on the wire.
type attempt struct {
	id     uint64
	call   *call
	rep    int
	sent   sim.Time
	timer  sim.TimerID
	ticket retry.Ticket
	cost   float64 // retry tokens this attempt holds (Tracker budgets)
}

// caller is the client side of one hop (one node calling one service):
// retries, budget, breaker, hedging, bulkhead and load balancing.
type caller struct {
	idx      uint64
	cfg      *CallConfig
	reps     []sim.NodeID
	out      []int32 // attempts in flight per replica
	next     int     // round-robin cursor (round_robin, and least_outstanding's tie-break)
	budget   retry.Budget
	limited  bool // budget is not retry.Unlimited: skip its no-op calls otherwise
	breaker  *retry.Breaker
	state    retry.State
	host     host
	rng      *rand.Rand // the node's stream (env.Rand), kept to skip the lookup
	seq      uint64
	calls    seqRing[call]
	atts     seqRing[attempt]
	inflight int
	lat      quantiles
	tier     *tier // the callee's counts, shared by all its callers
	gauges   gauges
	tx       *transport.Hop // nil: plain datagrams
	msgs     *msgSlab       // the deployment's

	// Optional mechanisms (nil when off); observed is set when any of
	// them wants every attempt's outcome.
	tracker  retry.Tracker
	thr      *retry.Throttle
	ej       *retry.Ejector
	rl       *retry.RateLimiter
	observed bool

	// The retry policy's bounds, resolved once (its methods take the
	// policy by value: a copy per call on the hot path).
	maxAttempts int    // cfg.Retry.Attempts()
	retryOn     uint32 // bit c set: cfg.Retry.Retryable(c)

	freeCalls []*call
	freeAtts  []*attempt
}

// gauges are a caller's per-node gauges.
type gauges struct {
	breaker, budget         sim.Gauge
	throttle, ejected, rate sim.Gauge
}

func newCaller(env sim.Env, idx uint64, inc uint64, cfg *CallConfig, reps []sim.NodeID, budget retry.Budget, budgetScope string, d *Deployment, h host) *caller {
	c := &caller{
		idx:     idx,
		cfg:     cfg,
		reps:    reps,
		out:     make([]int32, len(reps)),
		budget:  budget,
		breaker: retry.NewBreaker(cfg.Breaker),
		host:    h,
		rng:     env.Rand(),
		seq:     idx<<idxShift | (inc&(1<<incBits-1))<<seqBits,
		tier:    d.hop(env.Metrics(), cfg.Service),
		msgs:    &d.msgs,
	}
	node := sim.Label{Key: "node", Value: env.Name()}
	if cfg.Breaker.Trip != retry.NoBreaker {
		c.gauges.breaker = env.Metrics().Gauge("breaker_state", node, c.tier.label)
		c.gauges.breaker.Set(0)
	}
	if cfg.Budget.Kind != retry.NoBudget {
		c.gauges.budget = env.Metrics().Gauge("budget_tokens", sim.Label{Key: "scope", Value: budgetScope}, c.tier.label)
		c.gauges.budget.Set(budget.Level(env.Now()))
	}
	if cfg.Hedge.Quantile > 0 {
		c.lat.q = cfg.Hedge.Quantile
	}
	c.maxAttempts = cfg.Retry.Attempts()
	for cls := retry.Class(0); cls < 32; cls++ {
		if cfg.Retry.Retryable(cls) {
			c.retryOn |= 1 << cls
		}
	}
	c.tracker, _ = budget.(retry.Tracker)
	_, unlimited := budget.(retry.Unlimited)
	c.limited = !unlimited
	c.extras(env, d)
	c.observed = c.tracker != nil || c.thr != nil || c.ej != nil || c.rl != nil
	return c
}

func (c *caller) nextID() uint64 {
	c.seq++
	return c.seq
}

// start begins a call on behalf of the host; the host hears back through
// callDone with the same token, possibly before start returns.
func (c *caller) start(env sim.Env, now sim.Time, token uint64, deadline sim.Time) {
	c.tier.calls.inc()
	if c.cfg.Bulkhead > 0 && c.inflight >= c.cfg.Bulkhead {
		c.tier.bulkheadRejected.inc()
		c.tier.callStatus[BulkheadFull].Add(1)
		c.host.callDone(env, now, token, BulkheadFull)
		return
	}
	cl := c.newCall()
	cl.id, cl.token, cl.deadline, cl.start = c.nextID(), token, deadline, now
	if !c.calls.tryPut(cl.id, cl) {
		c.calls.put(cl.id, cl)
	}
	c.inflight++
	if c.limited {
		c.budget.OnRequest(now)
	}
	c.send(env, now, cl, false)
}

// send makes the next attempt of cl (a backup when hedge is set).
func (c *caller) send(env sim.Env, now sim.Time, cl *call, hedge bool) {
	var budget time.Duration
	if cl.deadline != sim.Never {
		budget = cl.deadline.Sub(env.Local())
		if budget <= 0 {
			c.tier.deadlineExceeded.inc()
			if len(cl.live) == 0 {
				c.finish(env, now, cl, Timeout)
			}
			return
		}
	}
	if c.thr != nil || c.rl != nil {
		if !c.admit(env, cl, hedge) {
			return
		}
	}
	var tk retry.Ticket
	var ok bool
	if cl.n == 0 && !hedge {
		tk, ok = c.breaker.Pass(now) // Allow, unless the breaker only blocks retries
	} else {
		tk, ok = c.breaker.Allow(now)
	}
	c.breakerGauge(now)
	if !ok {
		c.tier.breakerRejected.inc()
		if len(cl.live) == 0 {
			st := CircuitOpen
			if c.cfg.Breaker.Mode == retry.BlockRetries && cl.n > 0 {
				st = cl.last // only the retry was refused: the call ends as its last try did
			}
			c.finish(env, now, cl, st)
		}
		return
	}
	avoid := -1
	if hedge && len(cl.live) > 0 {
		avoid = cl.live[0].rep
	}
	var r int
	if c.cfg.Balance == RoundRobin && avoid < 0 {
		r = c.roundRobin() // the default, inlined
	} else {
		r = c.pick(env, avoid)
	}
	if c.ej != nil {
		r = c.avoidEjected(now, r)
	}
	cl.n++
	a := c.newAttempt()
	a.id, a.call, a.rep, a.sent, a.ticket, a.timer = c.nextID(), cl, r, now, tk, 0 // every field: see freeAttempt
	a.cost, cl.cost = cl.cost, 0
	if !c.atts.tryPut(a.id, a) {
		c.atts.put(a.id, a)
	}
	cl.live = append(cl.live, a)
	c.out[r]++
	c.tier.attempts.inc()
	if cl.n > 1 && !hedge {
		c.tier.retries.inc()
	}
	timeout := c.cfg.Timeout
	if budget > 0 && (timeout == 0 || budget < timeout) {
		timeout = budget
	}
	if m := c.msgs.request(a.id, budget, int32(cl.n), hedge); c.tx == nil {
		env.Send(c.reps[r], m) // sendRequest's datagram case, one call level fewer
	} else {
		c.sendRequest(env, c.reps[r], m)
	}
	if timeout > 0 {
		a.timer = env.After(timeout, tag(tagAttempt, a.id))
	}
	if c.cfg.Hedge.Max > cl.hedges && cl.timer == 0 && len(c.reps) > 0 {
		cl.timer = env.After(c.hedgeDelay(), tag(tagHedge, cl.id))
	}
}

func (c *caller) hedgeDelay() time.Duration {
	if d, ok := c.lat.get(); ok {
		return d
	}
	return c.cfg.Hedge.Delay
}

// roundRobin returns the next replica in rotation.
func (c *caller) roundRobin() int {
	r := c.next
	if c.next++; c.next >= len(c.reps) {
		c.next = 0
	}
	return r
}

// pick chooses a replica for an attempt, avoiding one if possible (a
// hedge should not go where the first attempt went).
func (c *caller) pick(env sim.Env, avoid int) int {
	n := len(c.reps)
	if n == 1 {
		return 0
	}
	var r int
	switch c.cfg.Balance {
	case Random:
		r = c.rng.IntN(n)
	case LeastOutstanding:
		best := int32(-1)
		for k := 0; k < n; k++ {
			i := (c.next + k) % n
			if i == avoid {
				continue
			}
			if best < 0 || c.out[i] < best {
				best, r = c.out[i], i
			}
		}
		// The next scan starts after the pick, so ties rotate over the
		// tied replicas evenly; starting after the previous start instead
		// would hand a busy replica's turns to its successor.
		c.next = (r + 1) % n
		return r
	case PowerOfTwo:
		i := c.rng.IntN(n)
		j := c.rng.IntN(n - 1)
		if j >= i {
			j++
		}
		r = i
		if c.out[j] < c.out[i] {
			r = j
		}
	default:
		r = c.roundRobin()
	}
	if r == avoid {
		r = (r + 1) % n
	}
	return r
}

// receive handles a response to one of this caller's attempts. An answer
// to an attempt no longer live (timed out, cancelled as a losing hedge,
// or a network duplicate) only counts as late.
func (c *caller) receive(env sim.Env, resp *Response) {
	a := c.atts.get(resp.ID)
	if a == nil {
		c.tier.late.Add(1) // timed out, cancelled, or duplicated by the network
		return
	}
	env.Cancel(a.timer)
	c.settle(env, env.Now(), a, resp.Status, resp.RetryAfter)
}

// timer handles one of this caller's timers.
func (c *caller) timer(env sim.Env, kind, id uint64) {
	switch kind {
	case tagAttempt:
		if a := c.atts.get(id); a != nil {
			a.timer = 0
			c.abandon(env, a)
			c.settle(env, env.Now(), a, Timeout, 0)
		}
	case tagBackoff:
		if cl := c.calls.get(id); cl != nil {
			cl.timer = 0
			c.send(env, env.Now(), cl, false)
		}
	case tagPace:
		if cl := c.calls.get(id); cl != nil {
			cl.timer = 0
			c.rl.Woke()
			c.send(env, env.Now(), cl, false)
		}
	case tagHedge:
		cl := c.calls.get(id)
		if cl == nil || len(cl.live) == 0 {
			return
		}
		cl.timer = 0
		now := env.Now()
		if !c.takeRetry(now, cl, retry.Failure) {
			c.tier.budgetDenied.inc()
			c.budgetGauge(now)
			return
		}
		c.budgetGauge(now)
		cl.hedges++
		c.tier.hedges.inc()
		c.send(env, now, cl, true)
	}
}

// settle records the outcome of attempt a and decides what the call does
// next: finish, wait for a hedge, or retry after a backoff.
func (c *caller) settle(env sim.Env, now sim.Time, a *attempt, st Status, hint time.Duration) {
	cl := a.call
	if live := cl.live; len(live) == 1 && live[0] == a {
		// drop's usual case, inline: the call's only attempt.
		c.atts.del(a.id)
		c.out[a.rep]--
		live[0] = nil
		cl.live = live[:0]
	} else {
		c.drop(a)
	}
	cls := st.Class()
	cl.last = st
	c.breaker.Record(now, a.ticket, cls)
	c.breakerGauge(now)
	if c.limited {
		c.budget.OnResult(now, cls)
	}
	if c.observed {
		c.observe(now, a, st)
	}
	c.tier.attemptStatus[st].Add(1)
	if st == OK && c.lat.q != 0 {
		c.lat.add(now.Sub(a.sent))
	}
	c.freeAttempt(a)
	if st == OK {
		c.budgetGauge(now)
		c.finish(env, now, cl, OK)
		return
	}
	if len(cl.live) > 0 {
		c.budgetGauge(now)
		return // a hedge is still running: let it answer
	}
	if cl.n >= c.maxAttempts || c.retryOn&(1<<cls) == 0 { // cfg.Retry.ShouldRetry
		c.budgetGauge(now)
		c.finish(env, now, cl, st)
		return
	}
	if cl.deadline != sim.Never && env.Local() >= cl.deadline {
		c.budgetGauge(now)
		c.finish(env, now, cl, st)
		return
	}
	if hint != 0 && c.cfg.Pushback.Honour {
		if _, retryOK := c.cfg.Pushback.Delay(0, hint); !retryOK {
			// "Do not retry", or a hint longer than the caller will wait:
			// give up before the budget pays for a retry.
			c.pushedBack(false)
			c.budgetGauge(now)
			c.finish(env, now, cl, st)
			return
		}
	}
	ok := c.takeRetry(now, cl, cls)
	c.budgetGauge(now)
	if !ok {
		c.tier.budgetDenied.inc()
		c.finish(env, now, cl, st)
		return
	}
	if cl.timer != 0 { // (Cancel(0) is a no-op: skip the call)
		env.Cancel(cl.timer) // a pending hedge timer
		cl.timer = 0
	}
	d := c.cfg.Retry.Next(cl.n, cl.prev, c.rng)
	cl.prev = d
	if hint != 0 && c.cfg.Pushback.Honour {
		d, _ = c.cfg.Pushback.Delay(d, hint) // checked above: the retry goes ahead
		c.pushedBack(true)
	}
	if d <= 0 {
		c.send(env, now, cl, false)
		return
	}
	cl.timer = env.After(d, tag(tagBackoff, cl.id))
}

// drop forgets a live attempt (its answer came, or it is abandoned).
func (c *caller) drop(a *attempt) {
	c.atts.del(a.id)
	c.out[a.rep]--
	live := a.call.live
	for i, x := range live {
		if x == a {
			// Usually the only one (or the last): no copy, and one
			// pointer store instead of slices.Delete's bulk clear.
			n := len(live) - 1
			if i < n {
				copy(live[i:], live[i+1:])
			}
			live[n] = nil
			a.call.live = live[:n]
			return
		}
	}
}

// finish ends a call: losers are cancelled, timers disarmed, the host
// told.
func (c *caller) finish(env sim.Env, now sim.Time, cl *call, st Status) {
	if cl.timer != 0 { // usually none: skip the no-op call
		env.Cancel(cl.timer)
	}
	for len(cl.live) > 0 {
		a := cl.live[0]
		env.Cancel(a.timer)
		c.sendCancel(env, c.reps[a.rep], c.msgs.cancel(a.id))
		c.breaker.Release(a.ticket)
		if a.cost > 0 && c.tracker != nil {
			c.tracker.RetryEnded(now, a.cost)
		}
		c.tier.cancelled.Add(1)
		c.drop(a)
		c.freeAttempt(a)
	}
	if c.tracker != nil {
		if cl.cost > 0 {
			c.tracker.RetryEnded(now, cl.cost) // a retry paid for but never sent
		}
		c.tracker.CallEnded(now, st.Class(), cl.lastCost)
		c.budgetGauge(now)
	}
	c.calls.del(cl.id)
	c.inflight--
	c.tier.callStatus[st].Add(1)
	c.tier.callLatency.Record(now.Sub(cl.start))
	token := cl.token
	c.freeCall(cl)
	c.host.callDone(env, now, token, st)
}

// breakerGauge and budgetGauge are small enough to inline: most hops
// have neither gauge.
func (c *caller) breakerGauge(now sim.Time) {
	if c.gauges.breaker != nil {
		c.setBreakerGauge(now)
	}
}

func (c *caller) setBreakerGauge(now sim.Time) {
	if s := c.breaker.State(now); s != c.state {
		c.state = s
		c.gauges.breaker.Set(float64(s))
	}
}

func (c *caller) budgetGauge(now sim.Time) {
	if c.gauges.budget != nil {
		c.setBudgetGauge(now)
	}
}

func (c *caller) setBudgetGauge(now sim.Time) { c.gauges.budget.Set(c.budget.Level(now)) }

func (c *caller) newCall() *call {
	if n := len(c.freeCalls); n > 0 {
		cl := c.freeCalls[n-1]
		c.freeCalls = c.freeCalls[:n-1]
		return cl
	}
	cl := &call{}
	cl.live = cl.liveBuf[:0]
	return cl
}

// freeCall recycles cl. Field by field, not *cl = call{}: a whole-struct
// store of a type with pointers goes through the GC's bulk write barrier
// while a collection is marking.
func (c *caller) freeCall(cl *call) {
	cl.n, cl.hedges, cl.prev, cl.timer = 0, 0, 0, 0
	cl.cost, cl.lastCost, cl.last, cl.waited = 0, 0, OK, false
	cl.live = cl.live[:0]
	c.freeCalls = append(c.freeCalls, cl)
}

func (c *caller) newAttempt() *attempt {
	if n := len(c.freeAtts); n > 0 {
		a := c.freeAtts[n-1]
		c.freeAtts = c.freeAtts[:n-1]
		return a
	}
	return &attempt{}
}

// freeAttempt recycles a as it is: send sets every field of a reused
// attempt (zeroing it here would cost a bulk write barrier during GC).
func (c *caller) freeAttempt(a *attempt) {
	c.freeAtts = append(c.freeAtts, a)
}

// quantiles estimates a quantile of recent latencies for hedging: a ring
// of the last 256 successful attempts, re-sorted every 16 samples.
type quantiles struct {
	q       float64
	ring    [256]time.Duration
	n       int
	since   int
	cur     time.Duration
	scratch []time.Duration
}

const minHedgeSamples = 32

func (q *quantiles) add(d time.Duration) {
	if q.q == 0 {
		return
	}
	q.ring[q.n%len(q.ring)] = d
	q.n++
	q.since++
	if q.n >= minHedgeSamples && q.since >= 16 {
		q.since = 0
		k := min(q.n, len(q.ring))
		q.scratch = append(q.scratch[:0], q.ring[:k]...)
		slices.Sort(q.scratch)
		q.cur = q.scratch[int(q.q*float64(k-1)+0.5)]
	}
}

func (q *quantiles) get() (time.Duration, bool) {
	if q.q == 0 || q.n < minHedgeSamples {
		return 0, false
	}
	return q.cur, true
}
