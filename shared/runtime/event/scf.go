package event

import (
	"encoding/json"
	"net/http"

	"github.com/idverify/idverify/shared/gateway"
)

// scfEvent covers both SCF HTTP shapes. The Function URL event is documented
// as the API Gateway event minus headerParameters, isBase64Encoded,
// pathParameters, queryStringParameters and requestContext, with the client
// address in the x-scf-remote-addr header (cloud.tencent.com/document/product/583/96099).
// Header names arrive lowercased.
type scfEvent struct {
	HTTPMethod      string      `json:"httpMethod"`
	Path            string      `json:"path"`
	Headers         scfValues   `json:"headers"`
	QueryString     scfValues   `json:"queryString"`
	Body            string      `json:"body"`
	IsBase64Encoded bool        `json:"isBase64Encoded"`
	RequestContext  *scfContext `json:"requestContext"`
}

// scfContext is the legacy API Gateway requestContext. Its path and
// httpMethod describe the configured API (a template, method may be ANY), not
// the request, so only the id and the client address are used.
type scfContext struct {
	ServiceID string `json:"serviceId"`
	RequestID string `json:"requestId"`
	SourceIP  string `json:"sourceIp"`
	Stage     string `json:"stage"`
}

const scfRemoteAddr = "X-Scf-Remote-Addr"

func fromSCF(payload []byte, kind Kind) (*gateway.Request, error) {
	var e scfEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	body, err := decodeBody(e.Body, e.IsBase64Encoded)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(e.Headers))
	for k, v := range e.Headers {
		for _, s := range v.vals {
			h.Add(k, s)
		}
	}
	req := &gateway.Request{
		Method:   e.HTTPMethod,
		Path:     e.Path,
		RawQuery: e.QueryString.rawQuery(),
		Header:   h,
		Body:     body,
	}
	var rcIP string
	if e.RequestContext != nil {
		req.RequestID = e.RequestContext.RequestID
		rcIP = e.RequestContext.SourceIP
	}
	// Each shape trusts the field its platform writes: the gateway's
	// requestContext.sourceIp for API Gateway, the header the Function URL
	// front end sets for Function URL. The other is only a fallback.
	if kind == SCFAPIGateway {
		req.SourceIP = firstNonEmpty(rcIP, h.Get(scfRemoteAddr))
	} else {
		req.SourceIP = firstNonEmpty(h.Get(scfRemoteAddr), rcIP)
	}
	return req, nil
}

// scfResponse is the integration response both SCF HTTP triggers accept.
// Its headers map cannot repeat a key, so repeated headers are joined.
type scfResponse struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

func toSCF(resp *gateway.Response) any {
	body, b64 := encodeBody(resp.Body)
	return scfResponse{
		IsBase64Encoded: b64,
		StatusCode:      status(resp),
		Headers:         joinedValues(resp.Header, ""),
		Body:            body,
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
