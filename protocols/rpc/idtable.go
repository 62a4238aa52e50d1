package rpc

import (
	"math/bits"

	"github.com/dsim-dev/dsim/sim"
)

// reqTable finds the jobs a server is working on by sender and request
// ID without a Go map (a node's own IDs are in a seqRing): a chained hash
// table whose chains run through the jobs themselves (job.nextReq), so a
// lookup is one multiply-shift and seldom a job, an insertion links
// the job at the head of its chain, and a removal unlinks it, knowing
// the job, without comparing keys. The hash is Fibonacci hashing (one
// multiply; sequential IDs land far apart) of the request ID mixed with
// the sender. The table doubles when it holds a quarter as many jobs as
// chains (a lookup of an absent key, the usual one, walks a whole chain,
// and each job on it is a cache line of its own), and is never iterated
// but to rehash, so its layout cannot reach behaviour. Call init before
// the first find.
type reqTable struct {
	heads []*job
	n     int
	shift uint8 // 64 − log2(len(heads))
}

const reqTableMin = 64

// home returns the chain of key (from, id): the top bits of the key
// times 2⁶⁴/φ. The sender goes in above the sequence bits of the ID (a
// multiply carries every bit upwards, so it reaches the top bits); keys
// that still mix to the same value only share a chain.
func home(from sim.NodeID, id uint64, shift uint8) uint64 {
	return ((id ^ uint64(uint32(from))<<seqBits) * 0x9e3779b97f4a7c15) >> shift
}

// init gives the table its first chains, so that find and remove need not
// check for an empty table.
func (t *reqTable) init() {
	if t.heads == nil {
		t.grow()
	}
}

// find returns the job of request id from sender from, or nil.
func (t *reqTable) find(from sim.NodeID, id uint64) *job {
	for j := t.heads[home(from, id, t.shift)]; j != nil; j = j.nextReq {
		if j.req == id && j.from == from {
			return j
		}
	}
	return nil
}

// add enters j under (j.from, j.req), which must not be present. The
// table must have room (grow when full says so): add inlines, grow does
// not.
func (t *reqTable) add(j *job) {
	t.n++
	h := &t.heads[home(j.from, j.req, t.shift)]
	j.nextReq = *h
	*h = j
}

// remove takes j out of the table, if it is there.
func (t *reqTable) remove(j *job) {
	p := &t.heads[home(j.from, j.req, t.shift)]
	for *p != j {
		if *p == nil {
			return
		}
		p = &(*p).nextReq
	}
	*p = j.nextReq
	j.nextReq = nil
	t.n--
}

// full reports whether the table must grow before the next add.
func (t *reqTable) full() bool { return 4*t.n >= len(t.heads) }

func (t *reqTable) grow() {
	old := t.heads
	t.heads = make([]*job, max(reqTableMin, 2*len(old)))
	t.shift = uint8(64 - bits.TrailingZeros(uint(len(t.heads))))
	for _, j := range old {
		for j != nil {
			next := j.nextReq
			h := &t.heads[home(j.from, j.req, t.shift)]
			j.nextReq = *h
			*h = j
			j = next
		}
	}
}
