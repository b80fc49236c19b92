package runtimes

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHTTPServers(t *testing.T) {
	bin := echoBin(t)
	servers := []struct {
		name, platform string
		start          func(t *testing.T) *HTTPTarget
	}{
		{"scf-web detected", "scf-web", func(t *testing.T) *HTTPTarget { return StartWeb(t, bin, "ECHOFN_MAX_BODY=1024") }},
		{"scf-web forced", "scf-web", func(t *testing.T) *HTTPTarget {
			return StartWeb(t, bin, "ECHOFN_MAX_BODY=1024", "IDV_RUNTIME=scf-web", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1")
		}},
		{"local", "local", func(t *testing.T) *HTTPTarget { return StartLocal(t, bin, "ECHOFN_MAX_BODY=1024") }},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fn := s.start(t)
			t.Logf("cold start %s: %v (process start to port accepting)", s.name, fn.ColdStart())

			req, _ := http.NewRequest("POST", fn.URL+"/v1/faceid/IdCardVerification?lang=zh-CN", strings.NewReader(sampleBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", "6.6.6.6") // not trusted by default
			resp, body := do(t, req)
			var e echoed
			if resp.StatusCode != 200 || json.Unmarshal(body, &e) != nil {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			got := [...]string{e.Method, e.Path, e.RawQuery, e.Body, e.SourceIP, e.Platform, first(e.Header["Host"]), first(e.Header["Content-Type"])}
			want := [...]string{"POST", "/v1/faceid/IdCardVerification", "lang=zh-CN", sampleBody, "127.0.0.1", s.platform, strings.TrimPrefix(fn.URL, "http://"), "application/json"}
			if got != want {
				t.Errorf("function saw\n  %q\nwant\n  %q", got, want)
			}
			if len(e.RequestID) != 36 || e.DeadlineMs == 0 {
				t.Errorf("request id %q deadline %d", e.RequestID, e.DeadlineMs)
			}

			// Over the body limit: 413 with the FaceID error envelope, both
			// with a Content-Length and chunked.
			for _, chunked := range []bool{false, true} {
				var rd io.Reader = bytes.NewReader(make([]byte, 1025))
				if chunked {
					rd = io.MultiReader(strings.NewReader(strings.Repeat("x", 1025)))
				}
				req, _ := http.NewRequest("POST", fn.URL+"/v1/faceid/IdCardVerification", rd)
				resp, body := do(t, req)
				if resp.StatusCode != 413 || !strings.Contains(string(body), `"Code":"InvalidParameter.BodyTooLarge"`) {
					t.Errorf("chunked=%v: %d %s", chunked, resp.StatusCode, body)
				}
			}

			req, _ = http.NewRequest("GET", fn.URL+"/cookies", nil)
			resp, _ = do(t, req)
			if resp.StatusCode != 204 || strings.Join(resp.Header.Values("Set-Cookie"), "|") != "a=1|b=2" {
				t.Errorf("cookies: %d %v", resp.StatusCode, resp.Header)
			}
			req, _ = http.NewRequest("GET", fn.URL+"/panic", nil)
			if resp, _ = do(t, req); resp.StatusCode != 500 {
				t.Errorf("panic: %d", resp.StatusCode)
			}
		})
	}
}

// TestGracefulShutdown: on SIGTERM the server stops accepting, finishes the
// request in flight and exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	fn := StartLocal(t, echoBin(t))
	if !strings.Contains(fn.Proc.Output(), "echofn: idverify runtime test function") {
		waitFor(t, 2*time.Second, func() bool { return strings.Contains(fn.Proc.Output(), "echofn:") }, "banner")
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", fn.URL+"/slow", nil)
		req.Header.Set("X-Sleep-Ms", "700")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{0, err}
			return
		}
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(fn.Proc.Output(), "slow request started") }, "the request to reach the handler")
	if err := fn.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(fn.URL + "/"); err == nil {
		t.Error("new connection accepted after SIGTERM")
	}
	if r := <-done; r.err != nil || r.code != 200 {
		t.Errorf("in-flight request: %d %v", r.code, r.err)
	}
	if code, ok := fn.Proc.Wait(5 * time.Second); !ok || code != 0 {
		t.Errorf("exit %d (exited %v)\n%s", code, ok, fn.Proc.Output())
	}
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}
