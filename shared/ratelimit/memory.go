package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Memory is a per-instance Limiter. Buckets that have refilled completely
// are dropped (a full bucket and a missing one mean the same), so memory is
// bounded by the keys active within one refill period, and hard-capped by
// MaxKeys.
type Memory struct {
	mu        sync.Mutex
	now       func() time.Time
	maxKeys   int
	buckets   map[string]*bucket
	nextSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	full   time.Time // when the bucket is full again if untouched
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// WithMaxKeys caps the number of buckets kept (default 100000). Beyond it,
// after dropping full buckets, arbitrary buckets are dropped: those keys get a
// fresh burst, a bounded loosening only under key pressure.
func WithMaxKeys(n int) MemoryOption {
	return func(m *Memory) {
		if n > 0 {
			m.maxKeys = n
		}
	}
}

const sweepInterval = time.Minute

// NewMemory returns an in-process limiter.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{now: time.Now, maxKeys: 100000, buckets: make(map[string]*bucket)}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Take implements Limiter. It never fails on a valid rate.
func (m *Memory) Take(_ context.Context, key string, r Rate) (Decision, error) {
	if err := r.Valid(); err != nil {
		return Decision{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.buckets[key]
	if b == nil {
		m.makeRoom(now)
		b = &bucket{tokens: float64(r.Burst), last: now}
		m.buckets[key] = b
	} else if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens += elapsed.Seconds() * r.PerSecond
		b.last = now
	}
	if burst := float64(r.Burst); b.tokens > burst {
		b.tokens = burst
	}
	var d Decision
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed = true
	} else {
		d.RetryAfter = durationCeil((1 - b.tokens) / r.PerSecond)
	}
	d.Remaining = int(math.Floor(b.tokens))
	b.full = b.last.Add(durationCeil((float64(r.Burst) - b.tokens) / r.PerSecond))
	return d, nil
}

// Len is the number of buckets held, for tests and metrics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

// makeRoom runs before a new bucket is added: drop full buckets once a
// minute or when at the cap, then arbitrary ones if still at the cap.
func (m *Memory) makeRoom(now time.Time) {
	if len(m.buckets) < m.maxKeys && now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepInterval)
	for k, b := range m.buckets {
		if !now.Before(b.full) {
			delete(m.buckets, k)
		}
	}
	if len(m.buckets) < m.maxKeys {
		return
	}
	// Leave headroom so a full map does not pay for a sweep on every new key.
	target := m.maxKeys - m.maxKeys/8 - 1
	for k := range m.buckets {
		if len(m.buckets) <= target {
			break
		}
		delete(m.buckets, k)
	}
}

// durationCeil converts seconds to a Duration, rounding up so that waiting
// RetryAfter always finds the token there.
func durationCeil(seconds float64) time.Duration {
	if seconds <= 0 {
		return 0
	}
	ns := math.Ceil(seconds * float64(time.Second))
	if ns > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}
