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
//		return err   // outcome unknown) or Unavailable (store down: refuse, do not call)
//	case rec != nil: // replay rec.Status, rec.Header, rec.Body; no upstream call
//	default:
//		answer, err := callProvider(ctx)
//		if the request provably never reached the provider { claim.Release(ctx) }
//		else { claim.Complete(ctx, idempotency.Record{...answer, charged errors included...}) }
//	}
//
// gateway.IdempotencyStore hands answers around as []byte: app's adapter
// stores them as Record{Status: 200, Body: answer} and replays rec.Body.
//
// Complete and Release should run on a context that outlives the caller's
// cancellation (context.WithoutCancel plus a short timeout): the provider has
// answered by then, and losing the answer turns a retry into
// IdempotencyOutcomeUnknown.
//
// The lease length only decides what a retry is told while the first
// attempt runs ("in progress" before it, "outcome unknown" after); it is
// never a path to a second call, so a function timeout above the 2-minute
// default costs a less precise message, not a double charge.
//
// # The one way a key could call the provider twice, and why it cannot
//
// Begin writes a pending record with an owner token and a lease (default 2
// minutes, longer than any platform deadline). If the instance holding the
// claim dies (killed at its timeout, out of memory, a crash) it never
// completes or releases the claim. A plain lease that deletes the record when
// it expires (SET NX PX) would then let a retry claim the key again and call
// the provider a second time, although the first call may well have been
// processed and billed: that is the only path to a double charge under one
// key. So the pending record lives for the full 24 hours and the lease is a
// field in it, compared against the store's clock: once it has passed, Begin
// answers Conflict "IdempotencyOutcomeUnknown" for the rest of the day,
// never a new claim. The caller checks the outcome (or accepts the risk) and
// uses a new key. A holder that is merely slow, not dead, can still Complete
// after its lease, and later retries then replay its answer. Claim.Abandon
// lets a live holder that got an ambiguous failure (a timeout after sending)
// move to that state at once instead of leaving retries "in progress".
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
// owner checks of Complete, Release and Abandon must be atomic with their
// writes. The store key is prefix + SHA-256(scope, key), so nothing a caller
// chose appears in Redis and one slot serves a cluster.
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
	DefaultLease     = 2 * time.Minute
	DefaultRetention = 24 * time.Hour
	// DefaultMaxRecordBytes caps one stored answer. A bigger answer (a
	// GetDetectInfoEnhanced with video) is not kept; retries of its key get
	// IdempotencyResponseNotStored rather than a second billable call.
	DefaultMaxRecordBytes = 4 << 20
	// MaxKeyLength is the longest Idempotency-Key accepted.
	MaxKeyLength = 255
)

// record states as stored.
const (
	statePending  = "p" // a claim is held (or its holder died: see the lease)
	stateDone     = "d" // the answer is stored
	stateTooLarge = "l" // finished, answer not kept (too large or no room)
)

// what Begin found, from a backend.
type found struct {
	claimed bool   // no record existed; ours is now written
	state   string // statePending, stateDone, stateTooLarge
	expired bool   // pending and its lease has passed
	fp      string // the stored fingerprint
	blob    []byte // the sealed record when stateDone
}

// backend is one store's atomic primitives. k is the full store key.
type backend interface {
	begin(ctx context.Context, k, owner, fp string, lease, retention time.Duration) (found, error)
	// complete turns a pending record still owned by owner into state with blob.
	complete(ctx context.Context, k, owner, state string, blob []byte, retention time.Duration) (bool, error)
	// release deletes a pending record still owned by owner.
	release(ctx context.Context, k, owner string) (bool, error)
	// abandon ends the lease of a pending record still owned by owner.
	abandon(ctx context.Context, k, owner string) (bool, error)
}

// Store keeps Idempotency-Key records. Its methods are safe for concurrent use.
type Store struct {
	b   backend
	cfg config
}

type config struct {
	prefix    string
	lease     time.Duration
	retention time.Duration
	maxRecord int
	keys      [][]byte // AES-256 keys; the first seals, all open
	// memory only
	now        func() time.Time
	maxEntries int
	maxBytes   int
}

// Option configures a Store.
type Option func(*config)

// WithLease sets how long a claim holds a key before its holder is presumed
// dead (default 2 minutes). Keep it above the platform deadline.
func WithLease(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lease = d
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

func newConfig(prefix string, opts []Option) config {
	c := config{prefix: prefix, lease: DefaultLease, retention: DefaultRetention, maxRecord: DefaultMaxRecordBytes,
		now: time.Now, maxEntries: 10000, maxBytes: 64 << 20}
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
type Claim struct {
	s     *Store
	k     string
	owner string
}

// Begin starts a request under key. It returns exactly one of: a Claim (no
// answer exists; call the provider, then Complete or Release), a Record (the
// finished answer for the same request; replay it, call nothing), or an
// *errs.Error:
//   - Invalid InvalidParameterValue: the key breaks the rule;
//   - Conflict IdempotencyKeyReused: the key belongs to a different request;
//   - Conflict IdempotencyInProgress: the first request is still running;
//   - Conflict IdempotencyOutcomeUnknown: the first request's holder died and
//     it may have reached the provider; never sent again under this key;
//   - Conflict IdempotencyResponseNotStored: finished, answer too large to keep;
//   - Unavailable IdempotencyStoreUnavailable: the store cannot be reached, so
//     the request must be refused, not served without the protection asked for.
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
	k := s.storeKey(scope, key)
	fps := s.storedFingerprints(fingerprint)
	f, err := s.b.begin(ctx, k, hex.EncodeToString(tok[:]), fps[0], s.cfg.lease, s.cfg.retention)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	if f.claimed {
		return &Claim{s: s, k: k, owner: hex.EncodeToString(tok[:])}, nil, nil
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
	case statePending:
		if f.expired {
			return nil, nil, errs.E(errs.Conflict, "IdempotencyOutcomeUnknown",
				"the first request with this Idempotency-Key did not finish and may have reached the provider; it is not sent again under this key: check its outcome, then use a new key")
		}
		return nil, nil, errs.E(errs.Conflict, "IdempotencyInProgress",
			"a request with this Idempotency-Key is in progress; retry later")
	}
	return nil, nil, errs.E(errs.Internal, "IdempotencyRecordUnreadable", "idempotency record in unknown state %q", f.state)
}

// Complete stores the answer for the retention period, if this claim still
// owns the record. It fails with Conflict IdempotencyClaimLost when it does
// not (already completed or released, or the record expired and another
// request claimed the key): a stale claim never overwrites. An answer over
// the size cap is not kept, but the key is still marked finished.
func (c *Claim) Complete(ctx context.Context, r Record) error {
	blob, err := c.s.seal(c.k, r)
	if err != nil {
		return err
	}
	state := stateDone
	if len(blob) > c.s.cfg.maxRecord {
		state, blob = stateTooLarge, nil
	}
	return c.s.owned(c.s.b.complete(ctx, c.k, c.owner, state, blob, c.s.cfg.retention))
}

// Release deletes the pending record so the same key can be retried. Call it
// only when the attempt provably never reached the provider (refused before
// sending, connection refused, our own validation or rate limit).
func (c *Claim) Release(ctx context.Context) error {
	return c.s.owned(c.s.b.release(ctx, c.k, c.owner))
}

// Abandon ends the lease now: the attempt may have reached the provider and
// its outcome is unknown (a timeout after sending). Retries then get
// IdempotencyOutcomeUnknown instead of IdempotencyInProgress.
func (c *Claim) Abandon(ctx context.Context) error {
	return c.s.owned(c.s.b.abandon(ctx, c.k, c.owner))
}

func (s *Store) owned(ok bool, err error) error {
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return errs.E(errs.Conflict, "IdempotencyClaimLost",
			"the idempotency claim no longer owns its record (finished, released or expired)")
	}
	return nil
}

func unavailable(err error) error {
	return errs.Wrap(err, errs.Unavailable, "IdempotencyStoreUnavailable",
		"the idempotency store is unavailable; the request was not sent, retry later")
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
