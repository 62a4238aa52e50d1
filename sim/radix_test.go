package sim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRadixMatchesHeap drives the radix queue and the heap with the same
// monotone workload (pops interleaved with pushes at or after the last
// popped time, many ties) and checks they pop identical sequences.
func TestRadixMatchesHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h queue
	var rq radixQueue
	var seq uint64
	now := Time(0)
	for step := 0; step < 300_000; step++ {
		if r.IntN(5) < 3 || h.len() == 0 {
			seq++
			var d Time
			switch r.IntN(4) {
			case 0:
				d = 0
			case 1:
				d = Time(r.IntN(8))
			default:
				d = Time(r.Int64N(1 << uint(r.IntN(40))))
			}
			it := mkitem(now+d, seq, int32(step%1000))
			h.push(it)
			rq.push(&it)
			continue
		}
		until := now + Time(r.Int64N(1<<20))
		want := h.peek()
		var got item
		ok := rq.popUntil(until, &got)
		if want.at > until {
			if ok {
				t.Fatalf("step %d: popped %+v beyond until %d", step, got, until)
			}
			continue
		}
		w := h.popDefer()
		if !ok || got != w {
			t.Fatalf("step %d: radix popped %+v (%v), heap %+v", step, got, ok, w)
		}
		now = got.at
	}
	if h.len() != rq.len() {
		t.Fatalf("len %d vs %d", h.len(), rq.len())
	}
}

func BenchmarkRadixPopPush(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var q radixQueue
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				it := mkitem(Time(r.Int64N(1e6)), seq, 0)
				q.push(&it)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var it item
			for i := 0; i < b.N; i++ {
				q.popUntil(Never, &it)
				seq++
				it.at += Time(r.Int64N(1e6))
				it.key = seq<<kindBits | uint64(KindDeliver)
				q.push(&it)
			}
		})
	}
}

// BenchmarkQueuePHOLD compares the radix queue with the reference heap
// on PHOLD's increments (100 µs + Exp(1 ms)) at 1k and 1M items.
func BenchmarkQueuePHOLD(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		b.Run(itoa(n)+"/radix", func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var q radixQueue
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				it := mkitem(Time(100_000+r.ExpFloat64()*1e6), seq, 0)
				q.push(&it)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var it item
			for i := 0; i < b.N; i++ {
				q.popUntil(Never, &it)
				seq++
				it.at += Time(100_000 + r.ExpFloat64()*1e6)
				it.key = seq<<kindBits | uint64(KindDeliver)
				q.push(&it)
			}
		})
		b.Run(itoa(n)+"/heap", func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var q queue
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				q.push(mkitem(Time(100_000+r.ExpFloat64()*1e6), seq, 0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				it := q.popDefer()
				seq++
				it.at += Time(100_000 + r.ExpFloat64()*1e6)
				it.key = seq<<kindBits | uint64(KindDeliver)
				q.push(it)
			}
		})
	}
}

// TestRadixFrontAndBucket0 drives the paths the random test reaches
// rarely: a front that overflows (many pushes inside the time range of a
// sorted small bucket) and spills back into the buckets, and a bucket 0
// of many events at one instant, fed further while it drains. The radix
// queue must pop exactly what the reference heap pops.
func TestRadixFrontAndBucket0(t *testing.T) {
	var h queue
	var rq radixQueue
	var seq uint64
	push := func(at Time) {
		seq++
		it := mkitem(at, seq, int32(seq))
		h.push(it)
		rq.push(&it)
	}
	pop := func() Time {
		var got item
		if !rq.popUntil(Never, &got) {
			t.Fatalf("radix queue empty, heap has %d", h.len())
		}
		if w := h.popDefer(); got != w {
			t.Fatalf("radix popped %+v, heap %+v", got, w)
		}
		return got.at
	}
	// A small bucket becomes the front; then 3×frontMax pushes land
	// inside its range, at its times and between them.
	for i := 0; i < 10; i++ {
		push(Time(1000 + 3*i))
	}
	now := pop()
	for i := 0; i < 3*frontMax; i++ {
		push(now + Time(i%29))
	}
	for i := 0; i < 100; i++ {
		now = pop()
	}
	// Many events at one instant (bucket 0), with more at that instant
	// and a little later pushed while they drain.
	for i := 0; i < 5*chunkLen; i++ {
		push(now)
	}
	for i := 0; i < 3*chunkLen; i++ {
		now = pop()
		push(now + Time(i%2))
	}
	for h.len() > 0 {
		pop()
	}
	if rq.len() != 0 {
		t.Fatalf("radix queue holds %d after draining", rq.len())
	}
}

// TestRadixGivesBackChunks fills the queue, drains it and checks that
// most chunk storage went back to the garbage collector.
func TestRadixGivesBackChunks(t *testing.T) {
	var rq radixQueue
	r := rand.New(rand.NewPCG(7, 8))
	const n = 2000 * chunkLen
	for i := 0; i < n; i++ {
		it := mkitem(Time(r.Int64N(1e9)), uint64(i+1), 0)
		rq.push(&it)
	}
	peak := rq.chunks
	if peak < n/chunkLen {
		t.Fatalf("%d chunks hold %d items", peak, n)
	}
	var it item
	for rq.len() > 0 {
		rq.popUntil(Never, &it)
	}
	if rq.chunks > peak/4 || rq.nfree > rq.chunks {
		t.Fatalf("after draining: %d chunks kept (%d pooled), peak %d", rq.chunks, rq.nfree, peak)
	}
}

// TestSortIndex checks the front's radix sort against a stable library
// sort on indexes whose times share the digits above the sorted one, as
// a bucket's do: short and long, few and many distinct times, deep
// recursion on the digits below.
func TestSortIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		n, level int
		span     int64 // times drawn in [base, base+span)
	}{
		{1, 1, 16}, {5, 1, 16}, {insertionMax, 2, 256}, {insertionMax + 1, 2, 256},
		{40, 1, 16}, {100, 2, 3}, {256, 3, 4096}, {256, 5, 1 << 20}, {256, 5, 7},
		{512, 15, 1 << 60}, {300, 4, 65536},
	} {
		for rep := 0; rep < 20; rep++ {
			base := Time(r.Int64N(1<<40)) &^ (1<<(4*tc.level) - 1)
			x := make([]fref, tc.n)
			for i := range x {
				x[i] = fref{at: base + Time(r.Int64N(tc.span)), pos: int32(i)}
			}
			want := slices.Clone(x)
			slices.SortStableFunc(want, func(a, b fref) int { return cmp.Compare(a.at, b.at) })
			sortIndex(x, make([]fref, len(x)), (tc.level-1)*digitBits)
			if !slices.Equal(x, want) {
				t.Fatalf("n=%d level=%d span=%d: sorted %v, want %v", tc.n, tc.level, tc.span, x, want)
			}
		}
	}
}

// TestRadixFrontInsert keeps the front active and pushes into its range
// at random: at the head's time, before it (the slot before the head),
// between pending items (binary search) and after them (append). The
// radix queue must pop what the reference heap pops.
func TestRadixFrontInsert(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var h queue
	var rq radixQueue
	var seq uint64
	push := func(at Time) {
		seq++
		it := mkitem(at, seq, int32(seq))
		h.push(it)
		rq.push(&it)
	}
	now := Time(0)
	for round := 0; round < 200; round++ {
		// A bucket of level 2 (times within 256 ns) becomes the front.
		base := now + 1<<12
		for i := 0; i < 1+r.IntN(frontSort); i++ {
			push(base + Time(r.IntN(200)))
		}
		for rq.len() > 0 {
			var got item
			rq.popUntil(Never, &got)
			if w := h.popDefer(); got != w {
				t.Fatalf("round %d: radix popped %+v, heap %+v", round, got, w)
			}
			now = got.at
			for k := r.IntN(3); k > 0; k-- {
				switch r.IntN(4) {
				case 0:
					push(now)
				case 1:
					push(now + Time(r.IntN(3)))
				default:
					push(now + Time(r.IntN(256)))
				}
			}
			if r.IntN(8) == 0 {
				break
			}
		}
	}
	for h.len() > 0 {
		var got item
		rq.popUntil(Never, &got)
		if w := h.popDefer(); got != w {
			t.Fatalf("drain: radix popped %+v, heap %+v", got, w)
		}
	}
}

// TestRadixFrontStaysBounded runs a small queue whose pushes land inside
// the front, many of them before most of its pending entries (PHOLD with
// 100 processes and a 1 µs lookahead): the front's storage must be
// compacted, not grow with the number of events.
func TestRadixFrontStaysBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var q radixQueue
	var seq uint64
	for i := 0; i < 100; i++ {
		seq++
		it := mkitem(Time(1000+r.ExpFloat64()*1e6), seq, 0)
		q.push(&it)
	}
	var it item
	for i := 0; i < 300_000; i++ {
		q.popUntil(Never, &it)
		seq++
		it.at += Time(1000 + r.ExpFloat64()*1e6)
		it.key = seq<<kindBits | uint64(KindDeliver)
		q.push(&it)
	}
	if c := cap(q.front); c > 4*frontMax {
		t.Fatalf("front storage grew to %d items for %d pending", c, q.len())
	}
}
