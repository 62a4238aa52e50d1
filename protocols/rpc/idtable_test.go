package rpc

import (
	"math/rand/v2"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

// TestReqTable checks reqTable against a map under a mix of sequential
// IDs from a few senders, callers and incarnations, long-lived stragglers
// and random removals.
func TestReqTable(t *testing.T) {
	type key struct {
		from sim.NodeID
		id   uint64
	}
	r := rand.New(rand.NewPCG(1, 2))
	var tab reqTable
	tab.init()
	ref := map[key]*job{}
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
			j := &job{}
			j.from, j.req = k.from, k.id
			if tab.full() {
				tab.grow()
			}
			tab.add(j)
			ref[k] = j
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
			j := ref[k]
			tab.remove(j)
			tab.remove(j) // absent: no-op
			delete(ref, k)
		}
		if step%1009 == 0 {
			if tab.n != len(ref) {
				t.Fatalf("step %d: n = %d, want %d", step, tab.n, len(ref))
			}
			for k, v := range ref {
				if got := tab.find(k.from, k.id); got != v {
					t.Fatalf("step %d: find(%v) = %p, want %p", step, k, got, v)
				}
				if got := tab.find(k.from+7, k.id); got != nil {
					t.Fatalf("step %d: find of an absent key found %p", step, got)
				}
			}
		}
	}
}

// BenchmarkReqTable is one add, find and remove of a sequential ID with
// about 1,000 IDs live (first in, first out).
func BenchmarkReqTable(b *testing.B) {
	var tab reqTable
	tab.init()
	const window = 1000
	jobs := make([]job, 2*window)
	put := func(id uint64) {
		j := &jobs[id%uint64(len(jobs))]
		j.from, j.req = 3, id
		if tab.full() {
			tab.grow()
		}
		tab.add(j)
	}
	for id := uint64(1); id <= window; id++ {
		put(id)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint64(i) + window + 1
		put(id)
		if tab.find(3, id-window/2) == nil {
			b.Fatal("missing")
		}
		tab.remove(&jobs[(id-window)%uint64(len(jobs))])
	}
}

// TestSeqRing checks seqRing against a map: sequential IDs, mostly first
// in first out, with stragglers that outlive the full-size ring.
func TestSeqRing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ring seqRing[int]
	ref := map[uint64]*int{}
	var live []uint64
	var seq uint64 = 7 << idxShift
	for range 3 { // calls stuck for good: later IDs collide with them
		seq++
		v := new(int)
		ring.put(seq, v)
		ref[seq] = v
	}
	maxOver := 0
	for step := 0; step < 600000; step++ {
		maxOver = max(maxOver, len(ring.over))
		if len(live) < 2000 && r.IntN(2) == 0 {
			seq += 1 + uint64(r.IntN(2))
			v := new(int)
			ring.put(seq, v)
			ref[seq] = v
			live = append(live, seq)
		} else if len(live) > 0 {
			i := 0
			if r.IntN(4) == 0 {
				i = r.IntN(len(live))
			}
			if r.IntN(300) == 0 {
				continue // everything stays a while longer
			}
			if i == 0 && len(live) > 1 && r.IntN(20) == 0 {
				i = 1 // the oldest is a straggler for now
			}
			id := live[i]
			live = append(live[:i], live[i+1:]...)
			ring.del(id)
			ring.del(id)
			delete(ref, id)
		}
		if step%1009 == 0 {
			for id, v := range ref {
				if got := ring.get(id); got != v {
					t.Fatalf("step %d: get(%x) = %p, want %p", step, id, got, v)
				}
			}
			if got := ring.get(seq + 1); got != nil {
				t.Fatalf("step %d: get of an absent ID found %p", step, got)
			}
		}
	}
	if len(ring.slots) > ringMax || maxOver == 0 {
		t.Fatalf("ring grew to %d slots, at most %d in the overflow map", len(ring.slots), maxOver)
	}
	t.Logf("%d slots, at most %d in the overflow map, %d live", len(ring.slots), maxOver, len(ref))
}

// BenchmarkSeqRing is BenchmarkIDTable for seqRing.
func BenchmarkSeqRing(b *testing.B) {
	var r seqRing[int]
	v := new(int)
	const window = 1000
	for id := uint64(1); id <= window; id++ {
		r.put(id, v)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint64(i) + window + 1
		r.put(id, v)
		if r.get(id-window/2) == nil {
			b.Fatal("missing")
		}
		r.del(id - window)
	}
}
