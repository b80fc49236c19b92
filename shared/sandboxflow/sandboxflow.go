// Package sandboxflow keeps what the sandbox's browser flows remember
// between calls: per flow token, where the provider's page would send the
// browser back (given when the token was issued), whether a tester opened
// the sandbox H5 page (shared/sandboxh5) and which outcome they chose, and
// for Baidu's faceprint flow what idcard/submit sent (masked) and whether
// the flow is verified. The FaceID sandbox, the faceprint sandbox and the
// pages share one Store: in memory within a process (functions/all), in
// Redis (IDV_REDIS_URL, keys "idv:sbx:<sha256 of the token>") across
// functions and instances.
//
// Nothing here is personal: names and ID numbers are stored only masked as
// Baidu masks them, and tokens only as hashes.
package sandboxflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
)

// Flow kinds: the issuing call.
const (
	KindDetect    = "detect"    // DetectAuth BizToken
	KindEid       = "eid"       // GetEidToken EidToken
	KindFaceprint = "faceprint" // Baidu verifyToken/generate verify_token
)

// State is one flow's record.
type State struct {
	Kind string `json:"kind"`
	// Redirect is the RedirectUrl given to DetectAuth or GetEidToken.
	Redirect string `json:"redirect,omitempty"`
	// SuccessURL and FailedURL are Baidu's redirect_config (or the page
	// URL's successUrl / failedUrl).
	SuccessURL string `json:"successUrl,omitempty"`
	FailedURL  string `json:"failedUrl,omitempty"`
	// Opened: the page was shown. A flow opened and not Chosen is in
	// progress; one never opened keeps the magic-value behaviour.
	Opened bool `json:"opened,omitempty"`
	// Chosen: the tester picked Outcome on the page, the index of the
	// outcome in the issuing action's documented table (0 passes).
	Chosen  bool `json:"chosen,omitempty"`
	Outcome int  `json:"outcome,omitempty"`
	// GaveUp: the tester gave up; the flow has no result (Outcome unset).
	GaveUp bool `json:"gaveUp,omitempty"`

	// Faceprint only. IDName and IDNo are what idcard/submit sent, masked
	// as Baidu masks them in its answers; IDType its certificate_type.
	Submitted bool   `json:"submitted,omitempty"`
	IDName    string `json:"idName,omitempty"`
	IDNo      string `json:"idNo,omitempty"`
	IDType    int    `json:"idType,omitempty"`
	Uploaded  bool   `json:"uploaded,omitempty"`
	// Verified: the H5 flow is over (核验完毕): no more submit or upload.
	Verified bool `json:"verified,omitempty"`
}

// Finished reports whether the tester ended the flow on the page.
func (s State) Finished() bool { return s.Chosen || s.GaveUp }

// Store keeps flow states. Load's ok is false for a token with no record.
type Store interface {
	Load(ctx context.Context, token string) (st State, ok bool, err error)
	Save(ctx context.Context, token string, st State, ttl time.Duration) error
}

// key is what a token is stored under: its hash, so a dump of the store
// holds no token.
func key(token string) string {
	sum := sha256.Sum256([]byte("idverify-sandbox-flow\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// Memory is a Store in the process's memory.
type Memory struct {
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]memEntry
	added int
}

type memEntry struct {
	st      State
	expires time.Time
}

// NewMemory returns an empty in-memory store; now is its clock (nil:
// time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, m: map[string]memEntry{}}
}

// memCap bounds a long-running local server's memory: past it, expired
// records are dropped, then the oldest half if still full.
const memCap = 20000

// Load implements Store.
func (m *Memory) Load(_ context.Context, token string) (State, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key(token)]
	if !ok || !m.now().Before(e.expires) {
		return State{}, false, nil
	}
	return e.st, true, nil
}

// Save implements Store.
func (m *Memory) Save(_ context.Context, token string, st State, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.m[key(token)] = memEntry{st: st, expires: now.Add(ttl)}
	if len(m.m) > memCap {
		for k, e := range m.m {
			if !now.Before(e.expires) {
				delete(m.m, k)
			}
		}
		for k := range m.m {
			if len(m.m) <= memCap/2 {
				break
			}
			delete(m.m, k) // map order: an arbitrary half
		}
	}
	return nil
}

// Redis is a Store in Redis, shared by every function and instance.
type Redis struct {
	c      *resp.Client
	prefix string
}

// NewRedis stores states under prefix ("idv:sbx:").
func NewRedis(c *resp.Client, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

// Load implements Store.
func (r *Redis) Load(ctx context.Context, token string) (State, bool, error) {
	b, err := r.c.Get(ctx, r.prefix+key(token)).Bytes()
	if errors.Is(err, resp.Nil) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, unavailable(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		// Not ours (or an older layout): as if never recorded.
		return State{}, false, nil
	}
	return st, true, nil
}

// Save implements Store.
func (r *Redis) Save(ctx context.Context, token string, st State, ttl time.Duration) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := r.c.Set(ctx, r.prefix+key(token), b, ttl).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

func unavailable(err error) error {
	return errs.Wrap(err, errs.Unavailable, "InternalError.SandboxStore", "the sandbox flow store could not be reached")
}

// MaskName masks a name as Baidu's answers do: the first character kept.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	out := string(r[0])
	for range r[1:] {
		out += "*"
	}
	return out
}

// MaskID masks an ID number as Baidu's answers do: the first three and
// last four characters kept.
func MaskID(id string) string {
	if len(id) <= 7 {
		return "*******"[:len(id)]
	}
	b := []byte(id)
	for i := 3; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}
