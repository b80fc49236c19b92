package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// clock is a manual clock for the memory limiter: tests move time, never sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustTake(t *testing.T, l Limiter, key string, r Rate) Decision {
	t.Helper()
	d, err := l.Take(context.Background(), key, r)
	if err != nil {
		t.Fatalf("Take(%q): %v", key, err)
	}
	return d
}

func TestMemoryBurstThenRefusal(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now))
	r := Rate{PerSecond: 4, Burst: 3}
	for i := 0; i < 3; i++ {
		d := mustTake(t, m, "k", r)
		if !d.Allowed || d.Remaining != 2-i || d.RetryAfter != 0 {
			t.Fatalf("take %d = %+v, want allowed with %d remaining", i, d, 2-i)
		}
	}
	d := mustTake(t, m, "k", r)
	if d.Allowed {
		t.Fatal("4th take within the same instant allowed")
	}
	// One token at 4/s is 250 ms away.
	if d.RetryAfter != 250*time.Millisecond || d.Remaining != 0 {
		t.Fatalf("refusal = %+v, want RetryAfter 250ms", d)
	}
	if got := d.RetryAfterHeader(); got != "1" {
		t.Fatalf("Retry-After header = %q, want 1", got)
	}
	// Another key has its own bucket.
	if d := mustTake(t, m, "other", r); !d.Allowed {
		t.Fatal("a different key was refused")
	}
}

func TestMemoryRefill(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now))
	r := Rate{PerSecond: 3, Burst: 2}
	mustTake(t, m, "k", r)
	mustTake(t, m, "k", r)
	d := mustTake(t, m, "k", r)
	if d.Allowed {
		t.Fatal("bucket not empty after burst")
	}
	// Just short of RetryAfter there is still no token.
	c.Advance(d.RetryAfter - time.Millisecond)
	d2 := mustTake(t, m, "k", r)
	if d2.Allowed || d2.RetryAfter <= 0 || d2.RetryAfter > time.Millisecond {
		t.Fatalf("before RetryAfter: %+v, want a refusal under 1ms", d2)
	}
	// Waiting exactly the advertised RetryAfter always finds a token.
	c.Advance(d2.RetryAfter)
	if d := mustTake(t, m, "k", r); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after RetryAfter: %+v, want allowed", d)
	}
	// A long idle period refills only up to the burst.
	c.Advance(time.Hour)
	for i := 0; i < 2; i++ {
		if d := mustTake(t, m, "k", r); !d.Allowed {
			t.Fatalf("take %d after an hour refused", i)
		}
	}
	if d := mustTake(t, m, "k", r); d.Allowed {
		t.Fatal("an hour of idleness gave more than the burst")
	}
}

func TestMemoryEvictsIdleBuckets(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now))
	r := Rate{PerSecond: 10, Burst: 10}
	for i := 0; i < 100; i++ {
		mustTake(t, m, fmt.Sprint("idle", i), r)
	}
	// A bucket still refilling is kept: dropping it would hand out a fresh burst.
	slow := Rate{PerSecond: 0.001, Burst: 10}
	for i := 0; i < 10; i++ {
		mustTake(t, m, "drained", slow)
	}
	c.Advance(sweepInterval)
	mustTake(t, m, "new", r) // a new key after the interval triggers the sweep
	if n := m.Len(); n != 2 {
		t.Fatalf("after a sweep %d buckets are held, want 2 (drained, new)", n)
	}
	if d := mustTake(t, m, "drained", slow); d.Allowed {
		t.Fatal("the sweep dropped a drained bucket")
	}
}

func TestMemoryMaxKeysBoundsMemory(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now), WithMaxKeys(64))
	r := Rate{PerSecond: 0.001, Burst: 5} // nothing refills during the test
	for i := 0; i < 10000; i++ {
		mustTake(t, m, fmt.Sprint("k", i), r)
		if n := m.Len(); n > 64 {
			t.Fatalf("%d buckets held with a cap of 64", n)
		}
	}
}

func TestInvalidRate(t *testing.T) {
	for _, r := range []Rate{{0, 1}, {-1, 1}, {1, 0}, {1, -3}} {
		_, err := NewMemory().Take(context.Background(), "k", r)
		if e := errs.As(err); e == nil || e.Code != "InvalidRateLimit" {
			t.Errorf("rate %+v: err = %v, want InvalidRateLimit", r, err)
		}
	}
}

func TestProviderRateFromRegistry(t *testing.T) {
	r, ok := ProviderRate("IdCardVerification")
	if !ok || r.PerSecond != 100 || r.Burst != 100 {
		t.Fatalf("IdCardVerification = %+v %v, want 100/s burst 100", r, ok)
	}
	r, ok = ProviderRate("DetectAIFakeFaces")
	if !ok || r.PerSecond != 5 || r.Burst != 5 {
		t.Fatalf("DetectAIFakeFaces = %+v %v, want 5/s burst 5", r, ok)
	}
	if _, ok := ProviderRate("NoSuchAction"); ok {
		t.Fatal("an unknown action has a provider rate")
	}
}

func TestTakeHelpers(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now))
	ctx := context.Background()
	r := Rate{PerSecond: 1, Burst: 1}
	if _, err := TakeCaller(ctx, m, "web", r); err != nil {
		t.Fatal(err)
	}
	d, err := TakeCaller(ctx, m, "web", r)
	if e := errs.As(err); e == nil || e.Kind != errs.Throttled || e.Code != "RequestLimitExceeded" || d.Allowed {
		t.Fatalf("second caller take: %+v %v, want Throttled RequestLimitExceeded", d, err)
	}
	if _, err := TakeCaller(ctx, m, "partner", r); err != nil {
		t.Fatalf("callers share a bucket: %v", err)
	}
	if m.Len() != 2 {
		t.Fatalf("want buckets caller:web and caller:partner, have %d", m.Len())
	}

	// DetectAIFakeFaces is 5 QPS at Tencent: the 6th call in one instant is ours to refuse.
	for i := 0; i < 5; i++ {
		if _, err := TakeProvider(ctx, m, "DetectAIFakeFaces"); err != nil {
			t.Fatalf("provider take %d: %v", i, err)
		}
	}
	d, err = TakeProvider(ctx, m, "DetectAIFakeFaces")
	if err == nil || errs.KindOf(err) != errs.Throttled || d.RetryAfter != 200*time.Millisecond {
		t.Fatalf("6th provider take: %+v %v, want Throttled after 200ms", d, err)
	}
	if d, err := TakeProvider(ctx, m, "NotAFaceIDAction"); err != nil || !d.Allowed {
		t.Fatalf("an action without a provider limit: %+v %v", d, err)
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	m := NewMemory()
	r := Rate{PerSecond: 1e9, Burst: 1 << 30}
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = CallerKey(fmt.Sprint("caller", i))
	}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Take(ctx, keys[i%len(keys)], r); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func TestAdapters(t *testing.T) {
	c := newClock()
	m := NewMemory(WithClock(c.Now))
	a := Allower{m}
	ok, after, err := a.Allow(context.Background(), "caller:web", 2, 1)
	if !ok || after != 0 || err != nil {
		t.Fatalf("first Allow = %v %v %v", ok, after, err)
	}
	ok, after, err = a.Allow(context.Background(), "caller:web", 2, 1)
	if ok || after != 500*time.Millisecond || err != nil {
		t.Fatalf("second Allow = %v %v %v, want refused for 500ms", ok, after, err)
	}

	admit := Admit(m)
	for i := 0; i < 5; i++ {
		if err := admit(context.Background(), "DetectAIFakeFaces"); err != nil {
			t.Fatalf("admit %d: %v", i, err)
		}
	}
	if err := admit(context.Background(), "DetectAIFakeFaces"); err == nil || errs.KindOf(err) != errs.Throttled {
		t.Fatalf("6th admit = %v, want Throttled", err)
	}
	failing := limiterFunc(func(context.Context, string, Rate) (Decision, error) {
		return Decision{}, errs.E(errs.Unavailable, "RateLimitStoreUnavailable", "down")
	})
	if err := Admit(failing)(context.Background(), "DetectAIFakeFaces"); err != nil {
		t.Fatalf("a failing limiter refused the call: %v", err)
	}
}
