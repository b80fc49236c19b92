package ratelimit

import (
	"context"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
)

// takeScript is one token-bucket step, atomic in Redis. Time comes from the
// server (TIME), so the instances' clocks do not matter; the key expires once
// the bucket would be full again, so idle buckets vanish.
//
// The hash holds t (tokens, a float) and ts (microseconds of the last
// refill). Numbers are passed to redis.call as Lua numbers, which Redis
// formats with full precision (tostring would cut to 14 digits).
var takeScript = resp.NewScript(`
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(cur[1])
local ts = tonumber(cur[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
elseif now > ts then
  tokens = tokens + (now - ts) * rate / 1000000
  ts = now
end
if tokens > burst then tokens = burst end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 't', tokens, 'ts', ts)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, retry, math.floor(tokens)}
`)

// Redis is a Limiter shared by every instance through one Redis.
type Redis struct {
	c      *resp.Client
	prefix string
}

// NewRedis returns a limiter whose buckets are the keys prefix+key in c.
func NewRedis(c *resp.Client, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

// Take implements Limiter. A store failure is Unavailable
// "RateLimitStoreUnavailable"; wrap the limiter in Fallback to keep serving.
func (l *Redis) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	if err := r.Valid(); err != nil {
		return Decision{}, err
	}
	v, err := takeScript.Run(ctx, l.c, []string{l.prefix + key}, r.PerSecond, r.Burst).Int64Slice()
	if err != nil {
		return Decision{}, errs.Wrap(err, errs.Unavailable, "RateLimitStoreUnavailable", "the rate limit store is unavailable")
	}
	if len(v) != 3 {
		return Decision{}, errs.E(errs.Internal, "InternalError", "rate limit script answered %d values", len(v))
	}
	return Decision{Allowed: v[0] == 1, RetryAfter: time.Duration(v[1]) * time.Microsecond, Remaining: int(v[2])}, nil
}
