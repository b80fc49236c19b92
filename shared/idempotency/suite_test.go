package idempotency

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// env is one store under test. open returns a Store over the same records
// (another instance, or the same one reconfigured); pass lets time go by:
// real time for Redis (whose clock decides leases), a manual clock for memory.
type env struct {
	open func(opts ...Option) *Store
	pass func(d time.Duration)
}

// behaviours are the semantics every store must have; runSuite runs them
// against each implementation.
var behaviours = []struct {
	name string
	run  func(t *testing.T, e env)
}{
	{"ConcurrentBeginsMakeOneClaim", testConcurrentBegins},
	{"CompleteThenReplay", testCompleteThenReplay},
	{"ScopesAreSeparate", testScopesAreSeparate},
	{"DifferentFingerprintConflicts", testDifferentFingerprint},
	{"ReleaseAllowsRetry", testReleaseAllowsRetry},
	{"LeaseExpiryIsOutcomeUnknown", testLeaseExpiry},
	{"AbandonIsOutcomeUnknown", testAbandon},
	{"StaleClaimCannotOverwrite", testStaleClaim},
	{"RecordsExpire", testRecordsExpire},
	{"KeyValidation", testKeyValidation},
	{"OversizeAnswerNotStoredButFinished", testOversize},
	{"EncryptionAndRotation", testEncryption},
}

func runSuite(t *testing.T, setup func(t *testing.T) env) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) { b.run(t, setup(t)) })
	}
}

var ctx = context.Background()

const scope = "web\x00IdCardVerification"

func fp(s string) string { return Fingerprint([]byte("IdCardVerification"), []byte(s)) }

func wantCode(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("err = %v, want %s %s", err, kind, code)
	}
}

func begin(t *testing.T, s *Store, sc, key, f string) *Claim {
	t.Helper()
	c, rec, err := s.Begin(ctx, sc, key, f)
	if err != nil || c == nil || rec != nil {
		t.Fatalf("Begin = %v, %v, %v; want a claim", c, rec, err)
	}
	return c
}

func replay(t *testing.T, s *Store, sc, key, f string) *Record {
	t.Helper()
	c, rec, err := s.Begin(ctx, sc, key, f)
	if err != nil || c != nil || rec == nil {
		t.Fatalf("Begin = %v, %v, %v; want a replay", c, rec, err)
	}
	return rec
}

var answer = Record{Status: 200, Header: map[string]string{"Content-Type": "application/json", "X-Request-Id": "r-1"},
	Body: []byte(`{"Response":{"Result":"0","Description":"姓名和身份证号一致","RequestId":"r-1"}}`)}

func sameRecord(t *testing.T, got *Record, want Record) {
	t.Helper()
	if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) || fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
		t.Fatalf("replayed %+v, want %+v", *got, want)
	}
}

func testConcurrentBegins(t *testing.T, e env) {
	s := e.open()
	var mu sync.Mutex
	claims, inProgress := 0, 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		s := s
		if i%2 == 1 {
			s = e.open() // another instance
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, rec, err := s.Begin(ctx, scope, "same-key", fp("body"))
			mu.Lock()
			defer mu.Unlock()
			switch e := errs.As(err); {
			case c != nil && rec == nil && err == nil:
				claims++
			case err != nil && e.Kind == errs.Conflict && e.Code == "IdempotencyInProgress":
				inProgress++
			default:
				t.Errorf("Begin = %v, %v, %v", c, rec, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if claims != 1 || inProgress != 19 {
		t.Fatalf("%d claims and %d in progress, want 1 and 19", claims, inProgress)
	}
}

func testCompleteThenReplay(t *testing.T, e env) {
	s := e.open()
	c := begin(t, s, scope, "k1", fp("body"))
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k1", fp("body")), answer)
	sameRecord(t, replay(t, e.open(), scope, "k1", fp("body")), answer) // any instance
	// An empty answer is an answer too.
	c = begin(t, s, scope, "k2", fp("body"))
	if err := c.Complete(ctx, Record{Status: 204}); err != nil {
		t.Fatal(err)
	}
	if rec := replay(t, s, scope, "k2", fp("body")); rec.Status != 204 || len(rec.Body) != 0 {
		t.Fatalf("empty answer replayed as %+v", rec)
	}
}

func testScopesAreSeparate(t *testing.T, e env) {
	s := e.open()
	c := begin(t, s, Scope("web", "IdCardVerification"), "k", fp("body"))
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	// Another caller, or another action, with the same key and body gets no
	// one else's answer: it claims its own.
	begin(t, s, Scope("partner", "IdCardVerification"), "k", fp("body"))
	begin(t, s, Scope("web", "PhoneVerification"), "k", fp("body"))
	// Scope parts cannot run together.
	begin(t, s, Scope("web\x00Id", "CardVerification"), "k", fp("body"))
}

func testDifferentFingerprint(t *testing.T, e env) {
	s := e.open()
	c := begin(t, s, scope, "k", fp("first"))
	_, _, err := s.Begin(ctx, scope, "k", fp("second"))
	wantCode(t, err, errs.Conflict, "IdempotencyKeyReused") // pending
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	c2, rec, err := s.Begin(ctx, scope, "k", fp("second"))
	wantCode(t, err, errs.Conflict, "IdempotencyKeyReused") // finished
	if c2 != nil || rec != nil {
		t.Fatal("a reused key returned a claim or another request's answer")
	}
	sameRecord(t, replay(t, s, scope, "k", fp("first")), answer)
}

func testReleaseAllowsRetry(t *testing.T, e env) {
	s := e.open()
	c := begin(t, s, scope, "k", fp("body"))
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := begin(t, e.open(), scope, "k", fp("body"))
	if err := c2.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testLeaseExpiry(t *testing.T, e env) {
	s := e.open(WithLease(30 * time.Millisecond))
	c := begin(t, s, scope, "k", fp("body"))
	e.pass(80 * time.Millisecond)
	// The holder is presumed dead, and it may have reached the provider:
	// no second claim, ever, under this key.
	for i := 0; i < 2; i++ {
		c2, rec, err := s.Begin(ctx, scope, "k", fp("body"))
		wantCode(t, err, errs.Conflict, "IdempotencyOutcomeUnknown")
		if c2 != nil || rec != nil {
			t.Fatal("an expired lease handed out a claim or a record")
		}
	}
	_, _, err := s.Begin(ctx, scope, "k", fp("other"))
	wantCode(t, err, errs.Conflict, "IdempotencyKeyReused")
	// A holder that was only slow still owns the record and can finish it.
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testAbandon(t *testing.T, e env) {
	s := e.open()
	c := begin(t, s, scope, "k", fp("body"))
	if err := c.Abandon(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyOutcomeUnknown")
	// The holder that abandoned can still record the answer if one arrives.
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testStaleClaim(t *testing.T, e env) {
	s := e.open()
	a := begin(t, s, scope, "k", fp("body"))
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b := begin(t, s, scope, "k", fp("body"))
	wantCode(t, a.Complete(ctx, Record{Status: 500, Body: []byte("stale")}), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, a.Release(ctx), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, a.Abandon(ctx), errs.Conflict, "IdempotencyClaimLost")
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress") // b still holds it
	if err := b.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	// Finished records are final, even for their own claim.
	wantCode(t, b.Complete(ctx, Record{Status: 500}), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, b.Release(ctx), errs.Conflict, "IdempotencyClaimLost")
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testRecordsExpire(t *testing.T, e env) {
	s := e.open(WithRetention(50 * time.Millisecond))
	c := begin(t, s, scope, "k", fp("body"))
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	e.pass(120 * time.Millisecond)
	c2 := begin(t, s, scope, "k", fp("other")) // gone: the key is new again
	wantCode(t, c.Complete(ctx, answer), errs.Conflict, "IdempotencyClaimLost")
	if err := c2.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func testKeyValidation(t *testing.T, e env) {
	s := e.open()
	// Printable UTF-8 is a key: workflows build keys from execution names.
	for _, good := range []string{"order-42", "café/IdCardVerification", "执行-1/DetectAuth", strings.Repeat("k", 255)} {
		c, _, err := s.Begin(ctx, scope, good, fp("body"))
		if err != nil || c == nil {
			t.Fatalf("key %q refused: %v", good, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("a", 256), "line\nbreak", "tab\there", "bad\xffutf8", "nul\x00", "del\x7f", "zw\u200bsp"} {
		c, rec, err := s.Begin(ctx, scope, bad, fp("body"))
		wantCode(t, err, errs.Invalid, "InvalidParameterValue")
		if msg := errs.As(err).Message; !strings.Contains(msg, "Idempotency-Key") || !strings.Contains(msg, "printable UTF-8") {
			t.Fatalf("message %q does not name the header and the rule", msg)
		}
		if bad != "" && strings.Contains(errs.As(err).Message, bad) {
			t.Fatalf("message echoes the key: %q", errs.As(err).Message)
		}
		if c != nil || rec != nil {
			t.Fatal("an invalid key was claimed")
		}
	}
	for _, good := range []string{"a", strings.Repeat("z", 255), "9f86d081-884c-7d65-9a2f-eaa0c55ad015", "with space ~!@#$%^&*()"} {
		begin(t, s, scope, good, fp("body"))
	}
}

func testOversize(t *testing.T, e env) {
	s := e.open(WithMaxRecordBytes(1024))
	c := begin(t, s, scope, "k", fp("body"))
	if err := c.Complete(ctx, Record{Status: 200, Body: bytes.Repeat([]byte("x"), 4096)}); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyResponseNotStored")
}

func testEncryption(t *testing.T, e env) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old := e.open(WithEncryptionKey(k1))
	c := begin(t, old, scope, "k", fp("body"))
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, old, scope, "k", fp("body")), answer)
	// After a rotation that keeps the old key, the day's answers still replay.
	rotated := e.open(WithEncryptionKey(k2, k1))
	sameRecord(t, replay(t, rotated, scope, "k", fp("body")), answer)
	// Without the key nothing is read and nothing is sent again.
	for _, s := range []*Store{e.open(WithEncryptionKey(k2)), e.open()} {
		c, rec, err := s.Begin(ctx, scope, "k", fp("body"))
		if err == nil || c != nil || rec != nil {
			t.Fatalf("a store without the key got %v, %v, %v", c, rec, err)
		}
	}
	// A key of the wrong size fails closed.
	_, _, err := e.open(WithEncryptionKey([]byte("short"))).Begin(ctx, scope, "k2", fp("body"))
	wantCode(t, err, errs.Internal, "InvalidIdempotencyKeyConfig")
}
