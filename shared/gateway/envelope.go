package gateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/service"
)

// errorEnvelope is Tencent's error shape: {"Response":{"Error":{...},"RequestId":"..."}}.
type errorEnvelope struct {
	Response struct {
		Error struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"Error"`
		RequestId string `json:"RequestId"`
	} `json:"Response"`
}

func errorBody(requestID string, e *errs.Error) []byte {
	var env errorEnvelope
	env.Response.Error.Code = e.Code
	env.Response.Error.Message = e.PublicMessage()
	env.Response.RequestId = requestID
	if e.RequestID != "" {
		env.Response.RequestId = e.RequestID
	}
	b, _ := json.Marshal(env)
	return b
}

// successBody wraps the inner object without re-encoding it, so every field
// the provider returned reaches the caller byte for byte.
func successBody(inner json.RawMessage) []byte {
	b := make([]byte, 0, len(inner)+14)
	b = append(b, `{"Response":`...)
	b = append(b, inner...)
	return append(b, '}')
}

func resultResponse(res *service.Result) *Response {
	h := http.Header{}
	h.Set("X-Idv-Source", string(res.Source))
	if res.Rule != "" {
		h.Set("X-Idv-Precheck", headerSafe(res.Rule))
	}
	return &Response{Status: http.StatusOK, Header: h, Body: successBody(res.Body)}
}

func jsonResponse(status int, v any) *Response {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return &Response{Status: http.StatusInternalServerError, Body: []byte(`{"error":"internal error"}`)}
	}
	return &Response{Status: status, Body: append(b, '\n')}
}

// headerSafe keeps a header value printable ASCII.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
