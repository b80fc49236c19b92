package tcbackend_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/secrets/tcbackend"
	"github.com/idverify/idverify/tests/fakes/tcfake"
)

// These tests drive the tencentcloud-sdk-go common client against the fake
// KMS and SSM on loopback, which verify TC3 signatures with shared/tc3 and
// the X-TC-Token of the SCF role's temporary credentials.

// env is a concurrency-safe environment, so a test can rotate credentials
// under a running resolver the way SCF does.
type env struct {
	mu sync.Mutex
	m  map[string]string
}

func (e *env) get(k string) string { e.mu.Lock(); defer e.mu.Unlock(); return e.m[k] }
func (e *env) set(k, v string)     { e.mu.Lock(); defer e.mu.Unlock(); e.m[k] = v }

func start(t *testing.T) (*tcfake.Server, *env) {
	f := tcfake.Start(t, tcfake.Options{})
	return f, &env{m: map[string]string{
		"TENCENTCLOUD_SECRETID":      tcfake.DefaultSecretID,
		"TENCENTCLOUD_SECRETKEY":     tcfake.DefaultSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN":  tcfake.DefaultToken,
		"TENCENTCLOUD_REGION":        f.Region(),
		tcbackend.KMSEndpointEnv:     f.KMSURL,
		tcbackend.SSMEndpointEnv:     f.SSMURL,
		"TENCENTCLOUD_SECRET_ID":     "AKIDprovider-not-for-secrets",
		"TENCENTCLOUD_SECRET_KEY":    "provider-key-not-for-secrets",
		"TENCENTCLOUD_SESSION_TOKEN": "",
	}}
}

func fetch(t *testing.T, e *env, ref string) ([]byte, error) {
	t.Helper()
	r, err := secrets.ParseRef(ref)
	if err != nil {
		t.Fatalf("ParseRef: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return secrets.NewResolver(e.get).Fetch(ctx, r)
}

func wantClass(t *testing.T, err error, class secrets.Class, code string) {
	t.Helper()
	var se *secrets.Error
	if !errors.As(err, &se) || se.Class != class || (code != "" && se.Code != code) {
		t.Fatalf("err = %v, want class %s code %s", err, class, code)
	}
}

func TestKMSDecrypt(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	key := f.CreateKey(f.Region())
	blob := f.Encrypt(key, []byte("tckms-plain-1"), map[string]string{"var": "WEBANK_SECRET"})

	got, err := fetch(t, e, "tckms:"+blob+"?ctx.var=WEBANK_SECRET")
	if err != nil || string(got) != "tckms-plain-1" {
		t.Fatalf("got %q, %v", got, err)
	}

	_, err = fetch(t, e, "tckms:"+blob+"?ctx.var=OTHER")
	wantClass(t, err, secrets.Malformed, "InvalidParameter.DecryptMaterialError")
	_, err = fetch(t, e, "tckms:"+blob)
	wantClass(t, err, secrets.Malformed, "InvalidParameter.DecryptMaterialError")

	// A CMK is regional: the same blob in another region is not found.
	_, err = fetch(t, e, "tckms:"+blob+"?region=ap-shanghai&ctx.var=WEBANK_SECRET")
	wantClass(t, err, secrets.NotFound, "ResourceUnavailable.CmkNotFound")

	f.SetKeyEnabled(key, false)
	_, err = fetch(t, e, "tckms:"+blob+"?ctx.var=WEBANK_SECRET")
	wantClass(t, err, secrets.AccessDenied, "ResourceUnavailable.CmkDisabled")
	f.SetKeyEnabled(key, true)

	f.Deny(key)
	_, err = fetch(t, e, "tckms:"+blob+"?ctx.var=WEBANK_SECRET")
	wantClass(t, err, secrets.AccessDenied, "AuthFailure.UnauthorizedOperation")
}

func TestSSM(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	f.PutSecretString("idverify-provider", "v1", `{"SecretId":"AKIDtc","SecretKey":"tcssm-plain-1"}`)
	f.PutSecretBinary("idverify-bin", "v1", []byte("tcssm-bin-1"))

	vals, err := secrets.NewResolver(e.get).Resolve(context.Background(), map[string]string{
		"A": "tcssm:idverify-provider?version=v1#SecretKey",
		"B": "tcssm:idverify-provider?version=v1#SecretId",
		"C": "tcssm:idverify-bin?version=v1",
		"D": "plain",
	})
	if err != nil {
		t.Fatal(err)
	}
	if vals["A"] != "tcssm-plain-1" || vals["B"] != "AKIDtc" || vals["C"] != "tcssm-bin-1" || vals["D"] != "plain" {
		t.Fatalf("got %q", vals)
	}
	// A and B share one secret: one call.
	if n := f.Calls("ssm.GetSecretValue"); n != 2 {
		t.Fatalf("GetSecretValue calls = %d, want 2 (A and B share one)", n)
	}

	_, err = fetch(t, e, "tcssm:idverify-provider?version=v9")
	wantClass(t, err, secrets.NotFound, "ResourceNotFound")
	_, err = fetch(t, e, "tcssm:nothing?version=v1")
	wantClass(t, err, secrets.NotFound, "ResourceNotFound")
	f.Deny("idverify-bin")
	_, err = fetch(t, e, "tcssm:idverify-bin?version=v1")
	wantClass(t, err, secrets.AccessDenied, "AuthFailure.UnauthorizedOperation")
}

func TestSignatureAndToken(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	f.PutSecretString("s", "v1", "tcssm-plain-2")

	e.set("TENCENTCLOUD_SECRETKEY", "wrong-key")
	_, err := fetch(t, e, "tcssm:s?version=v1")
	wantClass(t, err, secrets.AccessDenied, "AuthFailure.SignatureFailure")

	e.set("TENCENTCLOUD_SECRETKEY", tcfake.DefaultSecretKey)
	e.set("TENCENTCLOUD_SESSIONTOKEN", "")
	_, err = fetch(t, e, "tcssm:s?version=v1")
	wantClass(t, err, secrets.AccessDenied, "AuthFailure.TokenFailure")

	e.set("TENCENTCLOUD_SESSIONTOKEN", "forged")
	_, err = fetch(t, e, "tcssm:s?version=v1")
	wantClass(t, err, secrets.AccessDenied, "AuthFailure.TokenFailure")
}

// TestRoleCredentialsReadAtEachCall: SCF rotates the role's temporary
// credentials under a running instance. One resolver (one SDK client) must
// sign its next call with the new ones.
func TestRoleCredentialsReadAtEachCall(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	f.PutSecretString("s", "v1", "tcssm-plain-3")
	r := secrets.NewResolver(e.get)
	ref, _ := secrets.ParseRef("tcssm:s?version=v1")
	if _, err := r.Fetch(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	rotated := tcfake.Credential{SecretID: "AKIDfakeScfRole0002", SecretKey: "fakeScfRoleSecretKey0002", Token: "fakeScfSessionToken0002"}
	f.SetCredentials(rotated)
	if _, err := r.Fetch(context.Background(), ref); err == nil {
		t.Fatal("old credentials still accepted")
	}
	e.set("TENCENTCLOUD_SECRETID", rotated.SecretID)
	e.set("TENCENTCLOUD_SECRETKEY", rotated.SecretKey)
	e.set("TENCENTCLOUD_SESSIONTOKEN", rotated.Token)
	if got, err := r.Fetch(context.Background(), ref); err != nil || string(got) != "tcssm-plain-3" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
}

func TestExplicitCredentialsWin(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	f.SetCredentials(tcfake.Credential{SecretID: "AKIDexplicit", SecretKey: "explicit-key"})
	f.PutSecretString("s", "v1", "tcssm-plain-4")
	e.set("IDV_SECRETS_TENCENT_SECRET_ID", "AKIDexplicit")
	e.set("IDV_SECRETS_TENCENT_SECRET_KEY", "explicit-key")
	// The role token must not be mixed into the explicit pair.
	if got, err := fetch(t, e, "tcssm:s?version=v1"); err != nil || string(got) != "tcssm-plain-4" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestMisconfigured(t *testing.T) {
	t.Parallel()
	_, e := start(t)
	e.set("TENCENTCLOUD_REGION", "")
	_, err := fetch(t, e, "tcssm:s?version=v1")
	wantClass(t, err, secrets.Misconfigured, "")

	_, e = start(t)
	for _, k := range []string{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"} {
		e.set(k, "")
	}
	_, err = fetch(t, e, "tcssm:s?version=v1")
	wantClass(t, err, secrets.Misconfigured, "")
	if !strings.Contains(err.Error(), "execution role") {
		t.Fatalf("message %q does not say how to fix it", err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	f.PutSecretString("s", "v1", "tcssm-plain-5")
	f.SetDelay(3 * time.Second)
	r, _ := secrets.ParseRef("tcssm:s?version=v1")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := secrets.NewResolver(e.get).Fetch(ctx, r)
	wantClass(t, err, secrets.Timeout, "")
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	t.Parallel()
	f, e := start(t)
	key := f.CreateKey(f.Region())
	be, _ := tcbackend.New(e.get)
	ref, err := be.(secrets.Encrypter).Encrypt(context.Background(), secrets.EncryptRequest{
		KeyID: key, Plaintext: []byte("tcenc-plain-1"), Region: f.Region(), Context: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	text := ref.String()
	if strings.Contains(text, "tcenc-plain-1") || !strings.Contains(text, "region="+f.Region()) {
		t.Fatalf("reference %q", text)
	}
	got, err := fetch(t, e, text)
	if err != nil || string(got) != "tcenc-plain-1" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCredentialSources(t *testing.T) {
	m := map[string]string{"TENCENTCLOUD_SECRETID": "r", "TENCENTCLOUD_SECRETKEY": "rk", "TENCENTCLOUD_SESSIONTOKEN": "rt"}
	c := tcbackend.NewCredential(func(k string) string { return m[k] })
	if id, k, tok := c.GetCredential(); id != "r" || k != "rk" || tok != "rt" {
		t.Fatalf("role: %s %s %s", id, k, tok)
	}
	m["IDV_SECRETS_TENCENT_SECRET_ID"], m["IDV_SECRETS_TENCENT_SECRET_KEY"] = "x", "xk"
	if id, k, tok := c.GetCredential(); id != "x" || k != "xk" || tok != "" {
		t.Fatalf("explicit: %s %s %s (the role token must not leak into an explicit pair)", id, k, tok)
	}
}
