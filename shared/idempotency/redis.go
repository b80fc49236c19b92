package idempotency

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// One hash per key: st (state), own (owner token), fp (fingerprint), lease
// (ms of server time when the claim's holder is presumed dead), rec (the
// sealed answer). The key lives for the retention period from Begin, and
// again from Complete, so a dead holder's record stays as the
// outcome-unknown marker (see the package doc).
//
// Lease times come from the server's TIME, so instances' clocks do not
// matter. Lua numbers passed to redis.call keep full precision.

var beginScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'st', 'fp', 'lease', 'rec')
if not cur[1] then
  redis.call('HSET', KEYS[1], 'st', 'p', 'own', ARGV[1], 'fp', ARGV[2], 'lease', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'claimed'}
end
local expired = '0'
if cur[1] == 'p' and now >= (tonumber(cur[3]) or 0) then expired = '1' end
return {cur[1], cur[2] or '', expired, cur[4] or ''}
`)

var completeScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if cur[1] ~= 'p' or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'rec', ARGV[3])
redis.call('HDEL', KEYS[1], 'own', 'lease')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

var releaseScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if cur[1] ~= 'p' or cur[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

var abandonScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if cur[1] ~= 'p' or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease', 0)
return 1
`)

// NewRedis returns a Store shared by every instance through c, its records
// under keys starting with prefix. Options: WithLease, WithRetention,
// WithMaxRecordBytes, WithEncryptionKey.
func NewRedis(c redis.UniversalClient, prefix string, opts ...Option) *Store {
	return &Store{b: redisBackend{c}, cfg: newConfig(prefix, opts)}
}

type redisBackend struct{ c redis.UniversalClient }

func (r redisBackend) begin(ctx context.Context, k, owner, fp string, lease, retention time.Duration) (found, error) {
	v, err := beginScript.Run(ctx, r.c, []string{k}, owner, fp, lease.Milliseconds(), retention.Milliseconds()).StringSlice()
	if err != nil {
		return found{}, err
	}
	if len(v) == 1 && v[0] == "claimed" {
		return found{claimed: true}, nil
	}
	if len(v) != 4 {
		return found{}, fmt.Errorf("idempotency begin script answered %d values", len(v))
	}
	f := found{state: v[0], fp: v[1], expired: v[2] == "1"}
	if v[3] != "" {
		f.blob = []byte(v[3])
	}
	return f, nil
}

func (r redisBackend) complete(ctx context.Context, k, owner, state string, blob []byte, retention time.Duration) (bool, error) {
	n, err := completeScript.Run(ctx, r.c, []string{k}, owner, state, blob, retention.Milliseconds()).Int()
	return n == 1, err
}

func (r redisBackend) release(ctx context.Context, k, owner string) (bool, error) {
	n, err := releaseScript.Run(ctx, r.c, []string{k}, owner).Int()
	return n == 1, err
}

func (r redisBackend) abandon(ctx context.Context, k, owner string) (bool, error) {
	n, err := abandonScript.Run(ctx, r.c, []string{k}, owner).Int()
	return n == 1, err
}
