package awsfake

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The worked example of AWS's SigV4 documentation (IAM ListUsers, example
// credentials), checked here so the verifier is pinned to the published
// algorithm and not only to whatever the SDK under test happens to do.
const (
	exampleKeyID  = "AKIDEXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	exampleDate   = "20150830T123600Z"
	exampleSig    = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
)

func exampleRequest(sig string) *http.Request {
	r := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Host = "iam.amazonaws.com"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", exampleDate)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+exampleKeyID+"/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, Signature="+sig)
	return r
}

func exampleLookup(id string) (Credential, bool) {
	return Credential{AccessKeyID: exampleKeyID, SecretAccessKey: exampleSecret}, id == exampleKeyID
}

var exampleNow = time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC)

func TestSigV4DocumentedExample(t *testing.T) {
	if got := hex.EncodeToString(SigningKey(exampleSecret, "20150830", "us-east-1", "iam")); got !=
		"c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Fatalf("signing key %s", got)
	}
	if _, err := VerifySigV4(exampleRequest(exampleSig), nil, exampleLookup, exampleNow); err != nil {
		t.Fatalf("documented example rejected: %v", err)
	}
}

func TestSigV4Rejects(t *testing.T) {
	bad := []byte(exampleSig)
	bad[0] = '6'
	cases := map[string]struct {
		req  func() *http.Request
		body []byte
		now  time.Time
		code string
	}{
		"flipped signature": {req: func() *http.Request { return exampleRequest(string(bad)) }, code: "InvalidSignatureException"},
		"changed header": {req: func() *http.Request {
			r := exampleRequest(exampleSig)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, code: "InvalidSignatureException"},
		"changed query": {req: func() *http.Request {
			r := exampleRequest(exampleSig)
			r.URL.RawQuery = "Action=DeleteUser&Version=2010-05-08"
			return r
		}, code: "InvalidSignatureException"},
		"body added": {req: func() *http.Request { return exampleRequest(exampleSig) }, body: []byte("x"), code: "InvalidSignatureException"},
		"stale":      {req: func() *http.Request { return exampleRequest(exampleSig) }, now: exampleNow.Add(time.Hour), code: "InvalidSignatureException"},
		"unknown key": {req: func() *http.Request {
			r := exampleRequest(exampleSig)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), exampleKeyID, "AKIDOTHER", 1))
			return r
		}, code: "UnrecognizedClientException"},
		"token smuggled": {req: func() *http.Request {
			r := exampleRequest(exampleSig)
			r.Header.Set("X-Amz-Security-Token", "t")
			return r
		}, code: "InvalidSignatureException"},
		"host unsigned": {req: func() *http.Request {
			r := exampleRequest(exampleSig)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host;x-amz-date", "content-type;x-amz-date", 1))
			return r
		}, code: "InvalidSignatureException"},
		"no auth": {req: func() *http.Request { r := exampleRequest(exampleSig); r.Header.Del("Authorization"); return r }, code: "MissingAuthenticationTokenException"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = exampleNow
			}
			_, err := VerifySigV4(c.req(), c.body, exampleLookup, now)
			e, ok := err.(*SigV4Error)
			if !ok || e.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
		})
	}
}

// TestHeaderValueDoesNotMutate guards the canonicalisation against
// rewriting the request's own header slice.
func TestHeaderValueDoesNotMutate(t *testing.T) {
	r := httptest.NewRequest("POST", "/", bytes.NewReader(nil))
	r.Header.Set("X-Test", "  a   b ")
	if got := headerValue(r, "x-test"); got != "a b" {
		t.Fatalf("canonical %q", got)
	}
	if r.Header.Get("X-Test") != "  a   b " {
		t.Fatal("header rewritten")
	}
}
