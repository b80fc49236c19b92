package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// OwnerStore remembers which caller created a flow token (a BizToken, an
// EidToken, a faceAdv traceNo, a Baidu verify_token). Callers are separate
// tenants: a token answers only the caller that created it.
type OwnerStore interface {
	// Bind records caller as the owner of token unless it has one.
	Bind(ctx context.Context, kind, token, caller string, ttl time.Duration) error
	// Owner is the caller that created token, "" when unknown.
	Owner(ctx context.Context, kind, token string) (string, error)
}

// TokenTTL is how long a flow token stays bound: the longest any provider
// keeps a flow's result (FaceID: three days).
const TokenTTL = 3*24*time.Hour + time.Hour

// checkOwner refuses a consumed token that another caller created, as if it
// did not exist. A token nobody is known to have created is refused too,
// unless the store cannot see every instance or the contract documents it
// as a sandbox magic value.
func (p *Pipeline) checkOwner(ctx context.Context, c Contract, call *Call) error {
	if len(call.Op.Consumes) == 0 || call.Caller == nil {
		return nil
	}
	kind, token := tokenIn(call.Op.Consumes, call.Body)
	if token == "" {
		return nil // the contract's validation names the missing member
	}
	owner, err := p.opts.Owners.Owner(ctx, kind, token)
	if err != nil {
		// Fail closed: serving a token we cannot vouch for would show one
		// tenant's result to another.
		return errs.Wrap(err, errs.Unavailable, "InternalError.OwnerStoreUnavailable",
			"the store that binds flow tokens to callers could not be reached; nothing was sent; retry later")
	}
	switch {
	case owner == call.Caller.ID:
		return nil
	case owner == "":
		if pt, ok := c.(PublicTokens); ok && pt.PublicToken(kind, token) {
			return nil
		}
		if p.opts.OwnersPartial {
			return nil
		}
	}
	return errs.E(errs.NotFound, "ResourceNotFound.Token", "%s is unknown to this caller (a token answers only the caller that created it)", lastSegment(kind))
}

// bindTokens records the caller as the owner of the tokens an answer hands
// out. A failure is logged, not answered: the provider has answered (and
// may have billed), and the caller can still use the token through a
// store that comes back.
func (p *Pipeline) bindTokens(ctx context.Context, c Contract, call *Call, ans *Answer) {
	if len(call.Op.Produces) == 0 || call.Caller == nil {
		return
	}
	pt, _ := c.(PublicTokens)
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, f := range call.Op.Produces {
		tok := LookupString(ans.Body, f.Path)
		if tok == "" || (pt != nil && pt.PublicToken(f.Kind, tok)) {
			continue // a magic value belongs to nobody
		}
		if err := p.opts.Owners.Bind(bctx, f.Kind, tok, call.Caller.ID, TokenTTL); err != nil {
			p.opts.Logger.Error("flow token could not be bound to its caller", slog.String("kind", f.Kind),
				slog.String("error_class", errs.KindOf(err).String()))
		}
	}
}

func tokenIn(fields []TokenField, body []byte) (kind, token string) {
	for _, f := range fields {
		if v := LookupString(body, f.Path); v != "" {
			return f.Kind, v
		}
	}
	return "", ""
}

// LookupString reads the string at a dotted member path of a JSON object,
// "" when it is absent or not a string. Members are not copied, so the
// token of a 10 MB upload costs a scan, not a copy of the image.
func LookupString(doc []byte, path string) string {
	raw := doc
	for _, name := range strings.Split(path, ".") {
		var m map[string]view
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		v, ok := m[name]
		if !ok {
			return ""
		}
		raw = v
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// view is a member's JSON as a slice of the document being read: used only
// while that document is alive, so it need not be copied.
type view []byte

func (v *view) UnmarshalJSON(b []byte) error { *v = b; return nil }

func lastSegment(kind string) string {
	if i := strings.LastIndexByte(kind, '/'); i >= 0 {
		return kind[i+1:]
	}
	return kind
}

// OwnerKey is the store key of a token: a hash, so no token appears in the
// store.
func OwnerKey(kind, token string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + token))
	return hex.EncodeToString(sum[:])
}

// MemoryOwners is an OwnerStore in this process's memory, bounded.
type MemoryOwners struct {
	mu  sync.Mutex
	m   map[string]memOwner
	now func() time.Time
}

type memOwner struct {
	caller  string
	expires time.Time
}

// maxMemoryOwners bounds the map; past it expired entries are swept and,
// if none expired, the oldest half goes (a flow then needs Redis).
const maxMemoryOwners = 100_000

// NewMemoryOwners makes an empty MemoryOwners.
func NewMemoryOwners() *MemoryOwners {
	return &MemoryOwners{m: map[string]memOwner{}, now: time.Now}
}

func (s *MemoryOwners) Bind(_ context.Context, kind, token, caller string, ttl time.Duration) error {
	k := OwnerKey(kind, token)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && now.Before(e.expires) {
		return nil
	}
	if len(s.m) >= maxMemoryOwners {
		s.sweep(now)
	}
	s.m[k] = memOwner{caller: caller, expires: now.Add(ttl)}
	return nil
}

func (s *MemoryOwners) Owner(_ context.Context, kind, token string) (string, error) {
	k := OwnerKey(kind, token)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || !s.now().Before(e.expires) {
		return "", nil
	}
	return e.caller, nil
}

func (s *MemoryOwners) sweep(now time.Time) {
	for k, e := range s.m {
		if !now.Before(e.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) < maxMemoryOwners {
		return
	}
	// Nothing expired: keep the newer half, by expiry.
	exp := make([]time.Time, 0, len(s.m))
	for _, e := range s.m {
		exp = append(exp, e.expires)
	}
	slices.SortFunc(exp, func(a, b time.Time) int { return a.Compare(b) })
	cut := exp[len(exp)/2]
	for k, e := range s.m {
		if e.expires.Before(cut) {
			delete(s.m, k)
		}
	}
}
