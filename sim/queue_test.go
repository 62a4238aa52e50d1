package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQueueOrder pushes and pops random keys (many ties) and checks the
// queue against a sorted reference: (at, seq) is a total order.
func TestQueueOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q queue
	var ref []item
	var seq uint64
	for step := 0; step < 30_000; step++ {
		if r.IntN(3) > 0 || len(ref) == 0 {
			seq++
			it := mkitem(Time(r.IntN(50)), seq, int32(step%1000))
			q.push(it)
			ref = append(ref, it)
			continue
		}
		slices.SortFunc(ref, func(a, b item) int {
			if a.less(&b) {
				return -1
			}
			if b.less(&a) {
				return 1
			}
			return 0
		})
		got := q.popDefer()
		if got != ref[0] {
			t.Fatalf("step %d: popped %+v, want %+v", step, got, ref[0])
		}
		ref = ref[1:]
		if q.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, q.len(), len(ref))
		}
	}
}

func TestQueueTiesBySeq(t *testing.T) {
	var q queue
	for i := 1; i <= 100; i++ {
		q.push(mkitem(5, uint64(i), 0))
	}
	for i := 1; i <= 100; i++ {
		if it := q.popDefer(); it.seq() != uint64(i) {
			t.Fatalf("pop %d: seq %d", i, it.seq())
		}
	}
	if q.len() != 0 {
		t.Fatalf("len %d after draining", q.len())
	}
}

func BenchmarkQueuePopPush(b *testing.B) {
	for _, n := range []int{100, 10_000, 1_000_000} {
		b.Run(itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var q queue
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				q.push(mkitem(Time(r.Int64N(1e6)), seq, 0))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				it := q.popDefer()
				seq++
				q.push(mkitem(it.at+Time(r.Int64N(1e6)), seq, 0))
			}
		})
	}
}

func itoa(n int) string {
	switch {
	case n >= 1_000_000:
		return string(rune('0'+n/1_000_000)) + "M"
	case n >= 1000:
		return itoa(n/1000) + "k"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
