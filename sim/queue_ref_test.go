package sim

import "unsafe"

// This file keeps a typed 4-ary heap as the reference the radix queue is
// tested and benchmarked against.

func (a *item) less(b *item) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// mkitem returns a delivery item at at with sequence number seq; node
// tells items apart in tests.
func mkitem(at Time, seq uint64, node int32) item {
	return item{at: at, key: seq<<kindBits | uint64(KindDeliver), node: NodeID(node)}
}

// queue is a 4-ary min-heap of items ordered by (at, seq).
//
// Heap index i lives at buf[i+pad]: with pad = 3 the children of node i,
// 4i+1..4i+4, sit at buf[4(i+1)..4(i+1)+3], one aligned cache line when
// buf is 64-byte aligned (the allocator aligns large arrays to pages).
//
// It supports a deferred pop: popDefer returns the minimum but leaves a
// hole at the root. If the next operation is a push (the common case: an
// event handler schedules a follow-up), the new item fills the hole with a
// single sift-down, halving the work of pop-then-push.
type queue struct {
	buf  []item // buf[:pad] unused
	n    int    // items in the heap, including a hole
	hole bool
}

const pad = 3

func (q *queue) len() int {
	if q.hole {
		return q.n - 1
	}
	return q.n
}

// fill closes a pending hole by moving the last item to the root.
func (q *queue) fill() {
	if !q.hole {
		return
	}
	q.hole = false
	q.n--
	if q.n > 0 {
		q.down(0, q.buf[q.n+pad])
	}
}

func (q *queue) push(it item) {
	if q.hole {
		q.hole = false
		q.down(0, it)
		return
	}
	if q.n+pad >= len(q.buf) {
		q.grow()
	}
	q.n++
	q.up(q.n-1, it)
}

func (q *queue) grow() {
	size := 2 * len(q.buf)
	if size < 64 {
		size = 64
	}
	// Over-allocate a few items and start at a 64-byte boundary when
	// the item size allows one.
	raw := make([]item, size+4)
	off := 0
	for off < 4 && uintptr(unsafe.Pointer(&raw[off]))%64 != 0 {
		off++
	}
	if off == 4 {
		off = 0
	}
	nb := raw[off : off+size]
	copy(nb, q.buf)
	q.buf = nb
}

// peek returns the minimum item; the queue must not be empty.
func (q *queue) peek() *item {
	q.fill()
	return &q.buf[pad]
}

// popDefer removes and returns the minimum, leaving a hole at the root.
func (q *queue) popDefer() item {
	q.fill()
	q.hole = true
	return q.buf[pad]
}

func (q *queue) up(i int, it item) {
	h := q.buf[pad : pad+q.n]
	for i > 0 {
		p := (i - 1) >> 2
		if !it.less(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = it
}

func (q *queue) down(i int, it item) {
	h := q.buf[pad : pad+q.n]
	n := len(h)
	for {
		c := 4*i + 1
		if c+3 < n {
			// Full set of four children: pick the least without bounds
			// checks in the loop.
			cs := h[c : c+4 : c+4]
			m := 0
			if cs[1].less(&cs[m]) {
				m = 1
			}
			if cs[2].less(&cs[m]) {
				m = 2
			}
			if cs[3].less(&cs[m]) {
				m = 3
			}
			if !cs[m].less(&it) {
				break
			}
			h[i] = cs[m]
			i = c + m
			continue
		}
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < n; j++ {
			if h[j].less(&h[m]) {
				m = j
			}
		}
		if !h[m].less(&it) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = it
}
