package event

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// fromAPIGatewayV2 converts an HTTP API (payload 2.0) event. Cookies arrive
// in their own array and go back into one Cookie header; repeated headers
// arrive comma-joined and stay that way.
func fromAPIGatewayV2(payload []byte) (*gateway.Request, error) {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	body, err := decodeBody(e.Body, e.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	rc := e.RequestContext
	return &gateway.Request{
		Method:    rc.HTTP.Method,
		Path:      stripStage(e.RawPath, rc.Stage),
		RawQuery:  e.RawQueryString,
		Header:    v2Headers(e.Headers, e.Cookies),
		Body:      body,
		SourceIP:  rc.HTTP.SourceIP,
		RequestID: rc.RequestID,
	}, nil
}

// stripStage removes the "/<stage>" prefix HTTP API puts in rawPath for a
// named stage, so routes are the same whatever the stage is called. The
// $default stage adds no prefix.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	prefix := "/" + stage
	if path == prefix {
		return "/"
	}
	if strings.HasPrefix(path, prefix+"/") {
		return path[len(prefix):]
	}
	return path
}

func v2Headers(headers map[string]string, cookies []string) http.Header {
	h := mergeHeaders(headers, nil)
	if len(cookies) > 0 && h.Get("Cookie") == "" {
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	return h
}

// toAPIGatewayV2 puts Set-Cookie values in cookies: the headers map cannot
// repeat a key, and cookies cannot be comma-joined.
func toAPIGatewayV2(resp *gateway.Response) any {
	body, b64 := encodeBody(resp.Body)
	return events.APIGatewayV2HTTPResponse{
		StatusCode:      status(resp),
		Headers:         joinedValues(resp.Header, "Set-Cookie"),
		Body:            body,
		IsBase64Encoded: b64,
		Cookies:         cookiesOf(resp),
	}
}
