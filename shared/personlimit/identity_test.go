package personlimit

import (
	"encoding/json"
	"strings"
	"testing"
)

// identityByMap is IdentityOf as it was written first, decoding the whole
// body into a map: the reference the one-pass reader is held to.
func identityByMap(action string, body []byte) (Identity, bool) {
	fields := identities[action]
	if len(fields) == 0 {
		return Identity{}, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return Identity{}, false
	}
	encrypted := encryptedMembers(m["Encryption"])
	for _, f := range fields {
		raw, ok := m[f.Member]
		if !ok || encrypted[f.Member] {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		if v := normalise(f.Kind, s); v != "" {
			return Identity{Kind: f.Kind, Value: v}, true
		}
	}
	return Identity{}, false
}

var identitySeeds = []struct {
	action, body string
	want         Identity // zero: none
}{
	{"IdCardVerification", `{"IdCard":" 11010119900307447x ","Name":"张三"}`, Identity{KindIDNumber, "11010119900307447X"}},
	{"IdCardVerification", `{"IdCard":"1","IdCard":"110101199003074477"}`, Identity{KindIDNumber, "110101199003074477"}},
	{"IdCardVerification", `{"IdCard":"110101199003074477"} x`, Identity{}},
	{"IdCardVerification", `[{"IdCard":"110101199003074477"}]`, Identity{}},
	{"IdCardVerification", `{"Name":"张三"}`, Identity{}},
	{"BankCard4EVerification", `{"IdCard":"","BankCard":"6222 0200-0000","Phone":"13800138000"}`, Identity{KindBankCard, "622202000000"}},
	// The caller encrypted the ID number itself: the phone number counts.
	{"PhoneVerification", `{"IdCard":"c2VjcmV0","Phone":"13800138000","Encryption":{"EncryptList":["IdCard"],"Algorithm":"AES-256-CBC"}}`, Identity{KindPhone, "13800138000"}},
	{"PhoneVerification", `{"IdCard":"c2VjcmV0","Phone":"bm9wZQ==","Encryption":{"EncryptList":["IdCard","Phone"]}}`, Identity{}},
	{"IdCardVerification", `{"IdCard":"110101199003074477","Encryption":{"EncryptList":"IdCard"}}`, Identity{KindIDNumber, "110101199003074477"}},
	{"faceprint/idcard/submit", `{"id_no":110101199003074477,"verify_token":"t"}`, Identity{KindIDNumber, "110101199003074477"}},
	{"LivenessRecognition", `{"VideoBase64":"` + strings.Repeat("QUJD", 1000) + `","IdCard":"110101199003074477"}`, Identity{KindIDNumber, "110101199003074477"}},
	{"LivenessCompare", `{"IdCard":"110101199003074477"}`, Identity{}},
}

func TestIdentityOf(t *testing.T) {
	for _, c := range identitySeeds {
		got, ok := IdentityOf(c.action, []byte(c.body))
		if ok != (c.want != Identity{}) || got != c.want {
			t.Errorf("%s %.80s: got %+v %v, want %+v", c.action, c.body, got, ok, c.want)
		}
		if ref, rok := identityByMap(c.action, []byte(c.body)); ref != got || rok != ok {
			t.Errorf("%s %.80s: reference %+v %v", c.action, c.body, ref, rok)
		}
	}
}

// A 6 MB body with an ID number is read without copying it.
func TestIdentityOfDoesNotCopyTheBody(t *testing.T) {
	body := []byte(`{"VideoBase64":"` + strings.Repeat("QUJD", 2<<20) + `","IdCard":"110101199003074477"}`)
	if a := testing.AllocsPerRun(5, func() { IdentityOf("LivenessRecognition", body) }); a > 8 {
		t.Fatalf("%v allocations per call", a)
	}
}

func FuzzIdentityOf(f *testing.F) {
	for _, c := range identitySeeds {
		f.Add(c.action, c.body)
	}
	f.Fuzz(func(t *testing.T, action, body string) {
		got, ok := IdentityOf(action, []byte(body))
		ref, rok := identityByMap(action, []byte(body))
		if got != ref || ok != rok {
			t.Fatalf("%s %q: one pass %+v %v, reference %+v %v", action, body, got, ok, ref, rok)
		}
	})
}
