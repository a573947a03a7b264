package seqcache

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a Store held in process memory, with the full semantics
// of a real store. It is for tests and demos: its values are unique only
// within the process.
type MemoryStore struct {
	mu   sync.Mutex
	seqs map[string]*Sequence
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{seqs: make(map[string]*Sequence)}
}

var _ Store = (*MemoryStore)(nil)

// Create implements Store.
func (m *MemoryStore) Create(ctx context.Context, spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seqs[spec.Name]; ok {
		return Exists(spec.Name)
	}
	m.seqs[spec.Name] = &Sequence{Spec: spec, Next: spec.Start}
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, name string) (Sequence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.seqs[name]
	if !ok {
		return Sequence{}, UnknownSequence(name)
	}
	return *s, nil
}

// List implements Store.
func (m *MemoryStore) List(ctx context.Context) ([]Sequence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Sequence, 0, len(m.seqs))
	for _, s := range m.seqs {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Sequence) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Drop implements Store.
func (m *MemoryStore) Drop(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seqs[name]; !ok {
		return UnknownSequence(name)
	}
	delete(m.seqs, name)
	return nil
}

// Reserve implements Store.
func (m *MemoryStore) Reserve(ctx context.Context, name string, n int64) (Block, error) {
	if n < 1 {
		n = 1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.seqs[name]
	if !ok {
		return Block{}, UnknownSequence(name)
	}
	if s.Exhausted {
		if !s.Cycle {
			return Block{}, LimitReached(name, s.Limit(), s.Ascending())
		}
		s.Next, s.Exhausted = s.Restart(), false
		s.Epoch++
	}
	b, next, exhausted := s.Spec.Reserve(s.Next, n)
	s.Next, s.Exhausted = next, exhausted
	b.Epoch = s.Epoch
	return b, nil
}

// SetValue implements Store.
func (m *MemoryStore) SetValue(ctx context.Context, name string, v int64, called bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.seqs[name]
	if !ok {
		return UnknownSequence(name)
	}
	next, exhausted, err := s.Spec.SetValue(v, called)
	if err != nil {
		return err
	}
	s.Next, s.Exhausted = next, exhausted
	s.Epoch++
	return nil
}

// GiveBack implements Store.
func (m *MemoryStore) GiveBack(ctx context.Context, name string, tail Block) (bool, error) {
	if tail.Count <= 0 {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.seqs[name]
	if !ok {
		return false, UnknownSequence(name)
	}
	if !s.After(tail) {
		return false, nil
	}
	s.Next, s.Exhausted = tail.First, false
	return true, nil
}
