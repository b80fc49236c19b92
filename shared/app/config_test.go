package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/secrets"
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

// callersJSON has one API-key caller whose key is "k".
const callersJSON = `[{"id":"web","keySha256":"8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a","actions":["IdCardVerification"]}]`

func TestAuthenticator(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if a, err := authenticator(env(), ModeLive, nil); err != nil || a != (gateway.LoopbackOnly{}) {
		t.Fatalf("default: %v %v", a, err)
	}
	if a, err := authenticator(env("IDV_SANDBOX_OPEN", "true"), ModeSandbox, nil); err != nil || a != (gateway.SandboxOpen{}) {
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
		{env("IDV_ENV", "production"), ModeSandbox, "IDV_CALLERS is not set"},
		{env("IDV_ENV", "production"), ModeLive, "go run ./scripts/idvcaller new-key"},
		{env("IDV_CALLERS", callersJSON, "IDV_SANDBOX_OPEN", "true"), ModeSandbox, "both set"},
		{env("IDV_CALLERS", `[{"id":"web","actions":["*"]}]`), ModeLive, `IDV_CALLERS: callers[0] (id "web"): no credential`},
		{env("IDV_CALLERS", `[{"id":"p","secretId":"AKID1","secretKey":"awsssm:/idv/p","actions":["*"]}]`), ModeLive,
			"IDV_CALLERS[p].secretKey"},
	} {
		if _, err := authenticator(c.env, c.mode, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.mode, err, c.want)
		}
	}
}

// With IDV_CALLERS everyone authenticates, loopback included, in every
// mode and environment.
func TestAuthenticatorCallers(t *testing.T) {
	for _, e := range []string{"", "production"} {
		getenv := func(k string) string {
			return map[string]string{"IDV_CALLERS": callersJSON, "IDV_ENV": e}[k]
		}
		a, err := authenticator(getenv, ModeSandbox, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := a.(*callers.Set); !ok {
			t.Fatalf("IDV_ENV=%q: policy %T", e, a)
		}
		req := &gateway.Request{Header: http.Header{}, SourceIP: "127.0.0.1"}
		if _, err := a.Authenticate(context.Background(), req, "IdCardVerification"); errs.KindOf(err) != errs.Unauthorized {
			t.Fatalf("loopback without a key: %v", err)
		}
		req.Header.Set("Authorization", "Bearer k")
		if c, err := a.Authenticate(context.Background(), req, "IdCardVerification"); err != nil || c.ID != "web" {
			t.Fatalf("with the key: %v %v", c, err)
		}
	}
}

func TestBannerCallers(t *testing.T) {
	b := banner(ModeSandbox, "sandbox", []string{"IdCardVerification"}, "8080",
		func(k string) string { return map[string]string{"IDV_CALLERS": callersJSON}[k] })
	if !strings.Contains(b, "1 configured in IDV_CALLERS (web)") || !strings.Contains(b, "Authorization: Bearer <key>") ||
		strings.Contains(b, "none configured") {
		t.Errorf("banner with callers:\n%s", b)
	}
	if b := banner(ModeSandbox, "sandbox", []string{"IdCardVerification"}, "8080", func(string) string { return "" }); !strings.Contains(b, "only requests from this machine") {
		t.Errorf("banner without callers:\n%s", b)
	}
}

// functions/all asks for the caller policy once per provider: the caller
// list (and its key references) is loaded once.
func TestAuthenticatorLoadedOncePerProcess(t *testing.T) {
	reads := 0
	env := &Env{Getenv: func(k string) string {
		if k == "IDV_CALLERS" {
			reads++
			return `[{"id":"web","keySha256":"` + strings.Repeat("ab", 32) + `","actions":["*"]}]`
		}
		return ""
	}, Log: slog.New(slog.DiscardHandler)}
	a1, err1 := Authenticator(env, ModeLive)
	before := reads
	a2, err2 := Authenticator(env, ModeSandbox)
	if err1 != nil || err2 != nil || a1 != a2 {
		t.Fatalf("%v %v %v %v", a1, a2, err1, err2)
	}
	if reads != before+1 { // the key check only, no second load
		t.Fatalf("IDV_CALLERS read %d more times", reads-before)
	}
}

// Every start-up refusal of ChooseMode and the caller policy is a
// configuration error naming its variable, never the value read, and
// ErrNoCredentials still tells functions/all to leave a provider out.
func TestConfigErrorsNameTheirVariable(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	check := func(t *testing.T, err error, field string, noCreds bool, value string) {
		t.Helper()
		e := errs.As(err)
		if err == nil || e.Kind != errs.Config || e.Field != field || errs.FieldOf(err) != field || e.Code != "InvalidConfiguration" {
			t.Fatalf("err = %#v, want a ConfigurationError on %s", err, field)
		}
		if e.PublicMessage() == "internal error" || !strings.Contains(e.PublicMessage(), field) {
			t.Errorf("public message %q does not name %s", e.PublicMessage(), field)
		}
		if errors.Is(err, ErrNoCredentials) != noCreds {
			t.Errorf("errors.Is(ErrNoCredentials) = %v, want %v", !noCreds, noCreds)
		}
		if value != "" && strings.Contains(err.Error(), value) {
			t.Errorf("the value %q appears in %q", value, err.Error())
		}
	}
	t.Run("mode", func(t *testing.T) {
		_, err := chooseMode("", "bogus-mode-value", true, "set KEYS")
		check(t, err, "IDV_MODE", false, "bogus-mode-value")
		_, err = chooseMode("", "live", false, "set KEYS")
		check(t, err, "IDV_MODE", true, "")
		_, err = chooseMode("production", "", false, "set KEYS")
		check(t, err, "IDV_ENV", true, "")
	})
	for _, c := range []struct {
		name, field, value string
		getenv             func(string) string
		mode               string
	}{
		{"open is not a boolean", "IDV_SANDBOX_OPEN", "maybe-later", env("IDV_SANDBOX_OPEN", "maybe-later"), ModeSandbox},
		{"open and callers", "IDV_SANDBOX_OPEN", "", env("IDV_CALLERS", callersJSON, "IDV_SANDBOX_OPEN", "true"), ModeSandbox},
		{"open live (Baidu keys)", "IDV_SANDBOX_OPEN", "", env("IDV_SANDBOX_OPEN", "true"), ModeLive},
		{"open in production", "IDV_SANDBOX_OPEN", "", env("IDV_SANDBOX_OPEN", "true", "IDV_ENV", "production"), ModeSandbox},
		{"production without callers", "IDV_CALLERS", "", env("IDV_ENV", "production"), ModeSandbox},
		{"bad callers", "IDV_CALLERS", "", env("IDV_CALLERS", `[{"id":"web","actions":["*"]}]`), ModeLive},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := authenticator(c.getenv, c.mode, nil)
			check(t, err, c.field, false, c.value)
		})
	}
}

// A caller key reference that cannot be resolved names IDV_CALLERS and the
// secret's class; the message never holds a key.
func TestCallersSecretUnresolved(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"IDV_CALLERS": `[{"id":"p","secretId":"AKID1","secretKey":"awsssm:/idv/p","actions":["*"]}]`}[k]
	}
	_, err := authenticator(getenv, ModeLive, nil)
	e := errs.As(err)
	if e.Field != "IDV_CALLERS" || e.Code != "SecretUnresolved" || e.Kind == errs.Internal || !strings.Contains(e.PublicMessage(), "IDV_CALLERS[p].secretKey") {
		t.Fatalf("%#v", e)
	}
}

func TestLogLevelStrict(t *testing.T) {
	for _, v := range []string{"", "debug", "INFO", "Warn", "error"} {
		if _, err := logLevel(func(string) string { return v }); err != nil {
			t.Errorf("IDV_LOG_LEVEL=%q refused: %v", v, err)
		}
	}
	_, err := logLevel(func(k string) string {
		if k == "IDV_LOG_LEVEL" {
			return "verbose"
		}
		return ""
	})
	e := errs.As(err)
	if err == nil || e.Kind != errs.Config || e.Field != "IDV_LOG_LEVEL" ||
		!strings.Contains(e.PublicMessage(), "debug, info, warn, error") || strings.Contains(err.Error(), "verbose") {
		t.Fatalf("IDV_LOG_LEVEL=verbose: %#v", err)
	}
}

func TestSecretsFailure(t *testing.T) {
	one := &secrets.LoadError{Errors: []*secrets.Error{{Var: "BAIDU_SECRET_KEY", Scheme: "awssm", Class: secrets.NotFound}}}
	e := secretsFailure(one)
	if e.Kind != errs.Config || e.Field != "BAIDU_SECRET_KEY" || e.Code != "SecretUnresolved" || e.PublicMessage() != "secret BAIDU_SECRET_KEY (awssm): not_found" {
		t.Errorf("one: %#v", e)
	}
	two := &secrets.LoadError{Errors: []*secrets.Error{
		{Var: "A", Class: secrets.Timeout, Detail: "no answer in time"}, {Var: "B", Class: secrets.Unavailable},
	}}
	e = secretsFailure(two)
	if e.Kind != errs.Unavailable || e.Field != "A,B" || strings.Contains(e.Message, "\n") ||
		e.Message != "2 secrets could not be resolved: secret A: timeout: no answer in time; secret B: unavailable" {
		t.Errorf("two: %#v", e)
	}
	mixed := &secrets.LoadError{Errors: []*secrets.Error{{Var: "A", Class: secrets.Timeout}, {Var: "B", Class: secrets.Plaintext}}}
	if e := secretsFailure(mixed); e.Kind != errs.Config {
		t.Errorf("mixed: %#v", e)
	}
	setting := &secrets.Error{Var: "IDV_SECRET_TTL", Class: secrets.Misconfigured, Detail: "want a positive Go duration such as 15m or 1h"}
	if e := secretsFailure(setting); e.Kind != errs.Config || e.Field != "IDV_SECRET_TTL" {
		t.Errorf("setting: %#v", e)
	}
}

func TestRedisURLErrors(t *testing.T) {
	_, err := redisFrom(context.Background(), "http://user:hunter2@example.com")
	e := errs.As(err)
	if e.Kind != errs.Config || e.Field != "IDV_REDIS_URL" || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %#v", err)
	}
	_, err = redisFrom(context.Background(), "redis://:hunter2@127.0.0.1:9")
	e = errs.As(err)
	if e.Kind != errs.Unavailable || e.Field != "IDV_REDIS_URL" || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable: %#v", err)
	}
}
