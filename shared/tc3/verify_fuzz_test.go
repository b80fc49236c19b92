package tc3

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// FuzzVerify mutates the known-answer request (computed with openssl, see
// verify_test.go) and checks that Verify accepts exactly what was signed:
// any accepted variant has the signed body, method, query, timestamp and
// (after Tencent's trim and lowercase) content type and host, and an
// Authorization header that parses to the original. Every refusal is an
// Unauthorized *errs.Error. Both a verifier pinned to "faceid" and an
// AnyService one are held to this: naming another service in the scope
// must never verify either.
func FuzzVerify(f *testing.F) {
	r0, _ := knownAnswerRequest()
	auth0 := r0.Header.Get("Authorization")
	f.Add([]byte(kaBody), "POST", "", "application/json", "faceid.tencentcloudapi.com", auth0, "1700000000")
	f.Add([]byte(kaBody+" "), "POST", "", "application/json", "faceid.tencentcloudapi.com", auth0, "1700000000")
	f.Add([]byte(kaBody), "POST", "", " Application/JSON ", "FACEID.tencentcloudapi.com", auth0, "1700000000")
	f.Add([]byte(kaBody), "GET", "a=1", "application/json", "faceid.tencentcloudapi.com", strings.Replace(auth0, ", ", ",", -1), "01700000000")
	want, err := ParseAuthorization(auth0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(kaBody), "POST", "", "application/json", "faceid.tencentcloudapi.com", strings.Replace(auth0, "/faceid/", "/faceie/", 1), "1700000000")
	now := time.Unix(kaTimestamp+60, 0)
	verifiers := []*Verifier{verifierAt(now), anyServiceAt(now)}
	f.Fuzz(func(t *testing.T, body []byte, method, query, ct, host, auth, ts string) {
		if method == "" || strings.ContainsAny(method, " \r\n") {
			method = "POST"
		}
		for _, v := range verifiers {
			checkFuzzVerify(t, v, want, auth0, body, method, query, ct, host, auth, ts)
		}
	})
}

func checkFuzzVerify(t *testing.T, v *Verifier, want *Authorization, auth0 string, body []byte, method, query, ct, host, auth, ts string) {
	t.Helper()
	r, _ := knownAnswerRequest()
	r.Method = method
	r.URL.RawQuery = query
	r.Header.Set("Content-Type", ct)
	r.Host = host
	r.Header.Set("Authorization", auth)
	r.Header.Set("X-TC-Timestamp", ts)
	id, err := v.Verify(r, body)
	original := string(body) == kaBody && method == "POST" && query == "" && ct == "application/json" &&
		host == "faceid.tencentcloudapi.com" && auth == auth0 && ts == "1700000000"
	if original && err != nil {
		t.Fatalf("the signed request itself is refused: %v", err)
	}
	if err != nil {
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Unauthorized || e.Code == "" {
			t.Fatalf("refusal %T %v is not an Unauthorized *errs.Error", err, err)
		}
		return
	}
	got, perr := ParseAuthorization(auth)
	switch {
	case !bytes.Equal(body, []byte(kaBody)):
		t.Fatalf("accepted another body %q", body)
	case method != "POST" || query != "":
		t.Fatalf("accepted method %q query %q", method, query)
	case ts != "1700000000":
		t.Fatalf("accepted timestamp %q", ts)
	case strings.ToLower(strings.TrimSpace(ct)) != "application/json":
		t.Fatalf("accepted content type %q", ct)
	case strings.ToLower(strings.TrimSpace(host)) != "faceid.tencentcloudapi.com":
		t.Fatalf("accepted host %q", host)
	case perr != nil || !reflect.DeepEqual(got, want):
		t.Fatalf("accepted Authorization %q", auth)
	case id.SecretID != testID || id.Timestamp.Unix() != kaTimestamp || id.Service != "faceid":
		t.Fatalf("identity %+v", id)
	}
}
