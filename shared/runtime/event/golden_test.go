package event

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/idverify/idverify/shared/gateway"
)

// eventsDir is the repository's events/ directory, the single source of
// sample events for unit tests, protocol tests and local invocation.
var eventsDir = filepath.Join("..", "..", "..", "events")

const sampleBody = `{"IdCard":"110101199003074477","Name":"张三"}`

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenRequests is what every sample in events/ must decode to, field by
// field. A new sample file needs a row here (TestEveryEventFileHasExpectation).
var goldenRequests = map[string]struct {
	kind Kind
	req  *gateway.Request // nil: a direct invocation
	// invoke is the payload a direct sample invokes with when it is not the
	// file itself (an SCF timer's argument).
	invoke string
}{
	"lambda-rest-v1.json": {APIGatewayV1, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN",
		Header: http.Header{
			"Accept":            {"application/json"},
			"Accept-Language":   {"zh-CN", "en;q=0.8"},
			"Content-Type":      {"application/json; charset=utf-8"},
			"Host":              {"a1b2c3d4e5.execute-api.ap-east-1.amazonaws.com"},
			"User-Agent":        {"idverify-example/1.0"},
			"X-Amzn-Trace-Id":   {"Root=1-65f1c0de-3f2a9b7c1d4e5f6a7b8c9d0e"},
			"X-Forwarded-For":   {"203.0.113.24"},
			"X-Forwarded-Port":  {"443"},
			"X-Forwarded-Proto": {"https"},
		},
		Body: []byte(sampleBody), SourceIP: "203.0.113.24", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
	}, ""},
	"lambda-http-v2.json": {APIGatewayV2, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN",
		Header: http.Header{
			"Accept":            {"application/json"},
			"Accept-Language":   {"zh-CN,en;q=0.8"},
			"Content-Length":    {"47"},
			"Content-Type":      {"application/json; charset=utf-8"},
			"Cookie":            {"idv_consent=1; theme=dark"},
			"Host":              {"f6g7h8i9j0.execute-api.ap-east-1.amazonaws.com"},
			"User-Agent":        {"idverify-example/1.0"},
			"X-Amzn-Trace-Id":   {"Root=1-65f1c0df-7a8b9c0d1e2f3a4b5c6d7e8f"},
			"X-Forwarded-For":   {"203.0.113.25"},
			"X-Forwarded-Port":  {"443"},
			"X-Forwarded-Proto": {"https"},
		},
		Body: []byte(sampleBody), SourceIP: "203.0.113.25", RequestID: "JKJaXmPLvHcESHA=",
	}, ""},
	"lambda-alb.json": {ALB, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN",
		Header: http.Header{
			"Accept":            {"application/json"},
			"Content-Length":    {"47"},
			"Content-Type":      {"application/json; charset=utf-8"},
			"Host":              {"idverify-alb-1234567890.ap-east-1.elb.amazonaws.com"},
			"User-Agent":        {"idverify-example/1.0"},
			"X-Amzn-Trace-Id":   {"Root=1-65f1c0e0-0a1b2c3d4e5f6a7b8c9d0e1f"},
			"X-Forwarded-For":   {"198.51.100.7, 203.0.113.26"},
			"X-Forwarded-Port":  {"443"},
			"X-Forwarded-Proto": {"https"},
		},
		Body: []byte(sampleBody), SourceIP: "203.0.113.26", RequestID: "",
	}, ""},
	"lambda-function-url.json": {LambdaFunctionURL, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN",
		Header: http.Header{
			"Accept":                  {"application/json"},
			"Content-Length":          {"47"},
			"Content-Type":            {"application/json; charset=utf-8"},
			"Host":                    {"k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6.lambda-url.ap-east-1.on.aws"},
			"User-Agent":              {"idverify-example/1.0"},
			"X-Amzn-Tls-Cipher-Suite": {"TLS_AES_128_GCM_SHA256"},
			"X-Amzn-Tls-Version":      {"TLSv1.3"},
			"X-Amzn-Trace-Id":         {"Root=1-65f1c0e1-1b2c3d4e5f6a7b8c9d0e1f2a"},
			"X-Forwarded-For":         {"203.0.113.27"},
			"X-Forwarded-Port":        {"443"},
			"X-Forwarded-Proto":       {"https"},
		},
		Body: []byte(sampleBody), SourceIP: "203.0.113.27", RequestID: "8f3c1a2b-4d5e-4f60-9a7b-0c1d2e3f4a5b",
	}, ""},
	"scf-function-url.json": {SCFFunctionURL, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN",
		Header: http.Header{
			"Accept":            {"application/json"},
			"Accept-Encoding":   {"gzip, deflate, br"},
			"Connection":        {"keep-alive"},
			"Content-Length":    {"47"},
			"Content-Type":      {"application/json; charset=utf-8"},
			"Host":              {"1250000000-abcd1234ef.ap-guangzhou.tencentscf.com"},
			"User-Agent":        {"idverify-example/1.0"},
			"X-Scf-Remote-Addr": {"111.206.96.145"},
		},
		Body: []byte(sampleBody), SourceIP: "111.206.96.145", RequestID: "",
	}, ""},
	"scf-apigw-legacy.json": {SCFAPIGateway, &gateway.Request{
		Method: "POST", Path: "/v1/faceid/IdCardVerification", RawQuery: "lang=zh-CN&tag=a&tag=b&verbose",
		Header: http.Header{
			"Accept":               {"application/json"},
			"Connection":           {"keep-alive"},
			"Content-Type":         {"application/json; charset=utf-8"},
			"Endpoint-Timeout":     {"15"},
			"Host":                 {"service-f94sy04v-1250000000.gz.apigw.tencentcs.com"},
			"User-Agent":           {"idverify-example/1.0"},
			"X-Anonymous-Consumer": {"true"},
			"X-Qualifier":          {"$LATEST"},
		},
		Body: []byte(sampleBody), SourceIP: "10.0.2.14", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
	}, ""},
	"lambda-direct.json": {Direct, nil, ""},
	"scf-direct.json":    {Direct, nil, ""},
	"scf-timer.json":     {Direct, nil, `{"Action":"flows/sweep"}`},
}

func TestGoldenEvents(t *testing.T) {
	for name, want := range goldenRequests {
		t.Run(name, func(t *testing.T) {
			req, kind, ok, err := FromEvent(readEvent(t, name))
			if err != nil {
				t.Fatalf("FromEvent: %v", err)
			}
			if kind != want.kind || ok != (want.kind != Direct) {
				t.Fatalf("kind %s ok %v, want %s", kind, ok, want.kind)
			}
			if want.req == nil {
				if req != nil {
					t.Fatalf("direct payload produced a request: %+v", req)
				}
				direct, timer, err := TimerPayload(readEvent(t, name))
				if err != nil || timer != (want.invoke != "") || string(direct) != want.invoke {
					t.Fatalf("TimerPayload = %q, %v, %v; want %q", direct, timer, err, want.invoke)
				}
				return
			}
			assertRequest(t, req, want.req)
		})
	}
}

func assertRequest(t *testing.T, got, want *gateway.Request) {
	t.Helper()
	check := func(field string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", field, g, w)
		}
	}
	check("Method", got.Method, want.Method)
	check("Path", got.Path, want.Path)
	check("RawQuery", got.RawQuery, want.RawQuery)
	check("Header", got.Header, want.Header)
	check("Body", string(got.Body), string(want.Body))
	check("SourceIP", got.SourceIP, want.SourceIP)
	check("RequestID", got.RequestID, want.RequestID)
}

func TestEveryEventFileHasExpectation(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no event files in %s: %v", eventsDir, err)
	}
	seen := map[Kind]bool{}
	for _, f := range files {
		exp, ok := goldenRequests[filepath.Base(f)]
		if !ok {
			t.Errorf("%s has no expectation in goldenRequests", filepath.Base(f))
		}
		seen[exp.kind] = true
	}
	for _, k := range []Kind{Direct, APIGatewayV1, APIGatewayV2, ALB, LambdaFunctionURL, SCFFunctionURL, SCFAPIGateway} {
		if !seen[k] {
			t.Errorf("no sample event of kind %s in events/", k)
		}
	}
}
