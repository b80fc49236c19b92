package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

type fakeHandler struct {
	serve  func(*gateway.Request) *gateway.Response
	invoke func([]byte) ([]byte, error)
	last   *gateway.Request
}

func (f *fakeHandler) ServeRequest(_ context.Context, r *gateway.Request) *gateway.Response {
	f.last = r
	return f.serve(r)
}

func (f *fakeHandler) Invoke(_ context.Context, p []byte) ([]byte, error) { return f.invoke(p) }

const scfURL = `{"httpMethod":"POST","path":"/v1/faceid/X","headers":{"x-scf-remote-addr":"1.2.3.4"},"queryString":{},"body":"{}"}`

func TestHandleHTTPEvent(t *testing.T) {
	h := &fakeHandler{serve: func(r *gateway.Request) *gateway.Response {
		return &gateway.Response{Status: 201, Body: []byte(`{"ok":true}`)}
	}}
	ctx := invocation.NewContext(context.Background(), invocation.Info{RequestID: "inv-1"})
	out, err := Handle(ctx, h, []byte(scfURL))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"isBase64Encoded":false,"statusCode":201,"headers":{},"body":"{\"ok\":true}"}` {
		t.Errorf("out %s", out)
	}
	if h.last.RequestID != "inv-1" {
		t.Errorf("RequestID %q, want the invocation's", h.last.RequestID)
	}
	// No invocation id either: one is generated.
	if _, err := Handle(context.Background(), h, []byte(scfURL)); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(h.last.RequestID) {
		t.Errorf("generated RequestID %q", h.last.RequestID)
	}
}

func TestHandleMalformedEvent(t *testing.T) {
	h := &fakeHandler{serve: func(*gateway.Request) *gateway.Response { t.Fatal("served"); return nil }}
	out, err := Handle(context.Background(), h, []byte(`{"httpMethod":"POST","path":"/","queryString":{},"body":"***","isBase64Encoded":true}`))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		StatusCode int
		Body       string
	}
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 400 || !strings.Contains(r.Body, `"Code":"InvalidParameter"`) {
		t.Errorf("got %s (%v)", out, err)
	}
}

func TestHandlePanicsAndNil(t *testing.T) {
	h := &fakeHandler{
		serve:  func(*gateway.Request) *gateway.Response { panic("boom 110101199003074477") },
		invoke: func([]byte) ([]byte, error) { panic(errors.New("boom")) },
	}
	out, err := Handle(context.Background(), h, []byte(scfURL))
	if err != nil || !strings.Contains(string(out), `"statusCode":500`) {
		t.Errorf("panic in ServeRequest: %s %v", out, err)
	}
	_, err = Handle(context.Background(), h, []byte(`{"IdCard":"1"}`))
	if f := FailureOf(err); f.Type != "Internal" || f.Message != "InternalError: internal error" {
		t.Errorf("panic in Invoke: %+v", f)
	}
	h.serve = func(*gateway.Request) *gateway.Response { return nil }
	out, _ = Handle(context.Background(), h, []byte(scfURL))
	if !strings.Contains(string(out), `"statusCode":500`) {
		t.Errorf("nil response: %s", out)
	}
}

func TestHandleDirect(t *testing.T) {
	h := &fakeHandler{invoke: func(p []byte) ([]byte, error) { return append([]byte("got:"), p...), nil }}
	out, err := Handle(context.Background(), h, []byte(`{"IdCard":"1"}`))
	if err != nil || string(out) != `got:{"IdCard":"1"}` {
		t.Errorf("%s %v", out, err)
	}
}

func TestFailureOf(t *testing.T) {
	cases := []struct {
		err  error
		want Failure
	}{
		{errs.E(errs.Throttled, "", "slow down"), Failure{"Throttled", "RequestLimitExceeded: slow down"}},
		{errs.E(errs.Invalid, "InvalidParameterValue.IdCard", "IdCard is not a valid ID number"), Failure{"InvalidInput", "InvalidParameterValue.IdCard: IdCard is not a valid ID number"}},
		{errs.E(errs.Internal, "", "db password is hunter2"), Failure{"Internal", "InternalError: internal error"}},
		{errors.New("plain"), Failure{"Internal", "InternalError: internal error"}},
		{errs.E(errs.Provider, "FailedOperation.IdNameMisMatch", ""), Failure{"ProviderError", "FailedOperation.IdNameMisMatch"}},
	}
	for _, c := range cases {
		if got := FailureOf(c.err); got != c.want {
			t.Errorf("FailureOf(%v) = %+v, want %+v", c.err, got, c.want)
		}
	}
	if got := string(cases[0].want.JSON()); got != `{"errorType":"Throttled","errorMessage":"RequestLimitExceeded: slow down"}` {
		t.Errorf("JSON %s", got)
	}
	for _, k := range errs.Kinds() {
		if FailureOf(errs.E(k, "", "m")).Type != k.String() {
			t.Errorf("kind %v", k)
		}
	}
}

func TestErrorResponse(t *testing.T) {
	r := ErrorResponse(413, "InvalidParameter.BodyTooLarge", "too big", "rid")
	if r.Status != 413 || r.Header.Get("Content-Type") != "application/json" ||
		string(r.Body) != `{"Response":{"Error":{"Code":"InvalidParameter.BodyTooLarge","Message":"too big"},"RequestId":"rid"}}` {
		t.Errorf("%d %v %s", r.Status, r.Header, r.Body)
	}
}

// TestHandleTimer: an SCF timer event invokes with its argument; a timer
// whose argument is not a JSON object is refused before the handler runs.
func TestHandleTimer(t *testing.T) {
	var got []byte
	h := &fakeHandler{invoke: func(p []byte) ([]byte, error) { got = p; return []byte(`{"ok":true}`), nil }}
	out, err := Handle(context.Background(), h, []byte(`{"Type":"Timer","TriggerName":"flows-sweep","Time":"2026-12-02T05:26:00Z","Message":"{\"Action\":\"flows/sweep\"}"}`))
	if err != nil || string(out) != `{"ok":true}` || string(got) != `{"Action":"flows/sweep"}` {
		t.Errorf("timer: invoked with %q, answered %s %v", got, out, err)
	}
	got = nil
	_, err = Handle(context.Background(), h, []byte(`{"Type":"Timer","TriggerName":"flows-sweep","Time":"2026-12-02T05:26:00Z","Message":""}`))
	if f := FailureOf(err); got != nil || f.Type != "InvalidInput" || !strings.Contains(f.Message, `timer trigger "flows-sweep" has no argument`) {
		t.Errorf("timer without an argument: invoked with %q, failure %+v", got, f)
	}
}
