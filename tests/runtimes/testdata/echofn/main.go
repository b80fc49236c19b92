// Command echofn is the test function of tests/runtimes: runtime.Main with a
// handler that echoes what the runtime handed it, so the protocol tests can
// check every field that crossed the platform boundary. Behaviour is chosen
// by the request (paths, "op" of a direct payload) and by a few ECHOFN_*
// variables; none of it belongs in a real function.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

func main() {
	opts := runtime.Options{Banner: "echofn: idverify runtime test function"}
	if n, err := strconv.ParseInt(os.Getenv("ECHOFN_MAX_BODY"), 10, 64); err == nil {
		opts.MaxBody = n
	}
	if os.Getenv("ECHOFN_FAIL_INIT") != "" {
		runtime.Fail(errs.E(errs.Unavailable, "", "secret store unreachable"), opts)
	}
	runtime.Main(echo{}, opts)
}

type echo struct{}

// Echo is what ServeRequest answers, as JSON.
type Echo struct {
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RawQuery   string      `json:"rawQuery"`
	Header     http.Header `json:"header"`
	Body       string      `json:"body"`
	SourceIP   string      `json:"sourceIP"`
	RequestID  string      `json:"requestID"`
	Platform   string      `json:"platform"`
	DeadlineMs int64       `json:"deadlineMs"`
}

func (echo) ServeRequest(ctx context.Context, r *gateway.Request) *gateway.Response {
	switch r.Path {
	case "/binary":
		return &gateway.Response{Status: 200, Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: []byte{0xff, 0x00, 0xfe}}
	case "/cookies":
		return &gateway.Response{Status: 204, Header: http.Header{"Set-Cookie": {"a=1", "b=2"}}}
	case "/slow":
		ms, _ := strconv.Atoi(r.Header.Get("X-Sleep-Ms"))
		os.Stderr.WriteString("echofn: slow request started\n") // tests wait for it
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "/panic":
		panic("echofn: panic requested")
	}
	// The adapter hands the body over unread, capped at the platform's
	// ceiling; a body past it fails here, as it would in the pipeline.
	if err := gateway.ReadBody(r, 16<<20); err != nil {
		return dispatch.ErrorResponse(http.StatusRequestEntityTooLarge, "InvalidParameter.BodyTooLarge", "request body too large", r.RequestID)
	}
	info := invocation.FromContext(ctx)
	b, _ := json.Marshal(Echo{
		Method: r.Method, Path: r.Path, RawQuery: r.RawQuery, Header: r.Header, Body: string(r.Body),
		SourceIP: r.SourceIP, RequestID: r.RequestID, Platform: info.Platform, DeadlineMs: deadlineMs(ctx),
	})
	return &gateway.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

// Op is a direct-invocation payload understood by Invoke; any other payload
// is echoed back as {"invoked": payload}.
type Op struct {
	Op   string `json:"op"`   // error | deadline | panic | env
	Kind string `json:"kind"` // for error: an errs kind name
	Code string `json:"code"` // for error
	Name string `json:"name"` // for env: a variable name
}

// Info is the answer to {"op":"deadline"}.
type Info struct {
	DeadlineMs    int64  `json:"deadlineMs"`
	RequestID     string `json:"requestID"`
	Platform      string `json:"platform"`
	MemoryLimitMB int    `json:"memoryLimitMB"`
}

func (echo) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var op Op
	_ = json.Unmarshal(payload, &op)
	switch op.Op {
	case "error":
		for _, k := range errs.Kinds() {
			if k.String() == op.Kind {
				return nil, errs.E(k, op.Code, "echofn failed as asked")
			}
		}
		return nil, errs.E(errs.Invalid, "", "unknown kind")
	case "deadline":
		info := invocation.FromContext(ctx)
		return json.Marshal(Info{DeadlineMs: deadlineMs(ctx), RequestID: info.RequestID, Platform: info.Platform, MemoryLimitMB: info.MemoryLimitMB})
	case "panic":
		panic("echofn: panic requested")
	case "env":
		return json.Marshal(os.Getenv(op.Name))
	}
	return json.Marshal(map[string]json.RawMessage{"invoked": payload})
}

func deadlineMs(ctx context.Context) int64 {
	if d, ok := ctx.Deadline(); ok {
		return d.UnixMilli()
	}
	return 0
}
