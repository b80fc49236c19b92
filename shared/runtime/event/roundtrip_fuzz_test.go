package event

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// FuzzEventRoundTrip builds API Gateway v1 and HTTP API v2 events with the
// aws-lambda-go types from arbitrary method, path, query, header and body,
// and checks that FromEvent recovers each of them exactly (bodies through
// base64 too), and that ToResponse encodes a response the same types decode
// back to the status, header and body bytes the gateway produced.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("POST", "/v1/faceid/IdCardVerification", "lang=zh-CN", "X-Tc-Action", "IdCardVerification", []byte(`{"IdCard":"110101199003074477"}`), false)
	f.Add("GET", "/", "", "Content-Type", "application/json; charset=utf-8", []byte{0xff, 0xd8, 0xff}, true)
	f.Add("PUT", "/a%20b/c", "a=1&a=2&b", "X-Empty", "", []byte(nil), false)
	f.Fuzz(func(t *testing.T, method, path, query, hname, hval string, body []byte, b64 bool) {
		for _, s := range []string{method, path, query, hval} {
			if !utf8.ValidString(s) {
				return // JSON cannot carry invalid UTF-8
			}
		}
		if method == "" || !validHeaderName(hname) {
			return // events always have a method, and header names are tokens
		}
		if !utf8.Valid(body) {
			b64 = true
		}
		wire := string(body)
		if b64 {
			wire = base64.StdEncoding.EncodeToString(body)
		}
		hdr := map[string]string{hname: hval}
		q, qerr := url.ParseQuery(query)
		if qerr == nil && !validUTF8Values(q) {
			// API Gateway v1 carries the decoded parameters in JSON, which
			// cannot hold invalid UTF-8 (%80): such a query cannot survive
			// the event shape, so only v2 (raw query) is compared.
			qerr = errNotUTF8
		}

		v2 := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: query,
			Headers: hdr, Body: wire, IsBase64Encoded: b64,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				Stage: "$default", RequestID: "rid-2",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "203.0.113.9"},
			},
		}
		got := decodeAs(t, v2, APIGatewayV2)
		check(t, "v2", got, method, path, hname, hval, body)
		if got.RawQuery != query || got.RequestID != "rid-2" || got.SourceIP != "203.0.113.9" {
			t.Fatalf("v2 query %q id %q ip %q", got.RawQuery, got.RequestID, got.SourceIP)
		}

		v1 := events.APIGatewayProxyRequest{
			Resource: "/{proxy+}", Path: path, HTTPMethod: method, Headers: hdr,
			Body: wire, IsBase64Encoded: b64,
			RequestContext: events.APIGatewayProxyRequestContext{
				APIID: "api", RequestID: "rid-1", Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.7"},
			},
		}
		if qerr == nil {
			v1.MultiValueQueryStringParameters = q
		}
		got = decodeAs(t, v1, APIGatewayV1)
		check(t, "v1", got, method, path, hname, hval, body)
		if qerr == nil {
			back, err := url.ParseQuery(got.RawQuery)
			if err != nil || !equalValues(back, q) {
				t.Fatalf("v1 query %q became %q", query, got.RawQuery)
			}
		}

		resp := &gateway.Response{Status: 200 + len(body)%300, Header: http.Header{}, Body: body}
		resp.Header.Set(hname, hval)
		for kind, into := range map[Kind]any{APIGatewayV2: &events.APIGatewayV2HTTPResponse{}, APIGatewayV1: &events.APIGatewayProxyResponse{}} {
			out, err := ToResponse(kind, resp)
			if err != nil {
				t.Fatalf("ToResponse %s: %v", kind, err)
			}
			if err := json.Unmarshal(out, into); err != nil {
				t.Fatalf("%s response does not decode: %v", kind, err)
			}
			var status int
			var headers map[string]string
			var rbody string
			var rb64 bool
			switch r := into.(type) {
			case *events.APIGatewayV2HTTPResponse:
				status, headers, rbody, rb64 = r.StatusCode, r.Headers, r.Body, r.IsBase64Encoded
				// HTTP API returns Set-Cookie in its own array.
				if http.CanonicalHeaderKey(hname) == "Set-Cookie" && len(r.Cookies) == 1 {
					headers = map[string]string{hname: r.Cookies[0]}
				}
			case *events.APIGatewayProxyResponse:
				status, headers, rbody, rb64 = r.StatusCode, r.Headers, r.Body, r.IsBase64Encoded
			}
			raw := []byte(rbody)
			if rb64 {
				if raw, err = base64.StdEncoding.DecodeString(rbody); err != nil {
					t.Fatalf("%s body flagged base64 is not: %v", kind, err)
				}
			}
			if status != resp.Status || !bytes.Equal(raw, body) || http.Header(canonical(headers)).Get(hname) != hval {
				t.Fatalf("%s response round trip: %d %q %v", kind, status, raw, headers)
			}
		}
	})
}

func decodeAs(t *testing.T, ev any, want Kind) *gateway.Request {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	req, kind, ok, err := FromEvent(payload)
	if kind != want || !ok || err != nil {
		t.Fatalf("%s event decoded as %s ok=%v err=%v", want, kind, ok, err)
	}
	return req
}

func check(t *testing.T, what string, got *gateway.Request, method, path, hname, hval string, body []byte) {
	t.Helper()
	if got.Method != method || got.Path != path {
		t.Fatalf("%s: method %q path %q, want %q %q", what, got.Method, got.Path, method, path)
	}
	if len(body) == 0 && len(got.Body) == 0 {
		body = got.Body
	}
	if !bytes.Equal(got.Body, body) {
		t.Fatalf("%s: body %q, want %q", what, got.Body, body)
	}
	if got.Header.Get(hname) != hval {
		t.Fatalf("%s: header %s = %q, want %q", what, hname, got.Header.Get(hname), hval)
	}
}

// validHeaderName is an RFC 9110 token: what a platform can deliver as a
// header name.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return true
}

func canonical(m map[string]string) map[string][]string {
	h := http.Header{}
	for k, v := range m {
		h.Add(k, v)
	}
	return h
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb := b[k]
		if len(va) != len(vb) {
			return false
		}
		for i := range va {
			if va[i] != vb[i] {
				return false
			}
		}
	}
	return true
}

var errNotUTF8 = errors.New("decoded query is not UTF-8")

func validUTF8Values(q url.Values) bool {
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}
