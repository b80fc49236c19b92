package tests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/idverify/idverify/shared/faceid"
)

// happy are the sandbox happy-path values; they must pass every check.
var happy = map[string]any{
	"IdCard": "110101199003074477", "Name": "张三", "Phone": "13800138000", "Mobile": "13800138000",
	"BankCard": "6222020000000000000", "ValidityBegin": "20200101", "ValidityEnd": "00000000",
	"RuleId": "0", "MerchantId": "sandbox-merchant", "CompareLib": "BUSINESS", "LivenessType": "SILENT",
	"EncryptionMode": "0", "Type": "1", "Date": "2026-11-01", "Cursor": 0, "ReqId": "sandbox-nfc-req",
	"ImageBase64": base64.StdEncoding.EncodeToString([]byte("a jpeg")),
	"VideoBase64": base64.StdEncoding.EncodeToString([]byte("an mp4")),
	"FaceInput":   base64.StdEncoding.EncodeToString([]byte("a jpeg")), "FaceInputType": 1,
}

// tokenFrom says which earlier action issues the token a flow action needs.
var tokenFrom = map[string]struct{ action, field string }{
	"BizToken":    {"DetectAuth", "BizToken"},
	"EidToken":    {"GetEidToken", "EidToken"},
	"FaceIdToken": {"GetFaceIdToken", "FaceIdToken"},
	"NFCToken":    {"GetNFCToken", "Token"},
}

// requestFor builds a request that passes precheck: every required field, and
// the optional inputs an action cannot work without.
func requestFor(t *testing.T, a *faceid.Action, call func(action string, body map[string]any) map[string]any) map[string]any {
	body := map[string]any{}
	for _, f := range a.Required {
		if src, ok := tokenFrom[f]; ok {
			resp := call(src.action, requestFor(t, mustLookup(t, src.action), call))
			tok, _ := resp[src.field].(string)
			if tok == "" {
				t.Fatalf("%s issued no %s: %v", src.action, src.field, resp)
			}
			body[f] = tok
			continue
		}
		v, ok := happy[f]
		if !ok {
			t.Fatalf("no happy value for required field %s.%s", a.Name, f)
		}
		body[f] = v
	}
	switch a.Name {
	case "LivenessCompare", "IdCardOCRVerification", "CheckIdCardInformation":
		body["ImageBase64"] = happy["ImageBase64"]
	case "LivenessRecognition":
		body["VideoBase64"] = happy["ImageBase64"]
	case "DetectAIFakeFaces":
		body["FaceInput"], body["FaceInputType"] = happy["FaceInput"], happy["FaceInputType"]
	}
	if a.Name == "LivenessCompare" {
		body["VideoBase64"] = happy["ImageBase64"]
	}
	return body
}

func mustLookup(t *testing.T, name string) *faceid.Action {
	a, ok := faceid.Lookup(name)
	if !ok {
		t.Fatalf("no action %s", name)
	}
	return a
}

func postJSON(t *testing.T, url string, body []byte) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
		t.Fatalf("POST %s: not a FaceID envelope (%d): %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, env.Response
}

// TestLocalServerDoneWhen is the acceptance check, verbatim: the
// curl examples of the README against `go run ./functions/all`'s binary.
func TestLocalServerDoneWhen(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))
	for _, c := range []struct{ id, want string }{
		{"110101199003074477", "0"},
		{"110101199003074478", "-2"}, // invalid check digit
	} {
		// curl -d sends a form content type; the FaceID surface must still work.
		resp, err := http.Post(s.url+"/v1/faceid/IdCardVerification", "application/x-www-form-urlencoded",
			strings.NewReader(`{"IdCard":"`+c.id+`","Name":"张三"}`))
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Response map[string]any }
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || env.Response["Result"] != c.want {
			t.Fatalf("ID %s: got %v (%v), want Result %s", c.id, env.Response, err, c.want)
		}
		if resp.Header.Get("X-Idv-Mode") != "sandbox" || !strings.HasPrefix(env.Response["RequestId"].(string), "sandbox-") {
			t.Errorf("sandbox answer not marked: %v %v", resp.Header, env.Response["RequestId"])
		}
	}
	if l := logsOnceAll(func(l string) bool { return strings.Contains(l, "curl") }, s); !strings.Contains(l, "sandbox") || !strings.Contains(l, "curl") {
		t.Errorf("banner should name the mode and show a curl example:\n%s", s.logs())
	}
}

// TestEveryActionOnBothSurfaces drives every action of the spec (37 from
// Tencent's file and the 2 deprecated ones of its supplement) through the FaceID
// JSON surface and through the Tencent API 3.0 form with the real Tencent
// SDK pointed at the local server.
func TestEveryActionOnBothSurfaces(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))

	viaJSON := func(action string, body map[string]any) map[string]any {
		b, _ := json.Marshal(body)
		status, hdr, r := postJSON(t, s.url+"/v1/faceid/"+action, b)
		if status != 200 || r["Error"] != nil {
			t.Fatalf("%s via /v1: %d %v", action, status, r)
		}
		if hdr.Get("X-Idv-Mode") != "sandbox" {
			t.Errorf("%s: no sandbox marking", action)
		}
		return r
	}

	cred := common.NewCredential("AKIDlocal", "local-secret")
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(s.url, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(cred, "ap-guangzhou", cpf)
	viaSDK := func(action string, body map[string]any) map[string]any {
		req := tchttp.NewCommonRequest("faceid", "2018-03-01", action)
		if err := req.SetActionParameters(body); err != nil {
			t.Fatal(err)
		}
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			t.Fatalf("%s via SDK: %v", action, err)
		}
		var env struct{ Response map[string]any }
		if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
			t.Fatalf("%s via SDK: %v", action, err)
		}
		return env.Response
	}

	all := faceid.All()
	if n := specActionCount(t); len(all) != n {
		t.Fatalf("registry has %d actions, the spec files %d", len(all), n)
	}
	for _, a := range all {
		for name, call := range map[string]func(string, map[string]any) map[string]any{"json": viaJSON, "sdk": viaSDK} {
			r := call(a.Name, requestFor(t, a, call))
			id, _ := r["RequestId"].(string)
			if !strings.HasPrefix(id, "sandbox-") {
				t.Errorf("%s via %s: RequestId %q not marked", a.Name, name, id)
			}
			if a.ResultField != "" {
				if _, ok := r[a.ResultField]; !ok {
					t.Errorf("%s via %s: no %s in %v", a.Name, name, a.ResultField, r)
				}
			}
		}
	}

	// SDK errors: Tencent's shape, parsed by the SDK into a TencentCloudSDKError.
	req := tchttp.NewCommonRequest("faceid", "2018-03-01", "IdCardVerification")
	_ = req.SetActionParameters(map[string]any{"Name": "张三"})
	err := client.Send(req, tchttp.NewCommonResponse())
	sdkErr, ok := err.(*tcerr.TencentCloudSDKError)
	if !ok || sdkErr.Code != "MissingParameter" || sdkErr.RequestId == "" {
		t.Fatalf("SDK error = %#v", err)
	}
	// The banner shows the public sandbox happy path in its curl example;
	// the structured log lines must carry none of the values requests sent.
	assertNoPII(t, jsonLines(s.logs()), "110101199003074477", "张三", "13800138000", "6222020000000000000")
}

// TestGracefulShutdown: SIGTERM stops the server with exit status 0.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err // let Cleanup's wait return
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15s of SIGTERM")
	}
}

// TestSingleActionBinary: a one-action function serves its action only.
func TestSingleActionBinary(t *testing.T) {
	s := startServer(t, buildBinary(t, "id-card-verification"))
	status, _, r := postJSON(t, s.url+"/v1/faceid/IdCardVerification", []byte(`{"IdCard":"110101199003074477","Name":"张三"}`))
	if status != 200 || r["Result"] != "0" {
		t.Fatalf("own action: %d %v", status, r)
	}
	status, _, r = postJSON(t, s.url+"/v1/faceid/PhoneVerification", []byte(`{}`))
	if status != 404 || r["Error"].(map[string]any)["Code"] != "InvalidAction" {
		t.Fatalf("other action: %d %v", status, r)
	}
}

// TestProductionRefusesSilentSandbox: no credentials and IDV_ENV=production
// must stop the function at start, not fall back to emulated answers.
func TestProductionRefusesSilentSandbox(t *testing.T) {
	bin := buildBinary(t, "all")
	cmd := execCommand(bin, "IDV_ENV=production", "PORT="+freePort(t))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to fall back") {
		t.Fatalf("want a start failure naming the reason, got %v:\n%s", err, out)
	}
}

// specActionCount counts the actions of the FaceID spec files the registry
// is generated from (Tencent's and the supplement), read directly so the
// registry is checked against its source, not against itself.
func specActionCount(t *testing.T) int {
	t.Helper()
	n := 0
	for _, f := range []string{"faceid-2018-03-01.json", "faceid-2018-03-01.supplement.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "shared", "faceid", "spec", f))
		if err != nil {
			t.Fatal(err)
		}
		var spec struct{ Actions []struct{ Action string } }
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n += len(spec.Actions)
	}
	return n
}
