package event

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// fromFunctionURL converts a Lambda Function URL event: the 2.0 payload
// without stages, so rawPath is the request path as the client sent it.
func fromFunctionURL(payload []byte) (*gateway.Request, error) {
	var e events.LambdaFunctionURLRequest
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
		Path:      e.RawPath,
		RawQuery:  e.RawQueryString,
		Header:    v2Headers(e.Headers, e.Cookies),
		Body:      body,
		SourceIP:  rc.HTTP.SourceIP,
		RequestID: rc.RequestID,
	}, nil
}

func toFunctionURL(resp *gateway.Response) any {
	body, b64 := encodeBody(resp.Body)
	return events.LambdaFunctionURLResponse{
		StatusCode:      status(resp),
		Headers:         joinedValues(resp.Header, "Set-Cookie"),
		Body:            body,
		IsBase64Encoded: b64,
		Cookies:         cookiesOf(resp),
	}
}
