package rpc

// seqRing finds a node's own live calls, attempts or jobs by ID. The IDs
// come from one sequence and mostly end in the order they began, so slot
// ID mod capacity puts the live ones side by side, in the order they were
// made, with no probing; each slot keeps its ID for verification. A new
// ID whose slot is still held by an older live one doubles the ring (IDs
// that differed modulo the old capacity still differ modulo the new),
// until ringMax; past it, the few such IDs (a call stuck far behind the
// sequence) go to a map. Neither is ever iterated, so the layout cannot
// reach behaviour.
type seqRing[T any] struct {
	slots []ringSlot[T]
	over  map[uint64]*T // IDs whose slot was held when the ring was full size
}

type ringSlot[T any] struct {
	id uint64
	v  *T // nil: empty
}

const (
	ringMin = 64
	ringMax = 1 << 16
)

// get returns the value stored under id, or nil.
func (r *seqRing[T]) get(id uint64) *T {
	if n := len(r.slots); n > 0 {
		if s := &r.slots[id&uint64(n-1)]; s.v != nil && s.id == id {
			return s.v
		}
	}
	if r.over != nil {
		return r.over[id]
	}
	return nil
}

// tryPut stores v under id, which must not be present, if its slot is
// free, and reports whether it did; put does the rest. Callers on hot
// paths write `if !r.tryPut(id, v) { r.put(id, v) }`: tryPut inlines,
// put (which may grow the ring) does not.
func (r *seqRing[T]) tryPut(id uint64, v *T) bool {
	if n := len(r.slots); n > 0 {
		if s := &r.slots[id&uint64(n-1)]; s.v == nil {
			s.id, s.v = id, v
			return true
		}
	}
	return false
}

// put stores v under id, which must not be present.
func (r *seqRing[T]) put(id uint64, v *T) {
	if len(r.slots) == 0 {
		r.slots = make([]ringSlot[T], ringMin)
	}
	for {
		s := &r.slots[id&uint64(len(r.slots)-1)]
		if s.v == nil {
			*s = ringSlot[T]{id, v}
			return
		}
		if len(r.slots) >= ringMax {
			if r.over == nil {
				r.over = make(map[uint64]*T)
			}
			r.over[id] = v
			return
		}
		r.grow()
	}
}

func (r *seqRing[T]) grow() {
	old := r.slots
	r.slots = make([]ringSlot[T], 2*len(old))
	mask := uint64(len(r.slots) - 1)
	for _, s := range old {
		if s.v != nil {
			r.slots[s.id&mask] = s
		}
	}
}

// del removes id if present.
func (r *seqRing[T]) del(id uint64) {
	if n := len(r.slots); n > 0 {
		if s := &r.slots[id&uint64(n-1)]; s.v != nil && s.id == id {
			*s = ringSlot[T]{}
			return
		}
	}
	if r.over != nil {
		delete(r.over, id)
	}
}
