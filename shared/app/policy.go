package app

import (
	"context"
	"fmt"
	"github.com/idverify/idverify/shared/sandboxflow"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/ratelimit"
)

// shared holds what every part of a function shares: one set of buckets and
// one idempotency store per process.
type shared struct {
	once    sync.Once
	limiter ratelimit.Limiter

	keyOnce sync.Once
	key     []byte
	keyErr  error

	authMu sync.Mutex
	auth   map[string]authResult

	idemOnce sync.Once
	idem     gateway.IdempotencyStore
	idemErr  error

	flowsOnce sync.Once
	flows     sandboxflow.Store
	acct      accounting // per-person limits, budgets, usage (accounting.go)
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
// action's documented QPS (or the account's raised limit from
// IDV_PROVIDER_QPS), shared by every instance through Redis.
func providerAdmit(l ratelimit.Limiter, limits providerLimits) func(ctx context.Context, action string) error {
	return func(ctx context.Context, action string) error {
		if limits.off {
			return nil
		}
		var err error
		if n, ok := limits.qps[action]; ok {
			d, terr := l.Take(ctx, ratelimit.ProviderKey(action), ratelimit.Rate{PerSecond: float64(n), Burst: n})
			err = terr
			if terr == nil && !d.Allowed {
				err = errs.E(errs.Throttled, "RequestLimitExceeded",
					"the provider's rate limit for %s (%d requests/s, IDV_PROVIDER_QPS) is reached; retry after %s s", action, n, d.RetryAfterHeader())
			}
		} else {
			_, err = ratelimit.TakeProvider(ctx, l, action)
		}
		if err != nil && errs.KindOf(err) != errs.Throttled {
			// The limiter falls back by itself; an error left over is a
			// bug, and must not stop a verification.
			return nil
		}
		return err
	}
}

// providerLimits is IDV_PROVIDER_QPS: "off" (the account's limits are
// enforced by Tencent alone), or "Action=N,..." for limits Tencent raised.
type providerLimits struct {
	off bool
	qps map[string]int
}

func parseProviderLimits(v string) (providerLimits, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return providerLimits{}, nil
	}
	if strings.EqualFold(v, "off") {
		return providerLimits{off: true}, nil
	}
	pl := providerLimits{qps: map[string]int{}}
	for _, item := range strings.Split(v, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(item), "=")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 1 || n > 100000 {
			return providerLimits{}, fmt.Errorf("IDV_PROVIDER_QPS: %q is not Action=N with N from 1 to 100000 (or the whole value \"off\")", item)
		}
		name = strings.TrimSpace(name)
		if _, known := faceid.Lookup(name); !known {
			return providerLimits{}, fmt.Errorf("IDV_PROVIDER_QPS: %q is not a FaceID action", name)
		}
		pl.qps[name] = n
	}
	return pl, nil
}
