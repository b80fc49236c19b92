package validate

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// bigMedia is several decode chunks long and ends in padding, so the chunk
// loop and the final partial chunk are both exercised.
var bigMedia = func() string {
	b := make([]byte, 10_001)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}()

func TestBase64Media(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		rule string
	}{
		{"three bytes", "QUJD", 64, ""},
		{"one pad", "QUI=", 64, ""},
		{"two pads", "QQ==", 64, ""},
		{"exactly max", "QUJDREVG", 8, ""},
		{"multi-chunk", bigMedia, len(bigMedia), ""},
		{"non-zero pad bits accepted like Tencent's decoders", "QR==", 64, ""},

		{"empty", "", 64, "must not be empty"},
		{"data URI", "data:image/png;base64,QUJD", 64, "not a data: URI"},
		{"data URI upper case", "DATA:image/jpeg;base64,QUJD", 64, "not a data: URI"},
		{"one over max", "QUJDREVGRw==", 8, "must be at most 8 bytes of base64"},
		{"huge", strings.Repeat("A", 8<<20+4), 8 << 20, "must be at most 8388608 bytes of base64"},
		{"zero max fails closed", "QUJD", 0, "must be at most 0 bytes"},
		{"negative max fails closed", "QUJD", -1, "must be at most 0 bytes"},
		{"missing padding", "QQ", 64, "length must be a multiple of 4"},
		{"missing one pad", "QUI", 64, "length must be a multiple of 4"},
		{"pad then data", "QQ==QUJD", 64, "= padding only at the end"},
		{"pad in last group middle", "QQ=A", 64, "= padding only at the end"},
		{"three pads", "Q===", 64, "= padding only at the end"},
		{"all pads", "====", 64, "= padding only at the end"},
		{"URL alphabet dash", "ab-d", 64, "not the URL-safe one"},
		{"URL alphabet underscore", "ab_d", 64, "not the URL-safe one"},
		{"line break", "QU\nD", 64, "must not contain spaces or line breaks"},
		{"MIME wrapping", "QUJD\r\nQUJD", 64, "length must be a multiple of 4"},
		{"space", "QU D", 64, "must not contain spaces or line breaks"},
		{"bad char", "QU*D", 64, "must contain only base64 characters"},
		{"non-ASCII", "QU\xc3\xa9", 64, "must contain only base64 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, Base64Media(tc.in, tc.max), tc.rule) })
	}
}

// TestBase64MediaAllocations holds the promise that input size never turns
// into allocation: an oversized input costs only the error, and a valid one
// of any size costs nothing.
func TestBase64MediaAllocations(t *testing.T) {
	huge := strings.Repeat("A", 16<<20)
	if n := testing.AllocsPerRun(5, func() { _ = Base64Media(huge, 1024) }); n > 3 {
		t.Errorf("oversized input: %v allocations per call, want at most 3", n)
	}
	if n := testing.AllocsPerRun(5, func() { _ = Base64Media(bigMedia, len(bigMedia)) }); n != 0 {
		t.Errorf("valid input: %v allocations per call, want 0", n)
	}
}

func TestHTTPURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		rule string
	}{
		{"https", "https://example.com/a.jpg", 1024, ""},
		{"http with port, query, fragment", "http://127.0.0.1:8080/x?y=1#f", 1024, ""},
		{"upper-case scheme", "HTTPS://EXAMPLE.COM/", 1024, ""},
		{"percent-encoded", "https://cos.ap-guangzhou.myqcloud.com/a%20b.png", 1024, ""},
		{"IPv6 host", "https://[::1]:8443/v", 1024, ""},
		{"exactly max", "http://a.co", 11, ""},

		{"empty", "", 1024, "must not be empty"},
		{"too long", "https://example.com/" + strings.Repeat("a", 1024), 1024, "must be at most 1024 characters"},
		{"zero max fails closed", "http://a.co", 0, "must be at most 0 characters"},
		{"space", "https://exa mple.com/", 1024, "must not contain spaces"},
		{"newline", "https://example.com/\n", 1024, "must not contain control characters"},
		{"DEL", "https://example.com/\x7f", 1024, "must not contain control characters"},
		{"non-ASCII host", "https://例子.com/", 1024, "must contain only ASCII"},
		{"invalid UTF-8", "https://example.com/\xff", 1024, "must contain only ASCII"},
		{"ftp", "ftp://example.com/a.jpg", 1024, "must start with http:// or https://"},
		{"javascript", "javascript:alert(1)", 1024, "must start with http:// or https://"},
		{"scheme-relative", "//example.com/a.jpg", 1024, "must start with http:// or https://"},
		{"no scheme", "example.com/a.jpg", 1024, "must start with http:// or https://"},
		{"data URI", "data:image/png;base64,QUJD", 1024, "must start with http:// or https://"},
		{"userinfo", "https://user:pw@example.com/", 1024, "must not contain a user name or password"},
		{"user only", "https://user@example.com/", 1024, "must not contain a user name or password"},
		{"no host", "https:///a.jpg", 1024, "must include a host"},
		{"opaque", "http:example.com", 1024, "must include a host"},
		{"port only", "http://:80/", 1024, "must include a host"},
		{"port too big", "https://example.com:99999/", 1024, "port must be 1 to 65535"},
		{"port zero", "https://example.com:0/", 1024, "port must be 1 to 65535"},
		{"bad port", "http://example.com:port/", 1024, "is not a valid URL"},
		{"unclosed IPv6", "http://[::1/", 1024, "is not a valid URL"},
		{"bad escape", "http://example.com/%zz", 1024, "is not a valid URL"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, HTTPURL(tc.in, tc.max), tc.rule) })
	}
}
