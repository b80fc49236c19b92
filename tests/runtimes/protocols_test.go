package runtimes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// protocol is one event-function runtime protocol under test.
type protocol struct {
	name  string
	start func(t *testing.T, bin string, env ...string) Target
	// deadlineSlack is how far the function's deadline may lag the
	// platform's: zero where the protocol sends the deadline itself.
	deadlineSlack time.Duration
}

var protocols = []protocol{
	{"lambda", func(t *testing.T, bin string, env ...string) Target { return StartLambda(t, bin, env...) }, 0},
	{"scf-custom", func(t *testing.T, bin string, env ...string) Target { return StartSCFCustom(t, bin, env...) }, time.Second},
	{"scf-go1", func(t *testing.T, bin string, env ...string) Target { return StartGo1(t, bin, env...) }, 0},
}

func invoke(t *testing.T, fn Target, payload string) *Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := fn.Invoke(ctx, []byte(payload), 5*time.Second)
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return o
}

func TestEventFunctionProtocols(t *testing.T) {
	bin := echoBin(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			fn := p.start(t, bin)
			t.Logf("cold start %s: %v (process start to ready for the first invocation)", p.name, fn.ColdStart())

			t.Run("events", func(t *testing.T) {
				for _, file := range eventFiles(t) {
					payload := readEvent(t, file)
					o := invoke(t, fn, string(payload))
					if o.Failure != nil {
						t.Errorf("%s: failed: %+v %s", file, o.Failure, o.Failure.Raw)
						continue
					}
					checkAnswer(t, file, payload, o.Payload, o.RequestID, p.name)
				}
			})

			t.Run("error types", func(t *testing.T) {
				for _, k := range errs.Kinds() {
					o := invoke(t, fn, fmt.Sprintf(`{"op":"error","kind":%q,"code":"Test.Code"}`, k))
					f := o.Failure
					if f == nil {
						t.Fatalf("%v: no failure, payload %s", k, o.Payload)
					}
					wantMsg := "Test.Code: echofn failed as asked"
					if k == errs.Internal {
						wantMsg = "Test.Code: internal error" // details are never shown
					}
					if f.Type != k.String() || f.Message != wantMsg {
						t.Errorf("%v: type %q message %q, want %q %q", k, f.Type, f.Message, k.String(), wantMsg)
					}
				}
			})

			t.Run("deadline and invocation info", func(t *testing.T) {
				o := invoke(t, fn, `{"op":"deadline"}`)
				var info echoInfo
				if err := json.Unmarshal(o.Payload, &info); err != nil {
					t.Fatalf("%s %+v", o.Payload, o.Failure)
				}
				lag := time.Duration(info.DeadlineMs-o.Deadline.UnixMilli()) * time.Millisecond
				if lag < 0 || lag > p.deadlineSlack {
					t.Errorf("function deadline %d, platform %d (lag %v, allowed %v)", info.DeadlineMs, o.Deadline.UnixMilli(), lag, p.deadlineSlack)
				}
				if info.RequestID != o.RequestID || info.Platform != p.name || info.MemoryLimitMB != 256 {
					t.Errorf("info %+v, want request id %s, platform %s, 256 MB", info, o.RequestID, p.name)
				}
			})

			t.Run("panic is an Internal error and the function survives", func(t *testing.T) {
				o := invoke(t, fn, `{"op":"panic"}`)
				if o.Failure == nil || o.Failure.Type != "Internal" || strings.Contains(o.Failure.Message, "requested") {
					t.Fatalf("panic: %+v", o.Failure)
				}
				o = invoke(t, fn, scfURLEvent("/panic"))
				if !strings.Contains(string(o.Payload), `"statusCode":500`) {
					t.Errorf("panic in ServeRequest: %s", o.Payload)
				}
				o = invoke(t, fn, `{"still":"alive"}`)
				if string(o.Payload) != `{"invoked":{"still":"alive"}}` {
					t.Errorf("after panic: %s %+v", o.Payload, o.Failure)
				}
			})

			t.Run("binary response body is base64", func(t *testing.T) {
				o := invoke(t, fn, scfURLEvent("/binary"))
				if string(o.Payload) != `{"isBase64Encoded":true,"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"body":"/wD+"}` {
					t.Errorf("got %s", o.Payload)
				}
			})

			t.Run("not-JSON payload is a direct invocation", func(t *testing.T) {
				o := invoke(t, fn, `{"IdCard":`)
				// Lambda rejects a non-JSON payload itself; the others
				// hand it to Invoke, whose echo wraps it.
				if o.Failure == nil && !strings.Contains(string(o.Payload), "invoked") {
					t.Errorf("got %s", o.Payload)
				}
			})

			if pr, ok := fn.(interface{ Problems() []string }); ok && len(pr.Problems()) > 0 {
				t.Errorf("protocol violations: %v", pr.Problems())
			}
		})
	}
}

func scfURLEvent(path string) string {
	return `{"httpMethod":"GET","path":"` + path + `","headers":{"x-scf-remote-addr":"1.2.3.4"},"queryString":{}}`
}
