package callers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/tc3"
)

// Error codes, as Tencent Cloud names them, so SDKs and callers that know
// Tencent's codes need nothing new.
const (
	CodeInvalidAuthorization  = tc3.CodeInvalidAuthorization
	CodeSecretIDNotFound      = tc3.CodeSecretIDNotFound
	CodeSignatureFailure      = tc3.CodeSignatureFailure
	CodeSignatureExpire       = tc3.CodeSignatureExpire
	CodeUnauthorizedOperation = "AuthFailure.UnauthorizedOperation"
)

// maxKeyLen bounds a Bearer key; issued keys are 48 characters.
const maxKeyLen = 512

var _ gateway.Authenticator = (*Set)(nil)

// Authenticate identifies the caller of req from its Authorization header
// and checks it may call action. It accepts
//
//	Authorization: Bearer <key>
//	Authorization: <key>                      (the seed-002 faceAdv contract sends the token bare)
//	Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
//
// Every error is an *errs.Error: Unauthorized with AuthFailure.* codes for
// missing or bad credentials, Forbidden with AuthFailure.UnauthorizedOperation
// for an action the caller may not call. Nothing here logs: the header is a
// credential.
func (s *Set) Authenticate(ctx context.Context, req *gateway.Request, action string) (*gateway.Caller, error) {
	c, err := s.identify(ctx, req)
	if err != nil {
		return nil, err
	}
	if !c.allows(action) {
		return nil, errs.E(errs.Forbidden, CodeUnauthorizedOperation, "caller %s may not call %s", c.id, truncate(action, 64))
	}
	return &gateway.Caller{ID: c.id, Test: c.test, Rate: c.rate, Burst: c.burst, Encrypt: c.encrypt}, nil
}

func (s *Set) identify(ctx context.Context, req *gateway.Request) (*caller, error) {
	vals := req.Header.Values("Authorization")
	if len(vals) > 1 {
		return nil, invalidAuth("more than one Authorization header")
	}
	if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
		return nil, invalidAuth("missing Authorization header: send Authorization: Bearer <key>, or sign the request with TC3-HMAC-SHA256")
	}
	h := vals[0]
	scheme, rest, spaced := strings.Cut(h, " ")
	switch {
	case scheme == tc3.Algorithm:
		return s.signed(ctx, req)
	case strings.EqualFold(scheme, "Bearer"):
		return s.bearer(strings.TrimSpace(rest))
	case !spaced:
		return s.bearer(h)
	default:
		return nil, invalidAuth("unsupported Authorization scheme: use Bearer <key> or TC3-HMAC-SHA256")
	}
}

// bearer finds the caller whose key hashes to key's SHA-256. Every hash is
// compared, in constant time, whatever matched earlier: the time taken
// depends on the number of callers only, never on which one (or how much
// of one) matched.
func (s *Set) bearer(key string) (*caller, error) {
	if key == "" {
		return nil, invalidAuth("empty API key")
	}
	if len(key) > maxKeyLen {
		return nil, invalidAuth("API key longer than %d characters", maxKeyLen)
	}
	sum := sha256.Sum256([]byte(key))
	found := -1
	for i, c := range s.hashed {
		eq := subtle.ConstantTimeCompare(sum[:], c.hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil, errs.E(errs.Unauthorized, CodeSecretIDNotFound, "unknown API key")
	}
	return s.hashed[found], nil
}

// signed verifies a TC3-HMAC-SHA256 signature with the shared tc3
// verifier, which checks it exactly as Tencent does, except that the
// credential scope may name any service.
//
// tencentcloud-sdk-nodejs signs for the first label of the endpoint host,
// so against a Function URL (<id>.lambda-url.<region>.on.aws,
// <appid>-<id>.<region>.tencentscf.com) or 127.0.0.1:<port> it signs for
// "<id>", "<appid>-<id>" or "127", never "faceid". Pinning the service
// would protect against replaying a signature made for another Tencent
// service; but the key pairs here are issued by the operator for this
// function set alone, so nothing else ever held a signature made with
// them. The service still selects the derived key, so the scope the
// request names is the one that was signed.
func (s *Set) signed(_ context.Context, req *gateway.Request) (*caller, error) {
	var keyErr error
	v := &tc3.Verifier{
		AnyService: true,
		Now:        s.now,
		Lookup: func(id string) (string, bool) {
			c := s.bySecret[id]
			if c == nil {
				return "", false
			}
			key, err := s.secretKey(c)
			if err != nil {
				keyErr = err
				return "", false
			}
			return key, true
		},
	}
	hr := httpRequest(req)
	id, err := v.Verify(hr, req.Body)
	if keyErr != nil {
		return nil, keyErr
	}
	// tencentcloud-sdk-nodejs signs "host:<hostname>" without the port
	// while sending "Host: <hostname>:<port>"; the Go SDK signs the port.
	// Tencent's endpoints never carry a port, so both agree there; on an
	// endpoint with a port, accept either spelling of the same host.
	if err != nil && errs.As(err).Code == CodeSignatureFailure {
		if host, port, splitErr := net.SplitHostPort(hr.Host); splitErr == nil && host != "" && isPort(port) {
			bare := *hr
			bare.Host = host
			if id2, err2 := v.Verify(&bare, req.Body); err2 == nil {
				id, err = id2, nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return s.bySecret[id.SecretID], nil
}

// secretKey is c's TC3 key: the plain one, or the reference's value (which
// the secrets Env refreshes after its TTL).
func (s *Set) secretKey(c *caller) (string, error) {
	if c.keyRef == "" {
		return c.secretKey, nil
	}
	if s.keys == nil || c.keyVar == "" {
		return "", errs.E(errs.Internal, "", "caller %s: secretKey is a reference that was never resolved (use callers.Load)", c.id)
	}
	key, err := s.keys.Lookup(c.keyVar)
	if err != nil || key == "" {
		// Fail closed: a key that can no longer be vouched for (refresh
		// failing past the maximum age) authenticates nobody.
		return "", errs.Wrap(err, errs.Unavailable, "InternalError.CallerKeyUnavailable",
			"the key of caller %s is not available now; try again later", c.id)
	}
	return key, nil
}

// httpRequest is the view of req the tc3 verifier reads. Host comes from
// the header: adapters keep it there, and it is what the client signed.
func httpRequest(req *gateway.Request) *http.Request {
	path := req.Path
	if path == "" {
		path = "/"
	}
	u := &url.URL{Path: path, RawQuery: req.RawQuery}
	return &http.Request{Method: req.Method, URL: u, Header: req.Header, Host: req.Header.Get("Host")}
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func invalidAuth(format string, args ...any) error {
	return errs.E(errs.Unauthorized, CodeInvalidAuthorization, format, args...)
}
