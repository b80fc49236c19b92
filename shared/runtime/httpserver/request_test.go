package httpserver

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFromHTTP(t *testing.T) {
	r := httptest.NewRequest("POST", "http://fn.example:9000/v1/faceid/X?a=1&b=%20", strings.NewReader("body"))
	r.RemoteAddr = "192.0.2.9:51234"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 10.0.0.1")
	req, err := FromHTTP(r, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.Path != "/v1/faceid/X" || req.RawQuery != "a=1&b=%20" || string(req.Body) != "body" ||
		req.SourceIP != "192.0.2.9" || req.Header.Get("Host") != "fn.example:9000" || req.RequestID != "" {
		t.Errorf("%+v", req)
	}
	if req, _ = FromHTTP(r, 100, true); req.SourceIP != "10.0.0.1" {
		t.Errorf("trusted proxy: SourceIP %q", req.SourceIP)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.9:1"
	if req, _ = FromHTTP(r, 100, true); req.SourceIP != "192.0.2.9" || req.Body != nil {
		t.Errorf("no header: %+v", req)
	}
}

func TestFromHTTPLimit(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("12345"))
	if _, err := FromHTTP(r, 5, false); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	if _, err := FromHTTP(r, 5, false); !errors.Is(err, errTooLarge) {
		t.Errorf("over (Content-Length): %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	r.ContentLength = -1 // chunked
	if _, err := FromHTTP(r, 5, false); !errors.Is(err, errTooLarge) {
		t.Errorf("over (chunked): %v", err)
	}
}
