package rpc

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/transport"
	"github.com/dsim-dev/dsim/sim"
)

// service is what the replicas of one service share: config, resolved
// distribution, metric handles, the flattened call list and shared
// budgets.
type service struct {
	name      string
	cfg       ServiceConfig
	dist      Dist
	errStatus Status
	calls     []int // index into cfg.Calls, once per count
	callees   [][]sim.NodeID
	budgets   []sharedBudget
	tier      *tier // its counts and metrics
}

// job is one request at a server: its state, and its link in the
// server's request table.
type job struct {
	jobState
	nextReq *job // next in its reqTable chain
}

// jobState is a job's state, pointer-free so that release clears it in
// one plain store.
type jobState struct {
	id        uint64
	from      sim.NodeID
	req       uint64
	arrived   sim.Time // true time
	deadline  sim.Time // local clock; sim.Never for none
	fail      Status   // injected failure, or OK
	next      int      // calls started
	pending   int      // calls in flight
	timer     sim.TimerID
	queued    bool
	cancelled bool
	done      bool  // answered, expired or cancelled: the worker is free
	inflight  int32 // requests in progress here when it arrived (concurrency limit)
}

// server is one replica of a service: a worker pool with a bounded FIFO
// queue in front, local work drawn from the service-time distribution,
// injected errors, then the downstream calls.
type server struct {
	d       *Deployment
	svc     *service
	index   int // replica index within the service
	callers []*caller
	busy    int
	queue   []*job
	qhead   int
	qlive   int          // queued and not cancelled
	jobs    seqRing[job] // by job ID
	byReq   reqTable     // by sender and request ID
	seq     uint64
	free    []*job
	pumping bool

	rng      *rand.Rand     // the node's stream (env.Rand), kept to skip the lookup
	lim      *retry.Limiter // adaptive concurrency limit, nil when off
	limGauge sim.Gauge
	ep       *transport.Endpoint // nil without a transport layer
}

var _ sim.Node = (*server)(nil)

// incarnation counts the node's lives in durable storage.
func incarnation(env sim.Env) uint64 {
	const key = "rpc/incarnation"
	var n uint64
	if b, ok := env.Storage().Get(key); ok && len(b) == 8 {
		n = binary.LittleEndian.Uint64(b) + 1
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	env.Storage().Put(key, b[:])
	return n
}

// Start builds the callers for the service's downstream hops.
func (s *server) Start(env sim.Env) {
	inc := incarnation(env)
	s.rng = env.Rand()
	s.byReq.init()
	s.seq = jobIdx<<idxShift | (inc&(1<<incBits-1))<<seqBits
	for i := range s.svc.cfg.Calls {
		b, scope := s.svc.budgets[i].get(env)
		s.callers = append(s.callers, newCaller(env, uint64(i), inc, &s.svc.cfg.Calls[i], s.svc.callees[i], b, scope, s.d, s))
	}
	s.serverExtras(env)
	if s.d.tx != nil {
		s.startTransport(env, inc)
	}
}

// Receive handles requests, cancellations and the answers of downstream
// calls.
func (s *server) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if s.ep != nil && s.intercept(env, from, msg) {
		return
	}
	switch m := msg.(type) {
	case *Request:
		s.arrive(env, from, m)
		s.d.msgs.doneRequest(m)
	case *Response:
		if i := int(m.ID >> idxShift & 0xff); i < len(s.callers) {
			s.callers[i].receive(env, m)
		}
		s.d.msgs.doneResponse(m)
	case *Cancel:
		s.cancel(from, m.ID)
		s.d.msgs.doneCancel(m)
	}
}

// Timer dispatches the server's and its callers' timers.
func (s *server) Timer(env sim.Env, t uint64) {
	kind, id := t>>kindBits, t&idMask
	if kind == tagService { // the most frequent: one per job
		s.serviceDone(env, id)
		return
	}
	if kind == tagTransport && s.ep != nil {
		s.ep.Timer(env, id)
		return
	}
	if i := int(id >> idxShift & 0xff); i < len(s.callers) {
		s.callers[i].timer(env, kind, id)
	}
}

func (s *server) arrive(env sim.Env, from sim.NodeID, r *Request) {
	svc, cfg := s.svc, &s.svc.cfg
	svc.tier.arrivals.inc()
	if s.byReq.find(from, r.ID) != nil {
		return // a network duplicate of a request in progress
	}
	if s.lim != nil && !s.lim.Admit(s.busy+s.qlive) {
		svc.tier.limitRejected.inc()
		s.refuse(env, from, r.ID, TooManyRequests)
		return
	}
	if s.busy >= cfg.Workers {
		if cfg.Overload.Mode == Reject && cfg.Overload.Threshold > 0 && s.qlive >= cfg.Overload.Threshold {
			svc.tier.rejected.inc()
			s.refuse(env, from, r.ID, TooManyRequests)
			return
		}
		if s.qlive >= cfg.Queue {
			svc.tier.shed.inc()
			s.refuse(env, from, r.ID, Unavailable)
			return
		}
	}
	j := s.newJob()
	s.seq++
	now := env.Now()
	j.id, j.from, j.req, j.arrived, j.deadline = s.seq, from, r.ID, now, sim.Never
	j.inflight = int32(s.busy + s.qlive)
	if r.Budget > 0 {
		j.deadline = env.Local().Add(r.Budget)
	}
	if !s.jobs.tryPut(j.id, j) {
		s.jobs.put(j.id, j)
	}
	if s.byReq.full() {
		s.byReq.grow()
	}
	s.byReq.add(j)
	if !s.pumping && s.qhead == len(s.queue) && s.busy < cfg.Workers {
		// Nothing waits and a worker is free: pump would take j
		// straight back off the queue and begin it.
		s.begin(env, now, j)
		return
	}
	j.queued = true
	s.queue = append(s.queue, j)
	s.qlive++
	s.pump(env)
}

// pump hands queued jobs to free workers.
func (s *server) pump(env sim.Env) {
	if s.pumping {
		return
	}
	s.pumping = true
	for s.busy < s.svc.cfg.Workers && s.qhead < len(s.queue) {
		j := s.queue[s.qhead]
		s.queue[s.qhead] = nil
		s.qhead++
		if s.qhead > 64 && s.qhead*2 > len(s.queue) {
			n := copy(s.queue, s.queue[s.qhead:])
			clear(s.queue[n:])
			s.queue = s.queue[:n]
			s.qhead = 0
		}
		if j.cancelled {
			continue
		}
		j.queued = false
		s.qlive--
		s.begin(env, env.Now(), j)
	}
	s.pumping = false
}

// begin gives j a worker: checks its deadline and queue timeout, draws
// its service time and whether it will fail.
func (s *server) begin(env sim.Env, now sim.Time, j *job) {
	svc, cfg := s.svc, &s.svc.cfg
	s.busy++
	if j.deadline != sim.Never && env.Local() >= j.deadline {
		s.expire(env, j)
		return
	}
	wait := now.Sub(j.arrived)
	svc.tier.wait.Record(wait)
	if cfg.QueueTimeout > 0 && wait > cfg.QueueTimeout {
		svc.tier.queueTimeouts.inc()
		if svc.cfg.Pushback.hint() != 0 {
			s.refuse(env, j.from, j.req, Unavailable)
			svc.tier.serverLatency.Record(now.Sub(j.arrived))
			if s.lim != nil {
				s.sample(env, j, true)
			}
			s.finish(env, j)
			return
		}
		s.respond(env, now, j, Unavailable)
		return
	}
	rng := s.rng
	d := svc.dist.Sample(rng)
	if cfg.Overload.Mode == Slow && cfg.Overload.Slowdown > 0 {
		if over := s.qlive - cfg.Overload.Threshold; over > 0 {
			d = time.Duration(float64(d) * (1 + cfg.Overload.Slowdown*float64(over)))
		}
	}
	if f := cfg.Slow.Factor; f > 0 && f != 1 && (cfg.Slow.Replicas == 0 || s.index < cfg.Slow.Replicas) &&
		now >= sim.Time(cfg.Slow.From) && (cfg.Slow.To == 0 || now < sim.Time(cfg.Slow.To)) {
		d = time.Duration(float64(d) * f)
	}
	e := &cfg.Errors
	if e.Rate > 0 && now >= sim.Time(e.From) && (e.To == 0 || now < sim.Time(e.To)) && rng.Float64() < e.Rate {
		j.fail = svc.errStatus
	}
	j.timer = env.After(d, tag(tagService, j.id))
}

func (s *server) serviceDone(env sim.Env, id uint64) {
	j := s.jobs.get(id)
	if j == nil {
		return
	}
	now := env.Now()
	j.timer = 0
	switch {
	case j.cancelled:
		s.drop(env, j)
	case s.expired(env, j):
		s.expire(env, j)
	case j.fail != OK:
		s.svc.tier.injected.inc()
		s.respond(env, now, j, j.fail)
	case len(s.svc.calls) == 0:
		s.respond(env, now, j, OK)
	case s.svc.cfg.FanOut == Parallel:
		for !j.done && j.next < len(s.svc.calls) {
			if s.expired(env, j) {
				s.expire(env, j)
				return
			}
			c := s.callers[s.svc.calls[j.next]]
			j.next++
			j.pending++
			c.start(env, now, j.id, j.deadline)
		}
	default:
		s.callNext(env, now, j)
	}
}

func (s *server) expired(env sim.Env, j *job) bool {
	return j.deadline != sim.Never && env.Local() >= j.deadline
}

// callNext makes j's next serial call, or answers once all succeeded.
func (s *server) callNext(env sim.Env, now sim.Time, j *job) {
	if j.next == len(s.svc.calls) {
		s.respond(env, now, j, OK)
		return
	}
	if s.expired(env, j) {
		s.expire(env, j)
		return
	}
	c := s.callers[s.svc.calls[j.next]]
	j.next++
	j.pending++
	c.start(env, now, j.id, j.deadline)
}

// callDone continues j after one of its downstream calls finished.
func (s *server) callDone(env sim.Env, now sim.Time, token uint64, st Status) {
	j := s.jobs.get(token)
	if j == nil {
		return
	}
	j.pending--
	switch {
	case j.done:
		s.release(j)
	case j.cancelled:
		s.drop(env, j)
	case st != OK:
		s.respond(env, now, j, st.upstream())
	case s.svc.cfg.FanOut == Serial:
		s.callNext(env, now, j)
	case j.pending == 0 && j.next == len(s.svc.calls):
		s.respond(env, now, j, OK)
	}
}

// reply answers a request that never became a job.
func (s *server) reply(env sim.Env, to sim.NodeID, id uint64, st Status) {
	s.svc.tier.answered[st].inc()
	if m := s.d.msgs.response(id, st); s.ep == nil {
		env.Send(to, m) // sendResponse's datagram case, one call level fewer
	} else {
		s.sendResponse(env, to, m)
	}
}

func (s *server) respond(env sim.Env, now sim.Time, j *job, st Status) {
	if s.lim != nil {
		cls := st.Class()
		s.sample(env, j, cls == retry.Overload || cls == retry.Timeout)
	}
	// reply, inline: every job that is answered comes this way.
	tier := s.svc.tier
	tier.answered[st].inc()
	if m := s.d.msgs.response(j.req, st); s.ep == nil {
		env.Send(j.from, m)
	} else {
		s.sendResponse(env, j.from, m)
	}
	tier.serverLatency.Record(now.Sub(j.arrived))
	s.finish(env, j)
}

// expire drops j without an answer: its caller has given up already.
func (s *server) expire(env sim.Env, j *job) {
	if s.lim != nil {
		s.sample(env, j, true)
	}
	s.svc.tier.expired.inc()
	s.unanswered(j)
	s.finish(env, j)
}

// drop abandons a cancelled job.
func (s *server) drop(env sim.Env, j *job) {
	s.svc.tier.serverCancelled.inc()
	s.unanswered(j)
	s.finish(env, j)
}

// finish frees j's worker and lets the next queued job in.
func (s *server) finish(env sim.Env, j *job) {
	j.done = true
	s.byReq.remove(j)
	s.busy--
	s.release(j)
	if s.qhead < len(s.queue) {
		s.pump(env) // (an empty queue leaves pump nothing to do)
	}
}

// release recycles a finished (done) job once no downstream call refers
// to it.
func (s *server) release(j *job) {
	if j.pending > 0 {
		return
	}
	s.jobs.del(j.id)
	j.jobState = jobState{} // nextReq is nil already: remove cleared it
	s.free = append(s.free, j)
}

func (s *server) cancel(from sim.NodeID, id uint64) {
	j := s.byReq.find(from, id)
	if j == nil {
		return
	}
	j.cancelled = true
	if j.queued {
		// Still waiting: forget it now; pump skips it.
		s.byReq.remove(j)
		s.jobs.del(j.id)
		s.qlive--
		s.svc.tier.serverCancelled.inc()
	}
}

func (s *server) newJob() *job {
	if n := len(s.free); n > 0 {
		j := s.free[n-1]
		s.free = s.free[:n-1]
		return j
	}
	return &job{}
}
