package dispatch

import (
	"encoding/json"
	"net/http"

	"github.com/idverify/idverify/shared/gateway"
)

// ErrorResponse is the answer the runtime itself gives when it cannot hand a
// request to the gateway (malformed platform event, body too large, handler
// panic). It uses the FaceID envelope of the /v1 surface, which is what
// callers of an HTTP endpoint parse.
func ErrorResponse(status int, code, message, requestID string) *gateway.Response {
	type errBody struct {
		Code    string
		Message string
	}
	var env struct {
		Response struct {
			Error     errBody
			RequestId string // FaceID spells it this way
		}
	}
	env.Response.Error = errBody{Code: code, Message: message}
	env.Response.RequestId = requestID
	b, _ := json.Marshal(env) // strings only: cannot fail
	return &gateway.Response{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   b,
	}
}
