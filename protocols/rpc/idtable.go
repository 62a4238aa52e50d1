package rpc

import (
	"math/bits"

	"github.com/dsim-dev/dsim/sim"
)

// idTable finds the requests a server is working on by sender and ID
// without a Go map (a node's own IDs are in a seqRing): an
// open-addressed table with linear probing, Fibonacci hashing (one
// multiply; sequential IDs land far apart, so probe runs stay short even
// though the live IDs are a dense window) and the full key stored in each
// slot for verification. Deletion shifts later entries back, so there are
// no tombstones. The table doubles when half full and is never iterated,
// so its layout cannot reach behaviour.
type idTable[T any] struct {
	slots []idSlot[T]
	n     int
	shift uint8 // 64 − log2(len(slots))
}

type idSlot[T any] struct {
	id   uint64
	from sim.NodeID
	v    *T // nil: empty
}

const idTableMin = 64

// home returns the preferred slot of key (from, id): the top bits of the
// key times 2⁶⁴/φ.
func home(from sim.NodeID, id uint64, shift uint8) uint64 {
	return ((id ^ uint64(uint32(from))*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15) >> shift
}

// getFrom returns the value stored under (from, id), or nil.
func (t *idTable[T]) getFrom(from sim.NodeID, id uint64) *T {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := home(from, id, t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == nil {
			return nil
		}
		if s.id == id && s.from == from {
			return s.v
		}
	}
}

// find returns the value stored under (from, id), or nil and the slot
// where fill may store it. It makes room first, so that fill needs no
// second probe; the table must not change between the two.
func (t *idTable[T]) find(from sim.NodeID, id uint64) (slot uint64, v *T) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := home(from, id, t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.v == nil {
			return i, nil
		}
		if s.id == id && s.from == from {
			return i, s.v
		}
	}
}

// fill stores v under (from, id) in the slot find returned for that key.
func (t *idTable[T]) fill(slot uint64, from sim.NodeID, id uint64, v *T) {
	t.n++
	t.slots[slot] = idSlot[T]{id: id, from: from, v: v}
}

// putFrom stores v under (from, id); the key must not be present.
func (t *idTable[T]) putFrom(from sim.NodeID, id uint64, v *T) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	t.n++
	mask := uint64(len(t.slots) - 1)
	i := home(from, id, t.shift)
	for t.slots[i].v != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = idSlot[T]{id: id, from: from, v: v}
}

func (t *idTable[T]) grow() {
	old := t.slots
	t.slots = make([]idSlot[T], max(idTableMin, 2*len(old)))
	t.shift = uint8(64 - bits.TrailingZeros(uint(len(t.slots))))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.v == nil {
			continue
		}
		i := home(s.from, s.id, t.shift)
		for t.slots[i].v != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// delFrom removes (from, id) if present.
func (t *idTable[T]) delFrom(from sim.NodeID, id uint64) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := home(from, id, t.shift)
	for {
		s := &t.slots[i]
		if s.v == nil {
			return
		}
		if s.id == id && s.from == from {
			break
		}
		i = (i + 1) & mask
	}
	t.n--
	// Backward-shift deletion: move later members of the probe run into
	// the hole when the hole lies on their way from their home slot.
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := t.slots[j]
		if s.v == nil {
			break
		}
		if (j-home(s.from, s.id, t.shift))&mask >= (j-i)&mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = idSlot[T]{}
}
