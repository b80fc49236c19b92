package idempotency

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/idverify/idverify/shared/resp"
)

// One hash per key: st (state: c claimed, p pending i.e. sent, d done, l
// too large, x dropped), own (owner token), fp (fingerprint), lease (ms of
// server time when the claim lease, or once sent the lease, ends), rec (the
// sealed answer). The key lives for the retention period from Begin, again
// from Sending and again from Complete, so a dead holder's sent record stays
// as the outcome-unknown marker (see the package doc). A dropped marker
// lives for the claim lease.
//
// Lease times come from the server's TIME, so instances' clocks do not
// matter. Lua numbers passed to redis.call keep full precision.

// beginScript: ARGV owner, fp, claim lease ms, retention ms. Answers
// {'claimed'} or {st, fp, expired, rec, ms left}.
var beginScript = resp.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'st', 'own', 'fp', 'lease', 'rec')
local st, lease = cur[1], tonumber(cur[4]) or 0
if st and cur[2] == ARGV[1] then
  if st == 'c' then return {'claimed'} end
  if st == 'x' then return {'x', '', '0', '', '0'} end
end
if not st or st == 'x' or (st == 'c' and now >= lease) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'st', 'c', 'own', ARGV[1], 'fp', ARGV[2], 'lease', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'claimed'}
end
local expired, left = '0', 0
if st == 'c' or st == 'p' then
  left = lease - now
  if left <= 0 then expired, left = '1', 0 end
end
return {st, cur[3] or '', expired, cur[5] or '', tostring(left)}
`)

// sendingScript: ARGV owner, lease ms, retention ms. Answers 1 sent, 0
// lost, 2 claim lease passed (record deleted).
var sendingScript = resp.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'st', 'own', 'lease')
if cur[2] ~= ARGV[1] then return 0 end
if cur[1] == 'p' then return 1 end
if cur[1] ~= 'c' then return 0 end
if now >= (tonumber(cur[3]) or 0) then
  redis.call('DEL', KEYS[1])
  return 2
end
redis.call('HSET', KEYS[1], 'st', 'p', 'lease', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

var completeScript = resp.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if (cur[1] ~= 'p' and cur[1] ~= 'c') or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[2], 'rec', ARGV[3])
redis.call('HDEL', KEYS[1], 'own', 'lease')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

var releaseScript = resp.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if (cur[1] ~= 'p' and cur[1] ~= 'c') or cur[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

var abandonScript = resp.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
if (cur[1] ~= 'p' and cur[1] ~= 'c') or cur[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'p', 'lease', 0)
return 1
`)

// dropScript: ARGV owner, '1' when a pending record may go too, marker ms.
var dropScript = resp.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'st', 'own')
local st = cur[1]
if st then
  if cur[2] ~= ARGV[1] then return 0 end
  if st ~= 'c' and st ~= 'x' and not (st == 'p' and ARGV[2] == '1') then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'st', 'x', 'own', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// NewRedis returns a Store shared by every instance through c, its records
// under keys starting with prefix. Options: WithLease, WithClaimLease,
// WithRetention, WithMaxRecordBytes, WithEncryptionKey.
func NewRedis(c *resp.Client, prefix string, opts ...Option) *Store {
	return &Store{b: redisBackend{c}, cfg: newConfig(prefix, opts)}
}

type redisBackend struct{ c *resp.Client }

func (r redisBackend) begin(ctx context.Context, k, owner, fp string, claimLease, retention time.Duration) (found, error) {
	v, err := beginScript.Run(ctx, r.c, []string{k}, owner, fp, claimLease.Milliseconds(), retention.Milliseconds()).StringSlice()
	if err != nil {
		return found{}, err
	}
	if len(v) == 1 && v[0] == "claimed" {
		return found{claimed: true}, nil
	}
	if len(v) != 5 {
		return found{}, fmt.Errorf("idempotency begin script answered %d values", len(v))
	}
	left, err := strconv.ParseInt(v[4], 10, 64)
	if err != nil {
		return found{}, fmt.Errorf("idempotency begin script: lease left %q", v[4])
	}
	f := found{state: v[0], fp: v[1], expired: v[2] == "1", remaining: time.Duration(left) * time.Millisecond}
	if v[3] != "" {
		f.blob = []byte(v[3])
	}
	return f, nil
}

func (r redisBackend) sending(ctx context.Context, k, owner string, lease, retention time.Duration) (sendResult, error) {
	n, err := sendingScript.Run(ctx, r.c, []string{k}, owner, lease.Milliseconds(), retention.Milliseconds()).Int()
	if err != nil {
		return sendLost, err
	}
	switch n {
	case 1:
		return sendOK, nil
	case 2:
		return sendExpired, nil
	}
	return sendLost, nil
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

func (r redisBackend) drop(ctx context.Context, k, owner string, sent bool, marker time.Duration) error {
	flag := "0"
	if sent {
		flag = "1"
	}
	return dropScript.Run(ctx, r.c, []string{k}, owner, flag, marker.Milliseconds()).Err()
}
