package phold

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestHeapOrder checks the reference heap against a sorted slice: every
// pop must remove the least (at, seq) entry, ties broken by seq.
func TestHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	h := &Heap{}
	var ref []heapItem
	var seq uint64
	for i := 0; i < 500; i++ {
		seq++
		it := heapItem{at: toTime(r.IntN(40)), seq: seq, lp: int32(i)}
		h.push(it)
		ref = append(ref, it)
	}
	cmp := func(a, b heapItem) int {
		switch {
		case a.less(&b):
			return -1
		case b.less(&a):
			return 1
		}
		return 0
	}
	for step := 0; step < 20_000; step++ {
		slices.SortFunc(ref, cmp)
		if h.h[0] != ref[0] {
			t.Fatalf("step %d: top %+v, want %+v", step, h.h[0], ref[0])
		}
		seq++
		it := heapItem{at: ref[0].at + toTime(r.IntN(40)), seq: seq, lp: int32(step)}
		h.pop()
		h.push(it)
		ref[0] = it
	}
}

func toTime(n int) sim.Time { return sim.Time(n) }

func TestHeapRunIsDeterministic(t *testing.T) {
	c := Config{LPs: 100, PerLP: 10, Lookahead: 100 * time.Microsecond, Mean: time.Millisecond, Seed: 3, Events: 1}
	run := func(seed uint64) Result {
		c.Seed = seed
		h, err := NewHeap(c)
		if err != nil {
			t.Fatal(err)
		}
		if h.Pending() != 1000 {
			t.Fatalf("pending %d, want 1000", h.Pending())
		}
		return h.Run(20_000)
	}
	a, b, d := run(3), run(3), run(4)
	if a != b {
		t.Fatalf("same seed, different results: %+v vs %+v", a, b)
	}
	if a.Hash == d.Hash {
		t.Fatalf("different seeds, same hash %x", a.Hash)
	}
	if a.Events != 20_000 || a.End <= 0 {
		t.Fatalf("result %+v", a)
	}
	if _, err := NewHeap(Config{}); err == nil {
		t.Fatal("NewHeap accepted an invalid config")
	}
}
