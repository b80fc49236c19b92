package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/idverify/idverify/tests/fakes/baidufake"
	"github.com/idverify/idverify/tests/redistest"
)

const faceprintGenerate = "/rpc/2.0/brain/solution/faceprint/verifyToken/generate"

// baiduCall posts body to a faceprint path of a running function, the way
// a client written for Baidu does (with its own access_token, ignored).
func baiduCall(t *testing.T, s *server, path, body string) (map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Post(s.url+path+"?access_token=24.client-side-token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s answered %d %q", path, resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s answered HTTP %d: %s", path, resp.StatusCode, b)
	}
	return m, resp.Header
}

func baiduCodeOf(m map[string]any) int {
	for _, k := range []string{"error_code", "code"} {
		if v, ok := m[k].(float64); ok {
			return int(v)
		}
	}
	return 0
}

// TestFaceprintFunctionLiveAgainstFake runs the real verifyToken/generate
// binary twice against the fake Baidu, sharing one real Redis.
func TestFaceprintFunctionLiveAgainstFake(t *testing.T) {
	bin := buildBinary(t, "faceprint-verify-token-generate")
	f := baidufake.Start(t, baidufake.Options{})
	r := redistest.Start(t)
	env := []string{"BAIDU_API_KEY=" + baidufake.DefaultAPIKey, "BAIDU_SECRET_KEY=" + baidufake.DefaultSecretKey,
		"BAIDU_BASE_URL=" + f.URL, "IDV_REDIS_URL=" + r.URL}
	a := startServer(t, bin, env...)
	b := startServer(t, bin, env...)

	m, h := baiduCall(t, a, faceprintGenerate, `{"plan_id":1}`)
	vt, _ := m["result"].(map[string]any)["verify_token"].(string)
	if m["success"] != true || h.Get("X-Idv-Mode") != "live" {
		t.Fatalf("generate: %v %v", m, h)
	}
	// The token is Baidu's: the fake can run its flow.
	if err := f.Complete(vt, baidufake.Pass); err != nil {
		t.Fatalf("the fake did not issue %q: %v", vt, err)
	}
	if m, _ := baiduCall(t, b, faceprintGenerate, `{"plan_id":"1"}`); m["success"] != true {
		t.Fatalf("second instance: %v", m)
	}
	if n := f.Calls("oauth"); n != 1 {
		t.Errorf("two instances fetched %d access tokens, want 1 shared through Redis", n)
	}

	// Flow control is retried; quota is not; bad input never leaves.
	f.FailNext("verifyToken/generate", 18)
	before := f.Calls("verifyToken/generate")
	if m, _ := baiduCall(t, a, faceprintGenerate, `{"plan_id":1}`); m["success"] != true || f.Calls("verifyToken/generate") != before+2 {
		t.Errorf("after 18: %v, calls +%d", m, f.Calls("verifyToken/generate")-before)
	}
	f.FailNext("verifyToken/generate", 19)
	before = f.Calls("verifyToken/generate")
	if m, _ := baiduCall(t, a, faceprintGenerate, `{"plan_id":1}`); baiduCodeOf(m) != 19 || f.Calls("verifyToken/generate") != before+1 {
		t.Errorf("19: %v, calls +%d", m, f.Calls("verifyToken/generate")-before)
	}
	before = f.Calls("verifyToken/generate")
	if m, _ := baiduCall(t, a, faceprintGenerate, `{"plan_id":"a b"}`); baiduCodeOf(m) != 216100 || !strings.Contains(m["error_msg"].(string), "plan_id") {
		t.Errorf("bad plan_id: %v", m)
	}
	if f.Calls("verifyToken/generate") != before {
		t.Errorf("invalid input reached Baidu")
	}
	f.Revoke()
	if m, _ := baiduCall(t, b, faceprintGenerate, `{"plan_id":1}`); m["success"] != true {
		t.Errorf("after revoke: %v", m)
	}
	for _, s := range []*server{a, b} {
		assertNoPII(t, s.logs(), baidufake.DefaultSecretKey, "24.client-side-token")
	}
}

func TestFaceprintFunctionSandbox(t *testing.T) {
	bin := buildBinary(t, "faceprint-verify-token-generate")
	s := startServer(t, bin)
	m, h := baiduCall(t, s, faceprintGenerate, `{"plan_id":"fail-222351"}`)
	vt, _ := m["result"].(map[string]any)["verify_token"].(string)
	if h.Get("X-Idv-Mode") != "sandbox" || !strings.HasPrefix(vt, "sb") || !strings.HasPrefix(m["log_id"].(string), "sandbox-") {
		t.Errorf("sandbox generate: %v %v", m, h)
	}
	if m, _ := baiduCall(t, s, faceprintGenerate, `{"plan_id":"error-18"}`); baiduCodeOf(m) != 18 {
		t.Errorf("error-18: %v", m)
	}
	// Other endpoints belong to other functions.
	if m, _ := baiduCall(t, s, "/rpc/2.0/brain/solution/faceprint/result/detail", `{"verify_token":"`+vt+`"}`); baiduCodeOf(m) != 3 {
		t.Errorf("result/detail on the generate function: %v", m)
	}
	resp, err := http.Get(s.url + "/v1/sandbox/faceprint/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	var sc struct{ Scenarios []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&sc)
	resp.Body.Close()
	if len(sc.Scenarios) < 10 {
		t.Errorf("scenarios: %d rows", len(sc.Scenarios))
	}

	// The sample event through local invocation.
	ev, err := os.ReadFile("../events/faceprint/verify-token-generate.json")
	if err != nil {
		t.Fatal(err)
	}
	cmd := execCommand(bin)
	cmd.Args = append(cmd.Args, "invoke")
	cmd.Stdin = bytes.NewReader(ev)
	out, err := cmd.Output()
	if err != nil || !bytes.Contains(out, []byte(`"verify_token":"sb`)) {
		t.Errorf("invoke: %s %v", out, err)
	}
	// The HTTP event (from a public address, so the sandbox must be open).
	ev, err = os.ReadFile("../events/faceprint/scf-function-url.json")
	if err != nil {
		t.Fatal(err)
	}
	cmd = execCommand(bin, "IDV_SANDBOX_OPEN=true")
	cmd.Args = append(cmd.Args, "invoke")
	cmd.Stdin = bytes.NewReader(ev)
	out, err = cmd.Output()
	var hr struct {
		StatusCode int
		Body       string
	}
	_ = json.Unmarshal(out, &hr)
	if err != nil || hr.StatusCode != 200 || !strings.Contains(hr.Body, `"verify_token":"sb`) {
		t.Errorf("invoke HTTP event: %s %v", out, err)
	}
}
