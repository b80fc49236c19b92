package app

import (
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/gateway"
)

func TestChooseMode(t *testing.T) {
	cases := []struct {
		env, mode string
		creds     bool
		want      string
		errHas    string
	}{
		{"", "", false, ModeSandbox, ""},
		{"", "", true, ModeLive, ""},
		{"production", "", true, ModeLive, ""},
		{"production", "", false, "", "refusing to fall back"},
		{"production", "sandbox", false, ModeSandbox, ""},
		{"", "live", false, "", "no provider credentials"},
		{"", "LIVE", true, ModeLive, ""},
		{"", "sandbox", true, ModeSandbox, ""},
		{"", "fake", true, "", "is not a mode"},
	}
	for _, c := range cases {
		got, err := chooseMode(c.env, c.mode, c.creds, "set KEYS")
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("chooseMode(%q,%q,%v) error = %v, want it to mention %q", c.env, c.mode, c.creds, err, c.errHas)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("chooseMode(%q,%q,%v) = %q, %v; want %q", c.env, c.mode, c.creds, got, err, c.want)
		}
	}
}

func TestAuthenticator(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if a, err := authenticator(env(), ModeLive); err != nil || a != (gateway.LoopbackOnly{}) {
		t.Fatalf("default: %v %v", a, err)
	}
	if a, err := authenticator(env("IDV_SANDBOX_OPEN", "true"), ModeSandbox); err != nil || a != (gateway.SandboxOpen{}) {
		t.Fatalf("open sandbox: %v %v", a, err)
	}
	for _, c := range []struct {
		env  func(string) string
		mode string
		want string
	}{
		{env("IDV_SANDBOX_OPEN", "true"), ModeLive, "only allowed in sandbox mode"},
		{env("IDV_SANDBOX_OPEN", "true", "IDV_ENV", "production"), ModeSandbox, "refused with IDV_ENV=production"},
		{env("IDV_SANDBOX_OPEN", "yes please"), ModeSandbox, "use true or false"},
	} {
		if _, err := authenticator(c.env, c.mode); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.mode, err, c.want)
		}
	}
}
