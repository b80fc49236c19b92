package flows

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/resp"
)

// kv is the little a flow store and a webhook outbox need from a store:
// values with a lifetime, a set-if-absent (one event per transition, one
// runner per delivery), and due-time queues. Redis when configured, so
// flows survive the instance and every instance sees them; memory
// otherwise (the local server, one process).
type kv interface {
	get(ctx context.Context, key string) ([]byte, error) // nil, nil when absent
	set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// setNX sets key only when absent; ok says it did.
	setNX(ctx context.Context, key string, val []byte, ttl time.Duration) (ok bool, err error)
	del(ctx context.Context, key string) error
	// schedule puts member in queue due at t (moving it if present).
	schedule(ctx context.Context, queue, member string, t time.Time) error
	// due lists up to n members of queue due at or before t, earliest first.
	due(ctx context.Context, queue string, t time.Time, n int) ([]string, error)
	// members lists up to n members of queue, earliest first.
	members(ctx context.Context, queue string, n int) ([]string, error)
	unschedule(ctx context.Context, queue, member string) error
}

// redisKV keeps everything under prefix.
type redisKV struct {
	c      *resp.Client
	prefix string
}

func (r redisKV) get(ctx context.Context, key string) ([]byte, error) {
	b, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, resp.Nil) {
		return nil, nil
	}
	return b, err
}

func (r redisKV) set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return r.c.Set(ctx, r.prefix+key, val, ttl).Err()
}

func (r redisKV) setNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	return r.c.SetNX(ctx, r.prefix+key, val, ttl).Bool()
}

func (r redisKV) del(ctx context.Context, key string) error {
	return r.c.Do(ctx, "DEL", r.prefix+key).Err()
}

func (r redisKV) schedule(ctx context.Context, queue, member string, t time.Time) error {
	return r.c.Do(ctx, "ZADD", r.prefix+queue, t.UnixMilli(), member).Err()
}

func (r redisKV) due(ctx context.Context, queue string, t time.Time, n int) ([]string, error) {
	return r.c.Do(ctx, "ZRANGEBYSCORE", r.prefix+queue, "-inf", strconv.FormatInt(t.UnixMilli(), 10), "LIMIT", 0, n).StringSlice()
}

func (r redisKV) members(ctx context.Context, queue string, n int) ([]string, error) {
	return r.c.ZRange(ctx, r.prefix+queue, 0, int64(n-1)).StringSlice()
}

func (r redisKV) unschedule(ctx context.Context, queue, member string) error {
	return r.c.ZRem(ctx, r.prefix+queue, member).Err()
}

// memKV is one process's store. Expired values are dropped when read and
// by a sweep when the map grows; queues are small (open flows, pending
// deliveries).
type memKV struct {
	mu     sync.Mutex
	vals   map[string]memVal
	queues map[string]map[string]time.Time
	now    func() time.Time
}

type memVal struct {
	b   []byte
	exp time.Time // zero: no expiry
}

// memMaxKeys bounds the memory store: a local server, not a database.
const memMaxKeys = 100_000

func newMemKV(now func() time.Time) *memKV {
	return &memKV{vals: map[string]memVal{}, queues: map[string]map[string]time.Time{}, now: now}
}

func (m *memKV) live(v memVal, ok bool) bool {
	return ok && (v.exp.IsZero() || m.now().Before(v.exp))
}

func (m *memKV) get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[key]
	if !m.live(v, ok) {
		delete(m.vals, key)
		return nil, nil
	}
	return append([]byte(nil), v.b...), nil
}

func (m *memKV) put(key string, val []byte, ttl time.Duration) error {
	if len(m.vals) >= memMaxKeys {
		for k, v := range m.vals {
			if !m.live(v, true) {
				delete(m.vals, k)
			}
		}
		if len(m.vals) >= memMaxKeys {
			return errors.New("flows: the in-memory store is full (set IDV_REDIS_URL)")
		}
	}
	v := memVal{b: append([]byte(nil), val...)}
	if ttl > 0 {
		v.exp = m.now().Add(ttl)
	}
	m.vals[key] = v
	return nil
}

func (m *memKV) set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.put(key, val, ttl)
}

func (m *memKV) setNX(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[key]; m.live(v, ok) {
		return false, nil
	}
	return true, m.put(key, val, ttl)
}

func (m *memKV) del(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, key)
	return nil
}

func (m *memKV) schedule(_ context.Context, queue, member string, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil {
		q = map[string]time.Time{}
		m.queues[queue] = q
	}
	q[member] = t
	return nil
}

func (m *memKV) sorted(queue string, until time.Time, n int) []string {
	type item struct {
		m string
		t time.Time
	}
	var all []item
	for k, t := range m.queues[queue] {
		if until.IsZero() || !t.After(until) {
			all = append(all, item{k, t})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].t.Equal(all[j].t) {
			return all[i].m < all[j].m
		}
		return all[i].t.Before(all[j].t)
	})
	out := []string{}
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].m)
	}
	return out
}

func (m *memKV) due(_ context.Context, queue string, t time.Time, n int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(queue, t, n), nil
}

func (m *memKV) members(_ context.Context, queue string, n int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(queue, time.Time{}, n), nil
}

func (m *memKV) unschedule(_ context.Context, queue, member string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.queues[queue], member)
	return nil
}
