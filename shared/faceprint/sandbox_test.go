package faceprint_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/faceprint"
)

// clock is a settable time for the sandbox's lifecycle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestScenariosReplay runs every row of the served table through the
// handler and checks the documented outcome.
func TestScenariosReplay(t *testing.T) {
	h := sandboxHandler(t, faceprint.NewSandbox(faceprint.SandboxOptions{}))
	results := []string{"result/simple", "result/detail", "result/getall"}
	for _, sc := range faceprint.Scenarios() {
		name := sc.Endpoint + " " + sc.Field + "=" + sc.Value
		body := map[string]any{sc.Field: sc.Value}
		if sc.Endpoint == "idcard/submit" {
			body["id_name"], body["id_no"] = "张三", "110101199003074477"
		}
		if sc.Endpoint == "uploadMatchImage" {
			body["image"] = "/9j/4AAQSkZJRgABAQAAAQABAAD/"
		}
		r := post(t, h, sc.Endpoint, body)
		if sc.ErrorCode != 0 {
			if r.code() != sc.ErrorCode || !strings.Contains(sc.Message, r.message()) {
				t.Errorf("%s: %s, want error %d %q", name, r.raw, sc.ErrorCode, sc.Message)
			}
			continue
		}
		vt, _ := r.result()["verify_token"].(string)
		if sc.ResultCode == nil || vt == "" {
			t.Fatalf("%s: %s", name, r.raw)
		}
		for _, q := range results {
			qr := post(t, h, q, map[string]any{"verify_token": vt})
			got := qr.code()
			if q == "result/getall" {
				row := qr.result()["verify_result"].([]any)[0].(map[string]any)
				got, _ = strconv.Atoi(row["code"].(string))
				if row["is_verify_passed"] != (*sc.ResultCode == 0) {
					t.Errorf("%s: %s is_verify_passed = %v", name, q, row["is_verify_passed"])
				}
			}
			if got != *sc.ResultCode {
				t.Errorf("%s: %s answered %s, want code %d", name, q, qr.raw, *sc.ResultCode)
			}
			if *sc.ResultCode != 0 && q != "result/getall" && (qr.body["success"] != false || qr.message() != sc.Message) {
				t.Errorf("%s: %s: %s", name, q, qr.raw)
			}
		}
	}
	// Every documented failure and every generate refusal has a row.
	seen := map[int]bool{}
	for _, sc := range faceprint.Scenarios() {
		if sc.ResultCode != nil {
			seen[*sc.ResultCode] = true
		}
	}
	for _, f := range faceprint.Failures {
		if !seen[f.Code] {
			t.Errorf("failure %d has no scenario", f.Code)
		}
	}
	for _, plan := range []string{"fail-1", "error-12345"} {
		if r := post(t, h, "verifyToken/generate", map[string]any{"plan_id": plan}); r.code() != 283435 {
			t.Errorf("unknown magic plan %s: %s", plan, r.raw)
		}
	}
}

func TestSandboxLifecycle(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	h := sandboxHandler(t, faceprint.NewSandbox(faceprint.SandboxOptions{Now: c.now}))
	vt := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`).result()["verify_token"].(string)
	submit := map[string]any{"verify_token": vt, "id_name": "张三", "id_no": "110101199003074477"}
	c.add(faceprint.FlowLifetime - time.Second)
	if r := post(t, h, "idcard/submit", submit); r.body["result"] == nil {
		t.Errorf("submit within 2h: %s", r.raw)
	}
	c.add(time.Second)
	if r := post(t, h, "idcard/submit", submit); r.code() != faceprint.CodeVerifyTokenInvalid {
		t.Errorf("submit at 2h: %s", r.raw)
	}
	if r := post(t, h, "uploadMatchImage", map[string]any{"verify_token": vt, "image": "/9j/4AAQ"}); r.code() != faceprint.CodeVerifyTokenInvalid {
		t.Errorf("upload at 2h: %s", r.raw)
	}
	c.add(faceprint.ResultLifetime - faceprint.FlowLifetime - time.Second)
	if r := post(t, h, "result/detail", map[string]any{"verify_token": vt}); r.body["success"] != true {
		t.Errorf("result within 3 days: %s", r.raw)
	}
	c.add(time.Second)
	for _, ep := range faceprint.Endpoints()[3:] {
		if r := post(t, h, ep.Path, map[string]any{"verify_token": vt}); r.code() != faceprint.CodeVerifyTokenInvalid || r.message() != "Token无效或者已过期" {
			t.Errorf("%s after 3 days: %s", ep.Path, r.raw)
		}
	}
	// A token edited by one character is not a token.
	vt2 := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`).result()["verify_token"].(string)
	last := vt2[len(vt2)-1]
	edited := vt2[:len(vt2)-1] + map[bool]string{true: "0", false: "1"}[last != '0']
	if r := post(t, h, "result/simple", map[string]any{"verify_token": edited}); r.code() != faceprint.CodeVerifyTokenInvalid {
		t.Errorf("edited token: %s", r.raw)
	}
	// Another instance (a new Sandbox) answers for the token.
	other := sandboxHandler(t, faceprint.NewSandbox(faceprint.SandboxOptions{Now: c.now}))
	if r := post(t, other, "result/simple", map[string]any{"verify_token": vt2}); r.body["success"] != true {
		t.Errorf("another instance: %s", r.raw)
	}
}
