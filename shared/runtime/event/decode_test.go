package event

import (
	"strings"
	"testing"
)

func TestSCFQueryString(t *testing.T) {
	req, kind, ok, err := FromEvent([]byte(`{"httpMethod":"GET","path":"/p","headers":{"x-scf-remote-addr":"1.2.3.4"},
		"queryString":{"x":"y","a":["b","c"],"i":true,"off":false,"n":12,"nil":null,"sp ace":"a&b=c"}}`))
	if err != nil || !ok || kind != SCFFunctionURL {
		t.Fatalf("kind %s ok %v err %v", kind, ok, err)
	}
	if want := "a=b&a=c&i&n=12&sp+ace=a%26b%3Dc&x=y"; req.RawQuery != want {
		t.Errorf("RawQuery = %q, want %q", req.RawQuery, want)
	}
	if req.SourceIP != "1.2.3.4" {
		t.Errorf("SourceIP = %q", req.SourceIP)
	}
}

func TestSCFBadValues(t *testing.T) {
	for _, p := range []string{
		`{"httpMethod":"GET","path":"/","queryString":{"a":{"b":1}}}`,
		`{"httpMethod":"GET","path":"/","queryString":{"a":[1]}}`,
		`{"httpMethod":"GET","path":"/","queryString":{"a":"x"},"body":"%%%","isBase64Encoded":true}`,
		`{"httpMethod":"GET","path":"/","queryString":{"a":"x"},"headers":"nope"}`,
	} {
		_, kind, ok, err := FromEvent([]byte(p))
		if !ok || err == nil {
			t.Errorf("%s: kind %s ok %v err %v, want malformed", p, kind, ok, err)
		}
	}
}

func TestSCFSourceIPPrecedence(t *testing.T) {
	// API Gateway: the gateway's own field wins over a header a client could send.
	req, _, _, _ := FromEvent([]byte(`{"httpMethod":"GET","path":"/","queryString":{},
		"headers":{"x-scf-remote-addr":"6.6.6.6"},"requestContext":{"serviceId":"s","sourceIp":"10.0.0.1"}}`))
	if req.SourceIP != "10.0.0.1" {
		t.Errorf("apigw SourceIP = %q", req.SourceIP)
	}
	req, _, _, _ = FromEvent([]byte(`{"httpMethod":"GET","path":"/","queryString":{},"requestContext":{"serviceId":"s"}}`))
	if req.SourceIP != "" || req.RequestID != "" {
		t.Errorf("empty context gave %q %q", req.SourceIP, req.RequestID)
	}
}

func TestV1MultiValueQueryAndHeaders(t *testing.T) {
	req, _, _, err := FromEvent([]byte(`{"resource":"/","path":"/p","httpMethod":"GET",
		"headers":{"X-One":"1","X-Two":"last"},"multiValueHeaders":{"X-Two":["first","last"]},
		"queryStringParameters":{"a":"2","b":"x y"},"multiValueQueryStringParameters":{"a":["1","2"]},
		"requestContext":{"requestId":"r","identity":{"sourceIp":"9.9.9.9"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.RawQuery != "a=1&a=2&b=x+y" {
		t.Errorf("RawQuery = %q", req.RawQuery)
	}
	if got := req.Header.Values("X-Two"); strings.Join(got, "|") != "first|last" {
		t.Errorf("X-Two = %q", got)
	}
	if req.Header.Get("X-One") != "1" || req.SourceIP != "9.9.9.9" || req.RequestID != "r" {
		t.Errorf("got %+v", req)
	}
}

func TestV2StageStripped(t *testing.T) {
	for _, c := range []struct{ stage, raw, want string }{
		{"prod", "/prod/v1/faceid/X", "/v1/faceid/X"},
		{"prod", "/prod", "/"},
		{"prod", "/production/x", "/production/x"},
		{"$default", "/v1/x", "/v1/x"},
		{"", "/v1/x", "/v1/x"},
	} {
		p := `{"version":"2.0","routeKey":"ANY /{proxy+}","rawPath":"` + c.raw + `","requestContext":{"stage":"` + c.stage + `","http":{"method":"POST"}}}`
		req, kind, _, err := FromEvent([]byte(p))
		if err != nil || kind != APIGatewayV2 {
			t.Fatalf("%s: %s %v", p, kind, err)
		}
		if req.Path != c.want {
			t.Errorf("stage %q raw %q: Path %q, want %q", c.stage, c.raw, req.Path, c.want)
		}
	}
}

func TestALBQueryNotDecoded(t *testing.T) {
	req, kind, _, err := FromEvent([]byte(`{"httpMethod":"GET","path":"/","requestContext":{"elb":{}},
		"multiValueQueryStringParameters":{"q":["a%20b","c"]},"multiValueHeaders":{"x-forwarded-for":["1.1.1.1, 2.2.2.2"]}}`))
	if err != nil || kind != ALBMultiValue {
		t.Fatal(kind, err)
	}
	if req.RawQuery != "q=a%20b&q=c" || req.SourceIP != "2.2.2.2" {
		t.Errorf("RawQuery %q SourceIP %q", req.RawQuery, req.SourceIP)
	}
	req, _, _, _ = FromEvent([]byte(`{"httpMethod":"GET","path":"/","requestContext":{"elb":{}}}`))
	if req.SourceIP != "" || len(req.Header) != 0 {
		t.Errorf("no headers: %+v", req)
	}
}

func TestBase64Bodies(t *testing.T) {
	for _, body := range []string{"/w==", "/w"} {
		req, _, _, err := FromEvent([]byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,"body":"` + body + `"}`))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if string(req.Body) != "\xff" {
			t.Errorf("%q decoded to %q", body, req.Body)
		}
	}
	req, _, _, _ := FromEvent([]byte(`{"version":"2.0","requestContext":{"http":{"method":"GET"}}}`))
	if req.Body != nil {
		t.Errorf("empty body = %q, want nil", req.Body)
	}
	if req.Header == nil {
		t.Error("Header is nil; gateway code may call Set on it")
	}
}
