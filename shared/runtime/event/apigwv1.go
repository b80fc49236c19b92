package event

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// fromAPIGatewayV1 converts a REST API proxy event. path is the resource path
// without the stage (requestContext.path has the stage), values are already
// decoded by API Gateway, and the client address is identity.sourceIp.
func fromAPIGatewayV1(payload []byte) (*gateway.Request, error) {
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	body, err := decodeBody(e.Body, e.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	return &gateway.Request{
		Method:    e.HTTPMethod,
		Path:      e.Path,
		RawQuery:  mergeQuery(e.QueryStringParameters, e.MultiValueQueryStringParameters).Encode(),
		Header:    mergeHeaders(e.Headers, e.MultiValueHeaders),
		Body:      body,
		SourceIP:  e.RequestContext.Identity.SourceIP,
		RequestID: e.RequestContext.RequestID,
	}, nil
}

// toAPIGatewayV1 fills both header maps: API Gateway merges them, and values
// in multiValueHeaders win, so repeated headers (Set-Cookie) survive.
func toAPIGatewayV1(resp *gateway.Response) any {
	body, b64 := encodeBody(resp.Body)
	return events.APIGatewayProxyResponse{
		StatusCode:        status(resp),
		Headers:           firstValues(resp.Header),
		MultiValueHeaders: resp.Header,
		Body:              body,
		IsBase64Encoded:   b64,
	}
}
