package ratelimit

import (
	"context"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// Allower gives a Limiter the shape of gateway.RateLimiter
// (Allow(ctx, key, perSecond, burst)) without this package importing the
// gateway: app can pass ratelimit.Allower{Limiter: lim} as it is.
type Allower struct{ Limiter }

// Allow takes one token from key at perSecond with burst.
func (a Allower) Allow(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	d, err := a.Take(ctx, key, Rate{PerSecond: perSecond, Burst: burst})
	return d.Allowed, d.RetryAfter, err
}

// Admit is a service.Service Admit hook: it refuses a call the provider's
// own per-action limit would refuse, with Throttled RequestLimitExceeded,
// before anything is sent. A limiter that fails (wrap Redis in Fallback so
// it does not) lets the call through: refusing paid-for verification
// because a counter is down is worse than a provider-side refusal.
func Admit(l Limiter) func(ctx context.Context, action string) error {
	return func(ctx context.Context, action string) error {
		_, err := TakeProvider(ctx, l, action)
		if err != nil && errs.KindOf(err) == errs.Throttled {
			return err
		}
		return nil
	}
}
