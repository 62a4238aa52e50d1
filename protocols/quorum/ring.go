package quorum

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Ring is a consistent-hash ring over the store nodes (Karger et al.,
// 1997, as used by Dynamo): each store owns VNodes points of a 64-bit
// circle, and a key's preference list is the distinct stores met walking
// clockwise from the key's hash. The first N are its replicas; the rest,
// in order, are the fallbacks of a sloppy quorum.
type Ring struct {
	points []ringPoint
	stores int
	walks  map[uint64][]int
}

type ringPoint struct {
	hash  uint64
	store int
}

// NewRing places stores (given by name; their index in the slice is what
// the ring returns) with vnodes points each.
func NewRing(stores []string, vnodes int) *Ring {
	r := &Ring{stores: len(stores), walks: map[uint64][]int{}}
	for i, name := range stores {
		for v := 0; v < vnodes; v++ {
			h := fnv.New64a()
			h.Write([]byte(name + "#" + strconv.Itoa(v)))
			// FNV alone clusters similar short names; the finaliser spreads them.
			r.points = append(r.points, ringPoint{hash: keyHash(h.Sum64()), store: i})
		}
	}
	sort.Slice(r.points, func(i, j int) bool {
		if r.points[i].hash != r.points[j].hash {
			return r.points[i].hash < r.points[j].hash
		}
		return r.points[i].store < r.points[j].store
	})
	return r
}

// keyHash spreads key numbers over the circle (splitmix64's finaliser).
func keyHash(k uint64) uint64 {
	k += 0x9e3779b97f4a7c15
	k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9
	k = (k ^ (k >> 27)) * 0x94d049bb133111eb
	return k ^ (k >> 31)
}

// Walk returns every store in the key's preference order. The slice is
// cached and shared: callers must not modify it.
func (r *Ring) Walk(key uint64) []int {
	if w, ok := r.walks[key]; ok {
		return w
	}
	h := keyHash(key)
	i := sort.Search(len(r.points), func(i int) bool { return r.points[i].hash >= h })
	seen := make([]bool, r.stores)
	w := make([]int, 0, r.stores)
	for n := 0; n < len(r.points) && len(w) < r.stores; n++ {
		p := r.points[(i+n)%len(r.points)]
		if !seen[p.store] {
			seen[p.store] = true
			w = append(w, p.store)
		}
	}
	if len(r.walks) < 1<<20 {
		r.walks[key] = w
	}
	return w
}

// Replicas returns the key's first n stores.
func (r *Ring) Replicas(key uint64, n int) []int { return r.Walk(key)[:n] }

// keyChooser draws keys: uniform, or Zipf over ranks 1..K by inverting a
// precomputed CDF (any exponent s > 0, unlike math/rand's s > 1).
type keyChooser struct {
	keys int
	cdf  []float64 // nil for uniform
}

func newKeyChooser(keys int, d KeyDist, s float64) *keyChooser {
	c := &keyChooser{keys: keys}
	if d == Zipf {
		c.cdf = make([]float64, keys)
		sum := 0.0
		for i := range keys {
			sum += 1 / math.Pow(float64(i+1), s)
			c.cdf[i] = sum
		}
		for i := range c.cdf {
			c.cdf[i] /= sum
		}
	}
	return c
}

// next draws a key: 0 is the most popular under Zipf.
func (c *keyChooser) next(r *rand.Rand) uint64 {
	if c.cdf == nil {
		return uint64(r.IntN(c.keys))
	}
	u := r.Float64()
	return uint64(min(sort.SearchFloat64s(c.cdf, u), c.keys-1))
}
