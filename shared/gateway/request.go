package gateway

import (
	"context"
	"io"
	"net/http"
)

// Request is the one request type every runtime adapter produces, whatever
// the platform event looked like (Lambda REST v1, HTTP API v2, ALB, Function
// URL, SCF Function URL or legacy API Gateway, plain net/http).
type Request struct {
	Method   string
	Path     string // without query string, e.g. /v1/faceid/IdCardVerification
	RawQuery string
	Header   http.Header // canonical keys (http.Header.Get works)
	// Body is the body when the platform delivered it in memory (every
	// event shape), already base64-decoded.
	Body []byte
	// BodyReader is a body not read yet (a plain HTTP server). The pipeline
	// reads it only once the route is known, the caller has passed every
	// check the headers allow, and never past the route's own cap, so an
	// outsider cannot make a function buffer more than that.
	BodyReader io.Reader
	// ContentLength is the declared length of BodyReader, -1 when unknown.
	ContentLength int64
	SourceIP      string
	RequestID     string // the platform's request id; generated when empty
}

// Response is what the pipeline answers; adapters map it back to the
// platform's response shape.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Handler is what a runtime adapter drives.
type Handler interface {
	// ServeRequest answers one HTTP-shaped request. It never returns nil.
	ServeRequest(ctx context.Context, req *Request) *Response
	// Invoke answers a direct invocation (Step Functions, ASW, SDK invoke):
	// the request object in, the response object out. A failure is an
	// *errs.Error whose Kind.String() is the workflow error type.
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}
