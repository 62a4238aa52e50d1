package sim

import "math/rand/v2"

// Stream names are how components get independent random numbers. Every
// component draws from its own PCG generator seeded from (run seed, stable
// name), for example "net/link/a->b" or "node/db-1". Because a stream depends
// only on its own name, adding a component never changes the draws of any
// other component: two configs that differ in one place share every other
// random sequence (common random numbers).

// DeriveSeed mixes a run seed and a stream name into a 64-bit seed. It is a
// pure function, stable across releases: changing it changes every result.
func DeriveSeed(seed uint64, name string) uint64 {
	// FNV-1a over the name, then SplitMix64 finalisation of seed^hash.
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return splitmix(seed ^ splitmix(h))
}

// NewStream returns a generator for the named stream of a run seed.
func NewStream(seed uint64, name string) *rand.Rand {
	s1 := DeriveSeed(seed, name)
	return rand.New(rand.NewPCG(s1, splitmix(s1^0x9e3779b97f4a7c15)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
