package fieldcrypt_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/sandbox"
)

// FuzzDecryptAnswer: whatever comes back as an encrypted answer, Decrypt
// never panics; it returns the body untouched when there is nothing to
// open, a plain JSON object without the encryption members when it opens,
// and otherwise FailedOperation.DecryptSystemError.
func FuzzDecryptAnswer(f *testing.F) {
	sealed := map[bool]*fieldcrypt.Sealed{}
	sb := sandbox.New(sandbox.Options{})
	for _, gcm := range []bool{false, true} {
		alg := fieldcrypt.AES256CBC
		if gcm {
			alg = fieldcrypt.SM4GCM
		}
		s, err := fieldcrypt.Encrypt(sandbox.PublicKeys(), alg, "CheckIdCardInformation", scenarioRequest(f, "CheckIdCardInformation", "Success"))
		if err != nil || s == nil {
			f.Fatal(err)
		}
		sealed[gcm] = s
		out, err := sb.Call(context.Background(), "CheckIdCardInformation", s.Params)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(gcm, []byte(out)) // a real encrypted answer
	}
	f.Add(true, []byte(`{"Encryption":{"Iv":"AAAAAAAAAAAAAAAA","TagList":["AAAAAAAAAAAAAAAAAAAAAA=="]},"EncryptedBody":"AAAA","RequestId":"r"}`))
	f.Add(false, []byte(`{"Encryption":null,"EncryptedBody":"AAAAAAAAAAAAAAAAAAAAAA==","RequestId":"r"}`))
	f.Add(false, []byte(`{"EncryptedBody":null,"Result":"0"}`))
	f.Fuzz(func(t *testing.T, gcm bool, body []byte) {
		out, err := sealed[gcm].Decrypt(body)
		if err != nil {
			if e := errs.As(err); e.Code != "FailedOperation.DecryptSystemError" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if string(out) == string(body) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("not JSON: %q", out)
		}
		for _, m := range []string{"EncryptedBody", "Encryption"} {
			if _, ok := jsonshape.Member(out, m); ok {
				t.Fatalf("%s left in an opened answer", m)
			}
		}
	})
}

// FuzzOpenEidInfo: any DesKey and UserInfo either decrypt to an identity
// or fail with ErrDecrypt, never a panic.
func FuzzOpenEidInfo(f *testing.F) {
	key, err := fieldcrypt.ParseSM2PrivateKey(sandbox.EidPrivateKey)
	if err != nil {
		f.Fatal(err)
	}
	d, u, err := fieldcrypt.SealEidInfo(&key.PublicKey, fieldcrypt.Identity{Name: "张三", IDType: "01", IDNum: "110101199003074477"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d, u)
	f.Add(d, "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("BA==", u)
	f.Add("MAA=", "")
	f.Fuzz(func(t *testing.T, desKey, userInfo string) {
		id, err := fieldcrypt.OpenEidInfo(key, desKey, userInfo)
		if (err == nil) == (id == nil) || (err != nil && err != fieldcrypt.ErrDecrypt) {
			t.Fatalf("%+v %v", id, err)
		}
	})
}

// FuzzEncrypt: any request of any action is either left alone or sent as
// JSON carrying an Encryption object wrapped to the keys, never a panic.
func FuzzEncrypt(f *testing.F) {
	all := faceid.All()
	for i, a := range all {
		if fieldcrypt.ModeOf(a.Name) != fieldcrypt.None {
			f.Add(uint8(i), true, []byte(`{"IdCard":"110101199003074477","Name":"张三","Mobile":"13800138000","FaceInput":"QUJD","FaceInputType":1}`))
		}
	}
	f.Add(uint8(0), false, []byte(`{"Name":null,"IdCard":""}`))
	f.Add(uint8(0), false, []byte(`[]`))
	f.Fuzz(func(t *testing.T, pick uint8, gcm bool, body []byte) {
		alg := fieldcrypt.AES256CBC
		if gcm {
			alg = fieldcrypt.SM4GCM
		}
		a := all[int(pick)%len(all)]
		s, err := fieldcrypt.Encrypt(sandbox.PublicKeys(), alg, a.Name, body)
		if err != nil || s == nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(s.Params, &m) != nil || m["Encryption"] == nil {
			t.Fatalf("sent %q", s.Params)
		}
	})
}
