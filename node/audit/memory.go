package audit

import (
	"slices"
	"sync"
)

// Memory is a Backend in memory, for tests.
type Memory struct {
	mu     sync.Mutex
	Stored map[uint64][]byte
	anchor []byte
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{Stored: map[uint64][]byte{}} }

// PutAudit implements Backend.
func (m *Memory) PutAudit(index uint64, entry []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Stored[index] = slices.Clone(entry)
	return nil
}

func (m *Memory) keys() []uint64 {
	var ks []uint64
	for k := range m.Stored {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// AuditEntries implements Backend.
func (m *Memory) AuditEntries(from uint64, fn func(uint64, []byte) error) error {
	m.mu.Lock()
	ks := m.keys()
	m.mu.Unlock()
	for _, k := range ks {
		m.mu.Lock()
		v, ok := m.Stored[k]
		m.mu.Unlock()
		if k < from || !ok {
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// LastAudit implements Backend.
func (m *Memory) LastAudit() (uint64, []byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ks := m.keys()
	if len(ks) == 0 {
		return 0, nil, false, nil
	}
	k := ks[len(ks)-1]
	return k, m.Stored[k], true, nil
}

// PruneAudit implements Backend.
func (m *Memory) PruneAudit(before uint64, anchor []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.Stored {
		if k < before {
			delete(m.Stored, k)
		}
	}
	m.anchor = slices.Clone(anchor)
	return nil
}

// AuditAnchor implements Backend.
func (m *Memory) AuditAnchor() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.anchor, nil
}
