package callers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/secrets"
)

func hashHex(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

func TestParseValid(t *testing.T) {
	cfg := `[{"id":"web","keySha256":"` + hashHex("k1") + `","actions":["IdCardVerification","PhoneVerification"],"rate":{"perSecond":10,"burst":20}},
	 {"id":"partner","secretId":"AKIDpartner0001","secretKey":"partner-secret-key-0001","actions":["*"],"test":true,"encrypt":"SM4-GCM"},
	 {"id":"both","keySha256":"` + strings.ToUpper(hashHex("k2")) + `","secretId":"AKIDboth","secretKey":"0123456789abcdef","actions":["faceAdv","faceprint/result/getall"],"rate":{"perSecond":0.5}}]`
	s, err := Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.IDs(), ","); got != "both,partner,web" {
		t.Fatalf("IDs = %s", got)
	}
	web := s.callers[0]
	if web.rate != 10 || web.burst != 20 || !web.allows("PhoneVerification") || web.allows("BankCardVerification") {
		t.Fatalf("web = %+v", web)
	}
	if p := s.callers[1]; !p.test || !p.allows("GetDetectInfo") || !p.allows("faceAdv") || p.rate != 0 || p.encrypt != "SM4-GCM" || web.encrypt != "" {
		t.Fatalf("partner = %+v", p)
	}
	// A burst left out is the rate rounded up, at least 1.
	if b := s.callers[2]; b.burst != 1 || b.rate != 0.5 || len(s.hashed) != 2 || s.bySecret["AKIDboth"] != b {
		t.Fatalf("both = %+v", b)
	}
}

func TestParseErrors(t *testing.T) {
	h := hashHex("k")
	entry := func(fields string) string { return `[{"id":"web",` + fields + `}]` }
	cases := []struct{ cfg, want string }{
		{``, "JSON ends too early"},
		{`{}`, "want a JSON array"},
		{`[]`, "the array is empty"},
		{`[1]`, "callers[0]: want callers.Entry"},
		{`[{"id":"web","keySha256":"` + h + `","actions":["*"]}] x`, "unexpected data after"},
		{`[{"id":"web","keySha256":"` + h + `","actions":["*"],"colour":"red"}]`, `callers[0] (id "web"): unknown field "colour"`},
		{`[{"keySha256":"` + h + `","actions":["*"]}]`, "callers[0]: id: missing"},
		{`[{"id":"a b","keySha256":"` + h + `","actions":["*"]}]`, "callers[0]: id: only letters"},
		{entry(`"keySha256":"xyz","actions":["*"]`), `callers[0] (id "web"): keySha256: want 64 hex digits`},
		{entry(`"keySha256":"` + h[:62] + `","actions":["*"]`), "keySha256: want 64 hex digits"},
		{entry(`"actions":["*"]`), "no credential"},
		{entry(`"secretId":"AKIDx1","actions":["*"]`), "secretKey: missing"},
		{entry(`"secretKey":"0123456789abcdef","actions":["*"]`), "secretId: missing"},
		{entry(`"secretId":"AK/ID","secretKey":"0123456789abcdef","actions":["*"]`), "secretId: only letters"},
		{entry(`"secretId":"AKIDx1","secretKey":"short","actions":["*"]`), "secretKey: 5 characters, want 16"},
		{entry(`"secretId":"AKIDx1","secretKey":"tckms:not base64!","actions":["*"]`), "secretKey: not a valid secret reference"},
		{entry(`"secretId":"AKIDx1","secretKey":"tcssm:name","actions":["*"]`), "need ?version="},
		{entry(`"keySha256":"` + h + `"`), "actions: empty"},
		{entry(`"keySha256":"` + h + `","actions":["IdCardVerifcation"]`), `actions[0]: unknown action "IdCardVerifcation"`},
		{entry(`"keySha256":"` + h + `","actions":["faceAdv","faceAdv"]`), `actions[1]: "faceAdv" is listed twice`},
		{entry(`"keySha256":"` + h + `","actions":["*","faceAdv"]`), `"*" already allows every action`},
		{entry(`"keySha256":"` + h + `","actions":"*"`), "actions: want []string"},
		{entry(`"keySha256":"` + h + `","actions":["*"],"test":"yes"`), "test: want bool"},
		{entry(`"keySha256":"` + h + `","actions":["*"],"rate":{"perSecond":0}`), "rate.perSecond: want a number above 0"},
		{entry(`"keySha256":"` + h + `","actions":["*"],"rate":{"perSecond":5,"burst":-1}`), "rate.burst"},
		{entry(`"keySha256":"` + h + `","actions":["*"],"rate":{"perSecond":5,"burts":3}`), `unknown field "burts"`},
		{entry(`"keySha256":"` + h + `","actions":["*"],"encrypt":"AES-128-ECB"`), `callers[0] (id "web"): encrypt: want AES-256-CBC, SM4-GCM or off`},
		{entry(`"keySha256":"` + h + `","actions":["*"],"encrypt":true`), `encrypt: want string`},
		{`[{"id":"web","keySha256":"` + h + `","actions":["*"]},{"id":"web","keySha256":"` + hashHex("k2") + `","actions":["*"]}]`,
			`callers[1] (id "web"): id: duplicate of callers[0]`},
		{`[{"id":"a","keySha256":"` + h + `","actions":["*"]},{"id":"b","keySha256":"` + strings.ToUpper(h) + `","actions":["*"]}]`,
			`callers[1] (id "b"): keySha256: the same key as caller "a"`},
		{`[{"id":"a","secretId":"AKID1","secretKey":"0123456789abcdef","actions":["*"]},{"id":"b","secretId":"AKID1","secretKey":"0123456789abcdeX","actions":["*"]}]`,
			`callers[1] (id "b"): secretId: already used by caller "a"`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.60s...)\n  error = %v\n  want it to contain %q", c.cfg, err, c.want)
		}
	}
}

// A syntax error must not echo the configuration: it may hold a key.
func TestParseErrorsDoNotEchoSecrets(t *testing.T) {
	const key = "SUPERSECRETKEYVALUE"
	for _, cfg := range []string{
		`[{"id":"p","secretId":"AKID1","secretKey":"` + key + `,"actions":["*"]}]`,
		`[{"id":"p","secretId":"AKID1","secretKey":"` + key + `","actions":["*"]} ` + key + `]`,
		`[{"id":"p","secretId":"AKID1","secretKey":"tckms:` + key + `!","actions":["*"]}]`,
		`[{"id":"p","secretId":"AKID1","secretKey":"` + key[:5] + `","actions":["*"]}]`,
	} {
		_, err := Parse([]byte(cfg))
		if err == nil {
			t.Fatalf("accepted %s", cfg)
		}
		if strings.Contains(err.Error(), key[:5]) {
			t.Errorf("error repeats the key: %v", err)
		}
	}
}

func TestKnownActions(t *testing.T) {
	all := KnownActions()
	if want := len(faceid.All()) + 2 + 8; len(all) != want {
		t.Fatalf("%d known actions, want %d", len(all), want)
	}
	for _, a := range append(all, "*") {
		if !KnownAction(a) {
			t.Errorf("KnownAction(%q) = false", a)
		}
	}
	for _, a := range []string{"", "faceprint", "faceprint/result", "idcardverification", "**"} {
		if KnownAction(a) {
			t.Errorf("KnownAction(%q) = true", a)
		}
	}
}

// fakeKMS is a secrets backend holding ciphertext -> plaintext; it refuses
// what it does not know, as KMS does for a ciphertext under another key.
type fakeKMS map[string]string

func (f fakeKMS) Fetch(_ context.Context, ref secrets.Ref) ([]byte, error) {
	v, ok := f[ref.Target]
	if !ok {
		return nil, secrets.Fail(secrets.AccessDenied, "AccessDeniedException", "the key cannot decrypt this ciphertext")
	}
	return []byte(v), nil
}

func TestLoadResolvesSecretKeyReferences(t *testing.T) {
	const plain = "partner-secret-from-kms-0001"
	ct := "Y2lwaGVydGV4dA==" // base64 "ciphertext"
	r := secrets.NewResolver(nil).WithBackend(secrets.TCKMS, fakeKMS{ct: plain})
	cfg := `[{"id":"partner","secretId":"AKIDpartner0001","secretKey":"tckms:` + ct + `","actions":["*"]}]`

	// Parse alone leaves the reference unresolved, and such a caller
	// authenticates nobody.
	s, err := Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.secretKey(s.callers[0]); err == nil {
		t.Fatal("an unresolved reference served a key")
	}

	s, err = Load(context.Background(), []byte(cfg), Options{Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.secretKey(s.callers[0]); err != nil || got != plain {
		t.Fatalf("secretKey = %q, %v", got, err)
	}

	// A reference that does not resolve stops the load, naming the caller
	// and the class, never the value.
	bad := `[{"id":"partner","secretId":"AKIDpartner0001","secretKey":"tckms:b3RoZXI=","actions":["*"]}]`
	_, err = Load(context.Background(), []byte(bad), Options{Resolver: r})
	var se *secrets.Error
	if err == nil || !errors.As(err, &se) || se.Class != secrets.AccessDenied ||
		!strings.Contains(err.Error(), "IDV_CALLERS[partner].secretKey") || strings.Contains(err.Error(), "b3RoZXI") {
		t.Fatalf("Load with an unresolvable key: %v", err)
	}
}
