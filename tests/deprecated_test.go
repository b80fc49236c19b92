package tests

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/sandbox"
)

// TestLocalDeprecatedActions runs the two actions Tencent no longer onboards
// new users to, each from its own function binary (functions/liveness,
// functions/image-recognition), the way a customer that still has them
// calls them: the registry marks them deprecated, the sandbox answers their
// documented outcomes, and bad input is refused by precheck, naming the
// field and the rule, before any provider call.
func TestLocalDeprecatedActions(t *testing.T) {
	for _, name := range []string{"Liveness", "ImageRecognition"} {
		if a, ok := faceid.Lookup(name); !ok || !a.Deprecated || a.Deprecation == "" {
			t.Fatalf("registry: %s not marked deprecated", name)
		}
	}
	video := base64.StdEncoding.EncodeToString([]byte("an mp4"))

	live := startServer(t, buildBinary(t, "liveness"))
	post := func(s *server, action, body string) (int, string, map[string]any) {
		t.Helper()
		status, hdr, r := postJSON(t, s.url+"/v1/faceid/"+action, []byte(body))
		return status, hdr.Get("X-Idv-Source"), r
	}
	status, _, r := post(live, "Liveness", `{"VideoBase64":"`+video+`","LivenessType":"LIP","ValidateData":"4821","Optional":"{\"BestFrameNum\":3}"}`)
	if status != 200 || r["Result"] != "Success" || r["BestFrameBase64"] == nil {
		t.Fatalf("Liveness LIP: %d %v", status, r)
	}
	if frames, _ := r["BestFrameList"].([]any); len(frames) != 3 {
		t.Errorf("BestFrameNum 3: %d frames", len(frames))
	}
	if _, has := r["Sim"]; has {
		t.Errorf("Liveness has no Sim: %v", r)
	}
	status, _, r = post(live, "Liveness", `{"VideoBase64":"`+sandbox.MagicMedia(24)+`","LivenessType":"SILENT"}`)
	if status != 200 || r["Result"] != "FailedOperation.LivessDetectFake" || r["BestFrameBase64"] != nil {
		t.Errorf("magic video 24: %d %v", status, r)
	}
	for _, c := range []struct{ body, field, rule string }{
		{`{"VideoBase64":"` + video + `","LivenessType":"LIP"}`, "ValidateData", "is required when LivenessType is LIP"},
		{`{"VideoBase64":"` + video + `","LivenessType":"ACTION","ValidateData":"1234"}`, "ValidateData", "must be the action order from GetActionSequence"},
		{`{"VideoBase64":"` + video + `","LivenessType":"silent"}`, "LivenessType", "must be LIP, ACTION or SILENT"},
		{`{"LivenessType":"SILENT"}`, "VideoBase64", ""},
	} {
		status, _, r := post(live, "Liveness", c.body)
		e, _ := r["Error"].(map[string]any)
		msg, _ := e["Message"].(string)
		if status != 400 || !strings.Contains(msg, strings.TrimSpace(c.field+" "+c.rule)) {
			t.Errorf("%s: %d %v", c.body, status, r)
		}
	}

	img := startServer(t, buildBinary(t, "image-recognition"))
	photo := base64.StdEncoding.EncodeToString([]byte("a jpeg"))
	status, _, r = post(img, "ImageRecognition", `{"IdCard":"110101199003074477","Name":"张三","ImageBase64":"`+photo+`"}`)
	if status != 200 || r["Result"] != "Success" || r["Sim"] == nil {
		t.Fatalf("ImageRecognition: %d %v", status, r)
	}
	status, _, r = post(img, "ImageRecognition", `{"IdCard":"`+sandbox.MagicIDCard(2)+`","Name":"张三","ImageBase64":"`+photo+`"}`)
	if status != 200 || r["Result"] != "FailedOperation.CompareLowSimilarity" {
		t.Errorf("magic ID 2: %d %v", status, r)
	}
	status, source, r := post(img, "ImageRecognition", `{"IdCard":"110101199003074478","Name":"张三","ImageBase64":"`+photo+`"}`)
	if status != 200 || source != "precheck" || r["Result"] != "FailedOperation.IdFormatError" {
		t.Errorf("bad check digit: %d from %q: %v", status, source, r)
	}
	// The sandbox table the server publishes lists both, with magic values.
	rows := map[string]int{}
	resp, err := http.Get(img.url + "/v1/sandbox/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	var table struct{ Scenarios []sandbox.Scenario }
	err = json.NewDecoder(resp.Body).Decode(&table)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range table.Scenarios {
		if s.ReachedBy == sandbox.ReachedByMagic {
			rows[s.Action]++
		}
	}
	if rows["Liveness"] < 30 || rows["ImageRecognition"] < 18 {
		t.Errorf("magic rows: %v", rows)
	}
}
