package phold

import (
	"math/rand/v2"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Heap is the reference the engine is measured against: the bare event
// queue of PHOLD with no engine around it. It is a typed 4-ary min-heap
// of 24-byte (time, sequence, process) entries holding LPs×PerLP events;
// each step pops the earliest entry and pushes one new entry for the same
// process after Lookahead + Exp(Mean), one random draw per event. Whatever
// the engine costs beyond it is dispatch, node state, the network and
// the destination draw.
//
//	h, _ := phold.NewHeap(cfg) // N×M entries queued
//	res := h.Run(cfg.Events)
type Heap struct {
	h         []heapItem
	seq       uint64
	rng       *rand.Rand
	lookahead time.Duration
	mean      float64
	events    uint64
	now       sim.Time
	hash      uint64
}

// heapItem is one pending event: 24 bytes.
type heapItem struct {
	at  sim.Time
	seq uint64
	lp  int32
}

func (a *heapItem) less(b *heapItem) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// NewHeap returns the reference workload with its LPs×PerLP initial
// events queued (Config.Events is not used; pass a count to Run).
func NewHeap(c Config) (*Heap, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	h := &Heap{
		h:         make([]heapItem, 0, c.LPs*c.PerLP),
		rng:       sim.NewStream(c.Seed, "phold/heap"),
		lookahead: c.Lookahead,
		mean:      float64(c.Mean),
		hash:      14695981039346656037,
	}
	for lp := 0; lp < c.LPs; lp++ {
		for i := 0; i < c.PerLP; i++ {
			h.push(heapItem{at: h.delay(), seq: h.next(), lp: int32(lp)})
		}
	}
	return h, nil
}

// Pending returns the number of queued events.
func (h *Heap) Pending() int { return len(h.h) }

func (h *Heap) next() uint64 {
	h.seq++
	return h.seq
}

func (h *Heap) delay() sim.Time {
	return h.now.Add(h.lookahead + time.Duration(h.rng.ExpFloat64()*h.mean))
}

// Run handles events more events and returns the totals so far. The hash
// covers each handled event's time and process, so the work cannot be
// optimised away and two runs can be compared.
func (h *Heap) Run(events uint64) Result {
	for i := uint64(0); i < events; i++ {
		top := h.h[0]
		h.now = top.at
		h.events++
		h.hash = (h.hash ^ uint64(top.at)) * 1099511628211
		h.hash = (h.hash ^ uint64(top.lp)) * 1099511628211
		h.pop()
		h.push(heapItem{at: h.delay(), seq: h.next(), lp: top.lp})
	}
	return Result{Events: h.events, Hash: h.hash, End: h.now}
}

func (h *Heap) push(it heapItem) {
	h.h = append(h.h, it)
	q := h.h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) >> 2
		if !it.less(&q[p]) {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = it
}

// pop removes the root: the last entry takes its place and sinks.
func (h *Heap) pop() {
	n := len(h.h) - 1
	last := h.h[n]
	h.h = h.h[:n]
	if n > 0 {
		h.down(last)
	}
}

// down puts it at the root and restores the heap order.
func (h *Heap) down(it heapItem) {
	q := h.h
	n := len(q)
	i := 0
	for {
		c := 4*i + 1
		if c+3 < n {
			cs := q[c : c+4 : c+4]
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
			q[i] = cs[m]
			i = c + m
			continue
		}
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < n; j++ {
			if q[j].less(&q[m]) {
				m = j
			}
		}
		if !q[m].less(&it) {
			break
		}
		q[i] = q[m]
		i = m
	}
	q[i] = it
}
