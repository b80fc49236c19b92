package scfcustom_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/invocation"
	"github.com/idverify/idverify/shared/runtime/scfcustom"
	"github.com/idverify/idverify/tests/runtimes"
)

type handler struct{}

func (handler) ServeRequest(context.Context, *gateway.Request) *gateway.Response {
	return &gateway.Response{Status: 204}
}

func (handler) Invoke(ctx context.Context, p []byte) ([]byte, error) {
	if string(p) == "fail" {
		return nil, errs.E(errs.Conflict, "", "in progress")
	}
	d, _ := ctx.Deadline()
	i := invocation.FromContext(ctx)
	return []byte(i.RequestID + " " + time.Until(d).Round(time.Second).String()), nil
}

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

func TestRun(t *testing.T) {
	api := runtimes.NewSCFCustomAPI(t)
	host, port := api.HostPort()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- scfcustom.Run(ctx, host, port, handler{}, quiet) }()

	ictx, icancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer icancel()
	o, err := api.Invoke(ictx, []byte("hello"), 30*time.Second)
	if err != nil || string(o.Payload) != o.RequestID+" 30s" {
		t.Errorf("invoke: %+v %v", o, err)
	}
	o, err = api.Invoke(ictx, []byte("fail"), time.Second)
	if err != nil || o.Failure == nil || o.Failure.Type != "Conflict" ||
		string(o.Failure.Raw) != `{"errorType":"Conflict","errorMessage":"FailedOperation.RequestInProgress: in progress"}` {
		t.Errorf("fail: %+v %v", o, err)
	}
	o, err = api.Invoke(ictx, []byte(`{"httpMethod":"GET","path":"/","headers":{}}`), time.Second)
	if err != nil || !strings.Contains(string(o.Payload), `"statusCode":204`) {
		t.Errorf("http: %+v %v", o, err)
	}
	if !api.Ready() || len(api.Problems()) > 0 {
		t.Errorf("ready %v problems %v", api.Ready(), api.Problems())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunAPIGone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close() // nothing listens: init/ready fails at once
	if err := scfcustom.Run(context.Background(), host, port, handler{}, quiet); err == nil || !strings.Contains(err.Error(), "init/ready") {
		t.Errorf("Run = %v", err)
	}
}

func TestRunNextFailsPersistently(t *testing.T) {
	api := runtimes.NewSCFCustomAPI(t)
	host, port := api.HostPort()
	done := make(chan error, 1)
	go func() { done <- scfcustom.Run(context.Background(), host, port, handler{}, quiet) }()
	waitReady := time.Now().Add(5 * time.Second)
	for !api.Ready() && time.Now().Before(waitReady) {
		time.Sleep(time.Millisecond)
	}
	api.Close() // the runtime API goes away mid-life
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invocation/next") {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept retrying a dead runtime API")
	}
}
