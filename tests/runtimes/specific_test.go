package runtimes

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"
)

func TestGo1Specifics(t *testing.T) {
	t.Parallel()
	fn := StartGo1(t, echoBin(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := fn.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	// The host sends the environment with every invoke (JSON object);
	// the function applies it, as scf-go-lib does, so refreshed role
	// credentials reach it.
	req := fn.Template
	req.Payload = []byte(`{"op":"env","name":"ECHOFN_FROM_HOST"}`)
	req.Environment = `{"ECHOFN_FROM_HOST":"rotated-value"}`
	resp, err := fn.Call(ctx, &req)
	if err != nil || resp.Error != nil || string(resp.Payload) != `"rotated-value"` {
		t.Errorf("environment: %s %+v %v", resp.Payload, resp.Error, err)
	}

	req.Environment = `{not json`
	resp, err = fn.Call(ctx, &req)
	if err != nil || resp.Error == nil || resp.Error.Type != "Internal" {
		t.Errorf("malformed environment: %+v %v", resp, err)
	}

	// No deadline in the request: no deadline in the context.
	req = fn.Template
	req.Payload = []byte(`{"op":"deadline"}`)
	resp, err = fn.Call(ctx, &req)
	var info echoInfo
	if err != nil || json.Unmarshal(resp.Payload, &info) != nil || info.DeadlineMs != 0 {
		t.Errorf("zero deadline: %s %v", resp.Payload, err)
	}

	// A failure travels in the response; the RPC call itself succeeds and
	// a panic does not ask the host to replace the instance (dispatch
	// recovered it).
	o, err := fn.Invoke(ctx, []byte(`{"op":"panic"}`), time.Second)
	if err != nil || o.Failure == nil || o.Failure.ShouldExit {
		t.Errorf("panic: %+v %v", o, err)
	}

	// Concurrent calls on one connection (net/rpc multiplexes them).
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			o, err := fn.Invoke(ctx, []byte(`{"n":1}`), 5*time.Second)
			if err == nil && string(o.Payload) != `{"invoked":{"n":1}}` {
				err = context.DeadlineExceeded
			}
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Errorf("concurrent invoke: %v", err)
		}
	}

	stopsCleanly(t, fn.Proc)
}

func TestSCFCustomSpecifics(t *testing.T) {
	t.Parallel()
	fn := StartSCFCustom(t, echoBin(t))
	if !fn.Ready() {
		t.Fatal("no init/ready before next")
	}
	invoke(t, fn, `{"a":1}`)
	if p := fn.Problems(); len(p) > 0 {
		t.Errorf("protocol violations: %v", p)
	}
	stopsCleanly(t, fn.Proc)
}

func TestLambdaSpecifics(t *testing.T) {
	t.Parallel()
	fn := StartLambda(t, echoBin(t))
	o := invoke(t, fn, `{"op":"error","kind":"Throttled"}`)
	// The exact document Step Functions receives as the error cause.
	if string(o.Failure.Raw) != `{"errorMessage":"RequestLimitExceeded: echofn failed as asked","errorType":"Throttled"}` {
		t.Errorf("error body %s", o.Failure.Raw)
	}
	if p := fn.Problems(); len(p) > 0 {
		t.Errorf("protocol violations: %v", p)
	}
}

// TestInitFailure: a function whose initialisation fails reports it and
// exits non-zero under every protocol; on Lambda through init/error.
func TestInitFailure(t *testing.T) {
	t.Parallel()
	bin := echoBin(t)

	a := NewLambdaAPI(t)
	p := StartProcess(t, bin, []string{"AWS_LAMBDA_RUNTIME_API=" + a.Addr(), "ECHOFN_FAIL_INIT=1"})
	if code, ok := p.Wait(10 * time.Second); !ok || code != 1 {
		t.Errorf("lambda: exit %d (exited %v)", code, ok)
	}
	f := a.InitError()
	if f == nil || f.Type != "UpstreamUnavailable" || f.Header != "UpstreamUnavailable" ||
		f.Message != "InternalError.UpstreamUnavailable: secret store unreachable" {
		t.Errorf("lambda init/error: %+v", f)
	}

	s := NewSCFCustomAPI(t)
	host, port := s.HostPort()
	p = StartProcess(t, bin, []string{"SCF_RUNTIME_API=" + host, "SCF_RUNTIME_API_PORT=" + port, "ECHOFN_FAIL_INIT=1"})
	if code, ok := p.Wait(10 * time.Second); !ok || code != 1 || s.Ready() {
		t.Errorf("scf-custom: exit %d (exited %v), ready posted %v", code, ok, s.Ready())
	}
}

// stopsCleanly sends SIGTERM and expects exit status 0.
func stopsCleanly(t *testing.T, p *Process) {
	t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, ok := p.Wait(5 * time.Second); !ok || code != 0 {
		t.Errorf("after SIGTERM: exit %d (exited %v)", code, ok)
	}
}
