package fieldcrypt_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/tencent"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// fakeKeys are the fake FaceID's public keys, as a deployment would
// configure Tencent's.
func fakeKeys(t *testing.T) fieldcrypt.PublicKeys {
	r, err := fieldcrypt.ParseRSAPublicKey(fake.RSAPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := fieldcrypt.ParseSM2PublicKey(fake.SM2PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return fieldcrypt.PublicKeys{RSA: r, SM2: s}
}

func liveAgainstFake(t *testing.T, opts fake.Options) (*fake.Server, *tencent.FaceID) {
	srv, url := fake.Start(t, opts)
	p, err := tencent.New(tencent.Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	return srv, p
}

// firstRequest is a request of action from the sandbox's table (the fake
// answers its recording whatever the values).
func firstRequest(t *testing.T, action string) []byte {
	var first []byte
	for _, s := range sandbox.Scenarios() {
		if s.Action != action || s.ErrorCode != "" {
			continue
		}
		if first == nil {
			first = s.Request
		}
		for _, f := range precheck.Encryptable(action) {
			if strings.Contains(string(s.Request), `"`+f+`":"`) {
				return s.Request // one with a field to encrypt
			}
		}
	}
	if first != nil {
		return first
	}
	t.Fatalf("no scenario of %s", action)
	return nil
}

// TestAgainstFake: every action that takes encryption, in both algorithms,
// through the live provider (TC3-signed) to the fake, whose decryption is
// written apart from this package: the fake reads back exactly what the
// caller sent, and encrypted answers come back as the recording in plain
// JSON.
func TestAgainstFake(t *testing.T) {
	srv, live := liveAgainstFake(t, fake.Options{})
	keys := fakeKeys(t)
	seen := map[fieldcrypt.Mode]bool{}
	for _, alg := range []string{fieldcrypt.AES256CBC, fieldcrypt.SM4GCM} {
		p := &fieldcrypt.Provider{Next: live, Keys: keys, Algorithm: alg}
		for _, a := range faceid.All() {
			mode := fieldcrypt.ModeOf(a.Name)
			if mode == fieldcrypt.None {
				continue
			}
			seen[mode] = true
			t.Run(alg+"/"+a.Name, func(t *testing.T) {
				req := firstRequest(t, a.Name)
				var sent map[string]json.RawMessage
				_ = json.Unmarshal(req, &sent)
				out, err := p.Call(context.Background(), a.Name, req)
				if err != nil {
					t.Fatalf("call: %v", err)
				}
				wire, _ := srv.LastRequest(a.Name)
				got, _ := srv.Decrypted(a.Name)
				switch mode {
				case fieldcrypt.Fields:
					n := 0
					for _, f := range precheck.Encryptable(a.Name) {
						var v string
						if json.Unmarshal(sent[f], &v) != nil || v == "" {
							continue
						}
						n++
						if got[f] != v {
							t.Errorf("the fake decrypted %s wrong", f)
						}
						if strings.Contains(string(wire.Body), v) {
							t.Errorf("%s on the wire in the clear", f)
						}
					}
					if n == 0 {
						t.Fatalf("no field to encrypt in the request")
					}
				case fieldcrypt.Body:
					var inner map[string]json.RawMessage
					if err := json.Unmarshal([]byte(got["EncryptedBody"]), &inner); err != nil || len(inner) != len(sent) {
						t.Fatalf("the fake's body: %v, %d members of %d", err, len(inner), len(sent))
					}
					for k, v := range sent {
						if string(inner[k]) != string(v) {
							t.Errorf("body member %s differs", k)
						}
					}
					var wireBody map[string]json.RawMessage
					_ = json.Unmarshal(wire.Body, &wireBody)
					if len(wireBody) != 2 || wireBody["EncryptedBody"] == nil || wireBody["Encryption"] == nil {
						t.Errorf("body mode sent more than Encryption and EncryptedBody")
					}
				case fieldcrypt.Answer:
					rec, _ := fake.Recorded(a.Name)
					var want, have map[string]json.RawMessage
					_ = json.Unmarshal(rec, &want)
					_ = json.Unmarshal(out, &have)
					delete(want, "Encryption")
					delete(want, "EncryptedBody")
					if len(have) != len(want) {
						t.Errorf("%d members, want %d", len(have), len(want))
					}
					for k, v := range want {
						if k != "RequestId" && !jsonEqual(v, have[k]) {
							t.Errorf("member %s: %s, want %s", k, have[k], v)
						}
					}
					var raw map[string]json.RawMessage
					_ = json.Unmarshal(wire.Body, &raw)
					if string(raw["IsEncryptResponse"]) != "true" {
						t.Errorf("IsEncryptResponse not sent")
					}
				}
			})
		}
	}
	if len(seen) != 3 {
		t.Errorf("modes covered: %v", seen)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && mustMarshal(x) == mustMarshal(y)
}

func mustMarshal(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestFakeRefuses: what does not decrypt with the fake's key, or lists a
// field the action does not take encrypted, is refused as Tencent does.
func TestFakeRefuses(t *testing.T) {
	srv, live := liveAgainstFake(t, fake.Options{})
	// Wrapped to the sandbox's keys, not the fake's.
	sealed, _ := fieldcrypt.Encrypt(sandbox.PublicKeys(), fieldcrypt.SM4GCM, "IdCardVerification", []byte(`{"IdCard":"110101199003074477","Name":"张三"}`))
	_, err := live.Call(context.Background(), "IdCardVerification", sealed.Params)
	if e := errs.As(err); e == nil || e.Code != "FailedOperation.DecryptSystemError" {
		t.Errorf("wrong key: %v", err)
	}
	sealed, _ = fieldcrypt.Encrypt(fakeKeys(t), fieldcrypt.AES256CBC, "IdCardVerification", []byte(`{"IdCard":"110101199003074477","Name":"张三"}`))
	var m map[string]any
	_ = json.Unmarshal(sealed.Params, &m)
	m["Encryption"].(map[string]any)["EncryptList"] = []string{"IdCard", "Extra"}
	b, _ := json.Marshal(m)
	_, err = live.Call(context.Background(), "IdCardVerification", b)
	if e := errs.As(err); e == nil || e.Code != "InvalidParameter.UnsupportEncryptField" {
		t.Errorf("unsupported field: %v", err)
	}
	if srv.Billable("IdCardVerification") != 0 {
		t.Errorf("a refused call was billed")
	}
}

// TestFakeEidIdentity: the fake encrypts the identity to the merchant key
// (space fill, C1C3C2); the function decrypts it with the private half.
func TestFakeEidIdentity(t *testing.T) {
	_, live := liveAgainstFake(t, fake.Options{EidPublicKey: fake.EidPublicKey(), EidName: "王五", EidIDNum: "11010119900307447X"})
	key, err := fieldcrypt.ParseSM2PrivateKey(fake.EidPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	p := &fieldcrypt.Provider{Next: live, EidKey: key}
	out, err := p.Call(context.Background(), "GetEidResult", []byte(`{"EidToken":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := at(out, "EidInfo.UserInfoDecrypted.name"); n != "王五" {
		t.Errorf("name %q", n)
	}
	if n, _ := at(out, "EidInfo.UserInfoDecrypted.idnum"); n != "11010119900307447X" {
		t.Errorf("idnum %q", n)
	}
	if v, _ := at(out, "FutureField"); v == "" {
		t.Errorf("a member the spec does not know was dropped")
	}
}
