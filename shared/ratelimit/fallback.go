package ratelimit

import (
	"context"
	"sync"
	"time"
)

// FallbackOption configures Fallback.
type FallbackOption func(*fallback)

// RetryPrimaryAfter is how long the fallback skips the primary after it
// failed (default 1 s). Without it every request of an outage would wait for
// a Redis dial timeout before being served by the local limiter.
func RetryPrimaryAfter(d time.Duration) FallbackOption {
	return func(f *fallback) {
		if d >= 0 {
			f.cooldown = d
		}
	}
}

// PrimaryTimeout bounds one call to the primary (default 500 ms): Redis
// answers in well under a millisecond, and a store that hangs must not eat
// the platform deadline of a paid-for request.
func PrimaryTimeout(d time.Duration) FallbackOption {
	return func(f *fallback) {
		if d > 0 {
			f.timeout = d
		}
	}
}

type fallback struct {
	primary, local Limiter
	onErr          func(error)
	cooldown       time.Duration
	timeout        time.Duration
	now            func() time.Time

	mu        sync.Mutex
	failing   bool      // inside a run of primary failures (already reported)
	probing   bool      // one request is trying the primary during a run
	skipUntil time.Time // the primary is not tried before this
}

// Fallback uses primary (the shared Redis limiter) and, when it fails, the
// per-instance local limiter: a Redis outage neither stops paid-for
// verification nor removes every limit. onErr (may be nil) is called once at
// the start of each run of failures, not on every request; the first success
// of the primary ends the run. During a run, the primary is tried again after
// RetryPrimaryAfter by one request at a time, so an outage costs the other
// requests no store timeouts.
//
// A failure caused by the request's own context ending is not a store
// failure: it is served locally and neither reported nor counted.
func Fallback(primary, local Limiter, onErr func(error), opts ...FallbackOption) Limiter {
	f := &fallback{primary: primary, local: local, onErr: onErr, cooldown: time.Second, timeout: 500 * time.Millisecond, now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return f
}

func (f *fallback) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	if err := r.Valid(); err != nil {
		return Decision{}, err
	}
	f.mu.Lock()
	try := !f.failing || (!f.probing && !f.now().Before(f.skipUntil))
	probe := try && f.failing
	if probe {
		f.probing = true
	}
	f.mu.Unlock()
	if !try {
		return f.local.Take(ctx, key, r)
	}
	pctx, cancel := context.WithTimeout(ctx, f.timeout)
	d, err := f.primary.Take(pctx, key, r)
	cancel()
	f.mu.Lock()
	if probe {
		f.probing = false
	}
	if err == nil {
		f.failing = false
		f.mu.Unlock()
		return d, nil
	}
	report := false
	if ctx.Err() == nil {
		report = !f.failing
		f.failing = true
		f.skipUntil = f.now().Add(f.cooldown)
	}
	f.mu.Unlock()
	if report && f.onErr != nil {
		f.onErr(err)
	}
	return f.local.Take(ctx, key, r)
}
