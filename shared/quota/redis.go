package quota

import (
	"context"
	"fmt"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
)

// takeScript checks every counter against its limit and increments all of
// them only if none is full: one script, so two instances racing for the
// last unit cannot both get it. ARGV holds limit and TTL (ms) per key.
// Answers {ok, over (1-based, 0 for none), count...}.
var takeScript = resp.NewScript(`
local n = #KEYS
local counts = {}
local over = 0
for i = 1, n do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = v
  local limit = tonumber(ARGV[2*i-1])
  if over == 0 and limit > 0 and v >= limit then over = i end
end
if over > 0 then
  local out = {0, over}
  for i = 1, n do out[#out+1] = counts[i] end
  return out
end
local out = {1, 0}
for i = 1, n do
  local v = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2*i]))
  out[#out+1] = v
end
return out
`)

// giveScript decrements each counter that is above zero.
var giveScript = resp.NewScript(`
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  if v > 0 then
    redis.call('DECR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i]))
  end
end
return 1
`)

// Redis is a Store shared by every instance using one Redis.
type Redis struct {
	c      *resp.Client
	prefix string
}

// NewRedis returns a Store keeping its counters under prefix in c.
func NewRedis(c *resp.Client, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

func unavailable(err error) error {
	return errs.Wrap(err, errs.Unavailable, "QuotaStoreUnavailable", "the quota store is unavailable")
}

// Take implements Store.
func (s *Redis) Take(ctx context.Context, cs []Counter) (Result, error) {
	if len(cs) == 0 {
		return Result{OK: true}, nil
	}
	keys := make([]string, len(cs))
	args := make([]any, 0, 2*len(cs))
	for i, c := range cs {
		keys[i] = s.prefix + c.Key
		args = append(args, c.Limit, ttlMS(c.TTL))
	}
	v, err := takeScript.Run(ctx, s.c, keys, args...).Int64Slice()
	if err != nil {
		return Result{}, unavailable(err)
	}
	if len(v) != 2+len(cs) {
		return Result{}, unavailable(fmt.Errorf("take script answered %d values for %d keys", len(v), len(cs)))
	}
	r := Result{OK: v[0] == 1, Counts: v[2:]}
	if !r.OK {
		r.Over = int(v[1]) - 1
	}
	return r, nil
}

// Give implements Store.
func (s *Redis) Give(ctx context.Context, cs []Counter) error {
	if len(cs) == 0 {
		return nil
	}
	keys := make([]string, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		keys[i], args[i] = s.prefix+c.Key, ttlMS(c.TTL)
	}
	if err := giveScript.Run(ctx, s.c, keys, args...).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Once implements Store: SET NX.
func (s *Redis) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.c.SetNX(ctx, s.prefix+"once:"+key, 1, ttl).Bool()
	if err != nil {
		return false, unavailable(err)
	}
	return ok, nil
}

func ttlMS(d time.Duration) int64 {
	if n := d.Milliseconds(); n > 0 {
		return n
	}
	return 1000
}
