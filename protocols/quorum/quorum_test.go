package quorum

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/dist"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

const ms = time.Millisecond

// offsetClock is a local clock that reads true time plus a fixed offset.
type offsetClock time.Duration

func (c offsetClock) Local(t sim.Time) sim.Time                    { return t.Add(time.Duration(c)) }
func (offsetClock) Span(_ sim.Time, d time.Duration) time.Duration { return d }

func placements(names ...string) []protocols.Placement {
	out := make([]protocols.Placement, len(names))
	for i, n := range names {
		out[i] = protocols.Placement{Name: n}
	}
	return out
}

// harness is one run over sim.Direct (a fixed one-way delay).
type harness struct {
	e     *sim.Engine
	setup *protocols.Setup
	rs    *runState
}

func runQuorum(t testing.TB, cfg Config, wl workload.Config, nodes []protocols.Placement, delay, dur time.Duration, seed uint64, before func(e *sim.Engine)) *harness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := sim.New(sim.Config{Seed: seed, Metrics: sim.NopMetrics{}})
	e.SetNetwork(&sim.Direct{Delay: delay})
	s := &protocols.Setup{Engine: e, Nodes: nodes, Workload: wl, Duration: dur, Ops: protocols.NopOps{}}
	if err := cfg.Build(s); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(e)
	}
	if err := e.Run(sim.Time(dur)); err != nil {
		t.Fatal(err)
	}
	s.Finish()
	for _, inv := range s.Invariants() {
		if err := inv.Check(); err != nil {
			t.Errorf("invariant %s: %v", inv.Name, err)
		}
	}
	id, _ := e.Lookup(nodes[0].Name)
	return &harness{e: e, setup: s, rs: e.Instance(id).(*node).rs}
}

func (h *harness) scalar(name string, labels ...sim.Label) float64 {
	for _, x := range h.setup.Scalars() {
		if x.Name == name && slices.Equal(x.Labels, labels) {
			return x.Value
		}
	}
	return math.NaN()
}

// oneClient is a store of three and a single sequential client: no two
// operations overlap.
func oneClient() []protocols.Placement { return placements("s1", "s2", "s3", "c") }

func seqConfig(r, w int, fanout Fanout) Config {
	c := DefaultConfig()
	c.Stores, c.Clients = []string{"s1", "s2", "s3"}, []string{"c"}
	c.N, c.R, c.W, c.Fanout = 3, r, w, fanout
	c.ReadRepair = false
	c.Keys = 1
	c.Mix = Mix{Read: 0.5, Write: 0.5}
	c.Retry = retry.NoRetry()
	c.TVisibility = []time.Duration{0}
	return c
}

// TestPBSClosedForm: with a write sent to W of N replicas and a read to
// R of them, chosen uniformly at random and never repaired (fanout
// quorum, no read repair), a read misses the latest write with
// probability p = C(N−W, R)/C(N, R), and misses the latest k writes
// with probability p^k (P. Bailis et al., "Probabilistically Bounded
// Staleness for Practical Partial Quorums", VLDB 2012, §3.2, eq. 1 and
// the k-staleness corollary). One sequential client reads and writes
// one key. Tolerance: 4.5 standard errors of a binomial estimate over
// n/2 effective samples (consecutive reads between the same writes share
// their write quorums, and with a 50/50 mix such runs average two reads).
func TestPBSClosedForm(t *testing.T) {
	cases := []struct {
		r, w int
		p    float64
	}{
		{1, 1, 2.0 / 3}, // C(2,1)/C(3,1)
		{2, 1, 1.0 / 3}, // C(2,2)/C(3,2)
		{1, 2, 1.0 / 3}, // C(1,1)/C(3,1)
		{2, 2, 0},       // R+W > N: C(1,2) = 0
		{1, 3, 0},       // C(0,1) = 0
		{3, 1, 0},       // C(2,3) = 0
		{1, 1, 2.0 / 3}, // R=W=1 again, another seed
	}
	wl := workload.Config{Kind: workload.Closed, Clients: 1, Think: ms, Arrival: workload.Poisson}
	for i, c := range cases {
		cfg := seqConfig(c.r, c.w, FanoutQuorum)
		h := runQuorum(t, cfg, wl, oneClient(), 100*time.Microsecond, 20*time.Second, uint64(10+i), nil)
		st := h.rs.stale
		n := float64(st.Reads())
		if n < 3000 {
			t.Fatalf("r=%d w=%d: only %v reads", c.r, c.w, n)
		}
		atLeast := func(k int) float64 {
			var m int64
			for j := k; j <= history.DefaultStalenessDepth; j++ {
				m += st.Behind(j)
			}
			return float64(m) / n
		}
		for k := 1; k <= 3; k++ {
			want := math.Pow(c.p, float64(k))
			se := math.Sqrt(want * (1 - want) / (n / 2))
			if got := atLeast(k); math.Abs(got-want) > 4.5*se+1e-9 {
				t.Errorf("r=%d w=%d: P(≥%d versions behind) = %.4f, want %.4f ± %.4f", c.r, c.w, k, got, want, 4.5*se)
			}
		}
	}
}

// TestStrictQuorumsNeverStale: with R+W > N, no failures and one writer
// at a time, every read sees every write acknowledged before it started
// (quorum intersection: Gifford, "Weighted Voting for Replicated Data",
// SOSP 1979), whatever the message delays; the history is linearizable.
func TestStrictQuorumsNeverStale(t *testing.T) {
	for _, f := range []Fanout{FanoutAll, FanoutQuorum} {
		for _, rw := range [][2]int{{2, 2}, {1, 3}, {3, 1}} {
			cfg := seqConfig(rw[0], rw[1], f)
			cfg.Check.History = true
			// Heavy-tailed legs reorder answers without changing the claim.
			cfg.Legs.WriteRequest = dist.Config{Dist: "exponential", Mean: 2 * ms}
			cfg.Legs.ReadResponse = dist.Config{Dist: "pareto", Scale: 100 * time.Microsecond, Shape: 1.2}
			wl := workload.Config{Kind: workload.Closed, Clients: 1, Think: ms, Arrival: workload.Poisson}
			h := runQuorum(t, cfg, wl, oneClient(), 200*time.Microsecond, 5*time.Second, 3, nil)
			if got := h.scalar(MetricStaleReadRatio); got != 0 {
				t.Errorf("fanout %v r=%d w=%d: stale_read_ratio %v", f, rw[0], rw[1], got)
			}
			if r := history.CheckStaleness(h.rs.hist, 0); r.Verdict != history.Pass {
				t.Errorf("fanout %v r=%d w=%d: %v", f, rw[0], rw[1], r.Err())
			}
			if got := h.scalar(MetricLinearizable); got != 1 {
				t.Errorf("fanout %v r=%d w=%d: linearizable %v", f, rw[0], rw[1], got)
			}
			if got := h.scalar(MetricPConsistent, sim.Label{Key: "t_ms", Value: "0"}); got != 1 {
				t.Errorf("fanout %v r=%d w=%d: p_consistent %v", f, rw[0], rw[1], got)
			}
		}
	}
	// The same client with R=W=1 does see stale reads: the check can fail.
	cfg := seqConfig(1, 1, FanoutQuorum)
	cfg.Check.History = true
	wl := workload.Config{Kind: workload.Closed, Clients: 1, Think: ms, Arrival: workload.Poisson}
	h := runQuorum(t, cfg, wl, oneClient(), 200*time.Microsecond, 2*time.Second, 3, nil)
	if r := history.CheckStaleness(h.rs.hist, 0); r.Verdict != history.Fail {
		t.Errorf("R=W=1: staleness check %v", r.Verdict)
	}
	if got := h.scalar(MetricLinearizable); got != 0 {
		t.Errorf("R=W=1: linearizable %v, want 0", got)
	}
}

// TestLWWOffsetLosesPredictedWrites scripts two writers of one key, b's
// clock 30 ms behind a's, with a 1 ms one-way delay and strict quorums
// (every write reaches every replica 1 ms after it starts and is
// acknowledged at +2 ms). By hand, with v = start + offset:
//
//	a   0ms  v=0      kept
//	b  10ms  v=-20ms  lost: a's v=0 was acknowledged at 2ms
//	a  20ms  v=20ms   kept
//	b  40ms  v=10ms   lost: a's v=20ms (acknowledged at 22ms)
//	b  60ms  v=30ms   kept: newer than every acknowledged write
//	a  70ms  v=70ms   kept
//	b  80ms  v=50ms   lost: a's v=70ms (acknowledged at 72ms)
//
// so exactly b's writes at 10, 40 and 80 ms are lost, and the key ends
// with a's value from 70 ms.
func TestLWWOffsetLosesPredictedWrites(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3"}, []string{"a", "b"}
	cfg.N, cfg.R, cfg.W = 3, 3, 3
	cfg.Keys = 1
	cfg.Retry = retry.NoRetry()
	cfg.Check.History = true
	for _, s := range []struct {
		at     time.Duration
		client string
	}{{0, "a"}, {10 * ms, "b"}, {20 * ms, "a"}, {40 * ms, "b"}, {60 * ms, "b"}, {70 * ms, "a"}, {80 * ms, "b"}} {
		cfg.Script = append(cfg.Script, ScriptOp{At: s.at, Client: s.client, Kind: OpWrite})
	}
	cfg.Script = append(cfg.Script, ScriptOp{At: 100 * ms, Client: "a", Kind: OpRead})
	nodes := placements("s1", "s2", "s3", "a", "b")
	h := runQuorum(t, cfg, workload.DefaultConfig(), nodes, ms, 200*ms, 1, func(e *sim.Engine) {
		b, _ := e.Lookup("b")
		e.SetClock(b, offsetClock(-30*ms))
	})
	r := history.CheckLostWrites(h.rs.hist, h.rs.finalVersions(h.e))
	var lostAt []time.Duration
	for _, v := range r.Violations {
		for _, op := range h.rs.hist.Ops() {
			if op.ID == v.IDs[0] || op.ID == v.IDs[1] {
				if op.Process == mustLookup(h.e, "b") && op.Kind == history.Write {
					lostAt = append(lostAt, time.Duration(op.Invoke))
				}
			}
		}
	}
	want := []time.Duration{10 * ms, 40 * ms, 80 * ms}
	if r.Count != 3 || len(lostAt) != 3 || lostAt[0] != want[0] || lostAt[1] != want[1] || lostAt[2] != want[2] {
		t.Fatalf("lost writes started at %v (count %d), want %v: %v", lostAt, r.Count, want, r.Err())
	}
	if got := h.scalar(MetricLostAckedWrites); got != 3 {
		t.Errorf("lost_acked_writes %v", got)
	}
	// The final read returns a's write from 70 ms.
	ops := h.rs.hist.Ops()
	last := ops[len(ops)-1]
	var a70 history.Op
	for _, op := range ops {
		if op.Kind == history.Write && op.Invoke == sim.Time(70*ms) {
			a70 = op
		}
	}
	if last.Kind != history.Read || last.Value != a70.Value {
		t.Errorf("final read %+v, want the value of %+v", last, a70)
	}
	// Without the offset nothing is lost.
	h = runQuorum(t, cfg, workload.DefaultConfig(), nodes, ms, 200*ms, 1, nil)
	if got := h.scalar(MetricLostAckedWrites); got != 0 {
		t.Errorf("exact clocks: lost_acked_writes %v", got)
	}
}

func mustLookup(e *sim.Engine, name string) sim.NodeID {
	id, _ := e.Lookup(name)
	return id
}

// TestCPRefusesMinorityAPAccepts isolates one store of three for a
// second: cp with majority quorums stays available (two stores are a
// majority) and linearizable; a client cut off with the isolated store
// gets nothing from cp but keeps writing under ap, whose hinted writes
// reach their replicas after the heal.
func TestCPRefusesMinorityAPAccepts(t *testing.T) {
	nodes := placements("s1", "s2", "s3", "s4", "s5", "c1", "c2")
	for _, strat := range []Strategy{CP, AP} {
		cfg := DefaultConfig()
		cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3", "s4", "s5"}, []string{"c1", "c2"}
		cfg.Strategy = strat
		cfg.Keys = 5
		cfg.Mix = Mix{Read: 0.5, Write: 0.3, Increment: 0.2}
		cfg.Timeout = 100 * ms
		cfg.HintTimeout = 20 * ms
		cfg.Check.History = true
		wl := workload.Config{Kind: workload.Open, Rate: 200, Arrival: workload.Poisson}
		cut := &cutNet{Direct: sim.Direct{Delay: ms}, side: map[string]int{"s4": 1, "s5": 1, "c2": 1}, from: sim.Time(time.Second), to: sim.Time(2 * time.Second)}
		h := runQuorum(t, cfg, wl, nodes, ms, 4*time.Second, 7, func(e *sim.Engine) {
			cut.e = e
			e.SetNetwork(cut)
		})
		h.setup.Faults = nil
		lin := h.scalar(MetricLinearizable)
		switch strat {
		case CP:
			if lin != 1 {
				t.Errorf("cp: linearizable %v", lin)
			}
			if h.rs.st.failed == 0 {
				t.Errorf("cp: the cut-off client never failed")
			}
		case AP:
			if h.rs.st.failed != 0 {
				t.Errorf("ap: %d operations failed", h.rs.st.failed)
			}
			if h.scalar(MetricConflicts) == 0 && h.scalar(MetricStaleReadRatio) == 0 {
				t.Errorf("ap: neither conflicts nor stale reads across the partition")
			}
		}
	}
}

// cutNet is sim.Direct with a two-sided partition during [from, to).
type cutNet struct {
	sim.Direct
	e        *sim.Engine
	side     map[string]int
	from, to sim.Time
}

func (c *cutNet) Send(from, to sim.NodeID, msg sim.Message) {
	now := c.e.Now()
	if now >= c.from && now < c.to && c.side[c.e.NodeName(from)] != c.side[c.e.NodeName(to)] {
		return
	}
	c.Direct.Send(from, to, msg)
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3"}, []string{"c"}
	cfg.Mix = Mix{Read: 0.5, Write: 0.3, Increment: 0.2}
	cfg.Legs.WriteAck = dist.Config{Dist: "lognormal", Median: ms, P99: 5 * ms}
	wl := workload.Config{Kind: workload.Open, Rate: 500, Arrival: workload.Poisson}
	a := runQuorum(t, cfg, wl, oneClient(), ms, time.Second, 5, nil)
	b := runQuorum(t, cfg, wl, oneClient(), ms, time.Second, 5, nil)
	c := runQuorum(t, cfg, wl, oneClient(), ms, time.Second, 6, nil)
	if a.e.Hash() != b.e.Hash() {
		t.Error("same seed, different event hash")
	}
	if a.e.Hash() == c.e.Hash() {
		t.Error("different seeds, same event hash")
	}
	// With checking off the history keeps nothing per operation.
	if a.rs.hist.Len() != 0 || a.rs.st.ok < 300 {
		t.Errorf("history off kept %d operations (%d ok)", a.rs.hist.Len(), a.rs.st.ok)
	}
	if got := a.scalar(MetricLinearizable); !math.IsNaN(got) {
		t.Errorf("linearizable without a history: %v, want empty (NaN)", got)
	}
}

func TestRingAndKeys(t *testing.T) {
	r := NewRing([]string{"a", "b", "c", "d", "e"}, 16)
	counts := make([]int, 5)
	for k := uint64(0); k < 5000; k++ {
		w := r.Walk(k)
		if len(w) != 5 {
			t.Fatalf("walk %v", w)
		}
		seen := map[int]bool{}
		for _, s := range w {
			if seen[s] {
				t.Fatalf("walk repeats a store: %v", w)
			}
			seen[s] = true
		}
		counts[w[0]]++
	}
	for i, c := range counts {
		// 1000 expected each; 16 vnodes keep every share within ±50%.
		if c < 500 || c > 1500 {
			t.Errorf("store %d is first for %d of 5000 keys", i, c)
		}
	}
	// Zipf with s=1 over 10 keys: P(key 0) = 1/H_10.
	kc := newKeyChooser(10, Zipf, 1)
	rng := sim.NewStream(1, "test")
	n0 := 0
	const n = 100000
	for i := 0; i < n; i++ {
		if kc.next(rng) == 0 {
			n0++
		}
	}
	h10 := 0.0
	for i := 1; i <= 10; i++ {
		h10 += 1 / float64(i)
	}
	want := 1 / h10
	if got := float64(n0) / n; math.Abs(got-want) > 4.5*math.Sqrt(want*(1-want)/n) {
		t.Errorf("zipf P(key 0) = %v, want %v", got, want)
	}
}

func TestVerKeyOrder(t *testing.T) {
	vs := []Ver{{}, {TS: -int64(30 * ms), Node: 9}, {TS: 0, Node: 1}, {TS: 0, Node: 2}, {TS: 1, Node: 0}, {TS: int64(time.Hour), Node: 3}}
	for i := 1; i < len(vs); i++ {
		if !vs[i-1].Less(vs[i]) || vs[i-1].Key() >= vs[i].Key() {
			t.Errorf("%v !< %v (keys %d, %d)", vs[i-1], vs[i], vs[i-1].Key(), vs[i].Key())
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(c *Config)
		path string
	}{
		{"r zero", func(c *Config) { c.R = 0 }, "r"},
		{"r above n", func(c *Config) { c.R = 4 }, "r"},
		{"w above n", func(c *Config) { c.W = 5 }, "w"},
		{"cp partial", func(c *Config) { c.Strategy, c.R, c.W = CP, 1, 1 }, "r"},
		{"cp minority writes", func(c *Config) { c.Strategy, c.R, c.W = CP, 3, 1 }, "w"},
		{"negative lag", func(c *Config) { c.TVisibility = []time.Duration{0, -ms} }, "t_visibility[1]"},
		{"zipf zero", func(c *Config) { c.KeyDist, c.ZipfExponent = Zipf, 0 }, "zipf_exponent"},
		{"zipf negative", func(c *Config) { c.ZipfExponent = -1 }, "zipf_exponent"},
		{"no keys", func(c *Config) { c.Keys = 0 }, "keys"},
		{"mix", func(c *Config) { c.Mix = Mix{} }, "mix"},
		{"leg", func(c *Config) { c.Legs.ReadRequest = dist.Config{Dist: "pareto", Shape: 1} }, "legs.read_request.scale"},
		{"mixture weights", func(c *Config) {
			c.Legs.WriteAck = dist.Config{Dist: "mixture", Of: []dist.Config{{Weight: 0.5, Dist: "constant", Value: ms}}}
		}, "legs.write_ack.of"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"retry", func(c *Config) { c.Retry.MaxAttempts = 0 }, "retry.max_attempts"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		var fe sim.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.path+":") {
			t.Errorf("%s: want a problem at %s, got %v", tc.name, tc.path, err)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	// Topology: n above the stores, an unknown primary.
	c.Stores, c.N, c.Primary = []string{"a", "b"}, 3, "z"
	err := c.ValidateNodes(placements("a", "b", "c"))
	for _, p := range []string{"n:", "primary:"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ValidateNodes: want %s, got %v", p, err)
		}
	}
	// Enums name the allowed values.
	for _, doc := range []string{"strategy: quorumish", "merge: crdt", "fanout: some", "key_dist: pareto", "coordinator: server"} {
		c := DefaultConfig()
		if err := yaml.Unmarshal([]byte(doc), &c); err == nil || !strings.Contains(err.Error(), "one of") {
			t.Errorf("%q: %v", doc, err)
		}
	}
	c = DefaultConfig()
	if err := yaml.Unmarshal([]byte("strategy: ap\nmerge: lww\nfanout: quorum\nkey_dist: zipf\ncoordinator: replica\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Strategy != AP || c.Fanout != FanoutQuorum || c.KeyDist != Zipf || c.Coordinator != ReplicaCoordinates {
		t.Errorf("decoded %+v", c)
	}
}

// TestReplicaCoordinatorAndPrimary runs the other coordination paths:
// replica-coordinated operations, the primary strategy, anti-entropy and
// a crash with restart (replicas reload their durable copy).
func TestReplicaCoordinatorAndPrimary(t *testing.T) {
	for _, strat := range []Strategy{Dynamo, Primary, CP, AP} {
		cfg := DefaultConfig()
		cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3"}, []string{"c"}
		cfg.Strategy = strat
		cfg.Coordinator = ReplicaCoordinates
		cfg.AntiEntropyInterval = 50 * ms
		cfg.Mix = Mix{Read: 0.5, Write: 0.3, Increment: 0.2}
		cfg.Check.History = true
		wl := workload.Config{Kind: workload.Open, Rate: 300, Arrival: workload.Poisson}
		h := runQuorum(t, cfg, wl, oneClient(), ms, 2*time.Second, 2, func(e *sim.Engine) {
			s2, _ := e.Lookup("s2")
			e.At(sim.Time(500*ms), func() { e.Crash(s2) })
			e.At(sim.Time(700*ms), func() { e.Restart(s2) })
		})
		if h.rs.st.ok < 300 {
			t.Errorf("%v: only %d operations succeeded", strat, h.rs.st.ok)
		}
		if strat == CP && h.scalar(MetricLinearizable) != 1 {
			t.Errorf("cp with replica coordinators: linearizable %v", h.scalar(MetricLinearizable))
		}
		if av := h.scalar(MetricAvailability); !(av > 0.9) {
			t.Errorf("%v: availability %v", strat, av)
		}
	}
}

// BenchmarkOpsPerSecond measures simulated client operations per wall
// second: 4 clients, 5 stores, N=3, strict quorums, 10% increments,
// history off (nothing kept per operation).
func BenchmarkOpsPerSecond(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Stores = []string{"s1", "s2", "s3", "s4", "s5"}
	cfg.Clients = []string{"c1", "c2", "c3", "c4"}
	cfg.Mix = Mix{Read: 0.7, Write: 0.2, Increment: 0.1}
	cfg.Keys = 1000
	wl := workload.Config{Kind: workload.Open, Rate: 5000, Arrival: workload.Poisson}
	nodes := placements("s1", "s2", "s3", "s4", "s5", "c1", "c2", "c3", "c4")
	var ops uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := runQuorum(b, cfg, wl, nodes, 500*time.Microsecond, 10*time.Second, uint64(i), nil)
		ops += h.rs.st.ok + h.rs.st.failed
	}
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
}

// TestSiblingsKeepConcurrentWrites replays the clock-offset script of
// TestLWWOffsetLosesPredictedWrites under merge siblings. Each client's
// writes carry the vector of its own previous write, so they supersede
// each other, but neither client has seen the other's: two siblings
// remain (a's from 70 ms, b's from 80 ms) and nothing is lost, where
// last-writer-wins lost three writes. The read at 100 ms returns both,
// and a write made after that read supersedes them, leaving one value.
func TestSiblingsKeepConcurrentWrites(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3"}, []string{"a", "b"}
	cfg.N, cfg.R, cfg.W = 3, 3, 3
	cfg.Merge = Siblings
	cfg.Keys = 1
	cfg.Retry = retry.NoRetry()
	cfg.Check.History = true
	for _, s := range []struct {
		at     time.Duration
		client string
		kind   OpKind
	}{{0, "a", OpWrite}, {10 * ms, "b", OpWrite}, {20 * ms, "a", OpWrite}, {40 * ms, "b", OpWrite}, {60 * ms, "b", OpWrite},
		{70 * ms, "a", OpWrite}, {80 * ms, "b", OpWrite}, {100 * ms, "a", OpRead}, {120 * ms, "a", OpWrite}, {140 * ms, "b", OpRead}} {
		cfg.Script = append(cfg.Script, ScriptOp{At: s.at, Client: s.client, Kind: s.kind})
	}
	nodes := placements("s1", "s2", "s3", "a", "b")
	h := runQuorum(t, cfg, workload.DefaultConfig(), nodes, ms, 200*ms, 1, func(e *sim.Engine) {
		b, _ := e.Lookup("b")
		e.SetClock(b, offsetClock(-30*ms))
	})
	if got := h.scalar(MetricLostAckedWrites); got != 0 {
		t.Errorf("siblings: lost_acked_writes %v, want 0", got)
	}
	if h.rs.st.siblingReads != 1 {
		t.Errorf("sibling reads %d, want 1 (the read at 100 ms)", h.rs.st.siblingReads)
	}
	final := h.rs.siblingSets(h.e)[0]
	if len(final) != 1 || h.scalar(MetricConflicts) != 0 {
		t.Errorf("final set %v (conflicts %v), want the single write from 120 ms", final, h.scalar(MetricConflicts))
	}
	// Stop before the resolving write: two siblings, one conflict.
	cfg.Script = cfg.Script[:8]
	h = runQuorum(t, cfg, workload.DefaultConfig(), nodes, ms, 200*ms, 1, nil)
	if got := h.scalar(MetricConflicts); got != 1 || len(h.rs.siblingSets(h.e)[0]) != 2 {
		t.Errorf("unresolved: conflicts %v, want 1", got)
	}
	// VClock basics.
	a := VClock{{1, 2}, {3, 1}}
	b := VClock{{1, 1}, {2, 4}}
	m := a.Merge(b)
	if !m.Descends(a) || !m.Descends(b) || a.Descends(b) || b.Descends(a) || m.Get(2) != 4 || m.Get(1) != 2 {
		t.Errorf("merge %v", m)
	}
	set, _ := addSibling(nil, Sibling{Value: 1, VV: a})
	set, _ = addSibling(set, Sibling{Value: 2, VV: b})
	if len(set) != 2 {
		t.Fatalf("concurrent values not both kept: %v", set)
	}
	set, _ = addSibling(set, Sibling{Value: 3, VV: m.With(5, 1)})
	if len(set) != 1 || set[0].Value != 3 {
		t.Errorf("a descendant did not replace both: %v", set)
	}
	if got, ok := decodeSiblings(encodeSiblings(set)); !ok || len(got) != 1 || got[0].Value != 3 || len(got[0].VV) != len(set[0].VV) {
		t.Errorf("storage round trip %v", got)
	}
}

// TestRepairConverges: writes that reach one replica each (fanout quorum,
// W=1) leave the replicas divergent until something repairs them: a
// read of all three with read repair, or anti-entropy.
func TestRepairConverges(t *testing.T) {
	base := func() Config {
		c := seqConfig(3, 1, FanoutQuorum)
		for i := 0; i < 5; i++ {
			c.Script = append(c.Script, ScriptOp{At: time.Duration(i) * 10 * ms, Client: "c", Kind: OpWrite})
		}
		return c
	}
	versions := func(h *harness) []Ver {
		var out []Ver
		for _, id := range h.rs.storeIDs {
			b, _ := h.e.Storage(id).Get(storeKey(0))
			e, _ := decodeStored(b)
			out = append(out, e.ver)
		}
		return out
	}
	same := func(v []Ver) bool { return v[0] == v[1] && v[1] == v[2] }
	wl := workload.DefaultConfig()
	h := runQuorum(t, base(), wl, oneClient(), ms, time.Second, 1, nil)
	if v := versions(h); same(v) {
		t.Errorf("no repair: replicas agree %v", v)
	}
	c := base()
	c.ReadRepair = true
	c.Script = append(c.Script, ScriptOp{At: 100 * ms, Client: "c", Kind: OpRead})
	h = runQuorum(t, c, wl, oneClient(), ms, time.Second, 1, nil)
	if v := versions(h); !same(v) {
		t.Errorf("read repair: replicas differ %v", v)
	}
	c = base()
	c.AntiEntropyInterval = 10 * ms
	h = runQuorum(t, c, wl, oneClient(), ms, time.Second, 1, nil)
	if v := versions(h); !same(v) {
		t.Errorf("anti-entropy: replicas differ %v", v)
	}
}
