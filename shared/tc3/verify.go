package tc3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// DefaultMaxSkew is how far X-TC-Timestamp may be from the server clock, in
// either direction, as on Tencent Cloud. It bounds how long a captured request
// can be replayed.
const DefaultMaxSkew = 5 * time.Minute

// Verifier checks TC3-HMAC-SHA256 signatures. Lookup is required, and
// exactly one of Service and AnyService; a Verifier is safe for concurrent
// use once configured.
type Verifier struct {
	// Service is the credential-scope service the signature must be for
	// (e.g. "faceid"), so a signature made for another service cannot be reused.
	Service string
	// AnyService accepts the service the credential scope names, whatever it
	// is, instead of pinning one. The signature must still verify with that
	// scope (the service is part of the derived key), and the date, skew,
	// signed headers and body hash are checked as with Service.
	//
	// Use it only when the keys Lookup knows are issued for this verifier
	// alone, so no signature made with them was meant for another service:
	// tencentcloud-sdk-nodejs, for one, signs for the first label of the
	// endpoint host ("<id>.lambda-url.<region>.on.aws" -> "<id>"), which a
	// Function URL does not let the caller choose.
	AnyService bool
	// Lookup returns the secret key of a secret id. ok=false (or an empty key)
	// means the id is unknown.
	Lookup func(secretID string) (secretKey string, ok bool)
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// MaxSkew overrides DefaultMaxSkew when positive.
	MaxSkew time.Duration
}

// Identity is what a verified request proves.
type Identity struct {
	SecretID  string
	Timestamp time.Time
	// Service is the credential scope's service the request was signed for
	// (Verifier.Service unless AnyService is set).
	Service string
}

// Verify checks the signature of r whose body (already read by the caller,
// with whatever size limit it enforces) is body. r.Body is not read.
//
// Errors are *errs.Error of kind Unauthorized carrying Tencent's codes:
// AuthFailure.InvalidAuthorization for a malformed header,
// MissingParameter / InvalidParameterValue for X-TC-Timestamp,
// AuthFailure.SignatureExpire, AuthFailure.SecretIdNotFound and
// AuthFailure.SignatureFailure.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	if v.Lookup == nil || (v.Service == "") == !v.AnyService {
		return Identity{}, errs.E(errs.Internal, "", "tc3: Verifier needs Lookup and exactly one of Service and AnyService")
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return Identity{}, invalid("more than one Authorization header")
	}
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return Identity{}, err
	}

	ts, err := v.checkTimestamp(r)
	if err != nil {
		return Identity{}, err
	}
	// The date is part of the derived key; requiring it to be the timestamp's
	// UTC date is what stops a key derived for one day being used on another.
	if want := ts.UTC().Format(time.DateOnly); a.Date != want {
		return Identity{}, failure("credential date %s is not the UTC date of X-TC-Timestamp (%s)", a.Date, want)
	}
	if !v.AnyService && a.Service != v.Service {
		return Identity{}, failure("credential scope is for service %q, want %q", a.Service, v.Service)
	}
	if !slices.Contains(a.SignedHeaders, "content-type") || !slices.Contains(a.SignedHeaders, "host") {
		return Identity{}, invalid("SignedHeaders must include content-type and host")
	}
	// With UNSIGNED-PAYLOAD the body is not covered by the signature; we
	// never accept a request whose body could have been swapped.
	if strings.EqualFold(r.Header.Get("X-TC-Content-SHA256"), "UNSIGNED-PAYLOAD") {
		return Identity{}, failure("unsigned payload is not accepted")
	}

	canonical, err := canonicalRequest(r, a.SignedHeaders, body)
	if err != nil {
		return Identity{}, err
	}

	key, ok := v.Lookup(a.SecretID)
	if !ok || key == "" {
		return Identity{}, errs.E(errs.Unauthorized, CodeSecretIDNotFound, "secret id not found")
	}
	want := signature(key, a.Date, a.Service, stringToSign(r.Header.Get("X-TC-Timestamp"), a.Scope(), canonical))
	if !hmac.Equal(want, a.Signature) {
		return Identity{}, failure("signature does not match")
	}
	return Identity{SecretID: a.SecretID, Timestamp: ts, Service: a.Service}, nil
}

func (v *Verifier) checkTimestamp(r *http.Request) (time.Time, error) {
	raw := r.Header.Get("X-TC-Timestamp")
	if raw == "" {
		return time.Time{}, errs.E(errs.Unauthorized, CodeMissingParameter, "missing X-TC-Timestamp")
	}
	// Digits only: ParseInt alone would accept "+1700000000", a second
	// spelling of the same timestamp inside the signed string.
	sec, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || len(raw) > 12 || strings.TrimLeft(raw, "0123456789") != "" {
		return time.Time{}, errs.E(errs.Unauthorized, CodeInvalidParameter, "X-TC-Timestamp must be Unix seconds")
	}
	ts := time.Unix(sec, 0)
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if d := now.Sub(ts); d > skew || d < -skew {
		return time.Time{}, errs.E(errs.Unauthorized, CodeSignatureExpire,
			"X-TC-Timestamp is more than %s away from server time", skew)
	}
	return ts, nil
}

// canonicalRequest is
//
//	METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n hex(sha256(body))
//
// Names are lowercase; values are trimmed and lowercased, as Tencent's
// signature v3 documentation specifies (SDKs send lowercase values for
// content-type and host, so this matches them byte for byte).
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, error) {
	uri := r.URL.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	// The query string as sent (SDKs sign exactly what they put in the URL;
	// POST requests have none).
	b.WriteString(r.URL.RawQuery)
	b.WriteByte('\n')
	for _, name := range signed {
		var value string
		if name == "host" {
			value = r.Host
			if value == "" {
				value = r.URL.Host
			}
		} else {
			vals := r.Header.Values(name)
			if len(vals) > 1 {
				// Which copy was signed would be ambiguous.
				return "", invalid("signed header %s appears more than once", name)
			}
			if len(vals) == 1 {
				value = vals[0]
			}
		}
		if value == "" && (name == "host" || name == "content-type") {
			return "", invalid("signed header %s is missing", name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.ToLower(strings.TrimSpace(value)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(sha256Hex(body))
	return b.String(), nil
}

// stringToSign is "TC3-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical)>".
// The timestamp is the header's exact text, as the signer used it.
func stringToSign(timestamp, scope, canonical string) string {
	return Algorithm + "\n" + timestamp + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
}

// signature derives the signing key with the chain
// "TC3"+key -> date -> service -> "tc3_request" and signs s with it.
func signature(secretKey, date, service, s string) []byte {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hmacSHA256(k, s)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func failure(format string, args ...any) error {
	return errs.E(errs.Unauthorized, CodeSignatureFailure, format, args...)
}
