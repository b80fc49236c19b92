package fieldcrypt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
)

// wire records what crosses between the function and the provider.
type wire struct {
	next provider.FaceID
	mu   sync.Mutex
	sent map[string][]byte
	got  map[string][]byte
}

func (w *wire) Name() string { return w.next.Name() }
func (w *wire) Call(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	out, err := w.next.Call(ctx, action, params)
	w.mu.Lock()
	w.sent[action], w.got[action] = bytes.Clone(params), bytes.Clone(out)
	w.mu.Unlock()
	return out, err
}

// at reads a dotted path of a JSON object as text ("null" for null).
func at(body []byte, path string) (string, bool) {
	cur := body
	for _, p := range strings.Split(path, ".") {
		v, ok := jsonshape.Member(cur, p)
		if !ok {
			return "", false
		}
		cur = v
	}
	var s string
	if string(cur) != "null" && json.Unmarshal(cur, &s) == nil {
		return s, true
	}
	return string(cur), true
}

// TestSandboxScenariosEncrypted plays every sandbox scenario of an action
// that takes encryption with encryption on the caller's behalf, in both
// algorithms, through precheck: the magic values reach the sandbox only
// encrypted, the sandbox decrypts them and picks the documented outcome,
// and encrypted answers come back in plain JSON.
func TestSandboxScenariosEncrypted(t *testing.T) {
	played := map[fieldcrypt.Mode]int{}
	for _, alg := range []string{fieldcrypt.AES256CBC, fieldcrypt.SM4GCM} {
		for i, s := range sandbox.Scenarios() {
			mode := fieldcrypt.ModeOf(s.Action)
			if mode == fieldcrypt.None || s.After != "" || s.ReachedBy == sandbox.ReachedByNotEmulated || strings.HasPrefix(s.ResultField, "DetectInfo.") {
				continue
			}
			t.Run(fmt.Sprintf("%s/%03d_%s_%s%s", alg, i, s.Action, s.Result, s.ErrorCode), func(t *testing.T) {
				w := &wire{next: sandbox.New(sandbox.Options{}), sent: map[string][]byte{}, got: map[string][]byte{}}
				svc := &service.Service{Provider: &fieldcrypt.Provider{Next: w, Keys: sandbox.PublicKeys(), Algorithm: alg}}
				ctx := context.Background()
				req := s.Request
				if s.Start != nil {
					res, err := svc.Do(ctx, s.Start.Action, s.Start.Request, "sandbox-start")
					if err != nil {
						t.Fatalf("start %s: %v", s.Start.Action, err)
					}
					tok, _ := at(res.Body, s.Start.TokenField)
					var m map[string]any
					_ = json.Unmarshal(req, &m)
					m[s.Start.Into] = tok
					req, _ = json.Marshal(m)
				}
				res, err := svc.Do(ctx, s.Action, req, "sandbox-call")
				if s.ErrorCode != "" {
					if e := errs.As(err); e == nil || e.Code != s.ErrorCode {
						t.Fatalf("want %s, got %v", s.ErrorCode, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if res.Source != service.FromProvider {
					return // answered by precheck: nothing was sent
				}
				played[mode]++
				sent := w.sent[s.Action]
				if _, ok := jsonshape.Member(sent, "Encryption"); !ok {
					hidden := false
					for _, f := range precheck.Encryptable(s.Action) {
						if v, ok := at(req, f); ok && v != "" && v != "null" {
							hidden = true
						}
					}
					if hidden {
						t.Fatalf("sent without Encryption")
					}
				}
				secret := s.Value
				if s.Field != "" && secret != "" && (mode == fieldcrypt.Body || contains(precheck.Encryptable(s.Action), s.Field)) && strings.Contains(string(sent), secret) {
					t.Fatalf("%s reached the provider in the clear", s.Field)
				}
				if mode == fieldcrypt.Answer {
					if v, _ := at(w.got[s.Action], "EncryptedBody"); v == "" || v == "null" {
						t.Fatalf("the sandbox answered in the clear")
					}
					if _, ok := jsonshape.Member(res.Body, "EncryptedBody"); ok {
						t.Fatalf("the caller got the encrypted answer")
					}
				}
				if s.ResultField != "" {
					if got, ok := at(res.Body, s.ResultField); !ok || got != s.Result {
						t.Errorf("%s = %q, want %q", s.ResultField, got, s.Result)
					}
				}
				if rid, _ := at(res.Body, "RequestId"); rid != "sandbox-call" {
					t.Errorf("RequestId %q", rid)
				}
			})
		}
	}
	for _, m := range []fieldcrypt.Mode{fieldcrypt.Fields, fieldcrypt.Body, fieldcrypt.Answer} {
		if played[m] == 0 {
			t.Errorf("no scenario of mode %d reached the sandbox", m)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSandboxEidIdentity: the sandbox encrypts the eID identity to the
// public half of the configured key; the function decrypts it and adds
// UserInfoDecrypted beside the original fields.
func TestSandboxEidIdentity(t *testing.T) {
	eid, err := fieldcrypt.ParseSM2PrivateKey(sandbox.EidPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New(sandbox.Options{EidPublicKey: &eid.PublicKey})
	for _, key := range []bool{true, false} {
		p := &fieldcrypt.Provider{Next: sb, Keys: sandbox.PublicKeys()}
		if key {
			p.EidKey = eid
		}
		svc := &service.Service{Provider: p}
		ctx := context.Background()
		res, err := svc.Do(ctx, "GetEidToken", []byte(`{"MerchantId":"0NSJ2106211517321","Name":"李四","IdCard":"110101199003074477"}`), "sandbox-1")
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := at(res.Body, "EidToken")
		out, err := svc.Do(ctx, "GetEidResult", []byte(`{"EidToken":"`+tok+`"}`), "sandbox-2")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"EidInfo.DesKey", "EidInfo.UserInfo", "EidInfo.EidCode"} {
			if v, _ := at(out.Body, f); v == "" || v == "null" {
				t.Errorf("%s missing", f)
			}
		}
		name, _ := at(out.Body, "EidInfo.UserInfoDecrypted.name")
		idnum, _ := at(out.Body, "EidInfo.UserInfoDecrypted.idnum")
		idtype, _ := at(out.Body, "EidInfo.UserInfoDecrypted.idtype")
		switch {
		case key && (name != "李四" || idnum != "110101199003074477" || idtype != "01"):
			t.Errorf("decrypted identity %q %q %q", name, idtype, idnum)
		case !key && name != "":
			t.Errorf("decrypted without a key")
		}
	}
	// Encrypted to another key: the answer is kept as it came.
	wrong := &service.Service{Provider: &fieldcrypt.Provider{Next: sandbox.New(sandbox.Options{EidPublicKey: sandbox.PublicKeys().SM2}), EidKey: eid}}
	res, err := wrong.Do(context.Background(), "GetEidToken", []byte(`{"MerchantId":"0NSJ2106211517321"}`), "sandbox-3")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := at(res.Body, "EidToken")
	out, err := wrong.Do(context.Background(), "GetEidResult", []byte(`{"EidToken":"`+tok+`"}`), "sandbox-4")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := at(out.Body, "EidInfo.UserInfoDecrypted"); ok {
		t.Errorf("decrypted with the wrong key")
	}
	if v, _ := at(out.Body, "EidInfo.UserInfo"); v == "" || v == "null" {
		t.Errorf("UserInfo lost")
	}
}

// scenarioRequest is the request of action's first scenario with result.
func scenarioRequest(t testing.TB, action, result string) []byte {
	for _, s := range sandbox.Scenarios() {
		if s.Action == action && s.Result == result && s.Start == nil {
			return s.Request
		}
	}
	t.Fatalf("no %s scenario with %s", action, result)
	return nil
}

// TestCallerChoice: a caller's own setting overrides the function's
// ("off" sends plain text), and a caller that encrypted itself is passed
// through untouched, answer included.
func TestCallerChoice(t *testing.T) {
	w := &wire{next: sandbox.New(sandbox.Options{}), sent: map[string][]byte{}, got: map[string][]byte{}}
	p := &fieldcrypt.Provider{Next: w, Keys: sandbox.PublicKeys(), Algorithm: fieldcrypt.SM4GCM}
	plain := []byte(`{"IdCard":"110101199003074477","Name":"张三"}`)
	ctx := provider.WithEncryption(context.Background(), fieldcrypt.Off)
	if _, err := p.Call(ctx, "IdCardVerification", plain); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.sent["IdCardVerification"], plain) {
		t.Errorf("off still encrypted")
	}
	ctx = provider.WithEncryption(context.Background(), fieldcrypt.AES256CBC)
	if _, err := p.Call(ctx, "IdCardVerification", plain); err != nil {
		t.Fatal(err)
	}
	if alg, _ := at(w.sent["IdCardVerification"], "Encryption.Algorithm"); alg != fieldcrypt.AES256CBC {
		t.Errorf("caller's algorithm not used: %q", alg)
	}
	// The caller encrypts itself (as fieldcrypt would, to the sandbox's
	// keys) and asks for an encrypted answer: nothing is changed either
	// way.
	sealed, err := fieldcrypt.Encrypt(sandbox.PublicKeys(), fieldcrypt.SM4GCM, "CheckIdCardInformation", scenarioRequest(t, "CheckIdCardInformation", "Success"))
	if err != nil || sealed == nil {
		t.Fatal(err)
	}
	out, err := p.Call(context.Background(), "CheckIdCardInformation", sealed.Params)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.sent["CheckIdCardInformation"], sealed.Params) {
		t.Errorf("the caller's encrypted request was changed")
	}
	if v, _ := at(out, "EncryptedBody"); v == "" || v == "null" {
		t.Errorf("the caller's encrypted answer was opened by the function")
	}
	if plainOut, err := sealed.Decrypt(out); err != nil {
		t.Fatalf("the caller cannot open its answer: %v", err)
	} else if r, _ := at(plainOut, "Result"); r != "Success" {
		t.Errorf("Result %q", r)
	}
}
