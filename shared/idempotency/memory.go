package idempotency

import (
	"context"
	"errors"
	"sync"
	"time"
)

// NewMemory returns a Store kept in this process, for a local server
// without Redis: the same semantics, but per instance and lost on restart.
// Options: those of NewRedis, plus WithClock and WithMemoryLimits.
func NewMemory(opts ...Option) *Store {
	cfg := newConfig("", opts)
	return &Store{b: &memoryBackend{now: cfg.now, maxEntries: cfg.maxEntries, maxBytes: cfg.maxBytes,
		m: make(map[string]*memEntry)}, cfg: cfg}
}

type memEntry struct {
	state   string
	owner   string
	fp      string
	lease   time.Time
	expires time.Time
	blob    []byte
}

type memoryBackend struct {
	now        func() time.Time
	maxEntries int
	maxBytes   int

	mu        sync.Mutex
	m         map[string]*memEntry
	bytes     int
	nextSweep time.Time
}

// errFull is reported as IdempotencyStoreUnavailable: refusing a new key is
// safe, forgetting a live one is not.
var errFull = errors.New("idempotency memory store is full of live records")

func (b *memoryBackend) get(k string, now time.Time) *memEntry {
	e := b.m[k]
	if e != nil && !now.Before(e.expires) {
		b.remove(k, e)
		return nil
	}
	return e
}

func (b *memoryBackend) remove(k string, e *memEntry) {
	b.bytes -= len(e.blob)
	delete(b.m, k)
}

// sweep drops expired records, at most once a second unless full. When
// full it also drops claims never sent whose claim lease has passed: any
// Begin could claim over them anyway.
func (b *memoryBackend) sweep(now time.Time, full bool) {
	if !full && now.Before(b.nextSweep) {
		return
	}
	b.nextSweep = now.Add(time.Second)
	for k, e := range b.m {
		if !now.Before(e.expires) || full && e.state == stateClaimed && !now.Before(e.lease) {
			b.remove(k, e)
		}
	}
}

func (b *memoryBackend) begin(_ context.Context, k, owner, fp string, claimLease, retention time.Duration) (found, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if e := b.get(k, now); e != nil {
		switch {
		case e.owner == owner && e.state == stateClaimed:
			return found{claimed: true}, nil
		case e.owner == owner && e.state == stateDropped:
			return found{state: stateDropped}, nil
		case e.state == stateDropped || e.state == stateClaimed && !now.Before(e.lease):
			// free: claimed afresh below
			b.remove(k, e)
		default:
			f := found{state: e.state, fp: e.fp, blob: e.blob}
			if e.state == statePending || e.state == stateClaimed {
				f.remaining = e.lease.Sub(now)
				f.expired = f.remaining <= 0
				if f.expired {
					f.remaining = 0
				}
			}
			return f, nil
		}
	}
	b.sweep(now, len(b.m) >= b.maxEntries)
	if len(b.m) >= b.maxEntries {
		return found{}, errFull
	}
	b.m[k] = &memEntry{state: stateClaimed, owner: owner, fp: fp, lease: now.Add(claimLease), expires: now.Add(retention)}
	return found{claimed: true}, nil
}

// owned is k's record if owner holds it claimed or pending.
func (b *memoryBackend) owned(k, owner string, now time.Time) *memEntry {
	e := b.get(k, now)
	if e == nil || e.state != statePending && e.state != stateClaimed || e.owner != owner {
		return nil
	}
	return e
}

func (b *memoryBackend) sending(_ context.Context, k, owner string, lease, retention time.Duration) (sendResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	e := b.owned(k, owner, now)
	switch {
	case e == nil:
		return sendLost, nil
	case e.state == statePending:
		return sendOK, nil
	case !now.Before(e.lease):
		b.remove(k, e)
		return sendExpired, nil
	}
	e.state, e.lease, e.expires = statePending, now.Add(lease), now.Add(retention)
	return sendOK, nil
}

func (b *memoryBackend) complete(_ context.Context, k, owner, state string, blob []byte, retention time.Duration) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	e := b.owned(k, owner, now)
	if e == nil {
		return false, nil
	}
	if b.bytes+len(blob) > b.maxBytes {
		b.sweep(now, true)
	}
	if b.bytes+len(blob) > b.maxBytes {
		// No room for the answer: still mark the key finished, so a retry
		// is told so instead of calling the provider again.
		state, blob = stateTooLarge, nil
	}
	e.state, e.owner, e.blob, e.expires = state, "", append([]byte(nil), blob...), now.Add(retention)
	b.bytes += len(e.blob)
	return true, nil
}

func (b *memoryBackend) release(_ context.Context, k, owner string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.owned(k, owner, b.now())
	if e == nil {
		return false, nil
	}
	b.remove(k, e)
	return true, nil
}

func (b *memoryBackend) abandon(_ context.Context, k, owner string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.owned(k, owner, b.now())
	if e == nil {
		return false, nil
	}
	e.state, e.lease = statePending, time.Time{}
	return true, nil
}

func (b *memoryBackend) drop(_ context.Context, k, owner string, sent bool, marker time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if e := b.get(k, now); e != nil {
		if e.owner != owner || e.state != stateClaimed && e.state != stateDropped && !(sent && e.state == statePending) {
			return nil
		}
		b.remove(k, e)
	} else if len(b.m) >= b.maxEntries {
		return nil // a marker is not worth refusing a live key for
	}
	b.m[k] = &memEntry{state: stateDropped, owner: owner, expires: now.Add(marker)}
	return nil
}
