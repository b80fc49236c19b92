package tc3

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const goodHeader = "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, Signature=" + kaSignature

func TestParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization(goodHeader)
	if err != nil {
		t.Fatal(err)
	}
	if a.SecretID != "AKIDEXAMPLE" || a.Date != "2023-11-14" || a.Service != "faceid" ||
		strings.Join(a.SignedHeaders, ";") != "content-type;host" || len(a.Signature) != 32 {
		t.Fatalf("parsed %+v", a)
	}
	if a.Scope() != "2023-11-14/faceid/tc3_request" {
		t.Fatalf("scope %q", a.Scope())
	}
	// Element order and spacing after commas are not significant.
	if _, err := ParseAuthorization("TC3-HMAC-SHA256 Signature=" + kaSignature + ",SignedHeaders=content-type;host,Credential=A/2023-11-14/faceid/tc3_request"); err != nil {
		t.Fatalf("reordered: %v", err)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	sig := "Signature=" + kaSignature
	bad := []string{
		"",
		"TC3-HMAC-SHA256",
		"TC3-HMAC-SHA256 ",
		"tc3-hmac-sha256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host",
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, " + sig + ", Extra=1",
		"TC3-HMAC-SHA256 Credential=/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14//tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request/x, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-2-1/faceid/tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-02-30/faceid/tc3_request, SignedHeaders=content-type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=host;content-type, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=Content-Type;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=host;host, " + sig,
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, Signature=abc",
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("z", 64),
		"TC3-HMAC-SHA256 Credential=A/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host, " + sig + strings.Repeat(" ", maxHeaderLen),
	}
	for _, h := range bad {
		_, err := ParseAuthorization(h)
		wantCode(t, err, CodeInvalidAuthorization)
	}
}

// FuzzParseAuthorization checks that no input panics and that whatever is
// accepted is internally consistent. Seeds live in testdata/fuzz.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(goodHeader)
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if a != nil {
				t.Fatal("non-nil result with error")
			}
			return
		}
		if a.SecretID == "" || a.Service == "" || len(a.Signature) != 32 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted inconsistent header %q: %+v", h, a)
		}
		if strings.ContainsAny(a.SecretID+a.Service, "/") || !utf8.ValidString(a.Date) || len(a.Date) != 10 {
			t.Fatalf("accepted malformed credential %q: %+v", h, a)
		}
		for i := 1; i < len(a.SignedHeaders); i++ {
			if a.SignedHeaders[i-1] >= a.SignedHeaders[i] {
				t.Fatalf("unsorted SignedHeaders accepted: %q", h)
			}
		}
	})
}
