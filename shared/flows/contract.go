package flows

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Actions of the flows contract. "flows/" actions are self-service: every
// caller may call them and sees only what it owns.
const (
	ActionReturn    = "flows/return"
	ActionGet       = "flows/get"
	ActionList      = "flows/webhooks/list"
	ActionRedeliver = "flows/webhooks/redeliver"
	ActionSweep     = "flows/sweep"
)

// Prefix is the flows routes' path prefix.
const Prefix = "/v1/flows/"

// Contract serves the flows' routes through the pipeline.
type Contract struct {
	svc  *Service
	mode string
}

var _ gateway.Contract = (*Contract)(nil)

// NewContract serves svc; mode marks its answers ("live" or "sandbox").
func NewContract(svc *Service, mode string) *Contract { return &Contract{svc: svc, mode: mode} }

func (c *Contract) Name() string { return "flows" }
func (c *Contract) Mode() string { return c.mode }

func (c *Contract) Routes() []string {
	return []string{"GET /v1/flows/<id>", "GET /v1/flows/<id>/return", "GET /v1/flows/webhooks", "POST /v1/flows/webhooks/<eventId>/redeliver"}
}

func (c *Contract) Health() map[string]any {
	return map[string]any{"webhookEndpoints": len(c.svc.o.Endpoints), "returnRoutes": c.svc.o.PublicURL != ""}
}

func methodNotAllowed(action string, allow ...string) gateway.Op {
	return gateway.Op{Action: action, Surface: "flows", JSON: gateway.NoBody,
		Err:    errs.E(errs.Invalid, "UnsupportedMethod", "use %s", strings.Join(allow, " or ")),
		Status: http.StatusMethodNotAllowed, Header: http.Header{"Allow": {strings.Join(allow, ", ")}}}
}

func (c *Contract) Route(req *gateway.Request) (gateway.Op, bool) {
	rest, ok := strings.CutPrefix(req.Path, Prefix)
	if !ok {
		return gateway.Op{}, false
	}
	get := req.Method == http.MethodGet || req.Method == http.MethodHead
	parts := strings.Split(rest, "/")
	op := gateway.Op{Surface: "flows", JSON: gateway.NoBody, MaxBody: 1 << 10}
	switch {
	case len(parts) == 1 && parts[0] == "webhooks":
		if !get {
			return methodNotAllowed(ActionList, "GET"), true
		}
		op.Action = ActionList
	case len(parts) == 3 && parts[0] == "webhooks" && parts[2] == "redeliver":
		if req.Method != http.MethodPost {
			return methodNotAllowed(ActionRedeliver, "POST"), true
		}
		op.Action, op.Data = ActionRedeliver, parts[1]
	case len(parts) == 2 && parts[1] == "return":
		if !get {
			return methodNotAllowed(ActionReturn, "GET"), true
		}
		op.Action, op.Data, op.Public = ActionReturn, parts[0], true
	case len(parts) == 1 && parts[0] != "":
		if !get {
			return methodNotAllowed(ActionGet, "GET"), true
		}
		op.Action, op.Data = ActionGet, parts[0]
	default:
		op.Err = errs.E(errs.NotFound, "InvalidAction", "no flows route %s %s: %s", truncate(req.Method, 16), truncate(req.Path, 128), strings.Join(c.Routes(), ", "))
	}
	return op, true
}

func (c *Contract) RouteInvoke(action string, m map[string]json.RawMessage) (gateway.Op, bool) {
	op := gateway.Op{Action: action, Surface: "invoke", MaxBody: 1 << 10}
	switch action {
	case ActionGet:
		op.Data = stringMember(m, "FlowId")
		if op.Data == "" {
			op.Data = tokenRef{stringMember(m, "Token")}
		}
	case ActionRedeliver:
		op.Data = stringMember(m, "EventId")
	case ActionList:
		op.Data = stringMember(m, "State")
	case ActionSweep:
		op.Control = true
	default:
		return gateway.Op{}, false
	}
	return op, true
}

// tokenRef asks for a flow by its provider token (a workflow knows the
// BizToken it was given, not the flow id, which travels in a header).
type tokenRef struct{ token string }

func stringMember(m map[string]json.RawMessage, name string) string {
	var s string
	_ = json.Unmarshal(m[name], &s)
	return s
}

func notFound(what string) error {
	return errs.E(errs.NotFound, "ResourceNotFound.Flow", "%s is unknown to this caller, or has expired", what)
}

// owns says whether caller may see f: its creator, or a direct invocation
// (the platform's IAM let the operator's own workflow in).
func owns(caller *gateway.Caller, f *Flow) bool {
	return caller != nil && (caller.ID == f.Caller || caller.ID == "invoke")
}

func (c *Contract) Call(ctx context.Context, call *gateway.Call) (*gateway.Answer, error) {
	id, _ := call.Op.Data.(string)
	if ref, ok := call.Op.Data.(tokenRef); ok && ref.token != "" {
		var err error
		if id, err = c.svc.ByToken(ctx, ref.token); err != nil {
			return nil, storeErr(err)
		}
	}
	switch call.Op.Action {
	case ActionReturn:
		return c.returned(ctx, id, call.RawQuery)
	case ActionGet:
		f, err := c.svc.Get(ctx, id)
		if err != nil {
			return nil, storeErr(err)
		}
		if f == nil || !owns(call.Caller, f) {
			return nil, notFound("flow " + truncate(id, 40))
		}
		if !f.Done() {
			if g, err := c.svc.Advance(ctx, id, false); err == nil && g != nil {
				f = g
			}
		}
		return jsonAnswer(map[string]any{"flow": f}, f.Sandbox, f.State)
	case ActionList:
		state := id
		if q, err := url.ParseQuery(call.RawQuery); err == nil && q.Get("state") != "" {
			state = q.Get("state")
		}
		switch state {
		case "", DeliveryPending, DeliveryDelivered, DeliveryFailed:
		default:
			return nil, errs.E(errs.Invalid, "InvalidParameterValue", "state: want pending, delivered or failed (or none for all)")
		}
		ds, err := c.svc.Deliveries(ctx, call.Caller.ID, state)
		if err != nil {
			return nil, storeErr(err)
		}
		return jsonAnswer(map[string]any{"deliveries": ds}, false, "")
	case ActionRedeliver:
		ds, err := c.svc.Redeliver(ctx, call.Caller.ID, id)
		if err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return nil, err
			}
			return nil, storeErr(err)
		}
		return jsonAnswer(map[string]any{"deliveries": ds}, false, "")
	case ActionSweep:
		r, err := c.svc.Sweep(ctx)
		if err != nil {
			return nil, storeErr(err)
		}
		return jsonAnswer(r, false, "")
	}
	return nil, errs.E(errs.NotFound, "InvalidAction", "no such flows action")
}

func storeErr(err error) error {
	return errs.Wrap(err, errs.Unavailable, "InternalError.FlowStoreUnavailable", "the flow store could not be reached; retry later")
}

func jsonAnswer(v any, sandbox bool, code string) (*gateway.Answer, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "flows: encode")
	}
	return &gateway.Answer{Body: append(b, '\n'), Sandbox: sandbox, Code: code}, nil
}

// returned is the return route: the browser is back from the provider's
// page. The result is pulled now (so the caller's page can show it at
// once), the webhooks go out, and the browser goes on to the caller's URL
// with the flow id only: never a result, never a token.
func (c *Contract) returned(ctx context.Context, id, rawQuery string) (*gateway.Answer, error) {
	f, err := c.svc.Get(ctx, id)
	if err != nil {
		return nil, storeErr(err)
	}
	if f == nil {
		return nil, notFound("this verification link")
	}
	q, _ := url.ParseQuery(rawQuery)
	for _, name := range []string{"token", "BizToken", "EidToken", "verify_token"} {
		if v := q.Get(name); v != "" && f.Token != "" && v != f.Token {
			return nil, errs.E(errs.Invalid, "InvalidParameterValue", "this link does not belong to this verification")
		}
	}
	if !f.Done() {
		if g, err := c.svc.Advance(ctx, id, true); err == nil && g != nil {
			f = g
		}
	}
	ans := &gateway.Answer{Code: f.State, Sandbox: f.Sandbox, Header: map[string]string{}}
	if f.ReturnTo != "" {
		ans.Header["Location"] = withParam(f.ReturnTo, "idv_flow", f.ID)
		return ans, nil
	}
	ans.Body = page("Verification finished", "You can close this page and go back to the app.")
	return ans, nil
}

// withParam adds name=value to u's query, keeping what is there.
func withParam(u, name, value string) string {
	base, frag, _ := strings.Cut(u, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	out := base + sep + url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if frag != "" {
		out += "#" + frag
	}
	return out
}

// page is a small HTML page. html.EscapeString, not html/template: a
// function that starts flows should not carry a template engine for two
// sentences.
func page(title, text string) []byte {
	t, x := html.EscapeString(title), html.EscapeString(text)
	return []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + t + `</title></head>
<body><main><h1>` + t + `</h1><p>` + x + `</p></main></body></html>
`)
}

// csp allows nothing but the page's own markup.
const csp = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (c *Contract) Render(op gateway.Op, ans *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	h := http.Header{}
	if op.Action == ActionReturn && op.Err == nil {
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Type", "text/html; charset=utf-8")
		if e != nil {
			title := "This verification link does not work"
			if e.Kind != errs.NotFound && e.Kind != errs.Invalid {
				title = "Something went wrong; please try again"
			}
			return &gateway.Response{Status: e.Kind.HTTPStatus(), Header: h,
				Body: page(title, "Go back to the app and start again. (request "+requestID+")")}
		}
		if loc := ans.Header["Location"]; loc != "" {
			h.Set("Location", loc)
			return &gateway.Response{Status: http.StatusSeeOther, Header: h}
		}
		return &gateway.Response{Status: http.StatusOK, Header: h, Body: ans.Body}
	}
	if e != nil {
		b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.Code, "message": e.PublicMessage()}, "requestId": requestID})
		return &gateway.Response{Status: e.Kind.HTTPStatus(), Header: h, Body: b}
	}
	return &gateway.Response{Status: http.StatusOK, Header: h, Body: ans.Body}
}

func (c *Contract) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }
