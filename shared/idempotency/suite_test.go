package idempotency

import (
	"bytes"
	"context"
	"errors"
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
	{"SentLeaseExpiryIsOutcomeUnknown", testLeaseExpiry},
	{"AbandonIsOutcomeUnknown", testAbandon},
	{"ClaimLeaseExpiryReclaims", testClaimLeaseExpiry},
	{"SendingAfterClaimLeaseFails", testSendingAfterClaimLease},
	{"SendingIsOnceAndOnlyForALiveClaim", testSendingOnce},
	{"InProgressCarriesRetryAfter", testRetryAfter},
	{"FailedBeginIsReleasedInBackground", testBeginErrorReleases},
	{"LateWriteOfAFailedBeginDoesNotLand", testLateBeginWrite},
	{"FailedSendingIsReleasedInBackground", testSendingErrorReleases},
	{"CleanupTouchesOnlyItsOwnClaim", testCleanupOwnOnly},
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

func sending(t *testing.T, c *Claim) {
	t.Helper()
	if err := c.Sending(ctx); err != nil {
		t.Fatalf("Sending = %v", err)
	}
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
	// Released while claimed (refused before sending), then while sent
	// (the connection was refused).
	c := begin(t, s, scope, "k", fp("body"))
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c = begin(t, e.open(), scope, "k", fp("body"))
	sending(t, c)
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := begin(t, e.open(), scope, "k", fp("body"))
	sending(t, c2)
	if err := c2.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testLeaseExpiry(t *testing.T, e env) {
	s := e.open(WithLease(30*time.Millisecond), WithClaimLease(30*time.Millisecond))
	c := begin(t, s, scope, "k", fp("body"))
	sending(t, c)
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
	s := e.open(WithClaimLease(30 * time.Millisecond))
	for _, sent := range []bool{true, false} {
		key := fmt.Sprint("k-sent-", sent)
		c := begin(t, s, scope, key, fp("body"))
		if sent {
			sending(t, c)
		}
		// Before Sending too: the caller says it may have sent; believed.
		if err := c.Abandon(ctx); err != nil {
			t.Fatal(err)
		}
		wantCode(t, c.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
		e.pass(80 * time.Millisecond) // past the claim lease: still never claimed again
		_, _, err := s.Begin(ctx, scope, key, fp("body"))
		wantCode(t, err, errs.Conflict, "IdempotencyOutcomeUnknown")
		// The holder that abandoned can still record the answer if one arrives.
		if err := c.Complete(ctx, answer); err != nil {
			t.Fatal(err)
		}
		sameRecord(t, replay(t, s, scope, key, fp("body")), answer)
	}
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
	wantCode(t, a.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
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

func testClaimLeaseExpiry(t *testing.T, e env) {
	s := e.open(WithClaimLease(30 * time.Millisecond))
	a := begin(t, s, scope, "k", fp("body"))
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	_, _, err = s.Begin(ctx, scope, "k", fp("other"))
	wantCode(t, err, errs.Conflict, "IdempotencyKeyReused")
	// Its holder never sent: past the claim lease the attempt provably never
	// reached the provider, so the key is claimed afresh, for any request.
	e.pass(80 * time.Millisecond)
	b := begin(t, e.open(WithClaimLease(time.Minute)), scope, "k", fp("other"))
	// The old holder has lost it: it can neither store, release nor send.
	wantCode(t, a.Complete(ctx, Record{Status: 500}), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, a.Release(ctx), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, a.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
	_, _, err = s.Begin(ctx, scope, "k", fp("other"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	sending(t, b)
	if err := b.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("other")), answer)
}

func testSendingAfterClaimLease(t *testing.T, e env) {
	s := e.open(WithClaimLease(30 * time.Millisecond))
	a := begin(t, s, scope, "k", fp("body"))
	e.pass(80 * time.Millisecond)
	// Nobody claimed it meanwhile, yet too late to send: refused, and the
	// record goes at once.
	err := a.Sending(ctx)
	wantCode(t, err, errs.Conflict, "IdempotencyClaimLost")
	if !strings.Contains(errs.As(err).Message, "expired before the request was sent") {
		t.Fatalf("message %q does not say the claim expired", errs.As(err).Message)
	}
	wantCode(t, a.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
	wantCode(t, a.Complete(ctx, answer), errs.Conflict, "IdempotencyClaimLost")
	if err := a.Release(ctx); err != nil { // harmless after a failed Sending
		t.Fatalf("Release after a failed Sending = %v", err)
	}
	b := begin(t, s, scope, "k", fp("body"))
	sending(t, b)
	// Sent, the short claim lease no longer matters: the full lease does.
	e.pass(80 * time.Millisecond)
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
}

func testSendingOnce(t *testing.T, e env) {
	s := e.open()
	a := begin(t, s, scope, "k", fp("body"))
	sending(t, a)
	sending(t, a) // again: still the one claim, nil
	if err := a.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	wantCode(t, a.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
	// A claim whose record was released cannot send.
	b := begin(t, s, scope, "k2", fp("body"))
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
	// Nor one whose record was released by another instance's view of it.
	c := begin(t, s, scope, "k3", fp("body"))
	if ok, err := s.b.release(ctx, c.k, c.owner); !ok || err != nil {
		t.Fatalf("release = %v, %v", ok, err)
	}
	wantCode(t, c.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
}

func testRetryAfter(t *testing.T, e env) {
	s := e.open(WithClaimLease(10*time.Second), WithLease(100*time.Second))
	a := begin(t, s, scope, "k", fp("body"))
	_, _, err := s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if d := RetryAfter(err); d <= 5*time.Second || d > 10*time.Second {
		t.Fatalf("RetryAfter while claimed = %v, want the claim lease left (about 10s)", d)
	}
	// The pipeline finds it through a RetryAfter method on the cause.
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != RetryAfter(err) {
		t.Fatal("the in-progress cause has no RetryAfter method")
	}
	sending(t, a)
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if d := RetryAfter(err); d <= 50*time.Second || d > 100*time.Second {
		t.Fatalf("RetryAfter while sent = %v, want the lease left (about 100s)", d)
	}
	if err := a.Abandon(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	if RetryAfter(err) != 0 || RetryAfter(nil) != 0 || RetryAfter(errors.New("x")) != 0 {
		t.Fatalf("RetryAfter(%v) = %v, want 0", err, RetryAfter(err))
	}
}

// flaky is a store whose writes time out in the client: the write is applied
// and its answer lost ("applied"), or held back and applied only when land
// is called ("late"), as a paused Redis does.
type flaky struct {
	backend
	beginMode, sendMode string
	mu                  sync.Mutex
	held                []func()
}

var errTimeout = errors.New("i/o timeout (flaky test store)")

func (f *flaky) begin(ctx context.Context, k, owner, fp string, claimLease, retention time.Duration) (found, error) {
	if f.beginMode == "" {
		return f.backend.begin(ctx, k, owner, fp, claimLease, retention)
	}
	apply := func() { _, _ = f.backend.begin(ctx, k, owner, fp, claimLease, retention) }
	return found{}, f.fail(f.beginMode, apply)
}

func (f *flaky) sending(ctx context.Context, k, owner string, lease, retention time.Duration) (sendResult, error) {
	if f.sendMode == "" {
		return f.backend.sending(ctx, k, owner, lease, retention)
	}
	apply := func() { _, _ = f.backend.sending(ctx, k, owner, lease, retention) }
	return sendLost, f.fail(f.sendMode, apply)
}

func (f *flaky) fail(mode string, apply func()) error {
	switch mode {
	case "applied":
		apply()
	case "late":
		f.mu.Lock()
		f.held = append(f.held, apply)
		f.mu.Unlock()
	}
	return errTimeout
}

func (f *flaky) land() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, apply := range f.held {
		apply()
	}
	f.held = nil
}

// over is a Store of s's records and options through f, whose background
// cleanup runs at once and quickly.
func over(s *Store, f *flaky) *Store {
	f.backend = s.b
	cfg := s.cfg
	withQuickCleanup()(&cfg)
	return &Store{b: f, cfg: cfg}
}

func withQuickCleanup() Option {
	return func(c *config) {
		c.dropWaits = []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond}
		c.dropTimeout = time.Second
	}
}

func testBeginErrorReleases(t *testing.T, e env) {
	s := e.open() // the default claim lease: 15 s, far longer than the test
	bad := over(s, &flaky{beginMode: "applied"})
	c, rec, err := bad.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	if c != nil || rec != nil {
		t.Fatal("a failed Begin returned a claim or a record")
	}
	bad.bg.Wait()
	// The claim that failed was written, and is gone again: the key is free
	// now, not after 15 s, 2 minutes or 24 hours.
	a := begin(t, s, scope, "k", fp("body"))
	sending(t, a)
	if err := a.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}

func testLateBeginWrite(t *testing.T, e env) {
	s := e.open()
	f := &flaky{beginMode: "late"}
	bad := over(s, f)
	_, _, err := bad.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	bad.bg.Wait() // the cleanup ran before the write it cleans up landed
	f.land()
	// The late write did not claim the key: the cleanup's marker stopped it.
	a := begin(t, s, scope, "k", fp("body"))
	sending(t, a)
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
}

func testSendingErrorReleases(t *testing.T, e env) {
	for _, mode := range []string{"applied", "late"} {
		t.Run(mode, func(t *testing.T) {
			s, key := e.open(), "k-"+mode
			f := &flaky{sendMode: mode} // Begin works, Sending times out
			bad := over(s, f)
			c := begin(t, bad, scope, key, fp("body"))
			wantCode(t, c.Sending(ctx), errs.Unavailable, "IdempotencyStoreUnavailable")
			// Failed is final: the provider is never called under this claim.
			wantCode(t, c.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
			wantCode(t, c.Complete(ctx, answer), errs.Conflict, "IdempotencyClaimLost")
			wantCode(t, c.Abandon(ctx), errs.Conflict, "IdempotencyClaimLost")
			bad.bg.Wait()
			f.land()
			if err := c.Release(ctx); err != nil {
				t.Fatalf("Release after a failed Sending = %v", err)
			}
			// Whether the Sending write landed (the record became pending)
			// or not, nothing was sent: the key is free at once.
			a := begin(t, s, scope, key, fp("body"))
			sending(t, a)
			if err := a.Complete(ctx, answer); err != nil {
				t.Fatal(err)
			}
			sameRecord(t, replay(t, s, scope, key, fp("body")), answer)
		})
	}
}

func testCleanupOwnOnly(t *testing.T, e env) {
	s := e.open()
	// A Begin that failed without writing anything: meanwhile another
	// request claimed the key. The cleanup leaves that claim alone.
	bad := over(s, &flaky{beginMode: "lost"})
	_, _, err := bad.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	a := begin(t, s, scope, "k", fp("body"))
	bad.bg.Wait()
	sending(t, a)
	// The cleanup of a failed Begin never removes a sent record, even its
	// own owner's: only a failed Sending may, for its own claim.
	if err := s.b.drop(ctx, a.k, a.owner, false, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Begin(ctx, scope, "k", fp("body"))
	wantCode(t, err, errs.Conflict, "IdempotencyInProgress")
	if err := a.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	// Nor a finished one.
	for _, sent := range []bool{false, true} {
		if err := s.b.drop(ctx, a.k, a.owner, sent, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}
