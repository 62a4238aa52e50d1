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
// sizes. Each b.N is one PHOLD event; allocs/op must be 0.
func BenchmarkPHOLD(b *testing.B) {
	for _, tc := range []struct {
		name       string
		lps, perLP int
	}{
		{"1k_x1", 1000, 1},
		{"1k_x10", 1000, 10},
		{"1k_x1000", 1000, 1000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := Config{LPs: tc.lps, PerLP: tc.perLP, Events: uint64(b.N), Lookahead: time.Microsecond, Mean: time.Millisecond, Seed: 1}
			e, err := Build(c)
			if err != nil {
				b.Fatal(err)
			}
			// Warm up: dispatch the start events and let slabs grow.
			if err := e.Run(0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := Drive(e); err != nil {
				b.Fatal(err)
			}
		})
	}
}
