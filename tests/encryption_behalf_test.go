package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/sandbox"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// scenarioBody is a request of action from the sandbox's table, with the
// first scenario that names a person when there is one.
func scenarioBody(t *testing.T, action string) string {
	t.Helper()
	var first string
	for _, s := range sandbox.Scenarios() {
		if s.Action != action || s.ErrorCode != "" || s.Start != nil {
			continue
		}
		if first == "" {
			first = string(s.Request)
		}
		if strings.Contains(string(s.Request), `"IdCard":"`) {
			return string(s.Request)
		}
	}
	if first == "" {
		t.Fatalf("no scenario of %s", action)
	}
	return first
}

// TestEncryptionOnBehalfBinary: the real binary, live against the fake
// FaceID (whose decryption is its own, on Go crypto and gmsm), with
// IDV_FACEID_ENCRYPT on and the fake's public keys configured as
// Tencent's. The caller sends and receives plain JSON; the fake receives
// the personal data only encrypted, in field mode, body mode and with the
// key for an encrypted answer, in both algorithms; the eID identity comes
// back decrypted with IDV_EID_SM2_PRIVATE_KEY; nothing personal and no key
// reaches the log.
func TestEncryptionOnBehalfBinary(t *testing.T) {
	bin := buildBinary(t, "all")
	const name, idnum = "王五", "11010119900307447X"
	f, url := fake.Start(t, fake.Options{EidPublicKey: fake.EidPublicKey(), EidName: name, EidIDNum: idnum})
	for _, alg := range []string{"AES-256-CBC", "SM4-GCM"} {
		t.Run(alg, func(t *testing.T) {
			f.Reset()
			srv := startServer(t, bin,
				"IDV_MODE=live", "IDV_PROVIDER_QPS=off",
				"TENCENTCLOUD_SECRET_ID="+fake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+fake.DefaultSecretKey,
				"IDV_TENCENT_ENDPOINT="+url,
				"IDV_FACEID_ENCRYPT="+alg,
				"IDV_FACEID_RSA_PUBLIC_KEY="+fake.RSAPublicKey(), "IDV_FACEID_SM2_PUBLIC_KEY="+fake.SM2PublicKey(),
				"IDV_EID_SM2_PRIVATE_KEY="+fake.EidPrivateKey)
			post := func(action, body string) map[string]json.RawMessage {
				t.Helper()
				r, err := http.Post(srv.url+"/v1/faceid/"+action, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(r.Body)
				r.Body.Close()
				var env struct{ Response map[string]json.RawMessage }
				if err := json.Unmarshal(b, &env); err != nil || r.StatusCode != 200 || env.Response["Error"] != nil {
					t.Fatalf("%s: status %d, %.300s", action, r.StatusCode, b)
				}
				return env.Response
			}
			wireEncryption := func(action string) (map[string]json.RawMessage, map[string]json.RawMessage) {
				t.Helper()
				req, ok := f.LastRequest(action)
				if !ok {
					t.Fatalf("%s never reached the fake", action)
				}
				var m, enc map[string]json.RawMessage
				_ = json.Unmarshal(req.Body, &m)
				if err := json.Unmarshal(m["Encryption"], &enc); err != nil {
					t.Fatalf("%s reached the fake without Encryption", action)
				}
				if string(enc["Algorithm"]) != `"`+alg+`"` {
					t.Errorf("%s: Algorithm %s", action, enc["Algorithm"])
				}
				return m, enc
			}

			// Field mode.
			// Not the banner's example values, which the log shows.
			id := sandbox.MagicIDCard(5)
			resp := post("IdCardVerification", `{"IdCard":"`+id+`","Name":"李四"}`)
			rec, _ := fake.Recorded("IdCardVerification")
			var want map[string]json.RawMessage
			_ = json.Unmarshal(rec, &want)
			if string(resp["Result"]) != string(want["Result"]) {
				t.Errorf("IdCardVerification Result %s, want the fake's %s", resp["Result"], want["Result"])
			}
			sent, _ := wireEncryption("IdCardVerification")
			if strings.Contains(string(sent["IdCard"]), id) || strings.Contains(string(sent["Name"]), "李四") {
				t.Errorf("personal data reached the fake in the clear")
			}
			if got, _ := f.Decrypted("IdCardVerification"); got["IdCard"] != id || got["Name"] != "李四" {
				t.Errorf("the fake decrypted %q %q", got["IdCard"], got["Name"])
			}

			// Body mode.
			body := scenarioBody(t, "DetectAIFakeFaces")
			post("DetectAIFakeFaces", body)
			sent, _ = wireEncryption("DetectAIFakeFaces")
			if len(sent) != 2 || sent["EncryptedBody"] == nil {
				t.Errorf("DetectAIFakeFaces sent %d members, want Encryption and EncryptedBody", len(sent))
			}
			if got, _ := f.Decrypted("DetectAIFakeFaces"); !jsonSame(got["EncryptedBody"], body) {
				t.Errorf("the fake's decrypted body differs from the caller's")
			}

			// An encrypted answer, decrypted for the caller.
			resp = post("CheckIdCardInformation", scenarioBody(t, "CheckIdCardInformation"))
			sent, _ = wireEncryption("CheckIdCardInformation")
			if string(sent["IsEncryptResponse"]) != "true" {
				t.Errorf("IsEncryptResponse not asked for")
			}
			rec, _ = fake.Recorded("CheckIdCardInformation")
			want = nil
			_ = json.Unmarshal(rec, &want)
			if resp["EncryptedBody"] != nil || resp["Encryption"] != nil {
				t.Errorf("the caller got the encrypted form")
			}
			for _, k := range []string{"Name", "IdNum", "Result", "FutureField"} {
				if !jsonSame(string(resp[k]), string(want[k])) {
					t.Errorf("CheckIdCardInformation %s = %s, want %s", k, resp[k], want[k])
				}
			}

			// eID: the identity, decrypted beside the encrypted fields.
			tok := post("GetEidToken", `{"MerchantId":"0NSJ2106211517321","IdCard":"`+id+`","Name":"李四"}`)
			var token string
			_ = json.Unmarshal(tok["EidToken"], &token)
			resp = post("GetEidResult", `{"EidToken":"`+token+`"}`)
			var info struct {
				UserInfo          string
				UserInfoDecrypted struct{ Name, IDType, IDNum string } `json:"UserInfoDecrypted"`
			}
			if err := json.Unmarshal(resp["EidInfo"], &info); err != nil {
				t.Fatalf("EidInfo: %v", err)
			}
			var plain map[string]string
			_ = json.Unmarshal(mustMember(resp["EidInfo"], "UserInfoDecrypted"), &plain)
			if plain["name"] != name || plain["idnum"] != idnum || plain["idtype"] != "01" || info.UserInfo == "" {
				t.Errorf("eID identity %v", plain)
			}

			assertNoPII(t, srv.logs(), id, "李四", name, idnum, fake.EidPrivateKey[40:80])
		})
	}
}

func jsonSame(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func mustMember(obj json.RawMessage, name string) json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(obj, &m)
	return m[name]
}
