package sim

// item is one entry in the event queue: its key (at, seq) and the index of
// its payload in the engine's slab. Keeping entries small (24 bytes) keeps
// the heap cache-friendly; payloads never move.
type item struct {
	at   Time
	seq  uint64
	slot int32
}

func (a *item) less(b *item) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// queue is a 4-ary min-heap of items ordered by (at, seq).
//
// It supports a deferred pop: popDefer returns the minimum but leaves a
// hole at the root. If the next operation is a push (the common case: an
// event handler schedules a follow-up), the new item fills the hole with a
// single sift-down, halving the work of pop-then-push.
type queue struct {
	h    []item
	hole bool
}

func (q *queue) len() int {
	if q.hole {
		return len(q.h) - 1
	}
	return len(q.h)
}

// fill closes a pending hole by moving the last item to the root.
func (q *queue) fill() {
	if !q.hole {
		return
	}
	q.hole = false
	n := len(q.h) - 1
	last := q.h[n]
	q.h = q.h[:n]
	if n > 0 {
		q.down(0, last)
	}
}

func (q *queue) push(it item) {
	if q.hole {
		q.hole = false
		q.down(0, it)
		return
	}
	q.h = append(q.h, it)
	q.up(len(q.h)-1, it)
}

// peek returns the minimum item; the queue must not be empty.
func (q *queue) peek() *item {
	q.fill()
	return &q.h[0]
}

// popDefer removes and returns the minimum, leaving a hole at the root.
func (q *queue) popDefer() item {
	q.fill()
	q.hole = true
	return q.h[0]
}

func (q *queue) up(i int, it item) {
	h := q.h
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
	h := q.h
	n := len(h)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := c + 4
		if end > n {
			end = n
		}
		for j := c + 1; j < end; j++ {
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
