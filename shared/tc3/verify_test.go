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

// A second known answer, from the same openssl pipeline, for the request
// tencentcloud-sdk-nodejs signs against a Lambda Function URL: the same body
// and timestamp, host:<id>.lambda-url.ap-northeast-1.on.aws, and the
// credential scope's service is the host's first label, not "faceid".
const (
	kaURLHost          = "0123456789abcdefghijklmnopqrstuv.lambda-url.ap-northeast-1.on.aws"
	kaURLService       = "0123456789abcdefghijklmnopqrstuv"
	kaURLCanonicalHash = "6ff732dbb0d8be395f7afd4d15b5f6591dbba13dc5479b77cc7c3fadcbcbff44"
	kaURLSignature     = "eaf66360ea40fdb613d932e49667bc2783aaa8cf7d74bc2107a569019cde8d6e"
)

func functionURLRequest() (*http.Request, []byte) {
	r, body := knownAnswerRequest()
	r.Host = kaURLHost
	r.URL.Host = kaURLHost
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+testID+"/2023-11-14/"+kaURLService+"/tc3_request, SignedHeaders=content-type;host, Signature="+kaURLSignature)
	return r, body
}

func verifierAt(now time.Time) *Verifier {
	return &Verifier{Service: "faceid", Lookup: lookup, Now: func() time.Time { return now }}
}

// anyServiceAt accepts whichever service the credential scope names.
func anyServiceAt(now time.Time) *Verifier {
	return &Verifier{AnyService: true, Lookup: lookup, Now: func() time.Time { return now }}
}

// bothAt is a pinned and an AnyService verifier: everything but the
// service is checked the same way by both.
func bothAt(now time.Time) map[string]*Verifier {
	return map[string]*Verifier{"pinned": verifierAt(now), "any service": anyServiceAt(now)}
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
	for name, v := range bothAt(time.Unix(kaTimestamp+60, 0)) {
		id, err := v.Verify(r, body)
		if err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
		if id.SecretID != testID || id.Timestamp.Unix() != kaTimestamp || id.Service != "faceid" {
			t.Fatalf("%s: identity = %+v", name, id)
		}
	}
}

func TestAnyServiceKnownAnswer(t *testing.T) {
	r, body := functionURLRequest()
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := canonicalRequest(r, a.SignedHeaders, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256Hex([]byte(canonical)); got != kaURLCanonicalHash {
		t.Fatalf("canonical request hash = %s, want %s\n%s", got, kaURLCanonicalHash, canonical)
	}
	now := time.Unix(kaTimestamp+60, 0)
	id, err := anyServiceAt(now).Verify(r, body)
	if err != nil {
		t.Fatalf("AnyService: %v", err)
	}
	if id.SecretID != testID || id.Timestamp.Unix() != kaTimestamp || id.Service != kaURLService {
		t.Fatalf("identity = %+v", id)
	}

	// Pinning is still available: pinned to "faceid" the same request is
	// refused; pinned to the service it was signed for, it verifies.
	r, body = functionURLRequest()
	_, err = verifierAt(now).Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)
	pinned := verifierAt(now)
	pinned.Service = kaURLService
	if id, err := pinned.Verify(r, body); err != nil || id.Service != kaURLService {
		t.Fatalf("pinned to %s: %+v %v", kaURLService, id, err)
	}
}

// With AnyService the service still selects the signing key: naming any
// other service in the scope than the one signed for fails, as does
// moving a signature from one scope to another.
func TestAnyServiceTamperedScope(t *testing.T) {
	v := anyServiceAt(time.Unix(kaTimestamp+60, 0))
	scope := func(r *http.Request, from, to string) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+from+"/", "/"+to+"/", 1))
	}
	for _, c := range []struct {
		name   string
		req    func() (*http.Request, []byte)
		signed string
	}{
		{"faceid", knownAnswerRequest, "faceid"},
		{"function URL", functionURLRequest, kaURLService},
	} {
		for _, other := range []string{"faceid", kaURLService, flip(c.signed, 0), flip(c.signed, len(c.signed)-1), c.signed + "x", "127", "cvm"} {
			if other == c.signed {
				continue
			}
			t.Run(c.name+" as "+other, func(t *testing.T) {
				r, body := c.req()
				scope(r, c.signed, other)
				_, err := v.Verify(r, body)
				wantCode(t, err, CodeSignatureFailure)
			})
		}
		t.Run(c.name+" date", func(t *testing.T) {
			r, body := c.req()
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "2023-11-14", "2023-11-15", 1))
			_, err := v.Verify(r, body)
			wantCode(t, err, CodeSignatureFailure)
		})
	}
	// The Function URL request's signature under the faceid request's
	// scope, and the other way round.
	t.Run("signatures swapped", func(t *testing.T) {
		r, body := functionURLRequest()
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), kaURLSignature, kaSignature, 1))
		_, err := v.Verify(r, body)
		wantCode(t, err, CodeSignatureFailure)
		r, body = knownAnswerRequest()
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), kaSignature, kaURLSignature, 1))
		_, err = v.Verify(r, body)
		wantCode(t, err, CodeSignatureFailure)
	})
	// The faceid request's host with the Function URL request's scope and
	// signature: the host is signed.
	t.Run("host", func(t *testing.T) {
		r, body := functionURLRequest()
		r.Host = "faceid.tencentcloudapi.com"
		_, err := v.Verify(r, body)
		wantCode(t, err, CodeSignatureFailure)
	})
}

// sdkRequest sends one request with the real SDK common client to an
// httptest server and returns what the server received.
func sdkRequest(t *testing.T, service, token string) (*http.Request, []byte) {
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
	// The Go SDK signs for the request's service, whatever the endpoint.
	req := tchttp.NewCommonRequest(service, "2018-03-01", "IdCardVerification")
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
	r, body := sdkRequest(t, "faceid", "session-token")
	for name, v := range map[string]*Verifier{
		"pinned":      {Service: "faceid", Lookup: lookup},
		"any service": {AnyService: true, Lookup: lookup},
	} {
		id, err := v.Verify(r, body)
		if err != nil {
			t.Fatalf("%s: Verify SDK request: %v\nAuthorization: %s", name, err, r.Header.Get("Authorization"))
		}
		if id.SecretID != testID || id.Service != "faceid" {
			t.Fatalf("%s: identity = %+v", name, id)
		}
		if time.Since(id.Timestamp) > time.Minute {
			t.Fatalf("%s: timestamp %v is not now", name, id.Timestamp)
		}
	}
}

// A request the SDK signed for another service ("127", what the Node SDK
// derives from the endpoint 127.0.0.1:<port>) verifies with AnyService and
// with that service pinned, and is refused when "faceid" is pinned.
func TestSDKSignedOtherService(t *testing.T) {
	r, body := sdkRequest(t, "127", "")
	id, err := (&Verifier{AnyService: true, Lookup: lookup}).Verify(r, body)
	if err != nil || id.SecretID != testID || id.Service != "127" {
		t.Fatalf("AnyService: %+v %v\nAuthorization: %s", id, err, r.Header.Get("Authorization"))
	}
	if _, err := (&Verifier{Service: "127", Lookup: lookup}).Verify(r, body); err != nil {
		t.Fatalf("pinned to 127: %v", err)
	}
	_, err = (&Verifier{Service: "faceid", Lookup: lookup}).Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)
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
	for name, v := range map[string]*Verifier{
		"pinned":      {Service: "faceid", Lookup: lookup},
		"any service": {AnyService: true, Lookup: lookup},
	} {
		t.Run(name, func(t *testing.T) { testTampered(t, v) })
	}
}

func testTampered(t *testing.T, v *Verifier) {
	orig, origBody := sdkRequest(t, "faceid", "")
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
		"scope service": func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/faceid/", "/faceie/", 1))
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
	for _, at := range []func(time.Time) *Verifier{verifierAt, anyServiceAt} {
		r, body := knownAnswerRequest()
		for _, d := range []time.Duration{DefaultMaxSkew + time.Second, -DefaultMaxSkew - time.Second, 24 * time.Hour} {
			_, err := at(time.Unix(kaTimestamp, 0).Add(d)).Verify(r, body)
			wantCode(t, err, CodeSignatureExpire)
		}
		// Exactly at the edge is still accepted.
		if _, err := at(time.Unix(kaTimestamp, 0).Add(DefaultMaxSkew)).Verify(r, body); err != nil {
			t.Fatalf("at max skew: %v", err)
		}
	}
}

func TestUnknownSecretID(t *testing.T) {
	for _, v := range bothAt(time.Unix(kaTimestamp, 0)) {
		r, body := knownAnswerRequest()
		v.Lookup = func(string) (string, bool) { return "", false }
		_, err := v.Verify(r, body)
		wantCode(t, err, CodeSecretIDNotFound)

		// A known id with a different key is a signature failure, not "not found".
		v.Lookup = func(string) (string, bool) { return "another-key", true }
		_, err = v.Verify(r, body)
		wantCode(t, err, CodeSignatureFailure)
	}
}

func TestWrongServiceOrDate(t *testing.T) {
	r, body := knownAnswerRequest()
	v := verifierAt(time.Unix(kaTimestamp, 0))
	v.Service = "cvm"
	_, err := v.Verify(r, body)
	wantCode(t, err, CodeSignatureFailure)

	// The credential says 2023-11-15 but the timestamp is on 2023-11-14 UTC.
	for _, v := range bothAt(time.Unix(kaTimestamp, 0)) {
		r, body = knownAnswerRequest()
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "2023-11-14", "2023-11-15", 1))
		_, err = v.Verify(r, body)
		wantCode(t, err, CodeSignatureFailure)
	}
}

func TestHeaderChecks(t *testing.T) {
	for name, v := range bothAt(time.Unix(kaTimestamp, 0)) {
		t.Run(name, func(t *testing.T) { testHeaderChecks(t, v) })
	}
}

func testHeaderChecks(t *testing.T, at *Verifier) {
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
	for name, v := range bothAt(time.Unix(kaTimestamp, 0)) {
		if _, err := v.Verify(r, body); err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
	}
}

// A Verifier must say which service it accepts: one named service, or
// AnyService. Neither, or both, is a configuration error, never "any".
func TestMisconfiguredVerifier(t *testing.T) {
	r, body := knownAnswerRequest()
	for name, v := range map[string]*Verifier{
		"no service":         {Lookup: lookup},
		"service and any":    {Service: "faceid", AnyService: true, Lookup: lookup},
		"no lookup":          {Service: "faceid"},
		"any without lookup": {AnyService: true},
	} {
		_, err := v.Verify(r, body)
		if errs.KindOf(err) != errs.Internal {
			t.Errorf("%s: err = %v, want Internal", name, err)
		}
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
