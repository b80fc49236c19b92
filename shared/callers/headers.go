package callers

import (
	"context"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/tc3"
)

var _ gateway.HeaderChecker = (*Set)(nil)

// CheckHeaders refuses, before the body is read, what the headers alone
// prove wrong: no credential, an unknown API key, a malformed or unknown
// TC3 credential, or an action the caller may not call. An API key is
// checked whole here. A TC3 signature covers the body, so it is verified
// by Authenticate once the body (capped by the route) is in; until then an
// outsider without a SecretId we issued costs only its headers.
func (s *Set) CheckHeaders(ctx context.Context, req *gateway.Request, action string) error {
	vals := req.Header.Values("Authorization")
	if len(vals) != 1 || strings.TrimSpace(vals[0]) == "" {
		_, err := s.identify(ctx, req) // the same error Authenticate gives
		return err
	}
	scheme, _, _ := strings.Cut(vals[0], " ")
	if scheme != tc3.Algorithm {
		_, err := s.Authenticate(ctx, req, action)
		return err
	}
	a, err := tc3.ParseAuthorization(vals[0])
	if err != nil {
		return err
	}
	c := s.bySecret[a.SecretID]
	if c == nil {
		return errs.E(errs.Unauthorized, CodeSecretIDNotFound, "secret id not found")
	}
	if !c.allows(action) {
		return errs.E(errs.Forbidden, CodeUnauthorizedOperation, "caller %s may not call %s", c.id, truncate(action, 64))
	}
	return nil
}
