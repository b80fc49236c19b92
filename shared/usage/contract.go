package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Path serves the report.
const Path = "/v1/usage"

// Action is the caller permission that lets a caller read the report (of
// every caller): list "usage" in its actions in IDV_CALLERS. "*" does not
// include it.
const Action = "usage"

// Contract serves GET /v1/usage through the pipeline, so caller auth
// applies like on any route. It is not a provider: it makes no call, and
// is left out of /healthz and the sandbox tables (gateway.Auxiliary).
type Contract struct {
	store  Reader
	prices Prices
	mode   string
	now    func() time.Time
}

// NewContract serves reports of store, priced by prices, marked with the
// function's mode.
func NewContract(store Reader, prices Prices, mode string) *Contract {
	return &Contract{store: store, prices: prices, mode: mode, now: time.Now}
}

var _ gateway.Contract = (*Contract)(nil)

// Name implements gateway.Contract.
func (c *Contract) Name() string { return "usage" }

// Mode implements gateway.Contract.
func (c *Contract) Mode() string { return c.mode }

// Auxiliary implements gateway.Auxiliary.
func (c *Contract) Auxiliary() bool { return true }

// Route implements gateway.Contract: GET /v1/usage?from=&to=&by=&caller=&action=.
func (c *Contract) Route(req *gateway.Request) (gateway.Op, bool) {
	if req.Path != Path {
		return gateway.Op{}, false
	}
	op := gateway.Op{Action: Action, Surface: "usage", JSON: gateway.NoBody, Control: true}
	if req.Method != http.MethodGet {
		op.Err = errs.E(errs.Invalid, "UnsupportedProtocol", "use GET")
		op.Status = http.StatusMethodNotAllowed
		op.Header = http.Header{"Allow": {http.MethodGet}}
		return op, true
	}
	v, err := url.ParseQuery(req.RawQuery)
	if err != nil {
		op.Err = errs.E(errs.Invalid, "InvalidParameter", "the query string is not valid")
		return op, true
	}
	q, err := ParseQuery(v.Get("from"), v.Get("to"), v.Get("by"), v.Get("caller"), v.Get("action"), c.now())
	if err != nil {
		op.Err = errs.E(errs.Invalid, "InvalidParameter", "%s", err.Error())
		return op, true
	}
	op.Data = q
	return op, true
}

// RouteInvoke implements gateway.Contract: the report is not invocable.
func (c *Contract) RouteInvoke(string, map[string]json.RawMessage) (gateway.Op, bool) {
	return gateway.Op{}, false
}

// Call implements gateway.Contract.
func (c *Contract) Call(ctx context.Context, call *gateway.Call) (*gateway.Answer, error) {
	q, ok := call.Op.Data.(Query)
	if !ok {
		return nil, errs.E(errs.Internal, "", "usage: no query")
	}
	rep, err := Build(ctx, c.store, q, c.prices, nil)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "UsageStoreUnavailable", "the usage store could not be read")
	}
	var b bytes.Buffer
	if err := rep.JSON(&b); err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "encode the report")
	}
	return &gateway.Answer{Body: b.Bytes()}, nil
}

// Render implements gateway.Contract.
func (c *Contract) Render(_ gateway.Op, ans *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	if e == nil {
		return &gateway.Response{Status: http.StatusOK, Header: h, Body: ans.Body}
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.Code, "message": e.PublicMessage()}, "requestId": requestID})
	return &gateway.Response{Status: e.Kind.HTTPStatus(), Header: h, Body: b}
}

// Output implements gateway.Contract.
func (c *Contract) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }
