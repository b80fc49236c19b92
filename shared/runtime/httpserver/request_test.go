package httpserver

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFromHTTP(t *testing.T) {
	r := httptest.NewRequest("POST", "http://fn.example:9000/v1/faceid/X?a=1&b=%20", strings.NewReader("body"))
	r.RemoteAddr = "192.0.2.9:51234"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 10.0.0.1")
	req, err := FromHTTP(httptest.NewRecorder(), r, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.Path != "/v1/faceid/X" || req.RawQuery != "a=1&b=%20" || req.Body != nil ||
		req.SourceIP != "192.0.2.9" || req.Header.Get("Host") != "fn.example:9000" || req.RequestID != "" || req.ContentLength != 4 {
		t.Errorf("%+v", req)
	}
	// The body is handed over unread: the pipeline reads it once the route
	// is known.
	if b, _ := io.ReadAll(req.BodyReader); string(b) != "body" {
		t.Errorf("body %q", b)
	}
	if req, _ = FromHTTP(httptest.NewRecorder(), r, 100, true); req.SourceIP != "10.0.0.1" {
		t.Errorf("trusted proxy: SourceIP %q", req.SourceIP)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.9:1"
	if req, _ = FromHTTP(httptest.NewRecorder(), r, 100, true); req.SourceIP != "192.0.2.9" || req.Body != nil || req.BodyReader != nil {
		t.Errorf("no header: %+v", req)
	}
}

func TestFromHTTPLimit(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("12345"))
	req, err := FromHTTP(httptest.NewRecorder(), r, 5, false)
	if err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if b, err := io.ReadAll(req.BodyReader); err != nil || string(b) != "12345" {
		t.Errorf("at the limit: %q %v", b, err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	if _, err := FromHTTP(httptest.NewRecorder(), r, 5, false); !errors.Is(err, errTooLarge) {
		t.Errorf("over (Content-Length): %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("123456"))
	r.ContentLength = -1 // chunked: the ceiling stops the reader
	req, err = FromHTTP(httptest.NewRecorder(), r, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(req.BodyReader); err == nil {
		t.Error("over (chunked): read past the ceiling")
	}
}
