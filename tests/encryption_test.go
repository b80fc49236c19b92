package tests

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/sandbox"
)

// TestCallerEncryptionThroughTheServer: a caller that encrypts its own
// fields (FaceID's Encryption object) is checked by precheck before the
// provider is reached. A hostile object gets a 400 naming the field; a
// well-formed one reaches the sandbox and its answer comes back.
func TestCallerEncryptionThroughTheServer(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))
	raw := func(n int, first byte) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*5 + 3)
		}
		b[0] = first
		return base64.StdEncoding.EncodeToString(b)
	}
	ct := raw(32, 1)
	body := func(enc string) string {
		return `{"IdCard":"` + ct + `","Name":"` + ct + `","Encryption":{` + enc + `}}`
	}
	blob, iv := raw(128, 0x5a), raw(16, 7)
	post := func(b string) (int, string, map[string]any) {
		t.Helper()
		r, err := http.Post(s.url+"/v1/faceid/IdCardVerification", "application/json", strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var env struct{ Response map[string]any }
		if err := json.Unmarshal(out, &env); err != nil {
			t.Fatalf("not an envelope: %s", out)
		}
		return r.StatusCode, r.Header.Get("X-Idv-Source"), env.Response
	}
	for _, c := range []struct{ name, enc, code, field string }{
		{"blob abc", `"EncryptList":["IdCard","Name"],"CiphertextBlob":"abc","Iv":"` + iv + `"`, "InvalidParameterValue", "Encryption.CiphertextBlob"},
		{"missing iv", `"EncryptList":["IdCard","Name"],"CiphertextBlob":"` + blob + `"`, "MissingParameter", "Encryption.Iv"},
		{"gcm without tags", `"Algorithm":"SM4-GCM","EncryptList":["IdCard","Name"],"CiphertextBlob":"` + raw(113, 4) + `","Iv":"` + raw(12, 1) + `"`, "InvalidParameterValue", "Encryption.TagList"},
		{"field not encryptable", `"EncryptList":["Encryption"],"CiphertextBlob":"` + blob + `","Iv":"` + iv + `"`, "InvalidParameter.UnsupportEncryptField", "Encryption.EncryptList[0]"},
	} {
		status, source, resp := post(body(c.enc))
		e, _ := resp["Error"].(map[string]any)
		msg, _ := e["Message"].(string)
		if status != http.StatusBadRequest || e["Code"] != c.code || !strings.Contains(msg, c.field) {
			t.Errorf("%s: status %d, error %v; want 400 %s naming %s", c.name, status, e, c.code, c.field)
		}
		if source != "" {
			t.Errorf("%s: answered by %q; a refusal comes before any answer", c.name, source)
		}
		if strings.Contains(msg, ct) || strings.Contains(msg, blob) {
			t.Errorf("%s: message leaks a value: %q", c.name, msg)
		}
	}
	// Well-formed but wrapped to nobody's key: it passes precheck and the
	// sandbox, like Tencent, cannot decrypt it.
	status, _, resp := post(body(`"Algorithm":"AES-256-CBC","EncryptList":["IdCard","Name"],"CiphertextBlob":"` + blob + `","Iv":"` + iv + `","TagList":[]`))
	if e, _ := resp["Error"].(map[string]any); status == http.StatusBadRequest || e == nil || e["Code"] != "FailedOperation.DecryptSystemError" {
		t.Fatalf("undecryptable Encryption: status %d, response %v", status, resp)
	}
	// Encrypted to the sandbox's published keys, in both algorithms: the
	// sandbox decrypts, and the magic value inside picks the outcome.
	for _, alg := range []string{fieldcrypt.AES256CBC, fieldcrypt.SM4GCM} {
		sealed, err := fieldcrypt.Encrypt(sandbox.PublicKeys(), alg, "IdCardVerification",
			[]byte(`{"IdCard":"`+sandbox.MagicIDCard(1)+`","Name":"张三"}`))
		if err != nil || sealed == nil {
			t.Fatal(err)
		}
		status, source, resp := post(string(sealed.Params))
		if status != http.StatusOK || resp["Error"] != nil || resp["Result"] != "-1" {
			t.Fatalf("%s: status %d, response %v", alg, status, resp)
		}
		if source == "precheck" {
			t.Errorf("%s: answered by precheck, not the provider", alg)
		}
	}
}
