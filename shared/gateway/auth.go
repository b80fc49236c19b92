package gateway

import (
	"context"
	"net/netip"

	"github.com/idverify/idverify/shared/errs"
)

// Caller is an authenticated caller.
type Caller struct {
	ID string
	// Test callers are always served by the sandbox, like a test-mode key.
	Test bool
	// Rate is the caller's own limit in requests per second (0: none), a
	// token bucket holding up to Burst requests.
	Rate  float64
	Burst int
	// Encrypt is the caller's choice of encryption on its behalf
	// ("AES-256-CBC", "SM4-GCM", "off"; "" for the function's setting),
	// which a provider's contract hands on.
	Encrypt string
}

// Authenticator decides who is calling an HTTP surface.
type Authenticator interface {
	Authenticate(ctx context.Context, req *Request, action string) (*Caller, error)
}

// LoopbackOnly accepts requests from this machine only. It is the policy
// when no callers are configured, so a local server is usable at once while a
// deployed function without callers refuses everyone.
type LoopbackOnly struct{}

func (LoopbackOnly) Authenticate(_ context.Context, req *Request, _ string) (*Caller, error) {
	ip, err := netip.ParseAddr(req.SourceIP)
	if err == nil && ip.Unmap().IsLoopback() {
		return &Caller{ID: "loopback"}, nil
	}
	return nil, errs.E(errs.Unauthorized, "AuthFailure.UnauthorizedOperation",
		"no callers are configured, so only requests from this machine are accepted")
}

// SandboxOpen accepts every caller. It exists so a deployed sandbox can be
// exercised before callers are configured; app refuses it outside sandbox
// mode and in production, where it would open a paid API to anyone.
type SandboxOpen struct{}

func (SandboxOpen) Authenticate(context.Context, *Request, string) (*Caller, error) {
	return &Caller{ID: "anonymous", Test: true}, nil
}

// HeaderChecker is implemented by caller policies that can refuse a request
// from its headers alone. The pipeline asks it before reading the body, so
// a request without a credential worth checking costs no more than its
// headers: an API key is checked whole; a TC3 signature covers the body, so
// only its SecretId, scope and clock are checked here and the signature
// once the body (capped by the route) is in.
type HeaderChecker interface {
	CheckHeaders(ctx context.Context, req *Request, action string) error
}

// CheckHeaders is Authenticate: the source address is all it looks at.
func (l LoopbackOnly) CheckHeaders(ctx context.Context, req *Request, action string) error {
	_, err := l.Authenticate(ctx, req, action)
	return err
}
