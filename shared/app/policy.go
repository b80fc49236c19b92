package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/ratelimit"
)

// shared holds what every part of a function shares: one set of buckets and
// one idempotency store per process.
type shared struct {
	once    sync.Once
	limiter ratelimit.Limiter
}

// Limiter is the process's rate limiter: Redis-backed (shared by every
// instance, with per-instance buckets when Redis fails) when IDV_REDIS_URL
// is set, per instance otherwise.
func (e *Env) Limiter() ratelimit.Limiter {
	e.shared.once.Do(func() {
		local := ratelimit.NewMemory()
		e.shared.limiter = local
		if e.Redis != nil {
			log := e.Log
			e.shared.limiter = ratelimit.Fallback(ratelimit.NewRedis(e.Redis, "idv:rl:"), local, func(err error) {
				log.Warn("rate limit store unavailable; using per-instance limits", slog.String("error_class", errs.KindOf(err).String()))
			})
		}
	})
	return e.shared.limiter
}

// gatewayLimiter adapts a ratelimit.Limiter to gateway.RateLimiter.
type gatewayLimiter struct{ l ratelimit.Limiter }

func (g gatewayLimiter) Allow(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	d, err := g.l.Take(ctx, key, ratelimit.Rate{PerSecond: perSecond, Burst: burst})
	return d.Allowed, d.RetryAfter, err
}

// providerAdmit answers RequestLimitExceeded before Tencent would: the
// action's documented QPS, shared by every instance through Redis.
func providerAdmit(l ratelimit.Limiter) func(ctx context.Context, action string) error {
	return func(ctx context.Context, action string) error {
		_, err := ratelimit.TakeProvider(ctx, l, action)
		if err != nil && errs.KindOf(err) != errs.Throttled {
			// The limiter falls back by itself; an error left over is a
			// bug, and must not stop a verification.
			return nil
		}
		return err
	}
}
