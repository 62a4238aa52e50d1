package sim

import "math/bits"

// item is one entry in the event queue. It carries everything the
// dispatcher needs for a delivery, a start or a control action, so
// dispatching those touches only the queue, which is read and written
// sequentially; only timers keep a side entry (for cancellation).
//
// key packs the schedule sequence number (high bits) and the event kind
// (low kindBits). aux depends on the kind: the network's flags for a
// delivery, the timer slot for a timer, the node epoch for a start.
// msg is the message of a delivery and the function of a control action.
type item struct {
	at   Time
	key  uint64
	msg  Message
	node NodeID
	from NodeID
	aux  uint64
}

const (
	kindBits = 4
	kindMask = 1<<kindBits - 1
	// maxSeq bounds the number of events ever scheduled in one run.
	maxSeq = 1<<(64-kindBits) - 1
)

func (it *item) seq() uint64     { return it.key >> kindBits }
func (it *item) kind() EventKind { return EventKind(it.key & kindMask) }

// chunkLen is the number of items per queue chunk (48 B each: 12 KiB).
const chunkLen = 256

// chunk is a fixed-size block of queue storage. Buckets are singly linked
// lists of chunks drawn from a shared pool, so the queue holds about one
// item's worth of memory per pending event however the events are spread
// over buckets, and a drained bucket's storage is reused at once by the
// buckets it spills into.
type chunk struct {
	items [chunkLen]item
	next  *chunk
}

// bucket is a FIFO of items stored in chunks: reads advance r in head,
// writes advance w in tail.
type bucket struct {
	head, tail *chunk
	r, w       int
	n          int
	min        Time // smallest time in the bucket (meaningless when empty)
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
// Pushing appends to one bucket; popping from bucket 0 is a sequential
// read. Each bucket tracks its minimum, and a bit mask says which buckets
// are non-empty, so when bucket 0 runs dry the next minimum is known at
// once and the smallest non-empty bucket is spread over the lower buckets
// in one sequential pass. Large queues therefore do not pay a cache miss
// per heap level, and item payloads travel with the items.
type radixQueue struct {
	b    [65]bucket
	mask uint64 // bit i-1 set: bucket i (1..64) is non-empty
	last Time
	n    int

	free   *chunk // pool of unused chunks
	nfree  int
	chunks int // chunks allocated and not given back
}

func (q *radixQueue) len() int { return q.n }

func (q *radixQueue) getChunk() *chunk {
	if c := q.free; c != nil {
		q.free = c.next
		q.nfree--
		c.next = nil
		return c
	}
	q.chunks++
	return new(chunk)
}

// putChunk returns a drained chunk to the pool, or gives it back to the
// garbage collector when the pool already holds more than a quarter of
// the chunks in use (plus a few): storage follows the queue down as well
// as up.
// used is how many leading items were ever written; they are cleared so
// that pooled chunks keep no messages alive.
func (q *radixQueue) putChunk(c *chunk, used int) {
	clear(c.items[:used])
	if q.nfree > 16 && q.nfree*4 > q.chunks-q.nfree {
		c.next = nil
		q.chunks--
		return
	}
	c.next = q.free
	q.free = c
	q.nfree++
}

func (q *radixQueue) push(it *item) {
	q.put(it)
	q.n++
}

// put files an item into its bucket without counting it.
func (q *radixQueue) put(it *item) {
	i := bits.Len64(uint64(it.at ^ q.last))
	b := &q.b[i]
	if b.tail == nil || b.w == chunkLen {
		c := q.getChunk()
		if b.tail == nil {
			b.head, b.r = c, 0
		} else {
			b.tail.next = c
		}
		b.tail, b.w = c, 0
	}
	b.tail.items[b.w] = *it
	b.w++
	if b.n == 0 || it.at < b.min {
		b.min = it.at
	}
	b.n++
	if i > 0 {
		q.mask |= 1 << (i - 1)
	}
}

// reset empties bucket b. A bucket with a single chunk keeps it (bucket
// 0 is reset on every redistribution and refilled at once); longer
// chains go back to the pool.
func (q *radixQueue) reset(b *bucket) {
	if b.head != nil && b.head == b.tail {
		clear(b.head.items[:b.w])
		*b = bucket{head: b.head, tail: b.tail}
		return
	}
	for c := b.head; c != nil; {
		next := c.next
		used := chunkLen
		if c == b.tail {
			used = b.w
		}
		q.putChunk(c, used)
		c = next
	}
	*b = bucket{}
}

// peekTime returns the time of the minimum. The queue must not be empty.
func (q *radixQueue) peekTime() Time {
	if q.b[0].n > 0 {
		return q.last
	}
	return q.b[bits.TrailingZeros64(q.mask)+1].min
}

// popUntil removes the minimum into *out if its time is not after until,
// and reports whether it did. The queue must not be empty.
func (q *radixQueue) popUntil(until Time, out *item) bool {
	b0 := &q.b[0]
	if b0.n == 0 {
		i := bits.TrailingZeros64(q.mask) + 1
		src := &q.b[i]
		m := src.min
		if m > until {
			return false
		}
		q.reset(b0)
		q.last = m
		q.mask &^= 1 << (i - 1)
		// Spread bucket i over the lower buckets (all empty), chunk by
		// chunk, recycling each chunk as soon as it is read.
		c, r := src.head, src.r
		tail, w := src.tail, src.w
		*src = bucket{}
		for c != nil {
			end := chunkLen
			if c == tail {
				end = w
			}
			for k := r; k < end; k++ {
				q.put(&c.items[k])
			}
			next := c.next
			q.putChunk(c, end)
			c, r = next, 0
		}
	}
	if q.last > until {
		return false
	}
	c := b0.head
	*out = c.items[b0.r]
	b0.r++
	b0.n--
	q.n--
	if b0.r == chunkLen {
		b0.head, b0.r = c.next, 0
		if b0.head == nil {
			b0.tail, b0.w = nil, 0
		}
		q.putChunk(c, chunkLen)
	}
	return true
}
