package rpc

import (
	"math/rand/v2"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

// TestIDTable checks idTable against a map under a mix of sequential IDs
// from a few senders, callers and incarnations, long-lived stragglers and
// random deletions.
func TestIDTable(t *testing.T) {
	type key struct {
		from sim.NodeID
		id   uint64
	}
	r := rand.New(rand.NewPCG(1, 2))
	var tab idTable[int]
	ref := map[key]*int{}
	var live []key
	seq := map[key]uint64{} // per (sender, caller-incarnation prefix)
	for step := 0; step < 200000; step++ {
		switch {
		case len(live) < 3000 && r.IntN(3) > 0:
			from := sim.NodeID(r.IntN(5))
			prefix := uint64(r.IntN(3))<<idxShift | uint64(r.IntN(2))<<seqBits
			p := key{from, prefix}
			seq[p]++
			k := key{from, prefix | seq[p]}
			v := new(int)
			*v = step
			tab.putFrom(k.from, k.id, v)
			ref[k] = v
			live = append(live, k)
		case len(live) > 0:
			// Mostly the oldest (FIFO-ish), sometimes any.
			i := 0
			if r.IntN(4) == 0 {
				i = r.IntN(len(live))
			}
			if i < len(live)/100 && r.IntN(50) == 0 {
				continue // a straggler stays
			}
			k := live[i]
			live = append(live[:i], live[i+1:]...)
			tab.delFrom(k.from, k.id)
			tab.delFrom(k.from, k.id) // absent: no-op
			delete(ref, k)
		}
		if step%1009 == 0 {
			if tab.n != len(ref) {
				t.Fatalf("step %d: n = %d, want %d", step, tab.n, len(ref))
			}
			for k, v := range ref {
				if got := tab.getFrom(k.from, k.id); got != v {
					t.Fatalf("step %d: get(%v) = %p, want %p", step, k, got, v)
				}
				if got := tab.getFrom(k.from+7, k.id); got != nil {
					t.Fatalf("step %d: get of an absent key found %p", step, got)
				}
			}
		}
	}
}

// BenchmarkIDTable is one put, get and delete of a sequential ID with
// about 1,000 IDs live (first in, first out).
func BenchmarkIDTable(b *testing.B) {
	var tab idTable[int]
	v := new(int)
	const window = 1000
	for id := uint64(1); id <= window; id++ {
		tab.put(id, v)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint64(i) + window + 1
		tab.put(id, v)
		if tab.get(id-window/2) == nil {
			b.Fatal("missing")
		}
		tab.del(id - window)
	}
}
