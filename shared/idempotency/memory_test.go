package idempotency

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// memoryEnv shares one memory backend between the Stores a behaviour opens,
// as one process's store would be.
func memoryEnv(t *testing.T, limits ...Option) env {
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	base := NewMemory(append([]Option{WithClock(c.Now)}, limits...)...)
	return env{
		open: func(opts ...Option) *Store { return &Store{b: base.b, cfg: newConfig("", opts)} },
		pass: c.Advance,
	}
}

func TestMemoryBehaviours(t *testing.T) {
	runSuite(t, func(t *testing.T) env { return memoryEnv(t) })
}

func TestMemoryFullRefusesNewKeys(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	s := NewMemory(WithClock(c.Now), WithMemoryLimits(3, 1<<20), WithRetention(time.Hour))
	for i := 0; i < 3; i++ {
		begin(t, s, scope, fmt.Sprint("k", i), fp("body"))
	}
	_, _, err := s.Begin(ctx, scope, "k3", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	// Keys already held still answer.
	_, _, err = s.Begin(ctx, scope, "k0", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	// Claims never sent make room once their claim lease has passed...
	c.Advance(DefaultClaimLease)
	for i := 0; i < 3; i++ {
		sending(t, begin(t, s, scope, fmt.Sprint("s", i), fp("body")))
	}
	// ...sent ones hold their keys until they expire.
	c.Advance(DefaultClaimLease)
	_, _, err = s.Begin(ctx, scope, "k3", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	// Once records expire there is room again.
	c.Advance(time.Hour)
	begin(t, s, scope, "k3", fp("body"))
	if n := len(s.b.(*memoryBackend).m); n != 1 {
		t.Fatalf("%d records held after expiry, want 1", n)
	}
}

func TestMemoryByteLimitKeepsKeysFinished(t *testing.T) {
	s := NewMemory(WithMemoryLimits(100, 2048))
	c := begin(t, s, scope, "a", fp("body"))
	if err := c.Complete(ctx, Record{Status: 200, Body: bytes.Repeat([]byte("x"), 1200)}); err != nil {
		t.Fatal(err)
	}
	c = begin(t, s, scope, "b", fp("body"))
	if err := c.Complete(ctx, Record{Status: 200, Body: bytes.Repeat([]byte("y"), 1200)}); err != nil {
		t.Fatal(err)
	}
	if rec := replay(t, s, scope, "a", fp("body")); len(rec.Body) != 1200 {
		t.Fatal("first answer lost")
	}
	// No room for the second answer, but its key is not open to a second call.
	_, _, err := s.Begin(ctx, scope, "b", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyResponseNotStored")
	if mb := s.b.(*memoryBackend); mb.bytes > 2048 {
		t.Fatalf("%d bytes held with a limit of 2048", mb.bytes)
	}
}

func TestFingerprintAndScopeAreUnambiguous(t *testing.T) {
	if Fingerprint([]byte("ab"), []byte("c")) == Fingerprint([]byte("a"), []byte("bc")) {
		t.Fatal("fingerprint parts run together")
	}
	if Fingerprint([]byte("x")) != Fingerprint([]byte("x")) || len(Fingerprint(nil)) != 64 {
		t.Fatal("fingerprint is not a stable hex SHA-256")
	}
	if Scope("a/b", "c") == Scope("a", "b/c") {
		t.Fatal("scope parts run together")
	}
}

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 32)
	for _, s := range []string{
		"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
		"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s",
		" abababababababababababababababababababababababababababababababab\n",
	} {
		k, err := ParseKey(s)
		if err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "short", "q6urq6urq6urq6urq6urq6urq6urq6ur", "zz" + string(bytes.Repeat([]byte("ab"), 31))} {
		_, err := ParseKey(s)
		wantCode(t, err, errs.Internal, "InvalidStoreKey")
		if s != "" && len(s) > 4 && bytes.Contains([]byte(errs.As(err).Message), []byte(s)) {
			t.Fatal("ParseKey echoes the value")
		}
	}
}

func BenchmarkMemoryBeginComplete(b *testing.B) {
	s := NewMemory(WithMemoryLimits(1<<30, 1<<30))
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
