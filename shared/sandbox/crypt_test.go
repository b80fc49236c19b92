package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/fieldcrypt"
)

// FuzzOpenRequest: whatever Encryption object reaches the sandbox, it is
// decrypted or refused with one of Tencent's codes, never a panic; what is
// accepted is JSON again.
func FuzzOpenRequest(f *testing.F) {
	for _, alg := range []string{fieldcrypt.AES256CBC, fieldcrypt.SM4GCM} {
		for action, body := range map[string]string{
			"IdCardVerification":     `{"IdCard":"110101199003074477","Name":"张三"}`,
			"DetectAIFakeFaces":      `{"FaceInput":"QUJD","FaceInputType":1}`,
			"CheckIdCardInformation": `{"ImageBase64":"QUJD"}`,
		} {
			s, err := fieldcrypt.Encrypt(PublicKeys(), alg, action, []byte(body))
			if err != nil || s == nil {
				f.Fatal(action, err)
			}
			f.Add(action, []byte(s.Params))
		}
	}
	f.Add("IdCardVerification", []byte(`{"Encryption":{"EncryptList":["Extra"],"CiphertextBlob":"","Iv":""}}`))
	f.Add("IdCardVerification", []byte(`{"Encryption":{"Algorithm":"SM4-GCM","EncryptList":["IdCard"],"CiphertextBlob":"BA==","Iv":"AAAAAAAAAAAAAAAA","TagList":[]}}`))
	f.Add("DetectAIFakeFaces", []byte(`{"Encryption":{"EncryptList":["EncryptionBody"]},"EncryptedBody":7}`))
	f.Add("IdCardVerification", []byte(`{"Encryption":"x"}`))
	codes := map[string]bool{"FailedOperation.DecryptSystemError": true, "InvalidParameter.UnsupportEncryptField": true, "InvalidParameter": true}
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		c := &call{action: action, rid: "sandbox-fuzz"}
		out, key, err := c.openRequest(body)
		if err != nil {
			if e := errs.As(err); e == nil || !codes[e.Code] || e.RequestID != "sandbox-fuzz" {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if key != nil && !fieldcrypt.Known(key.alg) {
			t.Fatalf("answer key of %q", key.alg)
		}
		if json.Valid(body) && !json.Valid(out) {
			t.Fatalf("accepted JSON became %q", out)
		}
	})
}
