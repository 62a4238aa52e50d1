package delivery

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// jitterNet delivers every message after Base plus a uniform draw in
// [0, Jitter): messages overtake each other whenever Jitter exceeds the
// gap between sends. It never loses anything.
type jitterNet struct {
	Base, Jitter time.Duration
	e            *sim.Engine
	rng          *rand.Rand
}

func (n *jitterNet) Attach(e *sim.Engine) { n.e, n.rng = e, e.Stream("test/net") }
func (n *jitterNet) Send(from, to sim.NodeID, msg sim.Message) {
	d := n.Base
	if n.Jitter > 0 {
		d += time.Duration(n.rng.Int64N(int64(n.Jitter)))
	}
	n.e.Deliver(n.e.Now().Add(d), from, to, msg, 0)
}
func (n *jitterNet) Arrive(sim.NodeID, sim.NodeID, sim.Message, uint32) bool    { return true }
func (n *jitterNet) Dropped(sim.NodeID, sim.NodeID, sim.Message, sim.DropCause) {}

type outcome struct {
	r     *run
	setup *protocols.Setup
	errs  map[string]error // invariant name → error
}

func (o outcome) scalar(name string) float64 {
	for _, s := range o.setup.Scalars() {
		if s.Name == name {
			return s.Value
		}
	}
	return math.NaN()
}

// simulate runs one client → one server exchange under cfg at rate for
// dur, over net (nil: 1ms fixed delay).
func simulate(t testing.TB, cfg Config, rate float64, dur time.Duration, seed uint64, net sim.Network) outcome {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	e := sim.New(sim.Config{Seed: seed})
	if net == nil {
		net = &sim.Direct{Delay: time.Millisecond}
	}
	e.SetNetwork(net)
	wl := workload.DefaultConfig()
	wl.Rate = workload.Rate(rate)
	s := &protocols.Setup{Engine: e, Workload: wl, Duration: dur, Ops: protocols.NopOps{},
		Nodes: []protocols.Placement{{Name: "client"}, {Name: "server"}}}
	if err := cfg.Build(s); err != nil {
		t.Fatalf("build: %v", err)
	}
	var r *run
	for id := sim.NodeID(0); int(id) < e.NumNodes(); id++ {
		if n, ok := e.Instance(id).(*node); ok {
			r = n.r
		}
	}
	if err := e.Run(sim.Time(dur)); err != nil {
		t.Fatalf("run: %v", err)
	}
	s.Finish()
	o := outcome{r: r, setup: s, errs: map[string]error{}}
	for _, inv := range s.Invariants() {
		o.errs[inv.Name] = inv.Check()
	}
	return o
}

func baseConfig(sem Semantics) Config {
	c := DefaultConfig()
	c.Senders, c.Receivers = []string{"client"}, []string{"server"}
	c.Semantics = sem
	c.AckTimeout = 20 * time.Millisecond
	c.Retry = retry.Policy{Kind: retry.Fixed, Base: 10 * time.Millisecond}
	c.Liveness = time.Second
	return c
}

// within fails unless got is within k standard errors of a binomial
// proportion p over n trials.
func within(t *testing.T, what string, got, p float64, n int, k float64) {
	t.Helper()
	se := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(got-p) > k*se {
		t.Errorf("%s = %.4f, want %.4f ± %.4f (%g standard errors, n=%d)", what, got, p, k*se, k, n)
	}
	t.Logf("%s = %.4f (closed form %.4f, n=%d)", what, got, p, n)
}

// At most once over independent loss p applies a fraction 1−p of the
// messages: each message is one Bernoulli trial (fire and forget, no
// retransmission), so the applied count is Binomial(N, 1−p). Tolerance:
// 4 standard errors of the proportion.
func TestFidelityAtMostOnceDelivers1MinusP(t *testing.T) {
	const p = 0.2
	c := baseConfig(AtMostOnce)
	c.RequestLoss = p
	o := simulate(t, c, 2000, 9*time.Second, 1, nil)
	counted := 0
	for _, f := range o.r.ledger {
		if f&ledCounted != 0 {
			counted++
		}
	}
	if counted < 10000 {
		t.Fatalf("only %d messages", counted)
	}
	within(t, "applied fraction", 1-o.scalar(MetricLossRatio), 1-p, counted, 4)
	if err := o.errs[history.CheckerDuplicates]; err != nil {
		t.Fatalf("at-most-once without network duplication applied twice: %v", err)
	}
	if _, ok := o.errs[history.CheckerLost]; ok {
		t.Fatal("at-most-once registered a no-loss invariant it does not promise")
	}
}

// At least once with independent request loss p, ack loss q and at most
// r attempts: an attempt is acknowledged with probability (1−p)(1−q), so
// the sender gives up with probability (1−(1−p)(1−q))^r; the message is
// never applied only if every request was lost, p^r. The give-ups in
// between were applied but never acknowledged: "the client can never
// know". Closed forms from independent Bernoulli trials per attempt (the
// ack timeout far exceeds the round trip, so no ack is late). Tolerance:
// 4 binomial standard errors.
func TestFidelityAtLeastOnceGiveUps(t *testing.T) {
	const p, q, r = 0.3, 0.2, 3
	c := baseConfig(AtLeastOnce)
	c.RequestLoss, c.AckLoss = p, q
	c.Retry.MaxAttempts = r
	o := simulate(t, c, 2000, 9*time.Second, 2, nil)
	counted := 0
	for _, f := range o.r.ledger {
		if f&ledCounted != 0 {
			counted++
		}
	}
	giveUp := math.Pow(1-(1-p)*(1-q), r)
	within(t, "give-up ratio", o.scalar(MetricGiveUpRatio), giveUp, counted, 4)
	within(t, "never-applied ratio", o.scalar(MetricLossRatio), math.Pow(p, r), counted, 4)
	if err := o.errs[history.CheckerLost]; err != nil {
		t.Fatalf("give-ups are excused with a bound, yet: %v", err)
	}
}

// At least once with unbounded retransmission and a liveness phase loses
// nothing, even with heavy loss both ways and receiver crashes.
func TestAtLeastOnceUnboundedLosesNothing(t *testing.T) {
	c := baseConfig(AtLeastOnce)
	c.RequestLoss, c.AckLoss = 0.3, 0.3
	c.CrashPoints = []CrashPoint{{AtEvent: OnDeliver, Node: RoleReceiver, Nth: 10, Every: 50, DownFor: 100 * time.Millisecond}}
	o := simulate(t, c, 200, 5*time.Second, 3, nil)
	if lost := o.scalar(MetricLost); lost != 0 {
		t.Fatalf("lost %v messages", lost)
	}
	if err := o.errs[history.CheckerLost]; err != nil {
		t.Fatal(err)
	}
	if o.scalar(MetricDuplicateRatio) == 0 {
		t.Fatal("no duplicates although acks were lost: the scenario is not exercised")
	}
}

// A volatile dedupe store forgets its keys when the receiver crashes
// between applying and acking; the retransmission is applied again and
// the checker must catch it, naming the message. The durable store under
// the same schedule (same seed, same crash point) applies nothing twice.
func TestVolatileDedupeDuplicatesDurableDoesNot(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		c := baseConfig(IdempotencyKeys)
		c.Dedupe.Store = Volatile
		c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: RoleReceiver, Nth: 3, DownFor: 200 * time.Millisecond}}
		o := simulate(t, c, 50, 3*time.Second, seed, nil)
		var ve *history.ViolationError
		if !errors.As(o.errs[history.CheckerDuplicates], &ve) {
			t.Fatalf("seed %d: volatile store: checker did not fail: %v", seed, o.errs[history.CheckerDuplicates])
		}
		// The third applied message is the one whose ack the crash ate.
		third := uint64(0)
		applies := 0
		for _, op := range o.r.hist.Ops() {
			if op.Kind == history.Apply {
				if applies++; applies == 3 {
					third = op.ID
				}
			}
		}
		if !slices.Contains(ve.IDs(), third) {
			t.Fatalf("seed %d: violation names %v, want message %d", seed, ve.IDs(), third)
		}

		c.Dedupe.Store = Durable
		o = simulate(t, c, 50, 3*time.Second, seed, nil)
		for name, err := range o.errs {
			if err != nil {
				t.Fatalf("seed %d: durable store: %s: %v", seed, name, err)
			}
		}
		if o.scalar(MetricDuplicateRatio) != 0 {
			t.Fatalf("seed %d: durable store applied twice", seed)
		}
	}
}

// The sequence-number window applies in order without gaps although the
// network reorders heavily (delays of 1–60ms against ~5ms between
// messages) and loses requests. The same run at least once (no window)
// is caught by the order checker, which proves the reordering is real.
func TestSequenceWindowInOrderUnderReordering(t *testing.T) {
	c := baseConfig(SequenceNumbers)
	c.RequestLoss = 0.1
	c.AckTimeout = 150 * time.Millisecond
	net := func() sim.Network { return &jitterNet{Base: time.Millisecond, Jitter: 60 * time.Millisecond} }
	o := simulate(t, c, 200, 4*time.Second, 4, net())
	for name, err := range o.errs {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Deliveries did arrive out of order.
	last, reordered := int64(0), 0
	for _, op := range o.r.hist.Ops() {
		if op.Kind == history.Deliver {
			if op.Value < last {
				reordered++
			}
			last = max(last, op.Value)
		}
	}
	if reordered < 50 {
		t.Fatalf("only %d reordered deliveries: the test does not exercise the window", reordered)
	}
	c.Semantics = AtLeastOnce
	o = simulate(t, c, 200, 4*time.Second, 4, net())
	// Without sequence numbers every Apply has Value 0; number them by
	// submission order to ask the order checker about them.
	seqs := map[uint64]int64{}
	h := history.New(history.Config{Enabled: true})
	for _, op := range o.r.hist.Ops() {
		if op.Kind == history.Submit {
			seqs[op.ID] = int64(len(seqs) + 1)
		}
		if op.Kind == history.Apply {
			op.Value = seqs[op.ID]
			h.Record(op)
		}
	}
	if history.CheckOrder(h, history.DeliveryOptions{}).Verdict != history.Fail {
		t.Fatal("at-least-once over a reordering network applied in order: the order checker cannot fail here")
	}
}

// The outbox survives a sender crash between writing and sending; plain
// at-least-once loses the message.
func TestOutboxSurvivesSenderCrash(t *testing.T) {
	crash := []CrashPoint{{AtEvent: AfterWrite, Node: RoleSender, Nth: 5, Every: 20, DownFor: 100 * time.Millisecond}}
	c := baseConfig(TransactionalOutbox)
	c.CrashPoints = crash
	o := simulate(t, c, 100, 3*time.Second, 5, nil)
	for name, err := range o.errs {
		if err != nil {
			t.Fatalf("outbox: %s: %v", name, err)
		}
	}
	c.Semantics = AtLeastOnce
	o = simulate(t, c, 100, 3*time.Second, 5, nil)
	var ve *history.ViolationError
	if !errors.As(o.errs[history.CheckerLost], &ve) || ve.Report.Count == 0 {
		t.Fatalf("at-least-once lost nothing in a sender crash: %v", o.errs[history.CheckerLost])
	}
}

// A dedupe store bounded by TTL lets a duplicate arriving after the key
// expired through; the checker sees it.
func TestDedupeTTLEvictionLetsLateDuplicateThrough(t *testing.T) {
	c := baseConfig(IdempotencyKeys)
	c.Dedupe.TTL = 5 * time.Millisecond
	c.Duplicate = 0.5
	// Duplicates arrive 1ms after the original with jitter up to 20ms.
	o := simulate(t, c, 100, 2*time.Second, 6, &jitterNet{Base: time.Millisecond, Jitter: 20 * time.Millisecond})
	if o.errs[history.CheckerDuplicates] == nil {
		t.Fatal("late duplicates after TTL eviction were not applied again")
	}
	c.Dedupe.TTL = time.Hour
	o = simulate(t, c, 100, 2*time.Second, 6, &jitterNet{Base: time.Millisecond, Jitter: 20 * time.Millisecond})
	if err := o.errs[history.CheckerDuplicates]; err != nil {
		t.Fatal(err)
	}
}

func TestSameSeedSameHistory(t *testing.T) {
	c := baseConfig(IdempotencyKeys)
	c.RequestLoss, c.AckLoss, c.Duplicate = 0.1, 0.1, 0.1
	a := simulate(t, c, 200, 2*time.Second, 9, nil)
	b := simulate(t, c, 200, 2*time.Second, 9, nil)
	if !slices.Equal(a.r.hist.Ops(), b.r.hist.Ops()) {
		t.Fatal("same seed, different histories")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		path string
	}{
		{"ok", func(*Config) {}, ""},
		{"ttl zero", func(c *Config) { c.Dedupe.TTL = 0 }, "dedupe.ttl"},
		{"size negative", func(c *Config) { c.Dedupe.MaxKeys = -1 }, "dedupe.max_keys"},
		{"window zero", func(c *Config) { c.Window = 0 }, "window"},
		{"unknown case", func(c *Config) { c.Case = "meteor" }, "case"},
		{"loss one", func(c *Config) { c.RequestLoss = 1 }, "request_loss"},
		{"crash nth", func(c *Config) {
			c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: "receiver", DownFor: time.Second}}
		}, "crash_points[0].nth"},
		{"crash side", func(c *Config) {
			c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: "sender", Nth: 1, DownFor: time.Second}}
		}, "crash_points[0].node"},
		{"crash down", func(c *Config) { c.CrashPoints = []CrashPoint{{AtEvent: AfterWrite, Node: "sender", Nth: 1}} }, "crash_points[0].down_for"},
		{"case crash", func(c *Config) {
			c.Cases = map[string]Failure{"x": {CrashPoints: []CrashPoint{{AtEvent: OnDeliver, Node: "receiver", Nth: 0, DownFor: 1}}}}
		}, "cases.x.crash_points[0].nth"},
		{"ack timeout", func(c *Config) { c.AckTimeout = 0 }, "ack_timeout"},
		{"retry", func(c *Config) { c.Retry.Multiplier = 0.5 }, "retry.multiplier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.path == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe sim.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not FieldErrors", err)
			}
			for _, f := range fe {
				if f.Path == tt.path {
					return
				}
			}
			t.Fatalf("no error at %s: %v", tt.path, err)
		})
	}
}

func TestValidateNodes(t *testing.T) {
	c := DefaultConfig()
	c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: "srv", Nth: 1, DownFor: time.Second}, {AtEvent: AfterApply, Node: "server", Nth: 1, DownFor: time.Second}}
	err := c.ValidateNodes([]protocols.Placement{{Name: "client"}, {Name: "server"}})
	if err == nil || !strings.Contains(err.Error(), "crash_points[0].node") || strings.Contains(err.Error(), "crash_points[1]") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownEnumsNameTheChoices(t *testing.T) {
	var s Semantics
	if err := s.UnmarshalText([]byte("exactly_once")); err == nil || !strings.Contains(err.Error(), "idempotency_keys") {
		t.Fatalf("got %v", err)
	}
	var p Point
	if err := p.UnmarshalText([]byte("before_ack")); err == nil || !strings.Contains(err.Error(), "after_apply") {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkIdempotencyUnderFailures measures simulated messages per wall
// second for one client → server pair with loss, duplication and crashes,
// history recorded and checked. The durable dedupe store keeps 10,000
// keys: a restart rebuilds it from storage, so its size sets the cost of
// recovery.
func BenchmarkIdempotencyUnderFailures(b *testing.B) {
	c := baseConfig(IdempotencyKeys)
	c.Dedupe.MaxKeys = 10_000
	c.RequestLoss, c.AckLoss, c.Duplicate = 0.1, 0.1, 0.05
	c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: RoleReceiver, Nth: 100, Every: 1000, DownFor: 50 * time.Millisecond}}
	msgs := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := simulate(b, c, 10000, 10*time.Second, uint64(i), nil)
		msgs += len(o.r.ledger) - 1
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

// With history recording off nothing is kept per step and no invariant
// is registered; the scalars still come from the ledger.
func TestHistoryOffKeepsNothing(t *testing.T) {
	c := baseConfig(IdempotencyKeys)
	c.History.Record = false
	c.AckLoss = 0.2
	o := simulate(t, c, 500, 2*time.Second, 7, nil)
	if o.r.hist.Len() != 0 || len(o.setup.Invariants()) != 0 {
		t.Fatalf("history kept %d ops, %d invariants registered", o.r.hist.Len(), len(o.setup.Invariants()))
	}
	if len(o.r.ledger) < 500 || math.IsNaN(o.scalar(MetricLossRatio)) {
		t.Fatalf("ledger %d entries, loss ratio %v", len(o.r.ledger), o.scalar(MetricLossRatio))
	}
}

// A history bounded below what the run needs makes the checkers answer
// unknown, which fails the invariants instead of passing on a partial
// record.
func TestTruncatedHistoryFailsInvariants(t *testing.T) {
	c := baseConfig(AtLeastOnce)
	c.History.MaxOps = 50
	o := simulate(t, c, 200, 2*time.Second, 8, nil)
	if err := o.errs[history.CheckerLost]; !errors.Is(err, history.ErrUnknown) {
		t.Fatalf("truncated history: %v", err)
	}
}

// A dedupe store bounded by size evicts the oldest key; a duplicate of an
// evicted message is applied again. The payment total shows it: more
// cents charged than messages paid for.
func TestDedupeSizeEvictionLetsLateDuplicateThrough(t *testing.T) {
	c := baseConfig(IdempotencyKeys)
	c.Effect = Payment
	c.Dedupe.MaxKeys = 1
	c.Duplicate = 0.5
	net := &jitterNet{Base: time.Millisecond, Jitter: 40 * time.Millisecond}
	o := simulate(t, c, 200, 2*time.Second, 10, net)
	if o.errs[history.CheckerDuplicates] == nil {
		t.Fatal("duplicates of evicted keys were not applied again")
	}
	applied, dups := 0.0, 0.0
	for _, f := range o.r.ledger {
		if f&ledApplied1 != 0 {
			applied++
		}
	}
	dups = o.scalar(MetricDuplicateRatio) * float64(countCounted(o.r))
	if got, min := o.scalar(MetricEffectTotal), (applied+1)*float64(c.AmountCents); got < min || dups == 0 {
		t.Fatalf("charged %v cents for %v messages (%v duplicates)", got, applied, dups)
	}
}

func countCounted(r *run) int {
	n := 0
	for _, f := range r.ledger {
		if f&ledCounted != 0 {
			n++
		}
	}
	return n
}
