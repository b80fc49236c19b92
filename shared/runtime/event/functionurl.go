package event

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// fromFunctionURL converts a Lambda Function URL event. Its request is the
// HTTP API 2.0 payload without stages (rawPath is the path as the client
// sent it), so it decodes as one.
func fromFunctionURL(payload []byte) (*gateway.Request, error) { return fromAPIGatewayV2(payload) }

// toFunctionURL answers with the Function URL's own response type, which
// unlike the HTTP API's always carries isBase64Encoded and has no
// multiValueHeaders.
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
