package tencent

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	c := ConfigFromEnv(env(map[string]string{
		"TENCENTCLOUD_SECRET_ID": "AKIDperm", "TENCENTCLOUD_SECRET_KEY": "permkey",
		"TENCENTCLOUD_SECRETID": "AKIDrole", "TENCENTCLOUD_SECRETKEY": "rolekey", "TENCENTCLOUD_SESSIONTOKEN": "tok",
		"TENCENTCLOUD_REGION": "ap-shanghai", "IDV_TENCENT_ENDPOINT": "http://127.0.0.1:1",
	}))
	if c.SecretID != "AKIDperm" || c.SecretKey != "permkey" || c.SessionToken != "" || c.Region != "ap-shanghai" || c.Endpoint != "http://127.0.0.1:1" {
		t.Fatalf("permanent keys not preferred: id=%s region=%s endpoint=%s token set=%v", c.SecretID, c.Region, c.Endpoint, c.SessionToken != "")
	}

	c = ConfigFromEnv(env(map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDrole", "TENCENTCLOUD_SECRETKEY": "rolekey", "TENCENTCLOUD_SESSIONTOKEN": "tok",
	}))
	if c.SecretID != "AKIDrole" || c.SecretKey != "rolekey" || c.SessionToken != "tok" || c.Region != "" {
		t.Fatal("SCF role variables not used")
	}

	if c := ConfigFromEnv(env(nil)); c.SecretID != "" || c.SecretKey != "" || c.Region != "" || c.Endpoint != "" || c.Timeout != 0 {
		t.Fatal("empty environment gave a config")
	}
	if _, err := New(ConfigFromEnv(env(nil))); errs.KindOf(err) != errs.Internal || !strings.Contains(err.Error(), "missing credentials") {
		t.Fatalf("New without credentials: %v", err)
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c := Config{SecretID: "AKIDabcdefghijkl", SecretKey: "very-secret-key", SessionToken: "very-secret-token", Region: "ap-guangzhou"}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v %+v %#v %s ", c, c, c, c)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("config", "cfg", c)
	out := sb.String()
	for _, secret := range []string{"very-secret-key", "very-secret-token", "AKIDabcdefghijkl"} {
		if strings.Contains(out, secret) {
			t.Fatalf("%q printed: %s", secret, out)
		}
	}
	if !strings.Contains(out, "AKIDabcd") {
		t.Fatalf("secret id prefix missing: %s", out)
	}
}

func TestEndpoint(t *testing.T) {
	cases := []struct{ in, scheme, host string }{
		{"", "HTTPS", ""},
		{"http://127.0.0.1:1234", "HTTP", "127.0.0.1:1234"},
		{"http://127.0.0.1:1234/", "HTTP", "127.0.0.1:1234"},
		{"https://faceid.ap-shanghai.tencentcloudapi.com", "HTTPS", "faceid.ap-shanghai.tencentcloudapi.com"},
		{"faceid.internal.example", "HTTPS", "faceid.internal.example"},
		{" https://gw.example/faceid/ ", "HTTPS", "gw.example/faceid"},
	}
	for _, c := range cases {
		scheme, host, err := endpoint(c.in)
		if err != nil || scheme != c.scheme || host != c.host {
			t.Errorf("endpoint(%q) = %q %q %v, want %q %q", c.in, scheme, host, err, c.scheme, c.host)
		}
	}
	for _, bad := range []string{"ftp://x", "http://", "http://u:p@x", "http://x/?a=1", "http://x/#f", "http://[::1"} {
		if _, _, err := endpoint(bad); err == nil {
			t.Errorf("endpoint(%q) accepted", bad)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		{},
		{SecretID: "id"},
		{SecretKey: "key"},
		{SecretID: "id", SecretKey: "key", Endpoint: "ftp://x"},
	} {
		_, err := New(c)
		if errs.KindOf(err) != errs.Internal {
			t.Errorf("New(%v) = %v", c, err)
		}
	}
	f, err := New(Config{SecretID: "id", SecretKey: "key"})
	if err != nil || f.Name() != "tencent" || f.timeout != DefaultTimeout {
		t.Fatalf("New defaults: %v %v", f, err)
	}
}
