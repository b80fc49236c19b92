package tests

// Caller authentication, black box: the real functions/all binary started
// with IDV_CALLERS, called over /v1 with API keys and over the Tencent API
// 3.0 form by the official Go and Node SDKs with an issued key pair; and
// production refusing to start without callers.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

const (
	callersWebKey     = "idvk_blackboxWebKey0123456789abcdefghijklmno"
	callersPhoneKey   = "idvk_blackboxPhoneKey0123456789abcdefghijklm"
	callersPartnerID  = "AKIDblackboxPartner0001"
	callersPartnerKey = "blackboxPartnerSecretKey0123456789abcdef"
	callersIDCardBody = `{"IdCard":"110101199003074477","Name":"张三"}`
)

func keySha256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// callersConfig: "web" may verify ID cards, "phone" only phones, and
// "partner" signs with a TC3 key pair (secretKey given by the caller: a
// plain value or a reference).
func callersConfig(partnerKey string) string {
	return `[{"id":"web","keySha256":"` + keySha256(callersWebKey) + `","actions":["IdCardVerification"]},` +
		`{"id":"phone","keySha256":"` + keySha256(callersPhoneKey) + `","actions":["PhoneVerification"]},` +
		`{"id":"partner","secretId":"` + callersPartnerID + `","secretKey":"` + partnerKey + `","actions":["*"],"test":true}]`
}

// postAuth posts body to /v1/faceid/<action> with an Authorization header
// (none when auth is "") and returns the status and the error code.
func postAuth(t *testing.T, base, action, auth, body string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/faceid/"+action, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
		t.Fatalf("not a FaceID envelope (%d): %s", resp.StatusCode, b)
	}
	code := ""
	if e, ok := env.Response["Error"].(map[string]any); ok {
		code, _ = e["Code"].(string)
	}
	return resp.StatusCode, code, env.Response
}

// goSDKCall calls action through the Tencent Go SDK's common client with
// the endpoint pointed at base; it returns the API error code ("" on
// success) and the response.
func goSDKCall(t *testing.T, base, secretID, secretKey, action, params string) (string, map[string]any) {
	t.Helper()
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(base, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 10
	client := common.NewCommonClient(common.NewCredential(secretID, secretKey), "ap-guangzhou", cpf)
	req := tchttp.NewCommonRequest("faceid", "2018-03-01", action)
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		e, ok := err.(*tcerr.TencentCloudSDKError)
		if !ok {
			t.Fatalf("Go SDK: not an API error: %v", err)
		}
		return e.Code, nil
	}
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		t.Fatal(err)
	}
	return "", env.Response
}

func TestCallersBlackBox(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"), "IDV_CALLERS="+callersConfig(callersPartnerKey))

	t.Run("v1", func(t *testing.T) {
		for _, c := range []struct {
			name, auth string
			status     int
			code       string
		}{
			// Loopback too: with callers configured everyone authenticates.
			{"no key", "", 401, "AuthFailure.InvalidAuthorization"},
			{"unknown key", "Bearer idvk_notIssued", 401, "AuthFailure.SecretIdNotFound"},
			{"key of a caller without the action", "Bearer " + callersPhoneKey, 403, "AuthFailure.UnauthorizedOperation"},
			{"key", "Bearer " + callersWebKey, 200, ""},
			{"bare key (seed-002 style)", callersWebKey, 200, ""},
		} {
			status, code, r := postAuth(t, s.url, "IdCardVerification", c.auth, callersIDCardBody)
			if status != c.status || code != c.code {
				t.Errorf("%s: %d %q, want %d %q", c.name, status, code, c.status, c.code)
			}
			if c.status == 200 && r["Result"] != "0" {
				t.Errorf("%s: %v", c.name, r)
			}
		}
	})

	t.Run("go sdk", func(t *testing.T) {
		code, r := goSDKCall(t, s.url, callersPartnerID, callersPartnerKey, "IdCardVerification", callersIDCardBody)
		if code != "" || r["Result"] != "0" || !strings.HasPrefix(r["RequestId"].(string), "sandbox-") {
			t.Fatalf("issued key pair: %q %v", code, r)
		}
		if code, _ := goSDKCall(t, s.url, callersPartnerID, callersPartnerKey+"x", "IdCardVerification", callersIDCardBody); code != "AuthFailure.SignatureFailure" {
			t.Errorf("wrong key: %q", code)
		}
		if code, _ := goSDKCall(t, s.url, "AKIDnotIssued0001", callersPartnerKey, "IdCardVerification", callersIDCardBody); code != "AuthFailure.SecretIdNotFound" {
			t.Errorf("unknown SecretId: %q", code)
		}
	})

	// tencentcloud-sdk-nodejs signs for the first label of the endpoint's
	// host, so each endpoint below signs for another service: "faceid",
	// "127" (the server's own address, no name resolved at all), and what
	// a Lambda or SCF Function URL gives ("<id>", "<appid>-<id>"), which
	// call.js resolves to 127.0.0.1. An issued key pair works through all
	// of them; a wrong key fails through all of them.
	for _, ep := range []struct{ host, service string }{
		{"faceid.idverify.test", "faceid"},
		{"127.0.0.1", "127"},
		{"0123456789abcdefghijklmnopqrstuv.lambda-url.ap-northeast-1.on.aws", "0123456789abcdefghijklmnopqrstuv"},
		{"1250000000-abcdefgh.ap-guangzhou.tencentscf.com", "1250000000-abcdefgh"},
	} {
		host := ep.host
		t.Run("node sdk via "+host, func(t *testing.T) {
			out := nodeSDKCall(t, s.url, host, callersPartnerID, callersPartnerKey, "IdCardVerification", callersIDCardBody)
			if out.Error != nil || out.Response["Result"] != "0" {
				t.Fatalf("Node SDK with the issued key pair: %+v %+v", out, out.Error)
			}
			if out.ScopeService != ep.service {
				t.Fatalf("the Node SDK signed for service %q, want %q", out.ScopeService, ep.service)
			}
			out = nodeSDKCall(t, s.url, host, callersPartnerID, "wrong"+callersPartnerKey, "IdCardVerification", callersIDCardBody)
			if out.Error == nil || out.Error.Code != "AuthFailure.SignatureFailure" {
				t.Fatalf("Node SDK with a wrong key: %+v", out)
			}
			out = nodeSDKCall(t, s.url, host, "AKIDnotIssued0001", callersPartnerKey, "IdCardVerification", callersIDCardBody)
			if out.Error == nil || out.Error.Code != "AuthFailure.SecretIdNotFound" {
				t.Fatalf("Node SDK with an unknown SecretId: %+v", out)
			}
		})
	}

	// No key, hash or Authorization header reaches the logs.
	logs := s.logs()
	for _, secret := range []string{callersWebKey, callersPhoneKey, callersPartnerKey, keySha256(callersWebKey), "Bearer idvk_"} {
		if strings.Contains(logs, secret) {
			t.Errorf("%.12q... appears in the server output", secret)
		}
	}
}

// nodeResult is what tests/sdk-node/call.js prints.
type nodeResult struct {
	Response map[string]any `json:"response"`
	Error    *struct {
		Code, Message, RequestID string
	} `json:"error"`
	// ScopeService is the credential scope's service the SDK signed for.
	ScopeService string `json:"scopeService"`
}

// nodeSDKCall runs tests/sdk-node/call.js: the official tencentcloud-sdk-nodejs
// faceid client with its endpoint <host>:<base's port>, the host resolved to
// 127.0.0.1 by call.js (the SDK signs for the host's first label).
// node_modules is installed from the committed package-lock.json when
// missing.
func nodeSDKCall(t *testing.T, base, host, secretID, secretKey, action, params string) nodeResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Node SDK check needs Node.js 18 or later")
	}
	dir, _ := filepath.Abs("sdk-node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tencentcloud-sdk-nodejs")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatal("node is installed but npm is not: cannot install tests/sdk-node")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in tests/sdk-node: %v\n%s", err, out)
		}
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(base, "http://"), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "call.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IDV_HOST="+host, "IDV_PORT="+port, "IDV_SECRET_ID="+secretID, "IDV_SECRET_KEY="+secretKey,
		"IDV_ACTION="+action, "IDV_PARAMS="+params)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node call.js: %v\n%s\n%s", err, out, stderr)
	}
	var r nodeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("node call.js printed %s", out)
	}
	return r
}

// TestCallersProduction: production refuses to start without callers, and
// starts from a caller list that is a secret reference whose key pair's
// secretKey is itself a KMS ciphertext, both resolved through the real
// cloud clients against the fakes.
func TestCallersProduction(t *testing.T) {
	bin := buildBinary(t, "all")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + freePort(t),
		"IDV_ENV=production", "IDV_MODE=sandbox"}
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "IDV_CALLERS is not set") ||
		!strings.Contains(string(out), "go run ./scripts/idvcaller new-key") {
		t.Fatalf("production without callers: %v\n%s", err, out)
	}

	w := newSecWorld(t)
	key := w.aws.CreateKey()
	blob := w.aws.Encrypt(key, []byte(w.secret(callersPartnerKey)), map[string]string{"caller": "partner"})
	partnerRef := "awskms:" + base64.StdEncoding.EncodeToString(blob) + "?ctx.caller=partner"
	w.tc.PutSecretString("idverify-callers", "v1", callersConfig(partnerRef))
	s := startServer(t, bin, secretsBinaryEnv(w, map[string]string{
		"IDV_ENV": "production", "IDV_MODE": "sandbox", "IDV_CALLERS": "tcssm:idverify-callers?version=v1",
	}, "http://127.0.0.1:9")...)

	if code, r := goSDKCall(t, s.url, callersPartnerID, callersPartnerKey, "IdCardVerification", callersIDCardBody); code != "" || r["Result"] != "0" {
		t.Fatalf("key pair from references: %q %v\n%s", code, r, s.logs())
	}
	if status, code, _ := postAuth(t, s.url, "IdCardVerification", "", callersIDCardBody); status != 401 || code != "AuthFailure.InvalidAuthorization" {
		t.Errorf("production without a key: %d %s", status, code)
	}
	if status, _, _ := postAuth(t, s.url, "IdCardVerification", "Bearer "+callersWebKey, callersIDCardBody); status != 200 {
		t.Errorf("production with a key: %d", status)
	}
	secAssertNoLeak(t, s.logs(), w.plain)
}
