package sim

import "math/bits"

// Queue keys pack the sequence number and the payload slot into one word,
// so an item is 16 bytes and the four children of a heap node fill exactly
// one 64-byte cache line. The sequence number occupies the high bits, so
// comparing (at, key) orders by (at, seq).
const (
	slotBits = 24
	slotMask = 1<<slotBits - 1
	// maxSlots bounds the number of queued events.
	maxSlots = 1 << slotBits
	// maxSeq bounds the number of events ever scheduled in one run.
	maxSeq = 1<<(64-slotBits) - 1
)

// item is one entry in the event queue: its time and packed (seq, slot)
// key. Payloads live in the engine's slab and never move.
type item struct {
	at  Time
	key uint64
}

func (it item) seq() uint64 { return it.key >> slotBits }
func (it item) slot() int32 { return int32(it.key & slotMask) }
func mkitem(at Time, seq uint64, slot int32) item {
	return item{at: at, key: seq<<slotBits | uint64(slot)}
}

func (a *item) less(b *item) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// radixQueue is a monotone priority queue (a radix heap; Ahuja, Mehlhorn,
// Orlin and Tarjan, "Faster algorithms for the shortest path problem",
// 1990) specialised to the engine: no event is ever scheduled before the
// last one dispatched, which is exactly the monotonicity a radix heap needs.
//
// Bucket b holds items whose time differs from last (the time of the most
// recently extracted minimum) first in bit b-1; bucket 0 holds items at
// exactly last. Buckets are FIFO and redistribution preserves order, so
// items with equal times leave in insertion (Seq) order: the queue keeps the
// engine's total order (At, Seq) without comparing Seq at all.
//
// Pushing appends to one bucket; popping from bucket 0 is a slice read.
// When bucket 0 runs dry the smallest non-empty bucket is scanned once for
// its minimum and spread over lower buckets. Every access is sequential, so
// large queues do not pay a cache miss per heap level.
type radixQueue struct {
	b    [65][]item
	head int // read position in b[0]
	last Time
	n    int
}

func (q *radixQueue) len() int { return q.n }

func (q *radixQueue) push(it item) {
	i := bits.Len64(uint64(it.at ^ q.last))
	q.b[i] = append(q.b[i], it)
	q.n++
}

// min returns the minimum time and the bucket that holds it, without
// changing the queue. The queue must not be empty.
func (q *radixQueue) min() (Time, int) {
	if q.head < len(q.b[0]) {
		return q.last, 0
	}
	i := 1
	for len(q.b[i]) == 0 {
		i++
	}
	m := q.b[i][0].at
	for _, it := range q.b[i][1:] {
		if it.at < m {
			m = it.at
		}
	}
	return m, i
}

// popUntil removes and returns the minimum if its time is not after
// until. The queue must not be empty.
func (q *radixQueue) popUntil(until Time) (item, bool) {
	if q.head == len(q.b[0]) {
		m, i := q.min()
		if m > until {
			return item{}, false
		}
		q.b[0] = q.b[0][:0]
		q.head = 0
		q.last = m
		src := q.b[i]
		for _, it := range src {
			j := bits.Len64(uint64(it.at ^ m))
			q.b[j] = append(q.b[j], it)
		}
		q.b[i] = src[:0]
	}
	it := q.b[0][q.head]
	if it.at > until {
		return item{}, false
	}
	q.head++
	q.n--
	return it, true
}
