package faceprint_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/gateway"
)

// FuzzServe: no body or endpoint makes the handler panic or answer
// something other than a JSON object, and a refused body never reaches the
// provider.
func FuzzServe(f *testing.F) {
	for _, ep := range faceprint.Endpoints() {
		f.Add(ep.Path, `{"verify_token":"abc","id_name":"张三","id_no":"110101199003074477","certificate_type":4,"image":"/9j/"}`)
	}
	f.Add("idcard/submit", `{"certificate_type":"1e400","plan_id":null}`)
	f.Add("verifyToken/generate", `{"plan_id":-1,"redirect_config":{"success_url":7}}`)
	f.Fuzz(func(t *testing.T, endpoint, body string) {
		rec := &recorder{answer: []byte(`{"success":true,"result":null,"log_id":"1"}`)}
		h, err := faceprint.New(faceprint.Options{Live: rec})
		if err != nil {
			t.Fatal(err)
		}
		resp := h.ServeRequest(context.Background(), &gateway.Request{Method: http.MethodPost, Path: faceprint.Prefix + endpoint,
			Body: []byte(body), SourceIP: "127.0.0.1"})
		var m map[string]any
		if json.Unmarshal(resp.Body, &m) != nil {
			t.Fatalf("answer %q", resp.Body)
		}
		if _, refused := m["error_code"]; refused && rec.n() != 0 {
			t.Fatalf("a refused request reached the provider: %s", resp.Body)
		}
		before := rec.n()
		if _, err := h.Invoke(context.Background(), []byte(body)); err == nil && rec.n() == before {
			t.Fatalf("an invocation succeeded without the provider")
		}
	})
}
