// Package callers authenticates the callers of a function's HTTP surfaces
// from the IDV_CALLERS configuration: API keys sent as
// "Authorization: Bearer <key>" (stored only as their SHA-256) and key pairs
// that sign with TC3-HMAC-SHA256 exactly as Tencent Cloud API 3.0 requires,
// so Tencent SDKs and tccli work with an endpoint pointed at the function.
//
// IDV_CALLERS is a JSON array:
//
//	[{"id":"web","keySha256":"<hex>","actions":["IdCardVerification"],"rate":{"perSecond":10,"burst":20}},
//	 {"id":"partner","secretId":"AKIDpartner0001","secretKey":"tckms:...","actions":["*"],"test":true}]
//
// A secretKey may itself be a secret reference (see shared/secrets); Load
// resolves it, refreshes it after the secrets TTL and fails closed naming
// the caller, never the value. scripts/idvcaller prints new entries.
package callers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/secrets"
)

// Entry is one caller as written in IDV_CALLERS.
type Entry struct {
	// ID names the caller in logs and rate limits: letters, digits, '.',
	// '_' and '-', at most 64.
	ID string `json:"id"`
	// KeySha256 is the hex SHA-256 of the caller's API key. The key itself
	// is never stored.
	KeySha256 string `json:"keySha256,omitempty"`
	// SecretID and SecretKey are a TC3 key pair issued to the caller.
	// SecretKey may be a secret reference (tckms:..., awssm:...#key, ...).
	SecretID  string `json:"secretId,omitempty"`
	SecretKey string `json:"secretKey,omitempty"`
	// Actions the caller may call; "*" allows every action.
	Actions []string `json:"actions"`
	// Test callers are always served by the sandbox.
	Test bool `json:"test,omitempty"`
	// Rate is the caller's own limit; nil means none.
	Rate *Rate `json:"rate,omitempty"`
	// Encrypt overrides the function's IDV_FACEID_ENCRYPT for this caller:
	// "AES-256-CBC", "SM4-GCM" or "off" (shared/fieldcrypt). Empty keeps
	// the function's setting.
	Encrypt string `json:"encrypt,omitempty"`
}

// Rate is a token bucket: PerSecond tokens refill each second, up to Burst.
type Rate struct {
	PerSecond float64 `json:"perSecond"`
	// Burst defaults to PerSecond rounded up (at least 1).
	Burst int `json:"burst,omitempty"`
}

// Limits on the configuration, so a hostile or broken value costs bounded
// work at start.
const (
	MaxConfigBytes = 1 << 20
	MaxCallers     = 1000
	maxIDLen       = 64
	maxSecretIDLen = 128
	// minSecretKeyLen keeps a hand-typed weak key out; issued keys are 40.
	minSecretKeyLen = 16
	maxSecretKeyLen = 4096
)

// caller is one parsed entry.
type caller struct {
	id      string
	test    bool
	encrypt string
	rate    float64
	burst   int
	all     bool
	actions map[string]bool

	hasHash bool
	hash    [sha256.Size]byte

	secretID string
	// secretKey is the plain key; keyVar names the synthetic variable a
	// reference is served under once Load has resolved it.
	secretKey string
	keyRef    string
	keyVar    string
}

func (c *caller) allows(action string) bool {
	return (c.all && !slices.Contains(Permissions, action)) || c.actions[action] || strings.HasPrefix(action, SelfServicePrefix)
}

// SelfServicePrefix starts the actions every caller may call: they show a
// caller only what it owns (its flows, its failed webhook deliveries), so
// they need no grant in "actions".
const SelfServicePrefix = "flows/"

// Set is a parsed IDV_CALLERS. It implements gateway.Authenticator and is
// safe for concurrent use.
type Set struct {
	callers  []*caller
	hashed   []*caller // callers with an API key, in configuration order
	bySecret map[string]*caller
	keys     *secrets.Env // serves resolved secretKey references; nil when none
	now      func() time.Time
}

// Options configure Load.
type Options struct {
	// Getenv reads the secrets backends' configuration (regions, endpoint
	// overrides, role credentials) and IDV_SECRET_*; nil means no
	// configuration.
	Getenv func(string) string
	// Resolver replaces the default resolver built from Getenv (tests).
	Resolver *secrets.Resolver
	// Logger receives variable names and error classes from secret
	// resolution, never values; nil discards.
	Logger *slog.Logger
	// Now is the clock TC3 timestamps are checked against; nil is time.Now.
	Now func() time.Time
}

// Parse reads and checks IDV_CALLERS. Secret references in secretKey are
// checked for syntax but not resolved: a Set from Parse refuses TC3 callers
// whose key is a reference until it is loaded with Load.
func Parse(data []byte) (*Set, error) {
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("the configuration is %d bytes, more than the %d allowed", len(data), MaxConfigBytes)
	}
	var raw []json.RawMessage
	if err := strictDecode(data, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON array of callers: %s", describeJSONError(err))
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("the array is empty: add a caller (go run ./scripts/idvcaller new-key --id <name>) or unset the variable")
	}
	if len(raw) > MaxCallers {
		return nil, fmt.Errorf("%d callers, more than the %d allowed", len(raw), MaxCallers)
	}
	s := &Set{bySecret: map[string]*caller{}}
	ids := map[string]int{}
	hashes := map[[sha256.Size]byte]string{}
	for i, r := range raw {
		var e Entry
		if err := strictDecode(r, &e); err != nil {
			return nil, fmt.Errorf("callers[%d]%s: %s", i, idHint(r), describeJSONError(err))
		}
		c, err := parseEntry(&e)
		if err != nil {
			return nil, fmt.Errorf("callers[%d]%s: %w", i, quoteID(e.ID), err)
		}
		if j, dup := ids[c.id]; dup {
			return nil, fmt.Errorf("callers[%d] (id %q): id: duplicate of callers[%d]: ids must be unique", i, c.id, j)
		}
		ids[c.id] = i
		if c.hasHash {
			if other, dup := hashes[c.hash]; dup {
				return nil, fmt.Errorf("callers[%d] (id %q): keySha256: the same key as caller %q: issue each caller its own key", i, c.id, other)
			}
			hashes[c.hash] = c.id
			s.hashed = append(s.hashed, c)
		}
		if c.secretID != "" {
			if other, dup := s.bySecret[c.secretID]; dup {
				return nil, fmt.Errorf("callers[%d] (id %q): secretId: already used by caller %q: secretIds must be unique", i, c.id, other.id)
			}
			s.bySecret[c.secretID] = c
		}
		s.callers = append(s.callers, c)
	}
	return s, nil
}

// Load parses IDV_CALLERS and resolves the secretKey references in it,
// failing closed: the error names every caller whose key could not be
// resolved, and why, but never a value. Resolved keys are refreshed after
// the secrets TTL, as every other secret is.
func Load(ctx context.Context, data []byte, opt Options) (*Set, error) {
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	s.now = opt.Now
	var environ []string
	for _, c := range s.callers {
		if c.keyRef != "" {
			c.keyVar = "IDV_CALLERS[" + c.id + "].secretKey"
			environ = append(environ, c.keyVar+"="+c.keyRef)
		}
	}
	if len(environ) == 0 {
		return s, nil
	}
	getenv := opt.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	log := opt.Logger
	if log == nil {
		log = secrets.Discard()
	}
	env, err := secrets.Load(ctx, secrets.Options{Environ: environ, Getenv: getenv, Resolver: opt.Resolver, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("a caller's secretKey could not be resolved: %w", err)
	}
	s.keys = env
	return s, nil
}

// IDs lists the configured caller ids, sorted.
func (s *Set) IDs() []string {
	out := make([]string, len(s.callers))
	for i, c := range s.callers {
		out[i] = c.id
	}
	sort.Strings(out)
	return out
}

func parseEntry(e *Entry) (*caller, error) {
	c := &caller{id: e.ID, test: e.Test, encrypt: e.Encrypt, actions: map[string]bool{}}
	if err := checkID(e.ID); err != nil {
		return nil, err
	}
	switch e.Encrypt {
	case "", "off", "AES-256-CBC", "SM4-GCM":
	default:
		return nil, errors.New("encrypt: want AES-256-CBC, SM4-GCM or off (or leave it out for the function's IDV_FACEID_ENCRYPT)")
	}
	if e.KeySha256 != "" {
		b, err := hex.DecodeString(e.KeySha256)
		if err != nil || len(b) != sha256.Size {
			return nil, errors.New("keySha256: want 64 hex digits, the SHA-256 of the key (go run ./scripts/idvcaller hash)")
		}
		copy(c.hash[:], b)
		c.hasHash = true
	}
	switch {
	case e.SecretID == "" && e.SecretKey != "":
		return nil, errors.New("secretId: missing, a secretKey needs its secretId")
	case e.SecretID != "" && e.SecretKey == "":
		return nil, errors.New("secretKey: missing, a secretId needs its secretKey (a value or a secret reference)")
	case e.SecretID != "":
		if err := checkSecretID(e.SecretID); err != nil {
			return nil, err
		}
		c.secretID = e.SecretID
		if secrets.IsRef(e.SecretKey) {
			// ParseRef's errors never repeat the input.
			if _, err := secrets.ParseRef(e.SecretKey); err != nil {
				return nil, fmt.Errorf("secretKey: not a valid secret reference: %w", err)
			}
			c.keyRef = e.SecretKey
		} else {
			if n := len(e.SecretKey); n < minSecretKeyLen || n > maxSecretKeyLen {
				return nil, fmt.Errorf("secretKey: %d characters, want %d to %d (go run ./scripts/idvcaller new-keypair issues one)", n, minSecretKeyLen, maxSecretKeyLen)
			}
			if strings.TrimSpace(e.SecretKey) != e.SecretKey {
				return nil, errors.New("secretKey: leading or trailing space")
			}
			c.secretKey = e.SecretKey
		}
	}
	if !c.hasHash && c.secretID == "" {
		return nil, errors.New("no credential: give keySha256 (an API key) or secretId and secretKey (a TC3 key pair)")
	}
	if len(e.Actions) == 0 {
		return nil, errors.New(`actions: empty, list the actions the caller may call (or "*" for every action)`)
	}
	for j, a := range e.Actions {
		if !KnownAction(a) {
			return nil, fmt.Errorf("actions[%d]: unknown action %q (known: FaceID action names, %s, %s or \"*\")",
				j, truncate(a, 64), strings.Join(FaceAdvActions, ", "), "faceprint/...")
		}
		if c.actions[a] {
			return nil, fmt.Errorf("actions[%d]: %q is listed twice", j, a)
		}
		c.actions[a] = true
	}
	if c.actions[AllActions] {
		if len(e.Actions) > 1+countPermissions(c.actions) {
			return nil, errors.New(`actions: "*" already allows every action, list it alone (with "usage" at most)`)
		}
		c.all = true
	}
	if r := e.Rate; r != nil {
		if math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 0) || r.PerSecond <= 0 || r.PerSecond > 1e6 {
			return nil, errors.New("rate.perSecond: want a number above 0 and at most 1000000 (leave rate out for no limit)")
		}
		if r.Burst < 0 || r.Burst > 1e6 {
			return nil, errors.New("rate.burst: want 0 (the default: perSecond rounded up) to 1000000")
		}
		c.rate, c.burst = r.PerSecond, r.Burst
		if c.burst == 0 {
			c.burst = int(math.Max(1, math.Ceil(r.PerSecond)))
		}
	}
	return c, nil
}

// countPermissions counts the Permissions among a caller's actions.
func countPermissions(actions map[string]bool) int {
	n := 0
	for _, p := range Permissions {
		if actions[p] {
			n++
		}
	}
	return n
}

func checkID(id string) error {
	if id == "" {
		return errors.New("id: missing")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("id: longer than %d characters", maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return errors.New("id: only letters, digits, '.', '_' and '-' are allowed (it appears in logs)")
		}
	}
	return nil
}

// checkSecretID keeps to characters that cannot break the Credential
// element of the Authorization header ('/', ',', '=', spaces).
func checkSecretID(id string) error {
	if len(id) < 4 || len(id) > maxSecretIDLen {
		return fmt.Errorf("secretId: want 4 to %d characters", maxSecretIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !idChar(c) || c == '.' {
			return errors.New("secretId: only letters, digits, '_' and '-' are allowed")
		}
	}
	return nil
}

func idChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// strictDecode decodes exactly one JSON value with no unknown fields and
// nothing after it.
func strictDecode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describeJSONError names the field and the rule without echoing values.
func describeJSONError(err error) string {
	return errs.DescribeJSON(err, "id, keySha256, secretId, secretKey, actions, test, rate{perSecond, burst}, encrypt")
}

// idHint names an entry by its id when it has a readable one, so an error
// in entry 7 of 20 is easy to find.
func idHint(r json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(r, &v) != nil {
		return ""
	}
	return quoteID(v.ID)
}

func quoteID(id string) string {
	if id == "" || checkID(id) != nil {
		return ""
	}
	return fmt.Sprintf(" (id %q)", id)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
