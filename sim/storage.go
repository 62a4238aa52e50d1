package sim

import (
	"maps"
	"slices"
)

// MemoryStorage is an in-memory Storage. The engine keeps one per node
// outside the Node instance, so it survives crashes.
type MemoryStorage struct {
	m map[string][]byte
}

var _ Storage = (*MemoryStorage)(nil)

// NewMemoryStorage returns an empty store.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{m: make(map[string][]byte)} }

// Get returns a copy of the value under key.
func (s *MemoryStorage) Get(key string) ([]byte, bool) {
	v, ok := s.m[key]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), v...), true
}

// Put stores a copy of value under key.
func (s *MemoryStorage) Put(key string, value []byte) {
	s.m[key] = append([]byte(nil), value...)
}

// Delete removes key.
func (s *MemoryStorage) Delete(key string) { delete(s.m, key) }

// Keys returns every key in ascending order.
func (s *MemoryStorage) Keys() []string {
	return slices.Sorted(maps.Keys(s.m))
}
