package idempotency

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/tests/redistest"
)

func TestRedisBehaviours(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	runSuite(t, func(t *testing.T) env {
		prefix := fmt.Sprintf("idem%d:", n.Add(1))
		a, b := srv.Client(t), srv.Client(t) // two instances
		var opened atomic.Int64
		return env{
			open: func(opts ...Option) *Store {
				c := a
				if opened.Add(1)%2 == 0 {
					c = b
				}
				return NewRedis(c, prefix, opts...)
			},
			// Leases and expiry run on the server's clock; sleeping is a
			// lower bound on the time passed there, so this is not a race.
			pass: time.Sleep,
		}
	})
}

func onlyKey(t *testing.T, c *redis.Client, prefix string) string {
	t.Helper()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys under %s = %v, %v; want one", prefix, keys, err)
	}
	return keys[0]
}

func TestRedisRecordsLive24Hours(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ins := srv.Inspect(t)
	s := NewRedis(c, "idem:")
	claim := begin(t, s, scope, "k", fp("body"))
	k := onlyKey(t, ins, "idem:")
	if st, _ := ins.HGet(ctx, k, "st").Result(); st != stateClaimed {
		t.Fatalf("state after Begin = %q, want claimed", st)
	}
	if err := ins.PExpire(ctx, k, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	sending(t, claim)
	if st, _ := ins.HGet(ctx, k, "st").Result(); st != statePending {
		t.Fatalf("state after Sending = %q, want pending", st)
	}
	// The sent record is the outcome-unknown marker: it lives the full day
	// from Sending.
	ttl, err := ins.PTTL(ctx, k).Result()
	if err != nil || ttl < 24*time.Hour-time.Minute || ttl > 24*time.Hour {
		t.Fatalf("pending PTTL = %v %v, want about 24h", ttl, err)
	}
	if err := ins.PExpire(ctx, k, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := claim.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	ttl, err = ins.PTTL(ctx, k).Result()
	if err != nil || ttl < 24*time.Hour-time.Minute || ttl > 24*time.Hour {
		t.Fatalf("completed PTTL = %v %v, want 24h from Complete", ttl, err)
	}
	// Neither the caller's key nor the scope appears in the store.
	if len(k) != len("idem:")+64 || bytes.Contains([]byte(k), []byte("web")) {
		t.Fatalf("store key %q is not prefix + hash", k)
	}
}

func TestRedisEncryptedAtRest(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ins := srv.Inspect(t)
	s := NewRedis(c, "idem:", WithEncryptionKey(bytes.Repeat([]byte{7}, 32)))
	claim := begin(t, s, scope, "k", fp("body"))
	if err := claim.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	k := onlyKey(t, ins, "idem:")
	all, err := ins.HGetAll(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	for field, v := range all {
		if bytes.Contains([]byte(v), []byte("RequestId")) || bytes.Contains([]byte(v), []byte("身份证")) || v == fp("body") {
			t.Fatalf("field %s holds the answer or the fingerprint in the clear", field)
		}
	}
	// A sealed record moved to another caller's slot does not open there.
	other := begin(t, s, Scope("partner", "IdCardVerification"), "k", fp("body"))
	if err := other.Complete(ctx, Record{Status: 200, Body: []byte("theirs")}); err != nil {
		t.Fatal(err)
	}
	keys, _ := ins.Keys(ctx, "idem:*").Result()
	var otherKey string
	for _, x := range keys {
		if x != k {
			otherKey = x
		}
	}
	if err := ins.HSet(ctx, otherKey, "rec", all["rec"]).Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Begin(ctx, Scope("partner", "IdCardVerification"), "k", fp("body"))
	wantCode(t, err, errs.Internal, "IdempotencyRecordUnreadable")
}

func TestRedisDownIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := resp.NewClient(&resp.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, "idem:", withQuickCleanup())
	claim := begin(t, s, scope, "held", fp("body"))
	unsent := begin(t, s, scope, "unsent", fp("body"))
	srv.Stop()
	c2, rec, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	if c2 != nil || rec != nil {
		t.Fatal("a claim without a store")
	}
	wantCode(t, claim.Complete(ctx, answer), errs.Unavailable, "IdempotencyStoreUnavailable")
	wantCode(t, claim.Release(ctx), errs.Unavailable, "IdempotencyStoreUnavailable")
	wantCode(t, unsent.Sending(ctx), errs.Unavailable, "IdempotencyStoreUnavailable")
	wantCode(t, unsent.Sending(ctx), errs.Conflict, "IdempotencyClaimLost") // not sent, ever
	// The cleanups give up: bounded, nothing left running.
	s.bg.Wait()
}

func TestRedisScriptReloadedAfterFlush(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ins := srv.Inspect(t)
	s := NewRedis(c, "idem:")
	begin(t, s, scope, "a", fp("body"))
	if err := ins.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	claim := begin(t, s, scope, "b", fp("body"))
	if err := ins.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := claim.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkRedisBeginComplete(b *testing.B) {
	srv := redistest.Start(b)
	s := NewRedis(srv.Client(b), "idem:")
	f := fp("body")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, _, err := s.Begin(ctx, scope, fmt.Sprint("k", i), f)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Complete(ctx, answer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisReplay(b *testing.B) {
	srv := redistest.Start(b)
	s := NewRedis(srv.Client(b), "idem:")
	f := fp("body")
	c, _, err := s.Begin(ctx, scope, "k", f)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Complete(ctx, answer); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, rec, err := s.Begin(ctx, scope, "k", f); err != nil || rec == nil {
			b.Fatal(err)
		}
	}
}
