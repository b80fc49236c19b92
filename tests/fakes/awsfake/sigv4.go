package awsfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification, written from the published algorithm (canonical
// request, string to sign, the "AWS4"+secret -> date -> region -> service
// -> "aws4_request" HMAC chain) and not from the SDK's signer, so a bug the
// two shared could not make a forged request pass.

const (
	sigv4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// MaxSkew is how far X-Amz-Date may be from the server clock, as on AWS.
	MaxSkew = 15 * time.Minute
)

// SigV4Error is a verification failure with the code AWS would answer.
type SigV4Error struct {
	Code    string // IncompleteSignature, InvalidSignatureException, UnrecognizedClientException...
	Message string
}

func (e *SigV4Error) Error() string { return e.Code + ": " + e.Message }

func sigErr(code, format string, args ...any) *SigV4Error {
	return &SigV4Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Credential is one access key the fake knows.
type Credential struct {
	AccessKeyID, SecretAccessKey string
	// SessionToken, when set, must arrive as X-Amz-Security-Token (role
	// credentials); when empty, a request carrying a token is refused.
	SessionToken string
}

// Scope is what a verified signature proves.
type Scope struct {
	AccessKeyID, Date, Region, Service string
}

// VerifySigV4 checks r (whose body the caller already read into body)
// against the credentials lookup returns. now is the server clock.
func VerifySigV4(r *http.Request, body []byte, lookup func(akid string) (Credential, bool), now time.Time) (Scope, error) {
	auth := r.Header.Get("Authorization")
	if len(r.Header.Values("Authorization")) != 1 || auth == "" {
		return Scope{}, sigErr("MissingAuthenticationTokenException", "missing Authorization header")
	}
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != sigv4Algorithm {
		return Scope{}, sigErr("IncompleteSignature", "unsupported algorithm")
	}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Scope{}, sigErr("IncompleteSignature", "malformed Authorization element")
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		default:
			return Scope{}, sigErr("IncompleteSignature", "unknown Authorization element %q", k)
		}
	}
	if cred == "" || signed == "" || sig == "" {
		return Scope{}, sigErr("IncompleteSignature", "Authorization needs Credential, SignedHeaders and Signature")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return Scope{}, sigErr("IncompleteSignature", "malformed Credential")
	}
	sc := Scope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}

	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return Scope{}, sigErr("IncompleteSignature", "missing or malformed X-Amz-Date")
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return Scope{}, sigErr("InvalidSignatureException", "Signature expired: X-Amz-Date is more than %s from server time", MaxSkew)
	}
	if sc.Date != t.UTC().Format("20060102") {
		return Scope{}, sigErr("InvalidSignatureException", "credential date is not the date of X-Amz-Date")
	}

	names := strings.Split(signed, ";")
	if !sort.StringsAreSorted(names) {
		return Scope{}, sigErr("InvalidSignatureException", "SignedHeaders must be sorted")
	}
	for _, must := range []string{"host", "x-amz-date"} {
		if !slices.Contains(names, must) {
			return Scope{}, sigErr("InvalidSignatureException", "SignedHeaders must include %s", must)
		}
	}
	// A request carrying a token or naming its operation in a header must
	// have signed it, or the token or operation could be swapped in transit.
	for _, h := range []string{"X-Amz-Security-Token", "X-Amz-Target"} {
		if r.Header.Get(h) != "" && !slices.Contains(names, strings.ToLower(h)) {
			return Scope{}, sigErr("InvalidSignatureException", "%s must be signed", h)
		}
	}

	c, ok := lookup(sc.AccessKeyID)
	if !ok {
		return Scope{}, sigErr("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if tok := r.Header.Get("X-Amz-Security-Token"); tok != c.SessionToken {
		return Scope{}, sigErr("UnrecognizedClientException", "The security token included in the request is invalid.")
	}

	payload := sha256Hex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payload {
		return Scope{}, sigErr("InvalidSignatureException", "X-Amz-Content-Sha256 does not match the body")
	}
	canonical := canonicalRequest(r, names, payload)
	scope := sc.Date + "/" + sc.Region + "/" + sc.Service + "/aws4_request"
	toSign := sigv4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	want := hmacSHA256(SigningKey(c.SecretAccessKey, sc.Date, sc.Region, sc.Service), toSign)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(want, got) {
		return Scope{}, sigErr("InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided.")
	}
	return sc, nil
}

// SigningKey derives the SigV4 signing key.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// canonicalRequest is
//
//	METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n payloadhash
func canonicalRequest(r *http.Request, names []string, payload string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(canonicalURI(r.URL.EscapedPath()) + "\n")
	b.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, n := range names {
		b.WriteString(n + ":" + headerValue(r, n) + "\n")
	}
	b.WriteString("\n" + strings.Join(names, ";") + "\n" + payload)
	return b.String()
}

// canonicalURI encodes each path segment once more, as SigV4 does for every
// service but S3 (the escaped path is encoded again).
func canonicalURI(escaped string) string {
	if escaped == "" {
		return "/"
	}
	segs := strings.Split(escaped, "/")
	for i, s := range segs {
		segs[i] = uriEncode(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// uriEncode is RFC 3986 encoding: everything but A-Z a-z 0-9 - _ . ~.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = slices.Clone(r.Header.Values(name))
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = slices.Clone(r.Header.Values(name)) // not the header's own slice: it is rewritten below
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
