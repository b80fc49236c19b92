// Package tc3 verifies TC3-HMAC-SHA256 signed requests (Tencent Cloud API 3.0
// "signature v3") on the server side. It is written from the published
// algorithm, not from any SDK's signer, so that a bug shared with a client
// library cannot make a forged request look valid.
//
// The package is used by the fake FaceID server in tests and by the gateway to
// authenticate callers that sign with a key pair we issue, so every failure
// is reported with Tencent's own error codes (AuthFailure.*).
package tc3

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "TC3-HMAC-SHA256"

// Tencent's error codes, returned as errs.Error.Code.
const (
	CodeInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	CodeSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	CodeSignatureExpire      = "AuthFailure.SignatureExpire"
	CodeSignatureFailure     = "AuthFailure.SignatureFailure"
	CodeMissingParameter     = "MissingParameter"
	CodeInvalidParameter     = "InvalidParameterValue"
)

// maxHeaderLen bounds the Authorization header we are willing to parse. A real
// one is about 200 bytes; the bound keeps a hostile header from costing more
// than a constant amount of work.
const maxHeaderLen = 4096

// Authorization is a parsed Authorization header.
type Authorization struct {
	SecretID      string
	Date          string   // credential scope date, yyyy-mm-dd (UTC)
	Service       string   // credential scope service, e.g. "faceid"
	SignedHeaders []string // lowercase, strictly ascending
	Signature     []byte   // 32 bytes, decoded from hex
}

// Scope is the credential scope "<date>/<service>/tc3_request".
func (a *Authorization) Scope() string { return a.Date + "/" + a.Service + "/tc3_request" }

// ParseAuthorization parses
//
//	TC3-HMAC-SHA256 Credential=<SecretId>/<yyyy-mm-dd>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<hex>
//
// It is strict: every part must be present exactly once and well formed, so
// that two different headers can never verify as the same request. Errors are
// *errs.Error with Code AuthFailure.InvalidAuthorization.
func ParseAuthorization(h string) (*Authorization, error) {
	if h == "" {
		return nil, invalid("missing Authorization header")
	}
	if len(h) > maxHeaderLen {
		return nil, invalid("Authorization header too long")
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != Algorithm {
		return nil, invalid("unsupported signing algorithm, want %s", Algorithm)
	}
	var cred, signed, sig string
	var seen [3]bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return nil, invalid("malformed Authorization element")
		}
		var i int
		switch k {
		case "Credential":
			i, cred = 0, v
		case "SignedHeaders":
			i, signed = 1, v
		case "Signature":
			i, sig = 2, v
		default:
			return nil, invalid("unknown Authorization element")
		}
		if seen[i] {
			return nil, invalid("duplicate Authorization element %s", k)
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return nil, invalid("Authorization needs Credential, SignedHeaders and Signature")
	}

	a := &Authorization{}
	parts := strings.Split(cred, "/")
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" || parts[3] != "tc3_request" {
		return nil, invalid("malformed Credential, want <SecretId>/<date>/<service>/tc3_request")
	}
	a.SecretID, a.Date, a.Service = parts[0], parts[1], parts[2]
	// Round-tripping through time.Parse rejects "2024-2-1" and "2024-02-30".
	if d, err := time.Parse(time.DateOnly, a.Date); err != nil || d.Format(time.DateOnly) != a.Date {
		return nil, invalid("malformed Credential date, want yyyy-mm-dd")
	}

	a.SignedHeaders = strings.Split(signed, ";")
	for i, name := range a.SignedHeaders {
		if !validHeaderName(name) {
			return nil, invalid("malformed SignedHeaders, want lowercase names joined by ';'")
		}
		// Ascending and unique, as the algorithm orders them; this also makes
		// the header list itself unambiguous.
		if i > 0 && a.SignedHeaders[i-1] >= name {
			return nil, invalid("SignedHeaders must be sorted and unique")
		}
	}

	if len(sig) != 64 {
		return nil, invalid("malformed Signature, want 64 hex digits")
	}
	b, err := hex.DecodeString(sig)
	if err != nil {
		return nil, invalid("malformed Signature, want 64 hex digits")
	}
	a.Signature = b
	return a, nil
}

// validHeaderName accepts lowercase HTTP token characters only.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func invalid(format string, args ...any) error {
	return errs.E(errs.Unauthorized, CodeInvalidAuthorization, format, args...)
}
