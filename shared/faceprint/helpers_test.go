package faceprint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/tests/fakes/baidufake"
)

// seedName is the testdata file stem of an endpoint.
func seedName(path string) string {
	if strings.HasPrefix(path, "result/") {
		return strings.ReplaceAll(path, "/", "-")
	}
	return strings.Replace(path, "/", "-", 1)
}

func readSeed(t *testing.T, path, kind string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seed", seedName(path)+"."+kind+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a Backend that answers a fixed body and keeps what it got,
// to test what the handler forwards and returns around any provider.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	bodies [][]byte
	answer []byte
}

func (r *recorder) Faceprint(_ context.Context, endpoint string, body []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, endpoint)
	r.bodies = append(r.bodies, body)
	return r.answer, nil
}

func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func serve(t *testing.T, h gateway.Handler, method, path string, body any, mod ...func(*gateway.Request)) response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	req := &gateway.Request{Method: method, Path: path, Header: http.Header{"Content-Type": {"application/json"}}, Body: b, SourceIP: "127.0.0.1"}
	for _, m := range mod {
		m(req)
	}
	resp := h.ServeRequest(context.Background(), req)
	r := response{status: resp.Status, header: resp.Header, raw: resp.Body}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(&r.body); err != nil {
		t.Fatalf("%s %s answered non-JSON %q", method, path, resp.Body)
	}
	return r
}

func post(t *testing.T, h gateway.Handler, endpoint string, body any, mod ...func(*gateway.Request)) response {
	t.Helper()
	return serve(t, h, http.MethodPost, faceprint.Prefix+endpoint, body, mod...)
}

// code is the Baidu code of an answer: error_code, else code, else 0.
func (r response) code() int {
	for _, k := range []string{"error_code", "code"} {
		if n, ok := r.body[k].(json.Number); ok {
			v, _ := n.Int64()
			return int(v)
		}
	}
	return 0
}

func (r response) message() string {
	for _, k := range []string{"error_msg", "message"} {
		if s, ok := r.body[k].(string); ok {
			return s
		}
	}
	return ""
}

func (r response) result() map[string]any {
	m, _ := r.body["result"].(map[string]any)
	return m
}

func liveHandler(t *testing.T, f *baidufake.Server, mod ...func(*faceprint.Options)) *faceprint.Handler {
	t.Helper()
	c, err := baidu.New(baidu.Config{APIKey: baidufake.DefaultAPIKey, SecretKey: baidufake.DefaultSecretKey, BaseURL: f.URL,
		Now: f.Now, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	opts := faceprint.Options{Live: c, Mode: "live"}
	for _, m := range mod {
		m(&opts)
	}
	h, err := faceprint.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sandboxHandler(t *testing.T, sb *faceprint.Sandbox, mod ...func(*faceprint.Options)) *faceprint.Handler {
	t.Helper()
	opts := faceprint.Options{Sandbox: sb, Mode: "sandbox"}
	for _, m := range mod {
		m(&opts)
	}
	h, err := faceprint.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// sameShape fails when got has a member want lacks, or one of another JSON
// type: an answer must not invent fields Baidu's examples do not have.
// documentedNotInExample are members seed 004's field tables document that
// its examples leave out.
var documentedNotInExample = map[string]bool{
	// result/detail's table lists is_demote among verify_result's
	// members (with no level marker); the example has none.
	"result/detail.result.verify_result.is_demote": true,
}

func sameShape(t *testing.T, where string, got, want any) {
	t.Helper()
	if got == nil || want == nil {
		return
	}
	switch g := got.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			t.Errorf("%s: object where the example has %T", where, want)
			return
		}
		for k, v := range g {
			wv, ok := w[k]
			if !ok && documentedNotInExample[where+"."+k] {
				continue
			}
			if !ok {
				t.Errorf("%s.%s: not in Baidu's example", where, k)
				continue
			}
			sameShape(t, where+"."+k, v, wv)
		}
	case []any:
		w, ok := want.([]any)
		if !ok {
			t.Errorf("%s: array where the example has %T", where, want)
			return
		}
		if len(g) > 0 && len(w) > 0 {
			sameShape(t, where+"[0]", g[0], w[0])
		}
	default:
		if kind(got) != kind(want) {
			t.Errorf("%s: %s where the example has %s", where, kind(got), kind(want))
		}
	}
}

func kind(v any) string {
	switch v.(type) {
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "other"
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return v
}
