package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// entryOf extracts the printed IDV_CALLERS entry.
func entryOf(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  (\{.*\})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no entry in output:\n%s", out)
	}
	return m[1]
}

func authenticate(t *testing.T, entry, authorization, action string) (*gateway.Caller, error) {
	t.Helper()
	set, err := callers.Parse([]byte("[" + entry + "]"))
	if err != nil {
		t.Fatalf("printed entry does not parse: %v", err)
	}
	h := http.Header{}
	h.Set("Authorization", authorization)
	return set.Authenticate(context.Background(), &gateway.Request{Header: h}, action)
}

// The printed key authenticates with the printed entry, and only for the
// actions given.
func TestNewKey(t *testing.T) {
	code, out, _ := runCmd("", "new-key", "--id", "web", "--actions", "IdCardVerification, PhoneVerification", "--test", "--rate", "5")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	key := regexp.MustCompile(`idvk_[A-Za-z0-9]{43}`).FindString(out)
	if key == "" {
		t.Fatalf("no key in output:\n%s", out)
	}
	entry := entryOf(t, out)
	if strings.Contains(entry, key) {
		t.Fatal("the entry holds the key itself")
	}
	c, err := authenticate(t, entry, "Bearer "+key, "PhoneVerification")
	if err != nil || c.ID != "web" || !c.Test || c.Rate != 5 || c.Burst != 5 {
		t.Fatalf("caller %+v, %v", c, err)
	}
	if _, err := authenticate(t, entry, "Bearer "+key, "BankCardVerification"); errs.KindOf(err) != errs.Forbidden {
		t.Fatalf("other action: %v", err)
	}
	// Two runs never print the same key.
	_, out2, _ := runCmd("", "new-key", "--id", "web")
	if strings.Contains(out2, key) {
		t.Fatal("the same key twice")
	}
	if !strings.Contains(entryOf(t, out2), `"actions":["*"]`) {
		t.Errorf("default actions: %s", entryOf(t, out2))
	}
	// A caller's own encryption setting.
	_, out3, _ := runCmd("", "new-key", "--id", "bank", "--encrypt", "SM4-GCM")
	if !strings.Contains(entryOf(t, out3), `"encrypt":"SM4-GCM"`) {
		t.Errorf("encrypt: %s", entryOf(t, out3))
	}
}

func TestNewKeypair(t *testing.T) {
	code, out, _ := runCmd("", "new-keypair", "--id", "partner")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	id := regexp.MustCompile(`SecretId:  (AKID[A-Za-z0-9]{32})\n`).FindStringSubmatch(out)
	key := regexp.MustCompile(`SecretKey: ([A-Za-z0-9]{40})\n`).FindStringSubmatch(out)
	if id == nil || key == nil {
		t.Fatalf("no key pair in output:\n%s", out)
	}
	entry := entryOf(t, out)
	if !strings.Contains(entry, `"secretId":"`+id[1]+`"`) || !strings.Contains(entry, `"secretKey":"`+key[1]+`"`) {
		t.Fatalf("entry %s", entry)
	}
	if !strings.Contains(out, "go run ./scripts/idvsecrets encrypt --cloud tencent") {
		t.Errorf("no encrypt suggestion:\n%s", out)
	}
}

func TestHash(t *testing.T) {
	sum := sha256.Sum256([]byte("my key"))
	for _, in := range []string{"my key", "my key\n", "my key\r\n"} {
		code, out, _ := runCmd(in, "hash")
		if code != 0 || strings.TrimSpace(out) != hex.EncodeToString(sum[:]) {
			t.Errorf("hash(%q) = %d %q", in, code, out)
		}
	}
	if code, _, errOut := runCmd("\n", "hash"); code != 1 || !strings.Contains(errOut, "no key") {
		t.Errorf("empty key: %d %s", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"new-key"}, 2, "--id is required"},
		{[]string{"new-key", "--id", "web", "extra"}, 2, "unexpected argument"},
		{[]string{"new-key", "--id", "web", "--actions", "IdCardVerifcation"}, 1, `unknown action "IdCardVerifcation"`},
		{[]string{"new-key", "--id", "a b"}, 1, "id: only letters"},
		{[]string{"new-key", "--id", "web", "--encrypt", "DES"}, 1, "encrypt: want AES-256-CBC, SM4-GCM or off"},
		{[]string{"new-key", "--id", "web", "--rate", "-1"}, 1, "rate.perSecond"},
	} {
		code, _, errOut := runCmd("", c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %d %q, want %d %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if code, out, _ := runCmd("", "actions"); code != 0 || !strings.Contains(out, "faceprint/result/getall\n") || !strings.Contains(out, "IdCardVerification\n") {
		t.Errorf("actions: %d\n%s", code, out)
	}
	if code, out, _ := runCmd("", "help"); code != 0 || !strings.Contains(out, "new-keypair") {
		t.Errorf("help: %d", code)
	}
}
