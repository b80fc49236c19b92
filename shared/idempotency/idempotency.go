// Package idempotency gives Idempotency-Key semantics to the paid FaceID
// calls: a retried request gets the first answer back without a second
// upstream call, a concurrent duplicate is told the first is in progress, and
// a request whose first attempt failed before reaching the provider can be
// retried. Answers are kept 24 hours, in Redis when one is configured.
//
// Usage (what the gateway wires):
//
//	store := idempotency.NewMemory()                      // a local server without Redis
//	if env.Redis != nil {
//		store = idempotency.NewRedis(env.Redis, "idv:idem:", idempotency.WithEncryptionKey(key))
//	}
//	// per request carrying a key, after auth, validation and rate limits:
//	claim, rec, err := store.Begin(ctx, idempotency.Scope(caller.ID, action), key, idempotency.Fingerprint([]byte(action), body))
//	switch {
//	case err != nil: // *errs.Error: Invalid (bad key), Conflict (in progress, reused,
//		return err   // outcome unknown) or Unavailable (store down: refuse, do not call);
//		             // idempotency.RetryAfter(err) is how long "in progress" may last
//	case rec != nil: // replay rec.Status, rec.Header, rec.Body; no upstream call
//	default:
//		// An answer made locally (a sandbox answer, a refusal before sending)
//		// may be Completed, or the claim Released, without Sending.
//		if err := claim.Sending(ctx); err != nil {
//			return err // nothing was sent and the claim is being released: do NOT call the provider
//		}
//		answer, err := callProvider(ctx) // right after Sending, and only after it succeeded
//		if the request provably never reached the provider { claim.Release(sctx) }
//		else { claim.Complete(sctx, idempotency.Record{...answer, charged errors included...}) }
//	}
//
// gateway.IdempotencyStore hands answers around as []byte: app's adapter
// stores them as Record{Status: 200, Body: answer} and replays rec.Body.
//
// Complete and Release should run on a context that outlives the caller's
// cancellation (sctx: context.WithoutCancel plus a short timeout): the
// provider has answered by then, and losing the answer turns a retry into
// IdempotencyOutcomeUnknown.
//
// # Two phases: claimed, then sent
//
// A key's record goes through these states:
//
//	(none) --Begin--> claimed --Sending--> sent --Complete--> done
//	claimed: short claim lease; Complete (a local answer) and Release work;
//	         Abandon makes it sent with its lease over
//	claimed, claim lease passed: Sending fails; the next Begin claims it afresh
//	sent:    Complete, Release, Abandon; lease passed: OutcomeUnknown, never a new claim
//	done:    replayed to retries for the retention period
//
// Begin writes "claimed" with a short claim lease (WithClaimLease, default
// 15 seconds). Sending, called right before the paid upstream call, turns it
// into "sent" with the full lease (WithLease), atomically and only if this
// claim still owns the record and its claim lease has not passed on the
// store's clock. If Sending fails the provider is not called.
//
// Why two phases: a store that stalls (Redis paused, a failover) can apply a
// write whose client already timed out. With one phase, a Begin that timed
// out, so that its request was refused and never sent, could still leave a
// pending record behind, and the key then answered "in progress" and
// "outcome unknown" for a day although nothing was ever sent. Now such a
// record is only "claimed", which proves no upstream call was made under it:
// when its claim lease has passed the next Begin claims the key afresh. A
// failed claim is also released sooner: a Begin that fails with a store
// error deletes in the background what it may have written (a few tries
// over about 30 seconds, bounded in time and in number, never blocking the
// request), and so does a Sending that fails. Only a record owned by the
// failed claim is deleted, and a sent one only when that claim's own Sending
// failed, which means its provider call was never made. The cleanup leaves
// a short-lived marker so that a late copy of the failed write (still queued
// in a paused store, or a client retry) cannot land after it. The claim
// lease is the guarantee; the cleanup only makes it sooner.
//
// This relies on the caller's half: the provider is called only after
// Sending succeeded. A caller that skips Sending and calls the provider
// under a merely claimed record could see the key claimed again after the
// claim lease, and the provider called twice.
//
// # The one way a key could call the provider twice, and why it cannot
//
// Sending turns the record into a pending ("sent") record with an owner
// token and a lease (default 2 minutes, longer than any platform deadline).
// If the instance holding the claim dies (killed at its timeout, out of
// memory, a crash) it never completes or releases the claim. A plain lease
// that deletes the record when it expires (SET NX PX) would then let a retry
// claim the key again and call the provider a second time, although the
// first call may well have been processed and billed: that is the only path
// to a double charge under one key. So the sent record lives for the full 24
// hours and the lease is a field in it, compared against the store's clock:
// once it has passed, Begin answers Conflict "IdempotencyOutcomeUnknown" for
// the rest of the day, never a new claim. The caller checks the outcome (or
// accepts the risk) and uses a new key. A holder that is merely slow, not
// dead, can still Complete after its lease, and later retries then replay
// its answer. Claim.Abandon lets a live holder that got an ambiguous failure
// (a timeout after sending) move to that state at once instead of leaving
// retries "in progress".
//
// The lease length only decides what a retry is told while the first
// attempt runs ("in progress" before it, "outcome unknown" after); it is
// never a path to a second call, so a function timeout above the 2-minute
// default costs a less precise message, not a double charge. The claim
// lease only has to cover the time from Begin to Sending (checks and local
// work, milliseconds), not the upstream call.
//
// # Personal data
//
// Records hold response bodies, which contain personal data (names, ID
// numbers, photos, verification results), for 24 hours. WithEncryptionKey
// seals each record with AES-256-GCM bound to its store key, and keys the
// stored request fingerprints with HMAC so that a low-entropy request (a name
// and an ID number) cannot be recovered from its hash. Configure it in
// production (suggested: IDV_STORE_KEY, a secret reference to 32 random
// bytes, base64; ParseKey reads it). Without it, Redis holds the bodies in
// the clear and its access control and at-rest encryption are all there is.
// Rotate by passing the new key first and the old one after it for a day.
// Enabling encryption, or dropping a key still in use, makes that day's
// records unreadable: their keys answer Conflict (reused) or Internal
// IdempotencyRecordUnreadable, never a second upstream call.
//
// # Why not SET NX PX
//
// A claim is a Lua script over one hash rather than SET NX PX on the lease:
// the lease must end in an "attempted" marker, not in an empty slot, and the
// owner and state checks of Sending, Complete, Release and Abandon must be
// atomic with their writes. The store key is prefix + SHA-256(scope, key),
// so nothing a caller chose appears in Redis and one slot serves a cluster.
package idempotency

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/seal"
)

// Record is a finished request's answer, as replayed to a retry.
type Record struct {
	Status int
	// Header is the small subset of response headers worth replaying (the
	// content type, the upstream request id), never credentials.
	Header map[string]string
	Body   []byte
}

// Defaults.
const (
	DefaultLease = 2 * time.Minute
	// DefaultClaimLease is how long a claim may wait between Begin and
	// Sending. A claim that has not sent by then is taken over by the next
	// Begin: it provably never reached the provider.
	DefaultClaimLease = 15 * time.Second
	DefaultRetention  = 24 * time.Hour
	// DefaultMaxRecordBytes caps one stored answer. A bigger answer (a
	// GetDetectInfoEnhanced with video) is not kept; retries of its key get
	// IdempotencyResponseNotStored rather than a second billable call.
	DefaultMaxRecordBytes = 4 << 20
	// MaxKeyLength is the longest Idempotency-Key accepted.
	MaxKeyLength = 255
)

// record states as stored.
const (
	stateClaimed  = "c" // claimed, nothing sent yet: the claim lease runs
	statePending  = "p" // sent: a claim is held (or its holder died: see the lease)
	stateDone     = "d" // the answer is stored
	stateTooLarge = "l" // finished, answer not kept (too large or no room)
	// stateDropped marks a failed claim's record as cleaned up, for the
	// claim lease: it stops only that claim's own late Begin (a write
	// queued in a paused store, a client retry) from landing after the
	// cleanup. Any other owner's Begin claims over it.
	stateDropped = "x"
)

// what Begin found, from a backend.
type found struct {
	claimed   bool          // no live record existed; ours is now written
	state     string        // stateClaimed, statePending, stateDone, stateTooLarge, stateDropped
	expired   bool          // pending and its lease has passed
	remaining time.Duration // claimed or pending, not expired: the lease left
	fp        string        // the stored fingerprint
	blob      []byte        // the sealed record when stateDone
}

// what Sending did, from a backend.
type sendResult int

const (
	sendLost    sendResult = iota // the record is not this claim's any more
	sendOK                        // now sent (or already was, by this claim)
	sendExpired                   // the claim lease had passed: record deleted, nothing sent
)

// backend is one store's atomic primitives. k is the full store key.
type backend interface {
	// begin claims k for owner when no live record holds it (none, a
	// claimed record whose claim lease passed, a dropped one), writing a
	// claimed record with the claim lease; else it reports what it found.
	// A claimed record already owned by owner (a retry of the same write)
	// is reported as claimed.
	begin(ctx context.Context, k, owner, fp string, claimLease, retention time.Duration) (found, error)
	// sending turns a claimed record owned by owner into a pending one with
	// lease, if its claim lease has not passed; one already pending under
	// owner is sendOK too (a retry of the same write).
	sending(ctx context.Context, k, owner string, lease, retention time.Duration) (sendResult, error)
	// complete turns a claimed or pending record still owned by owner into
	// state with blob.
	complete(ctx context.Context, k, owner, state string, blob []byte, retention time.Duration) (bool, error)
	// release deletes a claimed or pending record still owned by owner.
	release(ctx context.Context, k, owner string) (bool, error)
	// abandon makes a claimed or pending record still owned by owner
	// pending with its lease over.
	abandon(ctx context.Context, k, owner string) (bool, error)
	// drop cleans up after a failed Begin or Sending: it replaces a record
	// owned by owner in the claimed state (or pending too, when sent is
	// set), or no record at all, with a stateDropped marker living for
	// marker. A record of another owner, or in another state, is left alone.
	drop(ctx context.Context, k, owner string, sent bool, marker time.Duration) error
}

// Store keeps Idempotency-Key records. Its methods are safe for concurrent use.
type Store struct {
	b   backend
	cfg config

	// cleanups running in the background (see the package doc)
	bg       sync.WaitGroup
	inflight atomic.Int64
}

type config struct {
	prefix     string
	lease      time.Duration
	claimLease time.Duration
	retention  time.Duration
	maxRecord  int
	keys       [][]byte // AES-256 keys; the first seals, all open
	// background cleanup of failed claims: waits before each try, each try's
	// timeout, and how many may run at once (more are left to the claim lease)
	dropWaits   []time.Duration
	dropTimeout time.Duration
	maxDrops    int64
	// memory only
	now        func() time.Time
	maxEntries int
	maxBytes   int
}

// Option configures a Store.
type Option func(*config)

// WithLease sets how long a sent claim holds a key before its holder is
// presumed dead (default 2 minutes). Keep it above the platform deadline.
func WithLease(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lease = d
		}
	}
}

// WithClaimLease sets how long a claim holds a key between Begin and
// Sending (default 15 seconds). Past it, Sending fails and the next Begin
// claims the key afresh. It bounds how long a failed claim can block its
// key; it must cover the work between Begin and Sending, not the upstream
// call.
func WithClaimLease(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.claimLease = d
		}
	}
}

// WithRetention sets how long records are kept (default 24 hours).
func WithRetention(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retention = d
		}
	}
}

// WithMaxRecordBytes caps one stored answer (default 4 MiB).
func WithMaxRecordBytes(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRecord = n
		}
	}
}

// WithEncryptionKey seals records with AES-256-GCM under current (32 bytes)
// and opens records sealed under current or any of previous, so the key can
// be rotated without losing a day of answers. Every key must be 32 bytes; a
// Store built with a wrong key refuses every Begin (fail closed).
func WithEncryptionKey(current []byte, previous ...[]byte) Option {
	return func(c *config) {
		c.keys = append([][]byte{current}, previous...)
	}
}

// WithClock replaces time.Now in the memory store, for tests. Redis uses the
// server's clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithMemoryLimits bounds the memory store: at most entries records and
// bytes of stored answers (defaults 10000 and 64 MiB). When full of live
// records it refuses new keys (IdempotencyStoreUnavailable) rather than
// forget a key it promised to protect.
func WithMemoryLimits(entries, bytes int) Option {
	return func(c *config) {
		if entries > 0 {
			c.maxEntries = entries
		}
		if bytes > 0 {
			c.maxBytes = bytes
		}
	}
}

// The background cleanup of a failed claim: tries after these waits (about
// 16 s in all, plus each try's timeout; no try starts after 30 s), at most
// maxDrops at once per Store. During a long outage the cap keeps failed
// requests from piling up goroutines against a dead store; the claim lease
// frees whatever is not cleaned up.
var (
	defaultDropWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second,
		2 * time.Second, 4 * time.Second, 8 * time.Second}
)

const (
	defaultDropTimeout = 2 * time.Second
	defaultMaxDrops    = 256
	maxDropTime        = 30 * time.Second // no try starts later than this
)

func newConfig(prefix string, opts []Option) config {
	c := config{prefix: prefix, lease: DefaultLease, claimLease: DefaultClaimLease, retention: DefaultRetention,
		maxRecord: DefaultMaxRecordBytes, dropWaits: defaultDropWaits, dropTimeout: defaultDropTimeout,
		maxDrops: defaultMaxDrops, now: time.Now, maxEntries: 10000, maxBytes: 64 << 20}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Scope is the namespace of a key: one caller's one action, so callers
// never see each other's answers and a key is not shared across actions.
func Scope(callerID, action string) string {
	return string(lengthPrefixed(nil, []byte(callerID), []byte(action)))
}

// Fingerprint is the hex SHA-256 of a request's parts (for example the
// action and the body), each length-prefixed so parts cannot run together.
func Fingerprint(parts ...[]byte) string {
	sum := sha256.Sum256(lengthPrefixed(nil, parts...))
	return hex.EncodeToString(sum[:])
}

func lengthPrefixed(dst []byte, parts ...[]byte) []byte {
	for _, p := range parts {
		dst = binary.AppendUvarint(dst, uint64(len(p)))
		dst = append(dst, p...)
	}
	return dst
}

// ValidateKey checks an Idempotency-Key: 1 to 255 printable ASCII characters.
// The error never echoes the key.
func ValidateKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLength {
		return errs.E(errs.Invalid, "InvalidParameterValue",
			"Idempotency-Key header: must be 1 to %d bytes of printable UTF-8 (got %d bytes)", MaxKeyLength, len(key))
	}
	// Printable UTF-8, not only ASCII: a workflow builds keys from its
	// execution name, which may be in any script. The key is hashed before
	// it reaches the store.
	for i, r := range key {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return errs.E(errs.Invalid, "InvalidParameterValue",
				"Idempotency-Key header: must be 1 to %d bytes of printable UTF-8 (byte %d is not)", MaxKeyLength, i+1)
		}
	}
	return nil
}

// Claim is held by the one request that may call the provider for a key.
// Its methods may be called from one goroutine at a time.
type Claim struct {
	s     *Store
	k     string
	owner string

	mu    sync.Mutex
	phase claimPhase
}

type claimPhase int

const (
	phaseClaimed    claimPhase = iota // Begin succeeded
	phaseSent                         // Sending succeeded
	phaseSendFailed                   // Sending failed: the provider must not be called; cleaning up
	phaseEnded                        // Complete, Release or Abandon succeeded
)

// InProgress is the cause inside a Conflict IdempotencyInProgress error:
// how long the first request's lease (its claim lease, before it sent)
// has left on the store's clock. RetryAfter reads it.
type InProgress struct {
	Remaining time.Duration
}

func (e *InProgress) Error() string {
	return fmt.Sprintf("idempotency lease ends in %s", e.Remaining)
}

// RetryAfter is Remaining, so that a pipeline that looks for a cause with a
// RetryAfter method (gateway.RetryAfterError) finds it without importing
// this package.
func (e *InProgress) RetryAfter() time.Duration { return e.Remaining }

// RetryAfter is how long to wait before retrying after err: for Conflict
// IdempotencyInProgress, the time left on the first request's lease (a
// retry after it gets the answer, a fresh claim, or IdempotencyOutcomeUnknown);
// zero for any other error, including the ones a retry under the same key
// cannot fix.
func RetryAfter(err error) time.Duration {
	var ip *InProgress
	if errors.As(err, &ip) && ip.Remaining > 0 {
		return ip.Remaining
	}
	return 0
}

// Begin starts a request under key. It returns exactly one of: a Claim (no
// answer exists; call Sending, then the provider, then Complete or Release),
// a Record (the finished answer for the same request; replay it, call
// nothing), or an *errs.Error:
//   - Invalid InvalidParameterValue: the key breaks the rule;
//   - Conflict IdempotencyKeyReused: the key belongs to a different request;
//   - Conflict IdempotencyInProgress: the first request is still running
//     (RetryAfter(err) says how long its lease has left);
//   - Conflict IdempotencyOutcomeUnknown: the first request sent and its
//     holder died, so it may have reached the provider; never sent again
//     under this key;
//   - Conflict IdempotencyResponseNotStored: finished, answer too large to keep;
//   - Unavailable IdempotencyStoreUnavailable: the store cannot be reached, so
//     the request must be refused, not served without the protection asked for.
//
// A record claimed but never sent whose claim lease has passed does not
// stand in the way: Begin claims the key afresh (for this request's
// fingerprint). When Begin fails with a store error it may still have
// written its claim (a timeout after the store applied it); it deletes that
// claim in the background, so the key is free again as soon as the store
// answers, and at the latest after the claim lease.
func (s *Store) Begin(ctx context.Context, scope, key, fingerprint string) (*Claim, *Record, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, err
	}
	if scope == "" || fingerprint == "" {
		return nil, nil, errs.E(errs.Internal, "", "idempotency: Begin needs a scope and a fingerprint")
	}
	if err := s.checkKeys(); err != nil {
		return nil, nil, err
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, nil, errs.Wrap(err, errs.Internal, "", "idempotency: owner token")
	}
	k, owner := s.storeKey(scope, key), hex.EncodeToString(tok[:])
	fps := s.storedFingerprints(fingerprint)
	f, err := s.b.begin(ctx, k, owner, fps[0], s.cfg.claimLease, s.cfg.retention)
	if err != nil {
		if !errors.Is(err, errFull) { // a refusal wrote nothing
			s.dropLater(ctx, k, owner, false)
		}
		return nil, nil, unavailable(err)
	}
	if f.claimed {
		return &Claim{s: s, k: k, owner: owner}, nil, nil
	}
	if f.state == stateDropped {
		// Only this Begin's own cleanup marker answers this, and this Begin
		// is the one that wrote it: not reachable by a live caller.
		return nil, nil, unavailable(errors.New("idempotency: found this claim's own cleanup marker"))
	}
	if !anyEqual(f.fp, fps) {
		return nil, nil, errs.E(errs.Conflict, "IdempotencyKeyReused",
			"this Idempotency-Key was already used for a different request; use a new key for a new request")
	}
	switch f.state {
	case stateDone:
		rec, err := s.open(k, f.blob)
		if err != nil {
			return nil, nil, err
		}
		return nil, rec, nil
	case stateTooLarge:
		return nil, nil, errs.E(errs.Conflict, "IdempotencyResponseNotStored",
			"the request with this Idempotency-Key finished but its answer was too large to keep; it is not sent again")
	case statePending, stateClaimed:
		if f.expired { // pending only: an expired claimed record was claimed afresh
			return nil, nil, errs.E(errs.Conflict, "IdempotencyOutcomeUnknown",
				"the first request with this Idempotency-Key did not finish and may have reached the provider; it is not sent again under this key: check its outcome, then use a new key")
		}
		return nil, nil, errs.Wrap(&InProgress{Remaining: f.remaining}, errs.Conflict, "IdempotencyInProgress",
			"a request with this Idempotency-Key is in progress; retry in %s", retryText(f.remaining))
	}
	return nil, nil, errs.E(errs.Internal, "IdempotencyRecordUnreadable", "idempotency record in unknown state %q", f.state)
}

// retryText is a lease left in whole seconds, rounded up, for a message.
func retryText(d time.Duration) string {
	s := (d + time.Second - 1) / time.Second
	if s < 1 {
		s = 1
	}
	return fmt.Sprintf("%d s", s)
}

// Sending marks the claim as sent: call it right before the paid upstream
// call, and call the provider only if it returns nil. It atomically turns
// the claimed record into a pending one with the full lease, provided this
// claim still owns it and its claim lease has not passed on the store's
// clock. Calling it again after it succeeded returns nil.
//
// Its errors mean nothing was sent and nothing may be: do not call the
// provider, return the error. The claim is finished then, and its record is
// deleted (Release is not needed and is harmless):
//   - Conflict IdempotencyClaimLost: the claim lease passed (the record is
//     deleted, a retry can claim the key), or the record is no longer this
//     claim's (completed, released, or claimed afresh by another request);
//   - Unavailable IdempotencyStoreUnavailable: the store did not answer; the
//     write may still be applied, so the record is deleted in the
//     background, and at the latest the claim lease frees the key.
func (c *Claim) Sending(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.phase {
	case phaseSent:
		return nil
	case phaseSendFailed, phaseEnded:
		return claimLost()
	}
	res, err := c.s.b.sending(ctx, c.k, c.owner, c.s.cfg.lease, c.s.cfg.retention)
	if err != nil {
		// Ambiguous: the write may land later. Whether or not it does, this
		// claim never sends, so its record may go even if it became pending.
		c.phase = phaseSendFailed
		c.s.dropLater(ctx, c.k, c.owner, true)
		return unavailable(err)
	}
	switch res {
	case sendOK:
		c.phase = phaseSent
		return nil
	case sendExpired:
		c.phase = phaseSendFailed
		return errs.E(errs.Conflict, "IdempotencyClaimLost",
			"the idempotency claim expired before the request was sent (claim lease %s); the request was not sent, retry it", c.s.cfg.claimLease)
	}
	c.phase = phaseSendFailed
	return claimLost()
}

// Complete stores the answer for the retention period, if this claim still
// owns the record. It works before Sending too: an answer made locally (a
// sandbox answer, a refusal) is stored the same way, and the provider must
// not be called after it. It fails with Conflict IdempotencyClaimLost when
// the claim does not own the record (already completed or released, the
// record expired and another request claimed the key, or Sending failed): a
// stale claim never overwrites. An answer over the size cap is not kept, but
// the key is still marked finished.
func (c *Claim) Complete(ctx context.Context, r Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase == phaseSendFailed {
		return claimLost()
	}
	blob, err := c.s.seal(c.k, r)
	if err != nil {
		return err
	}
	state := stateDone
	if len(blob) > c.s.cfg.maxRecord {
		state, blob = stateTooLarge, nil
	}
	return c.end(c.s.b.complete(ctx, c.k, c.owner, state, blob, c.s.cfg.retention))
}

// Release deletes the claimed or pending record so the same key can be
// retried. Call it only when the attempt provably never reached the provider
// (refused before sending, connection refused, our own validation or rate
// limit). After a failed Sending the record is already being deleted and
// Release returns nil unless the store cannot be reached.
func (c *Claim) Release(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok, err := c.s.b.release(ctx, c.k, c.owner)
	if c.phase == phaseSendFailed && err == nil {
		return nil // gone either way: by this call, the cleanup, or Sending itself
	}
	return c.end(ok, err)
}

// Abandon ends the lease now: the attempt may have reached the provider and
// its outcome is unknown (a timeout after sending). Retries then get
// IdempotencyOutcomeUnknown instead of IdempotencyInProgress. Before Sending
// it does the same (the caller says it may have sent; that is believed).
// After a failed Sending it fails with IdempotencyClaimLost: nothing was
// sent.
func (c *Claim) Abandon(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase == phaseSendFailed {
		return claimLost()
	}
	return c.end(c.s.b.abandon(ctx, c.k, c.owner))
}

// end records a successful Complete, Release or Abandon, after which
// Sending is refused.
func (c *Claim) end(ok bool, err error) error {
	if err := c.s.owned(ok, err); err != nil {
		return err
	}
	c.phase = phaseEnded
	return nil
}

func (s *Store) owned(ok bool, err error) error {
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return claimLost()
	}
	return nil
}

func claimLost() error {
	return errs.E(errs.Conflict, "IdempotencyClaimLost",
		"the idempotency claim no longer owns its record (finished, released, expired or failed to send)")
}

func unavailable(err error) error {
	return errs.Wrap(err, errs.Unavailable, "IdempotencyStoreUnavailable",
		"the idempotency store is unavailable; the request was not sent, retry later")
}

// dropLater deletes, in the background, the record a failed Begin
// (sent=false: claimed records only) or a failed Sending (sent=true: claimed
// or pending) of owner may have left. It never blocks the caller, tries a
// bounded number of times, and gives up when too many run at once: the
// claim lease frees the key in any case.
func (s *Store) dropLater(ctx context.Context, k, owner string, sent bool) {
	if s.inflight.Add(1) > s.cfg.maxDrops {
		s.inflight.Add(-1)
		return
	}
	s.bg.Add(1)
	base := context.WithoutCancel(ctx)
	go func() {
		defer s.bg.Done()
		defer s.inflight.Add(-1)
		start := time.Now()
		for _, wait := range s.cfg.dropWaits {
			if time.Since(start)+wait > maxDropTime {
				return // whatever a slow client took, the tries end here
			}
			time.Sleep(wait)
			tctx, cancel := context.WithTimeout(base, s.cfg.dropTimeout)
			err := s.b.drop(tctx, k, owner, sent, s.cfg.claimLease)
			cancel()
			if err == nil {
				return
			}
		}
	}()
}

// storeKey hides the caller's key and scope behind a hash: fixed length,
// no delimiter games, and nothing a caller chose appears in the store.
func (s *Store) storeKey(scope, key string) string {
	sum := sha256.Sum256(lengthPrefixed(nil, []byte(scope), []byte(key)))
	return s.cfg.prefix + hex.EncodeToString(sum[:])
}

// storedFingerprints is the fingerprint as stored: keyed with HMAC under
// each encryption key (the first is written, any matches, so a rotation keeps
// the day's records), or plain without encryption.
func (s *Store) storedFingerprints(fp string) []string {
	if len(s.cfg.keys) == 0 {
		return []string{fp}
	}
	out := make([]string, len(s.cfg.keys))
	for i, key := range s.cfg.keys {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("idempotency fingerprint\x00"))
		m.Write([]byte(fp))
		out[i] = hex.EncodeToString(m.Sum(nil))
	}
	return out
}

func anyEqual(got string, want []string) bool {
	ok := false
	for _, w := range want {
		ok = subtle.ConstantTimeCompare([]byte(got), []byte(w)) == 1 || ok
	}
	return ok
}

// storedRecord is the JSON form of a Record before sealing.
type storedRecord struct {
	Status int               `json:"s"`
	Header map[string]string `json:"h,omitempty"`
	Body   []byte            `json:"b,omitempty"`
}

func (s *Store) seal(k string, r Record) ([]byte, error) {
	plain, err := json.Marshal(storedRecord{Status: r.Status, Header: r.Header, Body: r.Body})
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "idempotency: encode record")
	}
	return s.sealer().Seal(k, plain)
}

// sealer is the store's keys as shared/seal sees them (nil: in the clear).
func (s *Store) sealer() *seal.Keys {
	if len(s.cfg.keys) == 0 {
		return nil
	}
	keys, err := seal.New(s.cfg.keys[0], s.cfg.keys[1:]...)
	if err != nil {
		return nil // checkKeys refused such keys when the store was made
	}
	return keys
}

func (s *Store) open(k string, blob []byte) (*Record, error) {
	plain, _ := s.sealer().Open(k, blob)
	var sr storedRecord
	if plain == nil || json.Unmarshal(plain, &sr) != nil {
		// Wrong or missing key, or a record tampered with: refuse rather
		// than call the provider again under a key that has an answer.
		return nil, errs.E(errs.Internal, "IdempotencyRecordUnreadable", "the stored answer for this Idempotency-Key cannot be read")
	}
	return &Record{Status: sr.Status, Header: sr.Header, Body: sr.Body}, nil
}
