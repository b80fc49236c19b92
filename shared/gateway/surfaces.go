package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

const faceidPrefix = "/v1/faceid/"

// serveFaceID is surface 1: POST /v1/faceid/<Action>, FaceID envelope, HTTP
// status from the error kind.
func (g *Gateway) serveFaceID(ctx context.Context, req *Request) (*Response, event) {
	action := strings.TrimPrefix(req.Path, faceidPrefix)
	ev := event{surface: "faceid", action: action}
	if req.Method != http.MethodPost {
		e := errs.E(errs.Invalid, "UnsupportedProtocol", "use POST with a JSON body")
		resp := g.faceIDError(req.RequestID, e)
		resp.Status = http.StatusMethodNotAllowed
		resp.Header.Set("Allow", http.MethodPost)
		return resp, ev.failed(e)
	}
	if err := g.resolve(action); err != nil {
		return g.faceIDError(req.RequestID, errs.As(err)), ev.failed(err)
	}
	caller, err := g.opts.Auth.Authenticate(ctx, req, action)
	if err != nil {
		return g.faceIDError(req.RequestID, errs.As(err)), ev.failed(err)
	}
	ev.caller = caller.ID
	res, err := g.run(ctx, action, req.Body, req.RequestID)
	if err != nil {
		return g.faceIDError(req.RequestID, errs.As(err)), ev.failed(err)
	}
	return resultResponse(res), ev.done(res)
}

func (g *Gateway) faceIDError(requestID string, e *errs.Error) *Response {
	return &Response{Status: e.Kind.HTTPStatus(), Header: http.Header{}, Body: errorBody(requestID, e)}
}

// serveTencentAPI is surface 2: the Tencent Cloud API 3.0 wire form, so any
// Tencent SDK or tccli works by changing its endpoint. Like Tencent, it
// answers HTTP 200 with Response.Error on failure, which is what SDKs parse.
func (g *Gateway) serveTencentAPI(ctx context.Context, req *Request) (*Response, event) {
	action := req.Header.Get("X-TC-Action")
	ev := event{surface: "tcapi", action: action}
	fail := func(err error) (*Response, event) {
		e := errs.As(err)
		return &Response{Status: http.StatusOK, Header: http.Header{}, Body: errorBody(req.RequestID, e)}, ev.failed(e)
	}
	if req.Method != http.MethodPost {
		return fail(errs.E(errs.Invalid, "UnsupportedProtocol", "the API 3.0 form is served as POST with a JSON body"))
	}
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return fail(errs.E(errs.Invalid, "InvalidParameter", "Content-Type must be application/json"))
	}
	if v := req.Header.Get("X-TC-Version"); v != faceid.Version {
		if v == "" {
			return fail(errs.E(errs.Invalid, "MissingParameter", "missing header X-TC-Version (2018-03-01)"))
		}
		return fail(errs.E(errs.Invalid, "NoSuchVersion", "version %q is not served: use 2018-03-01", truncate(v, 32)))
	}
	if err := g.resolve(action); err != nil {
		return fail(err)
	}
	caller, err := g.opts.Auth.Authenticate(ctx, req, action)
	if err != nil {
		return fail(err)
	}
	ev.caller = caller.ID
	res, err := g.run(ctx, action, req.Body, req.RequestID)
	if err != nil {
		return fail(err)
	}
	return resultResponse(res), ev.done(res)
}

func (g *Gateway) serveScenarios(req *Request) *Response {
	if req.Method != http.MethodGet {
		return g.faceIDError(req.RequestID, errs.E(errs.Invalid, "UnsupportedProtocol", "use GET"))
	}
	if g.opts.Scenarios == nil {
		return g.faceIDError(req.RequestID, errs.E(errs.NotFound, "ResourceNotFound", "this build has no sandbox"))
	}
	return jsonResponse(http.StatusOK, map[string]any{"scenarios": g.opts.Scenarios()})
}

func (g *Gateway) serveInfo(req *Request) *Response {
	return jsonResponse(http.StatusOK, map[string]any{
		"status":   "ok",
		"mode":     g.opts.Mode,
		"provider": g.opts.Service.Provider.Name(),
		"actions":  g.Actions(),
	})
}
