package tc3

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

const (
	testID  = "AKIDEXAMPLE"
	testKey = "SECRETKEYEXAMPLE"
)

func lookup(id string) (string, bool) {
	if id == testID {
		return testKey, true
	}
	return "", false
}

// Known-answer vector, computed outside Go with openssl (see the shell
// pipeline in the comment) so that it does not share code with Verify:
//
//	canonical = POST\n/\n\ncontent-type:application/json\nhost:faceid.tencentcloudapi.com\n\ncontent-type;host\n<sha256(body)>
//	kDate  = HMAC("TC3SECRETKEYEXAMPLE", "2023-11-14"); kService = HMAC(kDate, "faceid")
//	kSign  = HMAC(kService, "tc3_request"); sig = HMAC(kSign, "TC3-HMAC-SHA256\n1700000000\n2023-11-14/faceid/tc3_request\n<sha256(canonical)>")
const (
	kaBody          = `{"Name":"Zhang San","IdCard":"110101199003071234"}`
	kaBodyHash      = "a23e05e0ab026ee79c1c034b6e1c1714893670105651730a19481bf7cd3f2e0a"
	kaCanonicalHash = "d5cff89b44f8dc6463efdc24f0c3191453c20a49363a66b08348e8c65b789db7"
	kaSignature     = "266168ade59ad31817f1765320cc41cbec556bd0b19e24173dc82111da648296"
	kaTimestamp     = 1700000000 // 2023-11-14T22:13:20Z
)

func knownAnswerRequest() (*http.Request, []byte) {
	r := httptest.NewRequest(http.MethodPost, "https://faceid.tencentcloudapi.com/", strings.NewReader(kaBody))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", "IdCardVerification")
	r.Header.Set("X-TC-Timestamp", "1700000000")
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+testID+"/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, Signature="+kaSignature)
	return r, []byte(kaBody)
}

func verifierAt(now time.Time) *Verifier {
	return &Verifier{Service: "faceid", Lookup: lookup, Now: func() time.Time { return now }}
}

func TestKnownAnswer(t *testing.T) {
	r, body := knownAnswerRequest()
	if got := sha256Hex(body); got != kaBodyHash {
		t.Fatalf("body hash = %s, want %s", got, kaBodyHash)
	}
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := canonicalRequest(r, a.SignedHeaders, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256Hex([]byte(canonical)); got != kaCanonicalHash {
		t.Fatalf("canonical request hash = %s, want %s\n%s", got, kaCanonicalHash, canonical)
	}
	id, err := verifierAt(time.Unix(kaTimestamp+60, 0)).Verify(r, body)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.SecretID != testID || id.Timestamp.Unix() != kaTimestamp {
		t.Fatalf("identity = %+v", id)
	}
}

// sdkRequest sends one request with the real SDK common client to an
// httptest server and returns what the server received.
func sdkRequest(t *testing.T, token string) (*http.Request, []byte) {
	t.Helper()
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		got = r.Clone(r.Context())
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Response":{"RequestId":"r-1"}}`)
	}))
	defer srv.Close()

	cp := profile.NewClientProfile()
	cp.HttpProfile.Scheme = "HTTP"
	cp.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	cred := common.NewTokenCredential(testID, testKey, token)
	c := common.NewCommonClient(cred, "ap-guangzhou", cp)
	req := tchttp.NewCommonRequest("faceid", "2018-03-01", "IdCardVerification")
	if err := req.SetActionParameters(`{"Name":"张三","IdCard":"110101199003071234"}`); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(req, tchttp.NewCommonResponse()); err != nil {
		t.Fatalf("SDK send: %v", err)
	}
	if got == nil {
		t.Fatal("server saw no request")
	}
	return got, gotBody
}

func TestSDKSignedRequestVerifies(t *testing.T) {
	r, body := sdkRequest(t, "session-token")
	v := &Verifier{Service: "faceid", Lookup: lookup}
	id, err := v.Verify(r, body)
	if err != nil {
		t.Fatalf("Verify SDK request: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
	}
	if id.SecretID != testID {
		t.Fatalf("SecretID = %q", id.SecretID)
	}
	if time.Since(id.Timestamp) > time.Minute {
		t.Fatalf("timestamp %v is not now", id.Timestamp)
	}
}

// clone copies a captured request so that each tamper case starts clean.
func clone(r *http.Request, body []byte) (*http.Request, []byte) {
	c := r.Clone(r.Context())
	c.Header = r.Header.Clone()
	c.Body = io.NopCloser(bytes.NewReader(body))
	return c, bytes.Clone(body)
}

func flip(s string, i int) string {
	b := []byte(s)
	b[i] ^= 0x01
	return string(b)
}

func TestTamperedRequestFails(t *testing.T) {
	orig, origBody := sdkRequest(t, "")
	v := &Verifier{Service: "faceid", Lookup: lookup}
	if _, err := v.Verify(clone(orig, origBody)); err != nil {
		t.Fatalf("untampered request: %v", err)
	}

	cases := map[string]func(r *http.Request, body []byte) []byte{
		"body first byte": func(_ *http.Request, b []byte) []byte { b[0] ^= 1; return b },
		"body last byte":  func(_ *http.Request, b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"body appended":   func(_ *http.Request, b []byte) []byte { return append(b, ' ') },
		"content-type": func(r *http.Request, b []byte) []byte {
			r.Header.Set("Content-Type", flip(r.Header.Get("Content-Type"), 3))
			return b
		},
		"host": func(r *http.Request, b []byte) []byte { r.Host = flip(r.Host, len(r.Host)-1); return b },
		"signature": func(r *http.Request, b []byte) []byte {
			// Change one hex digit into another, so the header stays well formed.
			h := r.Header.Get("Authorization")
			last := "0"
			if h[len(h)-1] == '0' {
				last = "1"
			}
			r.Header.Set("Authorization", h[:len(h)-1]+last)
			return b
		},
		"timestamp": func(r *http.Request, b []byte) []byte {
			ts := r.Header.Get("X-TC-Timestamp")
			// Moving the last digit by one keeps the request fresh and, except
			// within a second of midnight UTC, on the same date.
			r.Header.Set("X-TC-Timestamp", flip(ts, len(ts)-1))
			return b
		},
		"path":   func(r *http.Request, b []byte) []byte { r.URL.Path = "/x"; return b },
		"query":  func(r *http.Request, b []byte) []byte { r.URL.RawQuery = "a=1"; return b },
		"method": func(r *http.Request, b []byte) []byte { r.Method = http.MethodPut; return b },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			r, body := clone(orig, origBody)
			body = tamper(r, body)
			_, err := v.Verify(r, body)
			wantCode(t, err, CodeSignatureFailure)
		})
	}
}

func TestExpired(t *testing.T) {
	r, body := knownAnswerRequest()
	for _, d := range []time.Duration{DefaultMaxSkew + time.Second, -DefaultMaxSkew - time.Second, 24 * time.Hour} {
		_, err := verifierAt(time.Unix(kaTimestamp, 0).Add(d)).Verify(r, body)
		wantCode(t, err, CodeSignatureExpire)
	}
	// Exactly at the edge is still accepted.
	if _, err := verifierAt(time.Unix(kaTimestamp, 0).Add(DefaultMaxSkew)).Verify(r, body); err != nil {
		t.Fatalf("at max skew: %v", err)
	}
}

func TestUnknownSecretID(t *testing.T) {
	r, body := knownAnswerRequest()
	v := verifierAt(time.Unix(kaTimestamp, 0))
	v.Lookup = func(string) (string, bool) { return "", false }
	_, err := v.Verify(r, body)
	wantCode(t, err, CodeSecretIDNotFound)

	// A known id with a different key is a signature failure, not "not found".
	v.Lookup = func(string) (string, bool) { return "another-key", true }
	_, err = v.Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)
}

func TestWrongServiceOrDate(t *testing.T) {
	r, body := knownAnswerRequest()
	v := verifierAt(time.Unix(kaTimestamp, 0))
	v.Service = "cvm"
	_, err := v.Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)

	// The credential says 2023-11-15 but the timestamp is on 2023-11-14 UTC.
	r, body = knownAnswerRequest()
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "2023-11-14", "2023-11-15", 1))
	_, err = verifierAt(time.Unix(kaTimestamp, 0)).Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)
}

func TestHeaderChecks(t *testing.T) {
	at := verifierAt(time.Unix(kaTimestamp, 0))
	cases := []struct {
		name   string
		mutate func(r *http.Request)
		code   string
	}{
		{"no authorization", func(r *http.Request) { r.Header.Del("Authorization") }, CodeInvalidAuthorization},
		{"two authorizations", func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, CodeInvalidAuthorization},
		{"other algorithm", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "TC3-HMAC-SHA256", "TC3-HMAC-SHA1", 1))
		}, CodeInvalidAuthorization},
		{"host not signed", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host", "content-type", 1))
		}, CodeInvalidAuthorization},
		{"content-type not signed", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host", "host", 1))
		}, CodeInvalidAuthorization},
		{"content-type missing", func(r *http.Request) { r.Header.Del("Content-Type") }, CodeInvalidAuthorization},
		{"two content-types", func(r *http.Request) { r.Header.Add("Content-Type", "text/plain") }, CodeInvalidAuthorization},
		{"no timestamp", func(r *http.Request) { r.Header.Del("X-TC-Timestamp") }, CodeMissingParameter},
		{"signed timestamp", func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "+1700000000") }, CodeInvalidParameter},
		{"garbage timestamp", func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "soon") }, CodeInvalidParameter},
		{"unsigned payload", func(r *http.Request) { r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD") }, CodeSignatureFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body := knownAnswerRequest()
			c.mutate(r)
			_, err := at.Verify(r, body)
			wantCode(t, err, c.code)
		})
	}
}

// Values are compared lowercased and trimmed, as the algorithm specifies.
func TestHeaderValueNormalisation(t *testing.T) {
	r, body := knownAnswerRequest()
	r.Header.Set("Content-Type", "  Application/JSON ")
	r.Host = "FaceID.TencentCloudAPI.com"
	if _, err := verifierAt(time.Unix(kaTimestamp, 0)).Verify(r, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestMisconfiguredVerifier(t *testing.T) {
	r, body := knownAnswerRequest()
	_, err := (&Verifier{Lookup: lookup}).Verify(r, body)
	if errs.KindOf(err) != errs.Internal {
		t.Fatalf("err = %v, want Internal", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *errs.Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, code)
	}
	if code != "" && e.Kind != errs.Unauthorized {
		t.Fatalf("kind = %v, want Unauthorized", e.Kind)
	}
}
