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

// chunkLen is the number of items per queue chunk (48 B each: 3 KiB).
const chunkLen = 64

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
// It is 16-ary: times are read as sixteen 4-bit digits. Bucket 0 holds
// items at exactly last (the most recent minimum taken out of the
// buckets); bucket (l, d) holds items whose highest digit differing from
// last is digit l, with value d. Buckets are FIFO and redistribution
// preserves order, so items with equal times stay in insertion (Seq)
// order. Compared with one bucket per bit, an item is spread about half
// as many times.
//
// Pushing appends to one bucket. Each bucket tracks its minimum, and bit
// masks say which levels and buckets are non-empty, so the next minimum
// is known at once and the first non-empty bucket is spread over the
// lower levels in one sequential pass. Large queues therefore do not pay
// a cache miss per heap level, and item payloads travel with the items.
//
// The last levels of spreading are replaced by a sort: once the first
// non-empty bucket holds at most sortMax items (32 to 256, see sortable),
// they move to the front,
// whose index (time, position) is sorted and popped from its head.
// Positions follow insertion order, so they order ties by Seq, and
// sorting the index moves 16-byte values rather than items. While the
// front is active it covers every time that differs from last only below
// the sorted bucket's level (pushes with bits.Len64(at^last) < lvl); a
// push in that range is inserted into the front's index in order (see
// insertFront).
//
// The sort is an MSD radix sort of the index on the digits below the
// bucket's level, finished by insertion sort on small groups, so sorting
// a few hundred entries costs a few passes over 16-byte values; that
// takes the place of the two lowest levels of spreading 48-byte items.
type radixQueue struct {
	// b[0] holds items at exactly last; b[1+16l+d] holds items whose
	// highest 4-bit digit differing from last is digit l, with value d.
	b      [1 + levels*digits]bucket
	levels uint16         // bit l set: some bucket of level l is non-empty
	dmask  [levels]uint16 // bit d set: bucket (l, d) is non-empty
	last   Time
	n      int

	front   []item // front items in insertion order
	spare   []item // the other buffer for compacting the front
	index   []fref // sorted by (at, pos); index[fh:] are pending
	scratch []fref // for sorting the index
	fh      int
	lvl     int // pushes to buckets below lvl go to the front instead

	// sortMax is the largest bucket sorted into the front; it adapts
	// (see sortable) between frontSortMin and frontSort.
	sortMax  int
	sorted   int  // entries sorted into the current front
	walked   int  // entries shifted by pushes into the current front
	probe    int  // buckets to spread before trying a larger front
	probeGap int  // probe's starting value
	probing  bool // the current front is such a try

	// timers, when set, is the engine's timer slab: cancelled timers
	// are discarded when their bucket is drained.
	timers *timerSlab

	popped item // what next returns when the front is empty

	free   *chunk // pool of unused chunks
	nfree  int
	chunks int // chunks allocated and not given back
}

const (
	// frontSort is the largest bucket ever sorted into the front
	// rather than spread over lower buckets, and frontSortMin the
	// least bound adapt sets.
	frontSort    = 256
	frontSortMin = 32
	// frontMax bounds the front: pushes into its range beyond this
	// spill it back into the buckets, so an insertion never shifts
	// more than frontMax items.
	frontMax = 512
)

// fref is the front's index entry for front[pos].
type fref struct {
	at  Time
	pos int32
}

func (q *radixQueue) len() int { return q.n }

// Buckets come in 16 levels of 16 digits: a 16-ary radix heap, so an
// item is spread about a quarter as many times as in a binary one.
const (
	digitBits = 4
	digits    = 1 << digitBits
	levels    = 64 / digitBits
)

// bucketOf returns the bucket of time at relative to last, given
// j = bits.Len64(at ^ last).
func (q *radixQueue) bucketOf(at Time, j int) int {
	if j == 0 {
		return 0
	}
	l := (j - 1) / digitBits
	return 1 + l<<digitBits + int(uint64(at)>>(l*digitBits))&(digits-1)
}

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
// garbage collector when the pool already holds more than 64 chunks and
// more than a quarter of the chunks in use: storage follows the queue
// down as well as up. used is how many leading items were ever written;
// they are cleared so that pooled chunks keep no messages alive.
func (q *radixQueue) putChunk(c *chunk, used int) {
	clear(c.items[:used])
	if q.nfree > 64 && q.nfree*4 > q.chunks-q.nfree {
		c.next = nil
		q.chunks--
		return
	}
	c.next = q.free
	q.free = c
	q.nfree++
}

func (q *radixQueue) push(it *item) { *q.slot(it.at) = *it }

// slot files a new item due at at and returns where it goes, for the
// caller to fill every field of (the slot is not cleared): the engine
// writes a new event straight into the queue instead of building it
// aside and copying it in.
func (q *radixQueue) slot(at Time) *item {
	q.n++
	j := bits.Len64(uint64(at ^ q.last))
	if j < q.lvl {
		if len(q.index)-q.fh < frontMax {
			return q.frontSlot(at)
		}
		q.spillFront()
	}
	return q.bucketSlot(q.bucketOf(at, j), at)
}

// insertFront adds it to the front. Its position is the largest so far,
// so it goes after every item with the same time: at the end when no
// pending item is later (the usual case), else after the last one that
// is not later: in a short front found by walking back from the end, in
// a longer one by binary search, after which the pending entries before
// it shift one slot towards the head when there is room and they are
// fewer than those after it.
func (q *radixQueue) frontSlot(at Time) *item {
	if len(q.front) == cap(q.front) && 2*(len(q.index)-q.fh) <= len(q.front) {
		// At most half the front's items are pending: compacting
		// costs at most one move per item popped since the last time.
		// Otherwise the front grows, and compacting waits for more
		// pops. (Not fh: an insertion towards the head reuses a
		// popped index slot, so fh can stay small while popped items
		// pile up in the front.)
		q.compactFront()
	}
	r := fref{at: at, pos: int32(len(q.front))}
	if len(q.front) < cap(q.front) {
		q.front = q.front[:len(q.front)+1]
	} else {
		q.front = append(q.front, item{})
	}
	slot := &q.front[r.pos]
	x, fh := q.index, q.fh
	n := len(x)
	if n == fh || x[n-1].at <= r.at {
		q.index = append(x, r)
		return slot
	}
	if n-fh <= walkMax {
		// A short front: walk back from the end, shifting.
		x = append(x, fref{})
		k := n
		for k > fh && x[k-1].at > r.at {
			x[k] = x[k-1]
			k--
		}
		x[k] = r
		q.index = x
		q.walked += n - k
		return slot
	}
	// The first pending entry later than r (there is one).
	lo, hi := fh, n-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x[m].at > r.at {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if fh > 0 && lo-fh < n-lo {
		copy(x[fh-1:], x[fh:lo])
		x[lo-1] = r
		q.fh--
		q.walked += lo - fh
		return slot
	}
	x = append(x, fref{})
	copy(x[lo+1:], x[lo:n])
	x[lo] = r
	q.index = x
	q.walked += n - lo
	return slot
}

// walkMax is the most pending entries for which insertFront walks back
// from the end, shifting as it goes, rather than searching and moving
// entries with copy.
const walkMax = 16

// compactFront drops the front's popped items, renumbering the pending
// ones in index order (which keeps ties in Seq order).
func (q *radixQueue) compactFront() {
	pend := q.index[q.fh:]
	tmp := q.spare[:0]
	for k, r := range pend {
		tmp = append(tmp, q.front[r.pos])
		pend[k].pos = int32(k)
	}
	// The old buffer is not cleared (see clearFront).
	q.front, q.spare = tmp, q.front[:0]
	q.index = q.index[:copy(q.index, pend)]
	q.fh = 0
}

// spillFront moves the front's pending items back into the buckets (in
// order, so ties keep their Seq order) and deactivates it.
func (q *radixQueue) spillFront() {
	for _, r := range q.index[q.fh:] {
		it := &q.front[r.pos]
		q.put(q.bucketOf(it.at, bits.Len64(uint64(it.at^q.last))), it)
	}
	q.clearFront()
}

// clearFront empties the front. Its buffers are not cleared: the items
// left in them keep at most cap(front)+cap(spare) messages (a few
// thousand at most, as the front holds at most frontMax pending items)
// from the garbage collector until they are overwritten, and clearing
// them on every refill cost about 1% of an rpc run. Chunks, which are
// pooled in numbers that follow the queue's size, are cleared.
func (q *radixQueue) clearFront() {
	q.front = q.front[:0]
	q.index = q.index[:0]
	q.fh = 0
	q.lvl = 0
}

// toFront appends it to the front and its index, unsorted.
func (q *radixQueue) toFront(it *item) {
	q.index = append(q.index, fref{at: it.at, pos: int32(len(q.front))})
	q.front = append(q.front, *it)
}

// put files an item into bucket i without counting it.
func (q *radixQueue) put(i int, it *item) { *q.bucketSlot(i, it.at) = *it }

// bucketSlot reserves the next slot of bucket i for an item due at at,
// without counting it, and returns it for the caller to fill.
func (q *radixQueue) bucketSlot(i int, at Time) *item {
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
	slot := &b.tail.items[b.w]
	b.w++
	b.n++
	switch {
	case b.n == 1:
		b.min = at
		if i > 0 {
			l, d := (i-1)>>digitBits, (i-1)&(digits-1)
			q.levels |= 1 << l
			q.dmask[l] |= 1 << d
		}
	case at < b.min:
		b.min = at
	}
	return slot
}

// drain empties bucket b into the front (sorted later) or, with front
// false, spreads it over the buckets below relative to last, leaving
// out cancelled timers. Chunks are recycled as soon as they are read. The two loops are written out, not
// passed a callback, to keep an indirect call off every moved item.
func (q *radixQueue) drain(b *bucket, front bool) {
	c, r := b.head, b.r
	tail, w := b.tail, b.w
	*b = bucket{}
	m := q.last
	for c != nil {
		end := chunkLen
		if c == tail {
			end = w
		}
		if front {
			for k := r; k < end; k++ {
				it := &c.items[k]
				if it.kind() == KindTimer && q.discard(it) {
					continue
				}
				q.toFront(it)
			}
		} else {
			for k := r; k < end; k++ {
				it := &c.items[k]
				if it.kind() == KindTimer && q.discard(it) {
					continue
				}
				q.put(q.bucketOf(it.at, bits.Len64(uint64(it.at^m))), it)
			}
		}
		next := c.next
		q.putChunk(c, end)
		c, r = next, 0
	}
}

// discard drops timer item it if it was cancelled, freeing its slot,
// and reports whether it did. A cancelled timer would be thrown away
// when popped anyway; dropping it the first time its bucket is drained
// saves moving it down the levels and sorting it. Long timeouts that are
// nearly always cancelled (a request's deadline) make most of the items
// spread in rpc workloads. Which events are dispatched, and in what
// order, does not change.
func (q *radixQueue) discard(it *item) bool {
	if q.timers == nil {
		return false
	}
	s := int32(it.aux)
	if !q.timers.t[s].dead {
		return false
	}
	q.timers.release(s)
	q.n--
	return true
}

// sortable reports whether a bucket of n items is to be sorted into the
// front rather than spread, after setting sortMax from how the last
// front fared. Sorting a large bucket saves spreading it, but widens the
// front's time range, and then more pushes land inside the front, each
// shifting entries. When the pushes into the last front shifted more
// entries than it started with, sortMax halves; when a front of at least
// half sortMax took few shifts, it doubles. Smaller fronts say nothing
// about larger ones, so once in a while a bucket of up to frontSort
// items is sorted anyway to try: after probeMin buckets too large for
// sortMax, twice as many after each failed try (up to probeMax).
//
// In PHOLD no push lands inside the front, and sortMax stays at
// frontSort; in an rpc chain over a network with random latency most
// pushes land inside it, anywhere.
func (q *radixQueue) sortable(n int) bool {
	if q.sortMax == 0 {
		q.sortMax, q.probeGap = frontSort, probeMin
	}
	if q.sorted > 0 {
		switch {
		case q.walked > q.sorted:
			q.sortMax = max(q.sortMax/2, frontSortMin)
			if q.probing {
				q.probeGap = min(2*q.probeGap, probeMax)
			}
		case q.walked*4 < q.sorted && 2*q.sorted > q.sortMax:
			q.sortMax = min(q.sortMax*2, frontSort)
			q.probeGap = probeMin
		}
		q.sorted, q.probing = 0, false
	}
	switch {
	case n <= q.sortMax:
		return true
	case n > frontSort:
		return false
	case q.probe > 0:
		q.probe--
		return false
	}
	q.probe, q.probing = q.probeGap, true
	return true
}

// probeMin and probeMax bound how many buckets too large for sortMax are
// spread between two that are sorted to try a larger front.
const (
	probeMin = 16
	probeMax = 1024
)

// refill makes the next items poppable, unless the minimum is after
// until: it takes the smallest non-empty bucket and either sorts it into
// the front (when small) or spreads it over the lower buckets, which puts
// its minimum into bucket 0. The front and bucket 0 must be empty and the
// queue not.
func (q *radixQueue) refill(until Time) bool {
	q.clearFront()
	l := bits.TrailingZeros16(q.levels)
	d := bits.TrailingZeros16(q.dmask[l])
	src := &q.b[1+l<<digitBits+d]
	m := src.min
	if m > until {
		return false
	}
	q.last = m
	if q.dmask[l] &^= 1 << d; q.dmask[l] == 0 {
		q.levels &^= 1 << l
	}
	if q.sortable(src.n) {
		q.drain(src, true)
		switch x := q.index; {
		case l == 0:
			// A bucket of level 0 holds one time, in Seq order.
		case len(x) <= insertionMax:
			insertionSort(x)
		default:
			if cap(q.scratch) < len(x) {
				q.scratch = make([]fref, len(x), cap(x))
			}
			sortIndex(x, q.scratch[:len(x)], (l-1)*digitBits)
		}
		// The front now covers every time that differs from last
		// below digit l.
		q.lvl = l*digitBits + 1
		q.sorted, q.walked = len(q.index), 0
		return true
	}
	// Spread bucket i over the lower buckets (all empty).
	q.drain(src, false)
	return true
}

// sortIndex sorts a front index by (at, pos), given entries with equal
// times in pos order (as drain appends them). Its entries agree on every
// digit of at above the one at bit shift, so it is an MSD radix sort: a
// stable counting pass on that digit, then each group of equal digits is
// sorted on the next digit down, or by stable insertion once it is
// small. tmp is scratch space of len(x) entries.
func sortIndex(x, tmp []fref, shift int) {
	if len(x) <= insertionMax || shift < 0 {
		insertionSort(x)
		return
	}
	var count [digits + 1]int32
	for _, r := range x {
		count[1+int(uint64(r.at)>>shift)&(digits-1)]++
	}
	for d := 1; d <= digits; d++ {
		count[d] += count[d-1]
	}
	next := count
	for _, r := range x {
		d := int(uint64(r.at)>>shift) & (digits - 1)
		tmp[next[d]] = r
		next[d]++
	}
	copy(x, tmp)
	for d := 0; d < digits; d++ {
		if lo, hi := count[d], count[d+1]; hi-lo > 1 {
			sortIndex(x[lo:hi], tmp[lo:hi], shift-digitBits)
		}
	}
}

// insertionMax is the largest index sorted by insertion alone.
const insertionMax = 24

// insertionSort sorts a short index by (at, pos), given entries with
// equal times in pos order: it is stable, so comparing times will do.
func insertionSort(x []fref) {
	for i := 1; i < len(x); i++ {
		v := x[i]
		j := i
		for j > 0 && x[j-1].at > v.at {
			x[j] = x[j-1]
			j--
		}
		x[j] = v
	}
}

// popUntil removes the minimum into *out if its time is not after until,
// and reports whether it did. The queue must not be empty; it may turn
// out empty when all that was left were cancelled timers (then popUntil
// reports false).
//
// At most one of the front and bucket 0 holds items: bucket 0 fills only
// while the front is inactive (or when it spills), and a refill happens
// only when both are empty.
func (q *radixQueue) popUntil(until Time, out *item) bool {
	if q.fh < len(q.index) {
		// The common case, small enough to inline: the front's head.
		r := q.index[q.fh]
		if r.at > until {
			return false
		}
		*out = q.front[r.pos]
		q.fh++
		q.n--
		return true
	}
	return q.popSlow(until, out)
}

// next removes the minimum and returns it, or nil when its time is after
// until or nothing is left (see popUntil). The item stays valid until the
// next push or pop: the dispatcher reads it before handing the event to a
// node, and the common case saves copying it out of the front.
func (q *radixQueue) next(until Time) *item {
	if q.fh < len(q.index) {
		r := q.index[q.fh]
		if r.at > until {
			return nil
		}
		q.fh++
		q.n--
		return &q.front[r.pos]
	}
	if !q.popSlow(until, &q.popped) {
		return nil
	}
	return &q.popped
}

// popSlow is popUntil when the front is empty: bucket 0, or a refill.
func (q *radixQueue) popSlow(until Time, out *item) bool {
	b0 := &q.b[0]
	for b0.n == 0 {
		if q.n == 0 {
			// Only cancelled timers were left, and they are gone.
			// An empty queue takes any time again.
			q.clearFront()
			q.last = 0
			return false
		}
		if !q.refill(until) {
			return false
		}
		if q.fh < len(q.index) {
			return q.popUntil(until, out) // sorted into the front
		}
		// Else bucket 0 holds the minimum, unless every item of the
		// bucket was a cancelled timer: then refill again.
	}
	// Items at exactly last, straight from bucket 0.
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
