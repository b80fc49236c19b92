package scfgo1_test

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
	"github.com/idverify/idverify/shared/runtime/scfgo1"
	"github.com/idverify/idverify/tests/runtimes"
)

type handler struct{}

func (handler) ServeRequest(_ context.Context, r *gateway.Request) *gateway.Response {
	return &gateway.Response{Status: 200, Body: []byte(r.SourceIP)}
}

func (handler) Invoke(ctx context.Context, p []byte) ([]byte, error) {
	switch string(p) {
	case "fail":
		return nil, errs.E(errs.Unauthorized, "", "bad key")
	case "info":
		d, _ := ctx.Deadline()
		i := invocation.FromContext(ctx)
		return []byte(i.Platform + " " + i.RequestID + " " + d.UTC().Format(time.RFC3339Nano)), nil
	}
	return p, nil
}

func TestServe(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- scfgo1.Serve(ctx, lis, handler{}, slog.New(slog.NewTextHandler(os.Stderr, nil))) }()

	c := runtimes.DialGo1(t, lis.Addr().String())
	deadline := time.Unix(1800000000, 123456789)
	resp, err := c.Call(ctx, &runtimes.Go1InvokeRequest{
		Payload: []byte("info"), RequestId: "req-1",
		Deadline: runtimes.Go1Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
	})
	if err != nil || resp.Error != nil || string(resp.Payload) != "scf-go1 req-1 2027-01-15T08:00:00.123456789Z" {
		t.Errorf("info: %q %+v %v", resp.Payload, resp.Error, err)
	}
	resp, err = c.Call(ctx, &runtimes.Go1InvokeRequest{Payload: []byte("fail")})
	if err != nil || resp.Error == nil || resp.Error.Type != "Unauthorized" || resp.Error.Message != "AuthFailure: bad key" || resp.Payload != nil {
		t.Errorf("fail: %+v %v", resp, err)
	}
	resp, err = c.Call(ctx, &runtimes.Go1InvokeRequest{
		Payload: []byte(`{"httpMethod":"GET","path":"/","headers":{"x-scf-remote-addr":"5.6.7.8"}}`),
	})
	if err != nil || !strings.Contains(string(resp.Payload), `"body":"5.6.7.8"`) {
		t.Errorf("http event: %s %v", resp.Payload, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := net.DialTimeout("tcp", lis.Addr().String(), 200*time.Millisecond); err == nil {
		t.Error("still listening after cancel")
	}
}
