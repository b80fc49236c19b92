package tencent

import (
	"encoding/json"
	"errors"
	"net/http"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// The SDK's CommonRequest and CommonResponse (default build) decode JSON into
// map[string]interface{}: numbers become float64 (9007199254740993 turns into
// ...992) and key order is lost. These two types carry the bytes instead, so
// a call forwards the caller's parameters and returns FaceID's answer as is.

// rawRequest is an SDK request whose JSON body is params. The SDK marshals
// the request with its json package, which uses MarshalJSON (and compacts the
// output, escaping <, > and & as \u003c... — the same JSON values).
//
// It must not have a ClientToken field: the SDK's network-failure retry only
// applies to requests that have one.
type rawRequest struct {
	*tchttp.BaseRequest
	params json.RawMessage
}

func newRawRequest(action string, params json.RawMessage) *rawRequest {
	r := &rawRequest{BaseRequest: &tchttp.BaseRequest{}, params: params}
	r.Init().WithApiInfo(service, version, action)
	return r
}

func (r *rawRequest) MarshalJSON() ([]byte, error) { return r.params, nil }

// rawResponse keeps the whole response body. The SDK has already turned a
// Response.Error into an error before it decodes into the response.
type rawResponse struct {
	tchttp.BaseResponse
	body []byte
}

func (r *rawResponse) UnmarshalJSON(b []byte) error {
	r.body = append([]byte(nil), b...)
	return nil
}

// statusKey marks a call's context with where to record the HTTP status.
type statusKey struct{}

// statusTransport records the HTTP status of each call in the *int its
// context carries (the SDK discards it before it reaches us), and refuses
// redirects: following a 307 would send a charged action a second time, to
// a host we did not choose.
type statusTransport struct{ next http.RoundTripper }

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if p, ok := r.Context().Value(statusKey{}).(*int); ok {
		*p = resp.StatusCode
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		return nil, errRedirect
	}
	return resp, nil
}

var errRedirect = errors.New("redirect refused")
