package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/tests/redistest"
)

func TestRedisBurstSharedAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	// Two instances: two clients, two limiters, one Redis.
	a := NewRedis(srv.Client(t), "idv:rl:")
	b := NewRedis(srv.Client(t), "idv:rl:")
	r := Rate{PerSecond: 0.001, Burst: 25} // no token refills while the test runs
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 200)
	for g := 0; g < 20; g++ {
		l := a
		if g%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				d, err := l.Take(context.Background(), ProviderKey("IdCardVerification"), r)
				if err != nil {
					errc <- err
					return
				}
				if d.Allowed {
					allowed.Add(1)
				} else {
					refused.Add(1)
					if d.RetryAfter <= 0 {
						errc <- fmt.Errorf("refusal without RetryAfter: %+v", d)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if allowed.Load() != 25 || refused.Load() != 75 {
		t.Fatalf("allowed %d refused %d across two instances, want exactly the burst of 25 allowed", allowed.Load(), refused.Load())
	}
}

func TestRedisRefusalRefillAndTTL(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ins := srv.Inspect(t)
	l := NewRedis(c, "rl:")
	ctx := context.Background()
	r := Rate{PerSecond: 20, Burst: 2}
	for i := 0; i < 2; i++ {
		if d := mustTake(t, l, "caller:web", r); !d.Allowed {
			t.Fatalf("take %d refused: %+v", i, d)
		}
	}
	d := mustTake(t, l, "caller:web", r)
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 50*time.Millisecond {
		t.Fatalf("third take = %+v, want refusal with RetryAfter in (0, 50ms]", d)
	}
	// The key expires once the bucket would be full again (+1 s), not never.
	ttl, err := ins.PTTL(ctx, "rl:caller:web").Result()
	if err != nil || ttl <= 0 || ttl > 1100*time.Millisecond {
		t.Fatalf("PTTL = %v %v, want in (0, 1.1s]", ttl, err)
	}
	// Waiting the advertised RetryAfter (a lower bound, so not a race) finds a token.
	time.Sleep(d.RetryAfter)
	if d := mustTake(t, l, "caller:web", r); !d.Allowed {
		t.Fatalf("after RetryAfter: %+v, want allowed", d)
	}
}

func TestRedisScriptReloadedAfterFlush(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ins := srv.Inspect(t)
	l := NewRedis(c, "rl:")
	r := Rate{PerSecond: 1, Burst: 1}
	mustTake(t, l, "a", r)
	if err := ins.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	// EVALSHA now answers NOSCRIPT; the limiter must fall back to EVAL.
	if d := mustTake(t, l, "b", r); !d.Allowed {
		t.Fatalf("after SCRIPT FLUSH: %+v", d)
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	l := NewRedis(noRetryClient(t, srv), "rl:")
	srv.Stop()
	_, err := l.Take(context.Background(), "k", Rate{PerSecond: 1, Burst: 1})
	if e := errs.As(err); e == nil || e.Kind != errs.Unavailable || e.Code != "RateLimitStoreUnavailable" {
		t.Fatalf("err = %v, want Unavailable RateLimitStoreUnavailable", err)
	}
}

// noRetryClient fails at once when the server is gone; the default client
// retries three times with backoff, which only makes outage tests slow.
func noRetryClient(t testing.TB, srv *redistest.Server) *resp.Client {
	c := resp.NewClient(&resp.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestFallbackWhenRedisStops(t *testing.T) {
	srv := redistest.Start(t)
	c := noRetryClient(t, srv)
	local := NewMemory()
	var reports []error
	var mu sync.Mutex
	l := Fallback(NewRedis(c, "rl:"), local, func(err error) {
		mu.Lock()
		reports = append(reports, err)
		mu.Unlock()
	}, RetryPrimaryAfter(0)) // try Redis on every request: the report must still come once
	r := Rate{PerSecond: 0.001, Burst: 3}

	// Healthy: Redis holds the bucket, the local one is untouched.
	mustTake(t, l, "caller:web", r)
	if n, _ := srv.Inspect(t).Exists(context.Background(), "rl:caller:web").Result(); n != 1 || local.Len() != 0 {
		t.Fatalf("healthy fallback did not use Redis (key exists %d, local buckets %d)", n, local.Len())
	}

	srv.Stop()
	var allowed int
	for i := 0; i < 10; i++ {
		d := mustTake(t, l, "caller:web", r)
		if d.Allowed {
			allowed++
		}
	}
	// The local bucket starts full: the per-instance limit still applies.
	if allowed != 3 {
		t.Fatalf("during the outage %d of 10 allowed, want the local burst of 3", allowed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || errs.KindOf(reports[0]) != errs.Unavailable {
		t.Fatalf("reports = %v, want exactly one Unavailable report for the outage", reports)
	}
}

// switchable puts a real limiter behind an on/off switch, to see the fallback
// recover and report a second outage (a stopped redis-server cannot restart).
type switchable struct {
	Limiter
	down atomic.Bool
}

var errDown = errors.New("store down")

func (s *switchable) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	if s.down.Load() {
		return Decision{}, errDown
	}
	return s.Limiter.Take(ctx, key, r)
}

func TestFallbackReportsOncePerOutageAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	primary := &switchable{Limiter: NewRedis(srv.Client(t), "rl:")}
	var reports atomic.Int64
	l := Fallback(primary, NewMemory(), func(error) { reports.Add(1) }, RetryPrimaryAfter(0))
	r := Rate{PerSecond: 0.001, Burst: 100}

	for outage := 1; outage <= 2; outage++ {
		primary.down.Store(true)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 5; i++ {
					if _, err := l.Take(context.Background(), "k", r); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if got := reports.Load(); got != int64(outage) {
			t.Fatalf("after outage %d: %d reports, want %d", outage, got, outage)
		}
		primary.down.Store(false)
		mustTake(t, l, "k", r)
	}
	// Redis saw only the healthy takes: 2, one after each recovery.
	d := mustTake(t, primary.Limiter, "k", r)
	if d.Remaining != 100-3 {
		t.Fatalf("Redis bucket has %d left, want 97 (only healthy takes reach it)", d.Remaining)
	}
}

func TestFallbackSkipsPrimaryDuringCooldown(t *testing.T) {
	primary := &switchable{Limiter: NewMemory()}
	primary.down.Store(true)
	var calls atomic.Int64
	counting := limiterFunc(func(ctx context.Context, key string, r Rate) (Decision, error) {
		calls.Add(1)
		return primary.Take(ctx, key, r)
	})
	l := Fallback(counting, NewMemory(), nil, RetryPrimaryAfter(time.Hour))
	for i := 0; i < 10; i++ {
		mustTake(t, l, "k", Rate{PerSecond: 1, Burst: 100})
	}
	if calls.Load() != 1 {
		t.Fatalf("primary tried %d times within the cooldown, want 1", calls.Load())
	}
}

func TestFallbackCancelledContextIsNotAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	var reports atomic.Int64
	l := Fallback(NewRedis(srv.Client(t), "rl:"), NewMemory(), func(error) { reports.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Take(ctx, "k", Rate{PerSecond: 1, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	if reports.Load() != 0 {
		t.Fatal("a cancelled request was reported as a store outage")
	}
}

type limiterFunc func(ctx context.Context, key string, r Rate) (Decision, error)

func (f limiterFunc) Take(ctx context.Context, key string, r Rate) (Decision, error) {
	return f(ctx, key, r)
}

func BenchmarkRedisTake(b *testing.B) {
	srv := redistest.Start(b)
	c := resp.NewClient(&resp.Options{Addr: srv.Addr, PoolSize: 16})
	defer c.Close()
	l := NewRedis(c, "rl:")
	r := Rate{PerSecond: 1e9, Burst: 1 << 30}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Take(ctx, "provider:IdCardVerification", r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFallbackDuringOutage(b *testing.B) {
	srv := redistest.Start(b)
	c := noRetryClient(b, srv)
	srv.Stop()
	l := Fallback(NewRedis(c, "rl:"), NewMemory(), nil)
	r := Rate{PerSecond: 1e9, Burst: 1 << 30}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Take(ctx, "k", r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFallbackProbesOneAtATime(t *testing.T) {
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	var calls atomic.Int64
	hanging := limiterFunc(func(ctx context.Context, key string, r Rate) (Decision, error) {
		calls.Add(1)
		entered <- struct{}{}
		<-release
		return Decision{}, errDown
	})
	l := Fallback(hanging, NewMemory(), nil, RetryPrimaryAfter(0))
	r := Rate{PerSecond: 1, Burst: 100}
	take := func() <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := l.Take(context.Background(), "k", r); err != nil {
				t.Error(err)
			}
		}()
		return done
	}
	first := take()
	<-entered
	release <- struct{}{}
	<-first // the outage has begun
	probe := take()
	<-entered // one request is probing the store
	for i := 0; i < 5; i++ {
		mustTake(t, l, "k", r) // served locally, without waiting on the probe
	}
	release <- struct{}{}
	<-probe
	if calls.Load() != 2 {
		t.Fatalf("primary called %d times, want 2 (the first failure and one probe)", calls.Load())
	}
}

func TestFallbackBoundsAHangingPrimary(t *testing.T) {
	hanging := limiterFunc(func(ctx context.Context, key string, r Rate) (Decision, error) {
		<-ctx.Done()
		return Decision{}, ctx.Err()
	})
	var reported error
	l := Fallback(hanging, NewMemory(), func(err error) { reported = err }, PrimaryTimeout(time.Millisecond))
	if d := mustTake(t, l, "k", Rate{PerSecond: 1, Burst: 1}); !d.Allowed {
		t.Fatalf("local take refused: %+v", d)
	}
	if !errors.Is(reported, context.DeadlineExceeded) {
		t.Fatalf("reported %v, want the primary's deadline", reported)
	}
}
