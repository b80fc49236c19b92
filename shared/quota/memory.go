package quota

import (
	"context"
	"sync"
	"time"
)

// Memory is a Store for one instance. It holds at most MaxKeys live
// counters: past that (a flood of distinct identities within one day) a
// new counter is not kept, so that window goes uncounted for it rather
// than the process growing without bound.
type Memory struct {
	mu        sync.Mutex
	now       func() time.Time
	vals      map[string]entry
	nextSweep time.Time
}

type entry struct {
	n       int64
	expires time.Time
}

// MaxKeys caps the counters a Memory keeps.
const MaxKeys = 1 << 20

// NewMemory returns an empty in-process Store; now is the clock (nil is
// time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, vals: map[string]entry{}}
}

// get is the live value of key; m.mu is held.
func (m *Memory) get(key string, now time.Time) int64 {
	e, ok := m.vals[key]
	if !ok || !now.Before(e.expires) {
		return 0
	}
	return e.n
}

// sweep drops expired counters at most once a minute; m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(time.Minute)
	for k, e := range m.vals {
		if !now.Before(e.expires) {
			delete(m.vals, k)
		}
	}
}

// Take implements Store.
func (m *Memory) Take(_ context.Context, cs []Counter) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	r := Result{Counts: make([]int64, len(cs)), Over: -1}
	for i, c := range cs {
		r.Counts[i] = m.get(c.Key, now)
		if r.Over < 0 && c.Limit > 0 && r.Counts[i] >= c.Limit {
			r.Over = i
		}
	}
	if r.Over >= 0 {
		return r, nil
	}
	for i, c := range cs {
		r.Counts[i]++
		if _, kept := m.vals[c.Key]; kept || len(m.vals) < MaxKeys {
			m.vals[c.Key] = entry{n: r.Counts[i], expires: now.Add(c.TTL)}
		}
	}
	r.OK, r.Over = true, 0
	return r, nil
}

// Give implements Store.
func (m *Memory) Give(_ context.Context, cs []Counter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, c := range cs {
		if n := m.get(c.Key, now); n > 0 {
			m.vals[c.Key] = entry{n: n - 1, expires: now.Add(c.TTL)}
		}
	}
	return nil
}

// Once implements Store.
func (m *Memory) Once(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.get("once\x00"+key, now) > 0 {
		return false, nil
	}
	m.vals["once\x00"+key] = entry{n: 1, expires: now.Add(ttl)}
	return true, nil
}
