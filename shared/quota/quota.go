// Package quota keeps capped counters: a set of counters taken together,
// all or none, so that a call is counted against every window it falls in
// (a person's minute and day, a caller's day and month) only when none of
// them is full, and given back when the call turned out not to count. The
// same semantics in memory (one instance) and in Redis (every instance,
// one Lua script per step, so concurrent takers never pass a cap).
//
// Per-person limits and caller budgets are built on it; it knows nothing
// of either.
package quota

import (
	"context"
	"time"
)

// Counter is one window of one thing counted.
type Counter struct {
	// Key names the counter; the caller builds it (window included), so
	// a new window is a new key.
	Key string
	// Limit is the most the counter may reach; 0 or less is no limit (it
	// is still counted).
	Limit int64
	// TTL is how long the counter outlives its last change: past its
	// window, so the key vanishes on its own.
	TTL time.Duration
}

// Result is the outcome of Take.
type Result struct {
	// OK says every counter was incremented.
	OK bool
	// Over is the index of the first counter that was full (when !OK).
	Over int
	// Counts are the counters' values after the take (before, when !OK).
	Counts []int64
}

// Store takes and gives back counters. Implementations are safe for
// concurrent use.
type Store interface {
	// Take increments every counter by one if none is at its limit, and
	// changes nothing otherwise.
	Take(ctx context.Context, counters []Counter) (Result, error)
	// Give decrements the counters a successful Take incremented (a
	// counter never goes below zero).
	Give(ctx context.Context, counters []Counter) error
	// Once reports true to exactly one caller per key within ttl: a
	// warning logged once across every instance.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}
