package event

import (
	"fmt"

	"github.com/idverify/idverify/shared/gateway"
)

// FromEvent recognises an HTTP-shaped platform event and converts it into a
// gateway.Request. ok is false (and kind Direct) when payload is not an HTTP
// event: the caller hands it to Handler.Invoke unchanged. When ok is true
// and err is not nil, the event had an HTTP shape but a malformed field (a
// body that is not base64 although isBase64Encoded says so, a header that is
// not a string); the caller answers 400 in the kind's response shape.
//
// RequestID is the one the event carries, empty when the shape has none
// (ALB, SCF Function URL): the caller falls back to the invocation's id.
func FromEvent(payload []byte) (req *gateway.Request, kind Kind, ok bool, err error) {
	kind = Detect(payload)
	switch kind {
	case APIGatewayV1:
		req, err = fromAPIGatewayV1(payload)
	case APIGatewayV2:
		req, err = fromAPIGatewayV2(payload)
	case ALB, ALBMultiValue:
		req, err = fromALB(payload)
	case LambdaFunctionURL:
		req, err = fromFunctionURL(payload)
	case SCFFunctionURL, SCFAPIGateway:
		req, err = fromSCF(payload, kind)
	default:
		return nil, Direct, false, nil
	}
	if err != nil {
		return nil, kind, true, fmt.Errorf("malformed %s event: %w", kind, err)
	}
	return req, kind, true, nil
}
