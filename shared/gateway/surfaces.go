package gateway

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

const faceidPrefix = "/v1/faceid/"

// IdempotencyHeader names the header that makes a retried request return
// the first answer.
const IdempotencyHeader = "Idempotency-Key"

// serveFaceID is surface 1: POST /v1/faceid/<Action>, FaceID envelope, HTTP
// status from the error kind.
func (g *Gateway) serveFaceID(ctx context.Context, req *Request) (*Response, event) {
	action := strings.TrimPrefix(req.Path, faceidPrefix)
	ev := event{surface: "faceid", action: action}
	fail := func(o outcome, err error) (*Response, event) {
		e := errs.As(err)
		ev = ev.done(o)
		return markReplay(g.faceIDError(req.RequestID, e), o), ev.failed(e)
	}
	if req.Method != http.MethodPost {
		resp, ev := fail(outcome{}, errs.E(errs.Invalid, "UnsupportedProtocol", "use POST with a JSON body"))
		resp.Status = http.StatusMethodNotAllowed
		resp.Header.Set("Allow", http.MethodPost)
		return resp, ev
	}
	if err := g.resolve(action); err != nil {
		return fail(outcome{}, err)
	}
	if err := checkJSONContentType(req.Header.Get("Content-Type"), true); err != nil {
		resp, ev := fail(outcome{}, err)
		resp.Status = http.StatusUnsupportedMediaType
		return resp, ev
	}
	caller, err := g.opts.Auth.Authenticate(ctx, req, action)
	if err != nil {
		return fail(outcome{}, err)
	}
	ev.caller = caller.ID
	o, err := g.execute(ctx, call{caller: caller, action: action, params: req.Body, requestID: req.RequestID,
		idemKey: req.Header.Get(IdempotencyHeader)})
	if err != nil {
		return fail(o, err)
	}
	return markReplay(resultResponse(o.res), o), ev.done(o)
}

// markReplay tells the caller the answer is the stored first one.
func markReplay(resp *Response, o outcome) *Response {
	if o.replayed {
		resp.Header.Set("Idempotent-Replayed", "true")
	}
	return resp
}

// checkJSONContentType accepts application/json (any charset spelling of
// UTF-8) and, where lenient, no Content-Type at all or curl -d's default
// form type: the body is decoded strictly as JSON whatever the label says,
// so the label cannot change how it is read. Anything else (multipart, XML,
// text) is refused before the body is looked at.
func checkJSONContentType(ct string, lenient bool) error {
	if strings.TrimSpace(ct) == "" {
		if lenient {
			return nil
		}
		return errs.E(errs.Invalid, "InvalidParameter", "missing Content-Type: send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && lenient && mt == "application/x-www-form-urlencoded" {
		return nil
	}
	if err != nil || mt != "application/json" {
		return errs.E(errs.Invalid, "UnsupportedMediaType", "Content-Type %q is not accepted: send application/json", truncate(ct, 64))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return errs.E(errs.Invalid, "UnsupportedMediaType", "charset %q is not accepted: the body must be UTF-8", truncate(cs, 32))
	}
	return nil
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
	fail := func(o outcome, err error) (*Response, event) {
		e := errs.As(err)
		ev = ev.done(o)
		return markReplay(&Response{Status: http.StatusOK, Header: http.Header{}, Body: errorBody(req.RequestID, e)}, o), ev.failed(e)
	}
	if req.Method != http.MethodPost {
		return fail(outcome{}, errs.E(errs.Invalid, "UnsupportedProtocol", "the API 3.0 form is served as POST with a JSON body"))
	}
	if err := checkJSONContentType(req.Header.Get("Content-Type"), false); err != nil {
		e := errs.As(err)
		return fail(outcome{}, errs.E(errs.Invalid, "InvalidParameter", "%s", e.Message)) // Tencent's code for a bad request shape
	}
	if v := req.Header.Get("X-TC-Version"); v != faceid.Version {
		if v == "" {
			return fail(outcome{}, errs.E(errs.Invalid, "MissingParameter", "missing header X-TC-Version (2018-03-01)"))
		}
		return fail(outcome{}, errs.E(errs.Invalid, "NoSuchVersion", "version %q is not served: use 2018-03-01", truncate(v, 32)))
	}
	if err := g.resolve(action); err != nil {
		return fail(outcome{}, err)
	}
	caller, err := g.opts.Auth.Authenticate(ctx, req, action)
	if err != nil {
		return fail(outcome{}, err)
	}
	ev.caller = caller.ID
	o, err := g.execute(ctx, call{caller: caller, action: action, params: req.Body, requestID: req.RequestID,
		idemKey: req.Header.Get(IdempotencyHeader)})
	if err != nil {
		return fail(o, err)
	}
	return markReplay(resultResponse(o.res), o), ev.done(o)
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
