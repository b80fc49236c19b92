package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/idverify/idverify/shared/gateway"
)

// ToResponse encodes resp in the response shape of kind, the kind FromEvent
// returned for the request. A Direct kind has no HTTP shape and is an error.
func ToResponse(kind Kind, resp *gateway.Response) ([]byte, error) {
	if resp == nil {
		resp = &gateway.Response{Status: http.StatusInternalServerError}
	}
	var v any
	switch kind {
	case APIGatewayV1:
		v = toAPIGatewayV1(resp)
	case APIGatewayV2:
		v = toAPIGatewayV2(resp)
	case ALB:
		v = toALB(resp, false)
	case ALBMultiValue:
		v = toALB(resp, true)
	case LambdaFunctionURL:
		v = toFunctionURL(resp)
	case SCFFunctionURL, SCFAPIGateway:
		v = toSCF(resp)
	default:
		return nil, fmt.Errorf("event kind %s has no HTTP response shape", kind)
	}
	// HTML escaping would turn "<" in bodies into \u003c: valid, but noisier
	// for anyone reading a response, and platforms decode either form.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// status treats an unset status as 200, as net/http does.
func status(resp *gateway.Response) int {
	if resp.Status == 0 {
		return http.StatusOK
	}
	return resp.Status
}
