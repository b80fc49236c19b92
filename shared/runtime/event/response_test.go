package event

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/idverify/idverify/shared/gateway"
)

func sampleResponse(body []byte) *gateway.Response {
	return &gateway.Response{
		Status: 422,
		Header: http.Header{
			"Content-Type": {"application/json"},
			"Set-Cookie":   {"a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"},
			"Vary":         {"Accept", "Origin"},
		},
		Body: body,
	}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func TestToResponseShapes(t *testing.T) {
	body := []byte(`{"Response":{"Result":"0","Description":"<ok>"}}`)
	cookies := []any{"a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}
	cases := []struct {
		kind Kind
		want map[string]any
	}{
		{APIGatewayV1, map[string]any{
			"statusCode": 422.0, "body": string(body),
			"headers":           map[string]any{"Content-Type": "application/json", "Set-Cookie": "a=1; Path=/", "Vary": "Accept"},
			"multiValueHeaders": map[string]any{"Content-Type": []any{"application/json"}, "Set-Cookie": cookies, "Vary": []any{"Accept", "Origin"}},
		}},
		{APIGatewayV2, map[string]any{
			"statusCode": 422.0, "body": string(body), "cookies": cookies, "multiValueHeaders": nil,
			"headers": map[string]any{"Content-Type": "application/json", "Vary": "Accept, Origin"},
		}},
		{LambdaFunctionURL, map[string]any{
			"statusCode": 422.0, "body": string(body), "isBase64Encoded": false, "cookies": cookies,
			"headers": map[string]any{"Content-Type": "application/json", "Vary": "Accept, Origin"},
		}},
		{ALB, map[string]any{
			"statusCode": 422.0, "statusDescription": "422 Unprocessable Entity", "body": string(body), "isBase64Encoded": false,
			"headers":           map[string]any{"Content-Type": "application/json", "Set-Cookie": "a=1; Path=/, b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "Vary": "Accept, Origin"},
			"multiValueHeaders": nil,
		}},
		{ALBMultiValue, map[string]any{
			"statusCode": 422.0, "statusDescription": "422 Unprocessable Entity", "body": string(body), "isBase64Encoded": false,
			"headers":           nil,
			"multiValueHeaders": map[string]any{"Content-Type": []any{"application/json"}, "Set-Cookie": cookies, "Vary": []any{"Accept", "Origin"}},
		}},
		{SCFFunctionURL, map[string]any{
			"statusCode": 422.0, "body": string(body), "isBase64Encoded": false,
			"headers": map[string]any{"Content-Type": "application/json", "Set-Cookie": "a=1; Path=/, b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "Vary": "Accept, Origin"},
		}},
		{SCFAPIGateway, map[string]any{
			"statusCode": 422.0, "body": string(body), "isBase64Encoded": false,
			"headers": map[string]any{"Content-Type": "application/json", "Set-Cookie": "a=1; Path=/, b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "Vary": "Accept, Origin"},
		}},
	}
	for _, c := range cases {
		out, err := ToResponse(c.kind, sampleResponse(body))
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got := decodeMap(t, out); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.kind, got, c.want)
		}
	}
	if len(Kinds()) != len(cases) {
		t.Errorf("%d kinds, %d cases", len(Kinds()), len(cases))
	}
}

func TestToResponseBinaryBody(t *testing.T) {
	for _, k := range Kinds() {
		out, err := ToResponse(k, &gateway.Response{Status: 200, Body: []byte{0xff, 0x00, 0x10}})
		if err != nil {
			t.Fatal(err)
		}
		m := decodeMap(t, out)
		if m["isBase64Encoded"] != true || m["body"] != "/wAQ" {
			t.Errorf("%s: %s", k, out)
		}
	}
}

func TestToResponseEdgeCases(t *testing.T) {
	if _, err := ToResponse(Direct, &gateway.Response{}); err == nil {
		t.Error("Direct has no response shape")
	}
	for _, k := range Kinds() {
		out, err := ToResponse(k, nil)
		if err != nil || decodeMap(t, out)["statusCode"] != 500.0 {
			t.Errorf("%s nil response: %s %v", k, out, err)
		}
		out, _ = ToResponse(k, &gateway.Response{})
		if decodeMap(t, out)["statusCode"] != 200.0 {
			t.Errorf("%s zero status: %s", k, out)
		}
	}
	// HTML is not escaped: bodies stay readable.
	out, _ := ToResponse(SCFFunctionURL, &gateway.Response{Body: []byte("<a>")})
	if string(out) != `{"isBase64Encoded":false,"statusCode":200,"headers":{},"body":"<a>"}` {
		t.Errorf("got %s", out)
	}
}
