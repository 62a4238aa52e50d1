package phold

import (
	"testing"
	"time"
)

func TestSameSeedSameHash(t *testing.T) {
	c := Config{LPs: 100, PerLP: 4, Events: 50_000, Lookahead: time.Microsecond, Mean: time.Millisecond, Seed: 7}
	a, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same seed, different results: %+v vs %+v", a, b)
	}
	if a.Events != c.Events+uint64(c.LPs) {
		t.Fatalf("dispatched %d events, want %d", a.Events, c.Events+uint64(c.LPs))
	}
	c.Seed = 8
	d, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash == a.Hash {
		t.Fatalf("different seeds gave the same hash %x", a.Hash)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{LPs: 0, PerLP: 1, Events: 1},
		{LPs: 1, PerLP: 0, Events: 1},
		{LPs: 1, PerLP: 1, Events: 0},
		{LPs: 1, PerLP: 1, Events: 1, Mean: -1},
		{LPs: 1, PerLP: 1, Events: 1, Lookahead: -1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

// BenchmarkPHOLD reports the engine's per-event cost at several queue
// sizes, each next to the bare 4-ary heap running the same workload
// (Heap), so the ratio comes from one run:
//
//	go test -run '^$' -bench PHOLD -benchmem ./sim/phold
//
// Each b.N is one PHOLD event; allocs/op must be 0 for the engine.
func BenchmarkPHOLD(b *testing.B) {
	for _, tc := range []struct {
		name       string
		lps, perLP int
	}{
		{"1k", 1000, 1},
		{"10k", 1000, 10},
		{"1M", 1000, 1000},
	} {
		c := Config{LPs: tc.lps, PerLP: tc.perLP, Lookahead: 100 * time.Microsecond, Mean: time.Millisecond, Seed: 1}
		b.Run(tc.name+"/dsim", func(b *testing.B) {
			c := c
			c.Events = uint64(b.N)
			e, err := Build(c)
			if err != nil {
				b.Fatal(err)
			}
			// Warm up: dispatch the start events, queueing N×M events.
			if err := e.Run(0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := Drive(e); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(tc.name+"/heap", func(b *testing.B) {
			h, err := NewHeap(Config{LPs: c.LPs, PerLP: c.PerLP, Events: 1, Lookahead: c.Lookahead, Mean: c.Mean, Seed: c.Seed})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			h.Run(uint64(b.N))
		})
	}
}
