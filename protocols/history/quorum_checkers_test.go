package history

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// op is a compact way to write a history: process, kind, key, value,
// version, invoke, complete, outcome.
type rop struct {
	p       sim.NodeID
	kind    Kind
	key     uint64
	value   int64
	version uint64
	inv     sim.Time
	done    sim.Time // Pending for an operation that never completed
	out     sim.Outcome
	prev    uint64
	expect  int64
}

func buildOps(ops ...rop) *History {
	h := New(Config{Enabled: true})
	for i, o := range ops {
		h.Record(Op{ID: uint64(i + 1), Process: o.p, Kind: o.kind, Key: o.key, Value: o.value, Version: o.version,
			Invoke: o.inv, Complete: o.done, Outcome: o.out, Prev: o.prev, Expect: o.expect})
	}
	return h
}

func TestLinearizable(t *testing.T) {
	ok := sim.OK
	cases := []struct {
		name string
		h    *History
		want Verdict
	}{
		{"sequential", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 10, out: ok},
			rop{p: 2, kind: Read, value: 1, inv: 20, done: 30, out: ok},
		), Pass},
		// A read that starts after a write completed returns the value
		// from before it: a stale read, not linearizable.
		{"stale read", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 10, out: ok},
			rop{p: 1, kind: Write, value: 2, inv: 20, done: 30, out: ok},
			rop{p: 2, kind: Read, value: 1, inv: 40, done: 50, out: ok},
		), Fail},
		// Concurrent write and read: either order is fine.
		{"concurrent", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 50, out: ok},
			rop{p: 2, kind: Read, value: 0, inv: 10, done: 20, out: ok},
			rop{p: 3, kind: Read, value: 1, inv: 30, done: 60, out: ok},
		), Pass},
		// New then old from two readers, both after the write started
		// and the first read finished before the second began.
		{"new then old", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 100, out: ok},
			rop{p: 2, kind: Read, value: 1, inv: 10, done: 20, out: ok},
			rop{p: 3, kind: Read, value: 0, inv: 30, done: 40, out: ok},
		), Fail},
		// A timed-out write may have taken effect later.
		{"timed out write seen", buildOps(
			rop{p: 1, kind: Write, value: 7, inv: 0, done: 10, out: sim.TimedOut},
			rop{p: 2, kind: Read, value: 7, inv: 100, done: 110, out: ok},
		), Pass},
		// A failed write certainly had no effect: reading it is wrong.
		{"failed write seen", buildOps(
			rop{p: 1, kind: Write, value: 7, inv: 0, done: 10, out: sim.Failed},
			rop{p: 2, kind: Read, value: 7, inv: 100, done: 110, out: ok},
		), Fail},
		// Two CASes on the same expected value cannot both succeed.
		{"double cas", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 10, out: ok},
			rop{p: 2, kind: CAS, value: 2, expect: 1, inv: 20, done: 30, out: ok},
			rop{p: 3, kind: CAS, value: 3, expect: 1, inv: 40, done: 50, out: ok},
		), Fail},
		{"cas chain", buildOps(
			rop{p: 1, kind: Write, value: 1, inv: 0, done: 10, out: ok},
			rop{p: 2, kind: CAS, value: 2, expect: 1, inv: 20, done: 30, out: ok},
			rop{p: 3, kind: CAS, value: 3, expect: 2, inv: 40, done: 50, out: ok},
			rop{p: 3, kind: Read, value: 3, inv: 60, done: 70, out: ok},
		), Pass},
		// Keys are independent registers.
		{"two keys", buildOps(
			rop{p: 1, kind: Write, key: 1, value: 1, inv: 0, done: 10, out: ok},
			rop{p: 2, kind: Read, key: 2, value: 0, inv: 20, done: 30, out: ok},
			rop{p: 2, kind: Read, key: 1, value: 1, inv: 20, done: 30, out: ok},
		), Pass},
	}
	for _, c := range cases {
		r := CheckLinearizable(c.h, time.Minute)
		if r.Verdict != c.want {
			t.Errorf("%s: verdict %v, want %v (%v)", c.name, r.Verdict, c.want, r.Err())
		}
		if c.want == Fail {
			var ve *ViolationError
			if !errors.As(r.Err(), &ve) || len(ve.IDs()) == 0 {
				t.Errorf("%s: failing report names no operations: %v", c.name, r.Err())
			}
		}
	}
}

func TestLinearizableUnknown(t *testing.T) {
	if r := CheckLinearizable(New(Config{}), time.Second); r.Verdict != Unknown || !errors.Is(r.Err(), ErrUnknown) {
		t.Errorf("disabled history: %v", r.Verdict)
	}
	h := New(Config{Enabled: true, MaxOps: 1})
	h.Event(1, 1, 2, Write, 0, 1, 0)
	h.Event(2, 1, 2, Write, 0, 2, 0)
	if r := CheckLinearizable(h, time.Second); r.Verdict != Unknown {
		t.Errorf("truncated history: %v", r.Verdict)
	}
}

// hardHistory builds n operations on one key from c concurrent clients,
// every read returning a value written by some overlapping write, which
// makes the search wide.
func hardHistory(n, c int, seed uint64) *History {
	rng := rand.New(rand.NewPCG(seed, 1))
	h := New(Config{Enabled: true})
	var last int64
	now := sim.Time(0)
	for i := 0; i < n; i++ {
		p := sim.NodeID(i % c)
		inv := now
		done := now + sim.Time(1+rng.IntN(50))
		now += sim.Time(rng.IntN(5))
		if rng.IntN(2) == 0 {
			last = int64(i + 1)
			h.Record(Op{ID: uint64(i + 1), Process: p, Kind: Write, Value: last, Invoke: inv, Complete: done, Outcome: sim.OK})
		} else {
			h.Record(Op{ID: uint64(i + 1), Process: p, Kind: Read, Value: last, Invoke: inv, Complete: done, Outcome: sim.OK})
		}
	}
	return h
}

// TestLinearizableBudget: a tiny budget on a large concurrent history
// ends Unknown (never Pass); a generous one decides.
func TestLinearizableBudget(t *testing.T) {
	h := hardHistory(20000, 40, 3)
	r := CheckLinearizable(h, time.Nanosecond)
	if r.Verdict == Pass {
		t.Fatalf("1ns budget gave a verdict: %v", r.Verdict)
	}
	if r.Verdict == Unknown && r.Reason == "" {
		t.Error("unknown without a reason")
	}
}

func TestStalenessTracker(t *testing.T) {
	ms := sim.Time(time.Millisecond)
	s := NewStaleness([]time.Duration{0, 5 * time.Millisecond}, 4)
	s.Commit(1, 10, 1*ms)
	s.Commit(1, 20, 2*ms)
	s.Commit(1, 30, 10*ms)
	// Started at 12ms, returned version 10: versions 20 and 30 had
	// committed, so two behind. At lag 0 the reference is version 30
	// (stale); at lag 5ms it is version 20 (committed at 2ms ≤ 7ms; stale).
	if k, lag := s.Read(1, 12*ms, 10); k != 2 || lag != 2*time.Millisecond {
		t.Errorf("behind %d lag %v, want 2 versions and 2ms (the newest missed write committed at 10ms)", k, lag)
	}
	// Returned 20 at 12ms: one behind; at lag 5ms it is consistent.
	if k, _ := s.Read(1, 12*ms, 20); k != 1 {
		t.Errorf("behind %d, want 1", k)
	}
	// Returned 30: fresh everywhere.
	if k, _ := s.Read(1, 12*ms, 30); k != 0 {
		t.Errorf("behind %d, want 0", k)
	}
	// A read of a key never written has no reference write.
	if k, _ := s.Read(2, 12*ms, 0); k != 0 {
		t.Errorf("behind %d, want 0", k)
	}
	// A write committing at the instant a read starts is concurrent.
	if k, _ := s.Read(1, 10*ms, 20); k != 0 {
		t.Errorf("concurrent commit counted: behind %d", k)
	}
	if got := s.PConsistent(0); math.Abs(got-2.0/4) > 1e-12 {
		t.Errorf("p(0) %v, want 2/4", got)
	}
	if got := s.PConsistent(1); math.Abs(got-3.0/4) > 1e-12 {
		t.Errorf("p(5ms) %v, want 3/4", got)
	}
	if s.Reads() != 5 || s.Behind(0) != 3 || s.Behind(1) != 1 || s.Behind(2) != 1 {
		t.Errorf("counts reads %d behind %d %d %d", s.Reads(), s.Behind(0), s.Behind(1), s.Behind(2))
	}
	if got := s.StaleRatio(); math.Abs(got-2.0/5) > 1e-12 {
		t.Errorf("stale ratio %v", got)
	}
	// The window keeps the last 4 commits: k saturates at depth.
	for v := uint64(40); v < 100; v += 10 {
		s.Commit(1, v, 20*ms)
	}
	if k, _ := s.Read(1, 30*ms, 0); k != 4 {
		t.Errorf("saturated behind %d, want 4", k)
	}
}

func TestCheckStaleness(t *testing.T) {
	ok := sim.OK
	h := buildOps(
		rop{p: 1, kind: Write, value: 1, version: 1, inv: 0, done: 10, out: ok},
		rop{p: 1, kind: Write, value: 2, version: 2, inv: 20, done: 30, out: ok},
		rop{p: 2, kind: Read, value: 1, version: 1, inv: 40, done: 50, out: ok},
	)
	if r := CheckStaleness(h, 1); r.Verdict != Pass {
		t.Errorf("max 1: %v", r.Err())
	}
	r := CheckStaleness(h, 0)
	if r.Verdict != Fail || r.Count != 1 {
		t.Fatalf("max 0: %v", r.Err())
	}
	var ve *ViolationError
	if errors.As(r.Err(), &ve); ve.IDs()[0] != 2 || ve.IDs()[1] != 3 {
		t.Errorf("ids %v, want the read and the missed write", ve.IDs())
	}
}

func TestCheckLostWrites(t *testing.T) {
	ok := sim.OK
	// Write 1 carries a clock 50 ahead: write 2 starts after it was
	// acknowledged but gets an older version, so it is lost. Write 3 is
	// newer than both and survives.
	h := buildOps(
		rop{p: 1, kind: Write, value: 1, version: 60, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: Write, value: 2, version: 20, inv: 20, done: 30, out: ok},
		rop{p: 2, kind: Write, value: 3, version: 70, inv: 70, done: 80, out: ok},
		// A failed write is never lost.
		rop{p: 2, kind: Write, value: 4, version: 5, inv: 90, done: 95, out: sim.Failed},
	)
	r := CheckLostWrites(h, nil)
	if r.Count != 1 || r.Violations[0].IDs[1] != 2 {
		t.Fatalf("lost %v", r.Err())
	}
	// Two acknowledged CASes from the same base: the older version lost.
	h = buildOps(
		rop{p: 1, kind: CAS, key: 3, value: 1, version: 100, prev: 7, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: CAS, key: 3, value: 2, version: 90, prev: 7, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: CAS, key: 3, value: 3, version: 110, prev: 100, inv: 20, done: 30, out: ok},
	)
	r = CheckLostWrites(h, map[uint64]uint64{3: 110})
	if r.Count != 1 || r.Violations[0].IDs[0] != 1 || r.Violations[0].IDs[1] != 2 {
		t.Fatalf("lost update %v", r.Err())
	}
	if c := Conflicts(h); c != 1 {
		t.Errorf("conflicts %d, want 1", c)
	}
	// Final state older than an acknowledged write: it vanished.
	r = CheckLostWrites(h, map[uint64]uint64{3: 100})
	if r.Count != 2 {
		t.Fatalf("vanished: %v", r.Err())
	}
	// A clean history passes.
	h = buildOps(
		rop{p: 1, kind: Write, value: 1, version: 1, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: Write, value: 2, version: 2, inv: 20, done: 30, out: ok},
	)
	if r := CheckLostWrites(h, map[uint64]uint64{0: 2}); r.Verdict != Pass {
		t.Errorf("clean: %v", r.Err())
	}
	if r := CheckLostWrites(New(Config{}), nil); r.Verdict != Unknown {
		t.Errorf("disabled: %v", r.Verdict)
	}
}

// BenchmarkLinearizable10k measures porcupine on a 10,000-operation
// history of one key with 10 concurrent clients (the check time asked of
// the quorum family). Reported as ns/op per whole check.
func BenchmarkLinearizable10k(b *testing.B) {
	h := quorumLike(10000, 10, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := CheckLinearizable(h, time.Minute); r.Verdict != Pass {
			b.Fatalf("verdict %v: %v", r.Verdict, r.Err())
		}
	}
}

// BenchmarkLinearizable10kOneKey is the same with every operation on one
// key: one search over 10,000 operations, at most 10 concurrent.
func BenchmarkLinearizable10kOneKey(b *testing.B) {
	h := quorumLike(10000, 10, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := CheckLinearizable(h, time.Minute); r.Verdict != Pass {
			b.Fatalf("verdict %v: %v", r.Verdict, r.Err())
		}
	}
}

// quorumLike builds a linearizable history of n operations over keys keys
// from c clients, each operation taking effect at an instant inside its
// interval, as a correct store would produce.
func quorumLike(n, c, keys int) *History {
	rng := rand.New(rand.NewPCG(7, 7))
	h := New(Config{Enabled: true})
	val := make([]int64, keys)
	now := sim.Time(0)
	for i := 0; i < n; i++ {
		now += sim.Time(1 + rng.IntN(3))
		k := rng.IntN(keys)
		inv := now - sim.Time(rng.IntN(c))
		done := now + sim.Time(rng.IntN(c))
		if rng.IntN(2) == 0 {
			val[k] = int64(i + 1)
			h.Record(Op{ID: uint64(i + 1), Process: sim.NodeID(i % c), Kind: Write, Key: uint64(k), Value: val[k], Invoke: inv, Complete: done, Outcome: sim.OK})
		} else {
			h.Record(Op{ID: uint64(i + 1), Process: sim.NodeID(i % c), Kind: Read, Key: uint64(k), Value: val[k], Invoke: inv, Complete: done, Outcome: sim.OK})
		}
	}
	return h
}

func TestQuorumLikeHistoryPasses(t *testing.T) {
	if r := CheckLinearizable(quorumLike(2000, 10, 20), time.Minute); r.Verdict != Pass {
		t.Fatalf("%v", r.Err())
	}
}

// TestLinearizableNamesTheFailingKey: of two keys only key 2 has a stale
// read; the report names key 2 and its operations only.
func TestLinearizableNamesTheFailingKey(t *testing.T) {
	ok := sim.OK
	h := buildOps(
		rop{p: 1, kind: Write, key: 1, value: 1, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: Read, key: 1, value: 1, inv: 20, done: 30, out: ok},
		rop{p: 1, kind: Write, key: 2, value: 5, inv: 0, done: 10, out: ok},
		rop{p: 2, kind: Read, key: 2, value: 0, inv: 20, done: 30, out: ok},
	)
	r := CheckLinearizable(h, time.Minute)
	if r.Verdict != Fail || r.Count != 1 {
		t.Fatalf("%v", r.Err())
	}
	if v := r.Violations[0]; len(v.IDs) != 2 || v.IDs[0] != 3 || v.IDs[1] != 4 {
		t.Errorf("violation %+v, want ops 3 and 4 of key 2", v)
	}
}
