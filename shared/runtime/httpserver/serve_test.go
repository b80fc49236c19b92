package httpserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

type slowHandler struct{ started chan struct{} }

func (h slowHandler) ServeRequest(ctx context.Context, r *gateway.Request) *gateway.Response {
	close(h.started)
	time.Sleep(300 * time.Millisecond)
	if ctx.Err() != nil {
		return &gateway.Response{Status: 500}
	}
	return &gateway.Response{Status: 200, Body: []byte(invocation.FromContext(ctx).Platform)}
}

func (slowHandler) Invoke(context.Context, []byte) ([]byte, error) { return nil, nil }

// TestServeShutdown: cancelling ctx stops accepting, lets the in-flight
// request finish with an uncancelled context, and returns nil.
func TestServeShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	h := slowHandler{started: make(chan struct{})}
	go func() {
		done <- Serve(ctx, h, Config{Addr: "127.0.0.1:0", Platform: "local", Listening: func(a net.Addr) { addrc <- a }})
	}()
	addr := (<-addrc).String()
	type result struct {
		status int
		body   string
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		resc <- result{resp.StatusCode, string(b), nil}
	}()
	<-h.started
	cancel()
	if r := <-resc; r.err != nil || r.status != 200 || r.body != "local" {
		t.Errorf("in-flight: %+v", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestServeListenError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	if err := Serve(context.Background(), slowHandler{}, Config{Addr: l.Addr().String()}); err == nil {
		t.Error("Serve on a busy port returned nil")
	}
}
