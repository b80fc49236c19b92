package event

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/idverify/idverify/shared/jsonshape"
)

// Detect classifies payload without decoding it fully. It looks at exact,
// case-sensitive top-level keys: encoding/json matches struct fields
// case-insensitively, and a direct payload such as {"Path": ...} must never be
// mistaken for an HTTP event. Rules, first match wins:
//
//   - not a JSON object                                  → Direct
//   - requestContext.elb                                 → ALB / ALBMultiValue (multiValueHeaders present)
//   - version "2.0" and requestContext.http              → LambdaFunctionURL when requestContext.domainName
//     is a *.lambda-url.* host or routeKey is absent, else APIGatewayV2
//   - httpMethod and (queryString or requestContext.serviceId) → SCFAPIGateway when requestContext is
//     present, else SCFFunctionURL
//   - httpMethod and (resource, multiValueHeaders or requestContext.apiId/resourceId) → APIGatewayV1
//   - httpMethod, path and headers (no requestContext)   → SCFFunctionURL, the minimal documented shape
//   - anything else                                      → Direct
func Detect(payload []byte) Kind {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return Direct
	}
	// One pass over the members, keeping only the values the rules read
	// (slices of payload): a map of every member would copy the body, which
	// may be megabytes, before the event is decoded for real.
	top := map[string]json.RawMessage{}
	if !jsonshape.Members(payload, keep(top, "requestContext", "multiValueHeaders", "version", "routeKey",
		"httpMethod", "queryString", "resource", "path", "headers")) {
		return Direct
	}
	rc := map[string]json.RawMessage{}
	hasRC := isObject(top["requestContext"]) && jsonshape.Members(top["requestContext"],
		keep(rc, "elb", "http", "domainName", "serviceId", "apiId", "resourceId"))
	return classify(top, rc, hasRC)
}

// classify applies Detect's rules to the event's top-level members and, when
// requestContext is an object (hasRC), to its members.
func classify(top, rc map[string]json.RawMessage, hasRC bool) Kind {
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

// keep returns a jsonshape.Members callback that records the members named
// in m (the last of duplicates, as encoding/json keeps).
func keep(m map[string]json.RawMessage, names ...string) func(name, value []byte) bool {
	return func(name, value []byte) bool {
		for _, n := range names {
			if string(name) == n {
				m[n] = value
				break
			}
		}
		return true
	}
}

func has(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func stringField(m map[string]json.RawMessage, k string) string {
	var s string
	if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}
