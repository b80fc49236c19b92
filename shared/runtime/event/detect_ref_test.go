package event

import (
	"bytes"
	"encoding/json"
	"strings"
)

// detectByMaps is Detect as it was written first, decoding the event's
// members with encoding/json into maps: the reference Detect must agree
// with on every payload (FuzzFromEvent, TestDetect).
func detectByMaps(payload []byte) Kind {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return Direct
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return Direct
	}
	var rc map[string]json.RawMessage
	hasRC := isObject(top["requestContext"]) && json.Unmarshal(top["requestContext"], &rc) == nil
	_, hasMethod := top["httpMethod"]

	switch {
	case hasRC && isObject(rc["elb"]):
		if _, ok := top["multiValueHeaders"]; ok && !isNull(top["multiValueHeaders"]) {
			return ALBMultiValue
		}
		return ALB
	case stringField(top, "version") == "2.0" && hasRC && isObject(rc["http"]):
		_, hasRoute := top["routeKey"]
		if strings.Contains(stringField(rc, "domainName"), ".lambda-url.") || !hasRoute {
			return LambdaFunctionURL
		}
		return APIGatewayV2
	case hasMethod && (has(top, "queryString") || (hasRC && has(rc, "serviceId"))):
		if hasRC {
			return SCFAPIGateway
		}
		return SCFFunctionURL
	case hasMethod && (has(top, "resource") || has(top, "multiValueHeaders") || (hasRC && (has(rc, "apiId") || has(rc, "resourceId")))):
		return APIGatewayV1
	case hasMethod && has(top, "path") && has(top, "headers") && !has(top, "requestContext"):
		return SCFFunctionURL
	}
	return Direct
}
