package event

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/idverify/idverify/shared/gateway"
)

// fromALB converts an ALB target-group event. ALB does not decode query
// parameters, so they are joined as they came. It has no request id and no
// source-address field: the client is the last X-Forwarded-For entry, the one
// the load balancer appended itself.
func fromALB(payload []byte) (*gateway.Request, error) {
	var e events.ALBTargetGroupRequest
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	body, err := decodeBody(e.Body, e.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	h := mergeHeaders(e.Headers, e.MultiValueHeaders)
	return &gateway.Request{
		Method:   e.HTTPMethod,
		Path:     e.Path,
		RawQuery: rawJoin(e.QueryStringParameters, e.MultiValueQueryStringParameters),
		Header:   h,
		Body:     body,
		SourceIP: lastForwardedFor(h),
	}, nil
}

// toALB answers in the header map the target group is configured for: ALB
// rejects a response that uses the other one.
func toALB(resp *gateway.Response, multi bool) any {
	body, b64 := encodeBody(resp.Body)
	code := status(resp)
	r := events.ALBTargetGroupResponse{
		StatusCode:        code,
		StatusDescription: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Body:              body,
		IsBase64Encoded:   b64,
	}
	if multi {
		r.MultiValueHeaders = resp.Header
		if r.MultiValueHeaders == nil {
			r.MultiValueHeaders = map[string][]string{}
		}
	} else {
		r.Headers = joinedValues(resp.Header, "")
	}
	return r
}
