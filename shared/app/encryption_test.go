package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/sandbox"
)

func TestFaceIDCryptoSettings(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	// Defaults: off, Tencent's published keys (read on first use, so a
	// cold start that never encrypts does not pay for them), no eID key.
	c, err := faceIDCryptoFromEnv(env())
	if err != nil || c.alg != "" || c.live.RSA != nil || c.live.SM2 != nil || c.eid != nil {
		t.Fatalf("defaults %+v %v", c, err)
	}
	if d := tencentDefaultKeys(); d.RSA == nil || d.SM2 == nil || d.RSA.N.BitLen() != 1024 {
		t.Fatalf("Tencent's default keys: %+v", d)
	}
	// One configured key: the other is Tencent's default, read at start.
	if c, err := faceIDCryptoFromEnv(env(rsaPubVar, fieldcrypt.TencentRSAPublicKey)); err != nil || c.live.RSA == nil || c.live.SM2 == nil {
		t.Fatalf("one key configured: %+v %v", c, err)
	}
	for in, want := range map[string]string{"off": "", "OFF": "", "aes-256-cbc": fieldcrypt.AES256CBC, " SM4-GCM ": fieldcrypt.SM4GCM} {
		if c, err := faceIDCryptoFromEnv(env(encryptVar, in)); err != nil || c.alg != want {
			t.Errorf("%q: %q %v", in, c.alg, err)
		}
	}
	c, err = faceIDCryptoFromEnv(env(eidPrivVar, sandbox.EidPrivateKey))
	if err != nil || c.eid == nil || c.sandboxOptions().EidPublicKey == nil {
		t.Fatalf("eID key: %v", err)
	}
	// Each bad value stops the start naming its variable, not the value.
	for _, v := range []string{encryptVar, rsaPubVar, sm2PubVar, eidPrivVar} {
		_, err := faceIDCryptoFromEnv(env(v, "secret-value-3c9a"))
		e := errs.As(err)
		if e == nil || e.Kind != errs.Config || e.Field != v || !strings.Contains(e.Message, v) || strings.Contains(e.Error(), "secret-value") {
			t.Errorf("%s: %v", v, err)
		}
	}
	// The eID key is a secret: production requires a reference.
	if !slices.Contains(SecretVars, eidPrivVar) {
		t.Errorf("%s is not in SecretVars", eidPrivVar)
	}
}

// TestFaceIDContractEncrypts: the wiring puts encryption and eID
// decryption around the sandbox (with the sandbox's keys, so a sandbox
// deployment with IDV_FACEID_ENCRYPT set answers as before), and hands the
// sandbox the public half of the eID key.
func TestFaceIDContractEncrypts(t *testing.T) {
	vars := map[string]string{"IDV_MODE": "sandbox", encryptVar: fieldcrypt.SM4GCM, eidPrivVar: sandbox.EidPrivateKey}
	e := &Env{Getenv: func(k string) string { return vars[k] }, Log: slog.New(slog.DiscardHandler)}
	c, err := FaceIDContract(e, []string{"IdCardVerification", "GetEidToken", "GetEidResult"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Pipeline(c)
	if err != nil {
		t.Fatal(err)
	}
	post := func(action, body string) string {
		r := p.ServeRequest(context.Background(), &gateway.Request{Method: "POST", Path: "/v1/faceid/" + action,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), SourceIP: "127.0.0.1"})
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", action, r.Status, r.Body)
		}
		return string(r.Body)
	}
	if out := post("IdCardVerification", `{"IdCard":"`+sandbox.MagicIDCard(1)+`","Name":"张三"}`); !strings.Contains(out, `"Result":"-1"`) {
		t.Errorf("magic value through encryption: %s", out)
	}
	var tok struct{ Response struct{ EidToken string } }
	_ = json.Unmarshal([]byte(post("GetEidToken", `{"MerchantId":"0NSJ2106211517321","IdCard":"110101199003074477","Name":"张三"}`)), &tok)
	if out := post("GetEidResult", `{"EidToken":"`+tok.Response.EidToken+`"}`); !strings.Contains(out, `"UserInfoDecrypted":{"name":"张三","idtype":"01","idnum":"110101199003074477"}`) {
		t.Errorf("eID identity not decrypted: %.400s", out)
	}
}
