package baidufake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func token(t *testing.T, s *Server, id, secret string) (int, map[string]any) {
	t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	resp, err := http.Post(s.URL+"/oauth/2.0/token?"+q.Encode(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

func call(t *testing.T, s *Server, ep, tok string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	u := s.URL + prefix + ep
	if tok != "" {
		u += "?access_token=" + url.QueryEscape(tok)
	}
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func code(m map[string]any) int {
	for _, k := range []string{"error_code", "code"} {
		if v, ok := m[k].(float64); ok {
			return int(v)
		}
	}
	return 0
}

func TestTokenEndpointChecksKeys(t *testing.T) {
	s := Start(t, Options{})
	if st, m := token(t, s, DefaultAPIKey, "wrong"); st != 401 || m["error_description"] != "Client authentication failed" {
		t.Errorf("wrong secret: %d %v", st, m)
	}
	if st, m := token(t, s, "nobody", DefaultSecretKey); st != 401 || m["error_description"] != "unknown client id" {
		t.Errorf("wrong key: %d %v", st, m)
	}
	st, m := token(t, s, DefaultAPIKey, DefaultSecretKey)
	if st != 200 || m["expires_in"].(float64) != 2592000 || m["access_token"] == "" {
		t.Fatalf("token: %d %v", st, m)
	}
	if s.Calls("oauth") != 3 {
		t.Errorf("oauth calls = %d", s.Calls("oauth"))
	}
}

func TestAccessTokenRules(t *testing.T) {
	s := Start(t, Options{})
	_, m := token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok := m["access_token"].(string)
	gen := map[string]any{"plan_id": 1}
	if c := code(call(t, s, "verifyToken/generate", "", gen)); c != 100 {
		t.Errorf("missing token: %d", c)
	}
	if c := code(call(t, s, "verifyToken/generate", "24.bogus", gen)); c != 110 {
		t.Errorf("unknown token: %d", c)
	}
	if r := call(t, s, "verifyToken/generate", tok, gen); r["success"] != true {
		t.Errorf("valid token: %v", r)
	}
	s.Advance(TokenLifetime)
	if c := code(call(t, s, "verifyToken/generate", tok, gen)); c != 111 {
		t.Errorf("expired token: %d", c)
	}
	_, m = token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok2 := m["access_token"].(string)
	s.Revoke()
	if c := code(call(t, s, "verifyToken/generate", tok2, gen)); c != 110 {
		t.Errorf("revoked token: %d", c)
	}
}

func TestFlowControlQueue(t *testing.T) {
	s := Start(t, Options{})
	_, m := token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok := m["access_token"].(string)
	s.FailNext("result/simple", 18, 2)
	body := map[string]any{"verify_token": "x"}
	if c := code(call(t, s, "result/simple", tok, body)); c != 18 {
		t.Errorf("first: %d", c)
	}
	if c := code(call(t, s, "result/simple", tok, body)); c != 2 {
		t.Errorf("second: %d", c)
	}
	if c := code(call(t, s, "result/simple", tok, body)); c != CodeVerifyTokenInvalid {
		t.Errorf("third: %d", c)
	}
	if s.Calls("result/simple") != 3 {
		t.Errorf("calls = %d", s.Calls("result/simple"))
	}
}

func TestVerifyTokenLifecycle(t *testing.T) {
	s := Start(t, Options{Plans: []string{"7"}})
	_, m := token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok := m["access_token"].(string)
	if c := code(call(t, s, "verifyToken/generate", tok, map[string]any{"plan_id": "8"})); c != 283435 {
		t.Errorf("unknown plan: %d", c)
	}
	vt := call(t, s, "verifyToken/generate", tok, map[string]any{"plan_id": "7"})["result"].(map[string]any)["verify_token"].(string)
	sub := map[string]any{"verify_token": vt, "id_name": "张三", "id_no": "110101199003074477", "certificate_type": 0}
	if r := call(t, s, "idcard/submit", tok, sub); r["result"] != float64(1) {
		t.Fatalf("submit: %v", r)
	}
	if c := code(call(t, s, "result/detail", tok, map[string]any{"verify_token": vt})); c != CodeFlowNotDone {
		t.Errorf("result before the flow: %d", c)
	}
	if err := s.Complete(vt, Pass); err != nil {
		t.Fatal(err)
	}
	if c := code(call(t, s, "idcard/submit", tok, sub)); c != CodeVerifyTokenInvalid {
		t.Errorf("submit after the flow: %d", c)
	}
	d := call(t, s, "result/detail", tok, map[string]any{"verify_token": vt})
	if d["success"] != true || d["result"].(map[string]any)["idcard_confirm"].(map[string]any)["name"] != "张三" {
		t.Errorf("detail: %v", d)
	}
	s.Advance(ResultLifetime)
	if c := code(call(t, s, "result/detail", tok, map[string]any{"verify_token": vt})); c != CodeVerifyTokenInvalid {
		t.Errorf("result after 3 days: code %d", c)
	}

	// An unused verify_token lapses after 2 hours.
	_, m = token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok = m["access_token"].(string)
	vt2 := call(t, s, "verifyToken/generate", tok, map[string]any{"plan_id": 7})["result"].(map[string]any)["verify_token"].(string)
	s.Advance(FlowLifetime + time.Second)
	if c := code(call(t, s, "uploadMatchImage", tok, map[string]any{"verify_token": vt2, "image": "/9j/4AAQ"})); c != CodeVerifyTokenInvalid {
		t.Errorf("upload after 2h: %d", c)
	}
	if s.Complete(vt2, Pass) == nil {
		t.Errorf("a lapsed flow was completed")
	}
}

func TestFailedFlow(t *testing.T) {
	s := Start(t, Options{})
	_, m := token(t, s, DefaultAPIKey, DefaultSecretKey)
	tok := m["access_token"].(string)
	vt := call(t, s, "verifyToken/generate", tok, map[string]any{"plan_id": "1"})["result"].(map[string]any)["verify_token"].(string)
	if err := s.Complete(vt, NameMismatch); err != nil {
		t.Fatal(err)
	}
	if r := call(t, s, "result/simple", tok, map[string]any{"verify_token": vt}); r["success"] != false || code(r) != 222351 {
		t.Errorf("simple: %v", r)
	}
	g := call(t, s, "result/getall", tok, map[string]any{"verify_token": vt})
	vr := g["result"].(map[string]any)["verify_result"].([]any)[0].(map[string]any)
	if vr["is_verify_passed"] != false || vr["code"] != "222351" {
		t.Errorf("getall: %v", vr)
	}
}
