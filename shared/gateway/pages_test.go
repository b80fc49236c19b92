package gateway

import (
	"context"
	"net/http"
	"testing"
)

// TestPagesArePublicAndCheap: a static page is answered to GET and HEAD
// before routing and without asking the caller policy (like /healthz),
// with the headers every answer carries and its own; any other method on
// its path goes to routing as before.
func TestPagesArePublicAndCheap(t *testing.T) {
	auth := &fakeAuth{}
	csp := http.Header{"Content-Security-Policy": {"default-src 'none'"}}
	p, err := New(Options{Contracts: []Contract{newFake("faceid")}, Auth: auth, Pages: map[string]Page{
		"/docs": {ContentType: "text/html; charset=utf-8", Body: []byte("<!doctype html>"), Header: csp},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		resp := p.ServeRequest(context.Background(), &Request{Method: m, Path: "/docs", SourceIP: "203.0.113.9"})
		if resp.Status != 200 || string(resp.Body) != "<!doctype html>" {
			t.Fatalf("%s /docs: %d %q", m, resp.Status, resp.Body)
		}
		for h, want := range map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "default-src 'none'",
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-Idv-Mode": "live",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s /docs: %s = %q, want %q", m, h, got, want)
			}
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s /docs: no X-Request-Id", m)
		}
	}
	if n := auth.count(); n != 0 {
		t.Errorf("the caller policy was asked %d times for a page", n)
	}
	if got := csp.Get("X-Content-Type-Options"); got != "" {
		t.Errorf("serving a page changed its configured headers")
	}
	resp := p.ServeRequest(context.Background(), &Request{Method: http.MethodPost, Path: "/docs", SourceIP: "203.0.113.9"})
	if resp.Status != http.StatusNotFound {
		t.Errorf("POST /docs: %d, want the unrouted 404", resp.Status)
	}
	resp = p.ServeRequest(context.Background(), &Request{Method: http.MethodGet, Path: "/docs/other", SourceIP: "203.0.113.9"})
	if resp.Status == 200 {
		t.Errorf("GET of a path that is not a page answered 200")
	}
}
