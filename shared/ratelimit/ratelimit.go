// Package ratelimit is the token-bucket limiter in front of the paid FaceID
// calls: one bucket per caller (the operator's limit) and one per action (the
// provider's own per-account QPS, so we answer RequestLimitExceeded before
// Tencent does and never burn a request on its limit).
//
// Usage (what the gateway wires):
//
//	local := ratelimit.NewMemory()
//	var lim ratelimit.Limiter = local
//	if env.Redis != nil {
//		// Shared by every instance; a Redis outage falls back to the
//		// per-instance buckets instead of stopping paid-for verification.
//		lim = ratelimit.Fallback(ratelimit.NewRedis(env.Redis, "idv:rl:"), local,
//			func(err error) { env.Log.Warn("rate limit store unavailable", "err", err) })
//	}
//	gateway.Options{Limiter: ratelimit.Allower{Limiter: lim}}  // per-caller buckets ("caller:<id>")
//	service.Service{Admit: ratelimit.Admit(lim)}              // the provider's per-action QPS ("provider:<Action>")
//
// or directly, per request, after authentication and before the provider call:
//
//	if d, err := ratelimit.TakeCaller(ctx, lim, caller.ID, callerRate); err != nil {
//		return err // *errs.Error, Throttled "RequestLimitExceeded"; d.RetryAfterHeader() for Retry-After
//	}
//	if d, err := ratelimit.TakeProvider(ctx, lim, action); err != nil { ... }
//
// The caller bucket is taken before the provider bucket, so a request refused
// by the provider limit has still spent its caller token: a caller that keeps
// pushing past the provider limit slows itself down, not the others.
//
// Without Redis the provider limits are per instance, so N instances may
// together send N times Tencent's QPS; configure IDV_REDIS_URL in any
// deployment that scales out.
package ratelimit

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// Rate is a token bucket: it refills at PerSecond tokens a second up to
// Burst tokens, and each request takes one.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Decision is the answer for one request.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until one token is back; zero when Allowed.
	RetryAfter time.Duration
	// Remaining is how many whole tokens are left after this request.
	Remaining int
}

// Limiter takes one token from the bucket named key.
type Limiter interface {
	Take(ctx context.Context, key string, r Rate) (Decision, error)
}

// Valid reports a rate that cannot describe a bucket. Both limiters check it,
// so a misconfiguration is an error rather than no limit at all.
func (r Rate) Valid() error {
	if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) || r.Burst < 1 {
		return errs.E(errs.Internal, "InvalidRateLimit", "rate limit needs PerSecond > 0 and Burst >= 1 (got %g/s, burst %d)", r.PerSecond, r.Burst)
	}
	return nil
}

// RetryAfterHeader is the value of an HTTP Retry-After header: whole seconds,
// rounded up so a client that obeys it finds a token, and at least 1.
func (d Decision) RetryAfterHeader() string {
	s := int64(math.Ceil(d.RetryAfter.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// CallerKey is the bucket of one caller's own limit.
func CallerKey(callerID string) string { return "caller:" + callerID }

// ProviderKey is the bucket of the provider's limit on one action.
func ProviderKey(action string) string { return "provider:" + action }

// ProviderRate is Tencent's default per-account limit on a FaceID action from
// the registry: QPS requests a second, with a burst of one second's worth.
// It is false for an action the registry does not know or gives no QPS.
func ProviderRate(action string) (Rate, bool) {
	a, ok := faceid.Lookup(action)
	if !ok || a.QPS <= 0 {
		return Rate{}, false
	}
	return Rate{PerSecond: float64(a.QPS), Burst: a.QPS}, true
}

// TakeCaller takes a token from the caller's bucket. A refusal is returned as
// a Throttled *errs.Error alongside the decision (for Retry-After).
func TakeCaller(ctx context.Context, l Limiter, callerID string, r Rate) (Decision, error) {
	d, err := l.Take(ctx, CallerKey(callerID), r)
	if err != nil {
		return d, err
	}
	if !d.Allowed {
		return d, errs.E(errs.Throttled, "RequestLimitExceeded",
			"request rate limit of this caller exceeded (%g/s, burst %d); retry after %s s", r.PerSecond, r.Burst, d.RetryAfterHeader())
	}
	return d, nil
}

// TakeProvider takes a token from the provider's bucket for a FaceID action.
// An action without a known provider limit is allowed without taking
// anything (Remaining is -1 then).
func TakeProvider(ctx context.Context, l Limiter, action string) (Decision, error) {
	r, ok := ProviderRate(action)
	if !ok {
		return Decision{Allowed: true, Remaining: -1}, nil
	}
	d, err := l.Take(ctx, ProviderKey(action), r)
	if err != nil {
		return d, err
	}
	if !d.Allowed {
		return d, errs.E(errs.Throttled, "RequestLimitExceeded",
			"the provider's rate limit for %s (%d requests/s) is reached; retry after %s s", action, r.Burst, d.RetryAfterHeader())
	}
	return d, nil
}
