package quorum

import (
	"encoding/binary"
	"sort"

	"github.com/dsim-dev/dsim/sim"
)

// Dot is one entry of a version vector: how many writes a node has
// issued that the vector has seen.
type Dot struct {
	Node sim.NodeID
	N    uint64
}

// VClock is a version vector, sorted by node (Parker et al., "Detection
// of Mutual Inconsistency in Distributed Systems", 1983; Dynamo's vector
// clocks). nil is the empty vector.
type VClock []Dot

// Get returns the vector's count for node.
func (v VClock) Get(node sim.NodeID) uint64 {
	i := sort.Search(len(v), func(i int) bool { return v[i].Node >= node })
	if i < len(v) && v[i].Node == node {
		return v[i].N
	}
	return 0
}

// Descends reports whether v has seen everything o has (v ≥ o).
func (v VClock) Descends(o VClock) bool {
	for _, d := range o {
		if v.Get(d.Node) < d.N {
			return false
		}
	}
	return true
}

// Merge returns the pointwise maximum of v and o.
func (v VClock) Merge(o VClock) VClock {
	out := make(VClock, 0, len(v)+len(o))
	i, j := 0, 0
	for i < len(v) || j < len(o) {
		switch {
		case j >= len(o) || (i < len(v) && v[i].Node < o[j].Node):
			out = append(out, v[i])
			i++
		case i >= len(v) || o[j].Node < v[i].Node:
			out = append(out, o[j])
			j++
		default:
			out = append(out, Dot{Node: v[i].Node, N: max(v[i].N, o[j].N)})
			i++
			j++
		}
	}
	return out
}

// With returns a copy of v whose count for node is n.
func (v VClock) With(node sim.NodeID, n uint64) VClock {
	return v.Merge(VClock{{Node: node, N: n}})
}

// Sibling is one of the concurrent values a key holds under merge
// siblings: its value, its last-writer-wins version (used only to pick
// the value a read shows first and for staleness), and its version
// vector.
type Sibling struct {
	Value int64
	Ver   Ver
	VV    VClock
}

// addSibling merges s into set: s is dropped if a sibling already
// descends from it, and siblings it descends from are dropped. It
// returns the new set, sorted by version, and whether s was kept.
func addSibling(set []Sibling, s Sibling) ([]Sibling, bool) {
	for _, e := range set {
		if e.VV.Descends(s.VV) {
			return set, false
		}
	}
	out := make([]Sibling, 0, len(set)+1)
	for _, e := range set {
		if !s.VV.Descends(e.VV) {
			out = append(out, e)
		}
	}
	out = append(out, s)
	sort.Slice(out, func(i, j int) bool { return out[i].Ver.Less(out[j].Ver) })
	return out, true
}

// mergeSiblings merges every sibling of b into a.
func mergeSiblings(a, b []Sibling) []Sibling {
	for _, s := range b {
		a, _ = addSibling(a, s)
	}
	return a
}

// context is the version vector a client sends with its next write: the
// merge of every sibling it read, so that the write supersedes them all.
func context(set []Sibling) VClock {
	var v VClock
	for _, s := range set {
		v = v.Merge(s.VV)
	}
	return v
}

// applySibling stores s at the replica (merge siblings) and persists the
// key's set; it reports whether s was kept.
func (n *node) applySibling(env sim.Env, key uint64, s Sibling) bool {
	cur := n.data[key]
	set, kept := addSibling(cur.sibs, s)
	if !kept {
		return false
	}
	last := set[len(set)-1]
	n.data[key] = entry{value: last.Value, ver: last.Ver, sibs: set}
	env.Storage().Put(storeKey(key), encodeSiblings(set))
	return true
}

// encodeSiblings writes a sibling set: a count, then per sibling its
// value, version and dots. Its length is never 20, the length of a
// last-writer-wins entry.
func encodeSiblings(set []Sibling) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(set)))
	for _, s := range set {
		b = binary.BigEndian.AppendUint64(b, uint64(s.Value))
		b = binary.BigEndian.AppendUint64(b, uint64(s.Ver.TS))
		b = binary.BigEndian.AppendUint32(b, uint32(s.Ver.Node))
		b = binary.BigEndian.AppendUint32(b, uint32(len(s.VV)))
		for _, d := range s.VV {
			b = binary.BigEndian.AppendUint32(b, uint32(d.Node))
			b = binary.BigEndian.AppendUint64(b, d.N)
		}
	}
	return b
}

// decodeSiblings reads encodeSiblings' format; ok is false on a short or
// malformed record.
func decodeSiblings(b []byte) (set []Sibling, ok bool) {
	if len(b) < 4 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint32(b))
	b = b[4:]
	for i := 0; i < n; i++ {
		if len(b) < 24 {
			return nil, false
		}
		s := Sibling{
			Value: int64(binary.BigEndian.Uint64(b)),
			Ver:   Ver{TS: int64(binary.BigEndian.Uint64(b[8:])), Node: sim.NodeID(binary.BigEndian.Uint32(b[16:]))},
		}
		nd := int(binary.BigEndian.Uint32(b[20:]))
		b = b[24:]
		if len(b) < 12*nd {
			return nil, false
		}
		for j := 0; j < nd; j++ {
			s.VV = append(s.VV, Dot{Node: sim.NodeID(binary.BigEndian.Uint32(b)), N: binary.BigEndian.Uint64(b[4:])})
			b = b[12:]
		}
		set = append(set, s)
	}
	return set, len(b) == 0
}

// decodeStored reads a stored key in either format.
func decodeStored(b []byte) (entry, bool) {
	if len(b) == 20 {
		return decodeEntry(b), true
	}
	set, ok := decodeSiblings(b)
	if !ok || len(set) == 0 {
		return entry{}, false
	}
	last := set[len(set)-1]
	return entry{value: last.Value, ver: last.Ver, sibs: set}, true
}
