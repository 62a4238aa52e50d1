package sim

// timer is the side entry of a pending timer: what its queue item does
// not carry, and what Cancel needs to find it.
type timer struct {
	tag   uint64
	gen   uint32 // bumped when the slot is freed; validates TimerIDs
	epoch uint32 // node epoch when the timer was armed
	node  NodeID
	armed bool // pending (false once fired, dropped or freed)
	dead  bool // cancelled
}

// timerSlab holds the timer entries in a slice recycled through a free
// list, so arming a timer allocates nothing in steady state. A slot is
// freed when its queue item leaves the queue: when it fires, when the
// dispatcher pops it cancelled or stale, or when the queue discards it
// cancelled on the way (see radixQueue.discard).
type timerSlab struct {
	t []timer
	// free holds the free slots, each with its generation (slot in the
	// low 32 bits), so that taking one writes the slot without reading
	// it first: a slot freed long ago is likely out of the cache.
	free []uint64
}

// alloc takes a slot from the free list (or grows the slab) and stores
// t there, armed. It returns the slot and its generation.
func (s *timerSlab) alloc(t timer) (int32, uint32) {
	var i int32
	if n := len(s.free); n > 0 {
		f := s.free[n-1]
		s.free = s.free[:n-1]
		i, t.gen = int32(uint32(f)), uint32(f>>32)
	} else {
		i = int32(len(s.t))
		t.gen = 1
		s.t = append(s.t, timer{})
	}
	t.armed = true
	s.t[i] = t
	return i, t.gen
}

// release frees slot i, invalidating the TimerIDs that name it.
func (s *timerSlab) release(i int32) {
	t := &s.t[i]
	gen := t.gen + 1
	if gen == 0 {
		gen = 1
	}
	*t = timer{gen: gen}
	s.free = append(s.free, uint64(gen)<<32|uint64(uint32(i)))
}
