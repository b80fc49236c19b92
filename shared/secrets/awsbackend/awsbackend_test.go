package awsbackend_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/secrets/awsbackend"
	"github.com/idverify/idverify/tests/fakes/awsfake"
)

// These tests drive the real aws-sdk-go-v2 clients, with the SDK's default
// credential chain reading Lambda-style role variables, against the fake on
// loopback. They set process environment variables, so they do not run in
// parallel.

func roleEnv(t *testing.T, f *awsfake.Server) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", awsfake.DefaultAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.DefaultSecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", awsfake.DefaultSessionToken)
	t.Setenv("AWS_REGION", f.Region())
	// Nothing from this machine may leak in: no shared files, no IMDS.
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_RETRY_MODE", "standard")
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
}

func start(t *testing.T) (*awsfake.Server, map[string]string) {
	f, url := awsfake.Start(t, awsfake.Options{})
	roleEnv(t, f)
	return f, map[string]string{awsbackend.EndpointEnv: url, "AWS_REGION": f.Region()}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func fetch(t *testing.T, env map[string]string, ref string) ([]byte, error) {
	t.Helper()
	r, err := secrets.ParseRef(ref)
	if err != nil {
		t.Fatalf("ParseRef: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return secrets.NewResolver(getenv(env)).Fetch(ctx, r)
}

func wantClass(t *testing.T, err error, class secrets.Class, code string) *secrets.Error {
	t.Helper()
	var e *secrets.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *secrets.Error", err)
	}
	if e.Class != class || (code != "" && e.Code != code) {
		t.Fatalf("err = %v (class %s code %s), want class %s code %s", err, e.Class, e.Code, class, code)
	}
	return e
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestKMSDecrypt(t *testing.T) {
	f, env := start(t)
	key := f.CreateKey()
	blob := f.Encrypt(key, []byte("kms-plain-1"), map[string]string{"app": "idverify", "var": "X"})

	got, err := fetch(t, env, "awskms:"+b64(blob)+"?ctx.app=idverify&ctx.var=X")
	if err != nil || string(got) != "kms-plain-1" {
		t.Fatalf("got %q, %v", got, err)
	}
	if f.Calls("TrentService.Decrypt") != 1 {
		t.Fatalf("Decrypt calls = %d", f.Calls("TrentService.Decrypt"))
	}

	t.Run("context mismatch", func(t *testing.T) {
		_, err := fetch(t, env, "awskms:"+b64(blob)+"?ctx.app=idverify&ctx.var=Y")
		wantClass(t, err, secrets.Malformed, "InvalidCiphertextException")
		_, err = fetch(t, env, "awskms:"+b64(blob))
		wantClass(t, err, secrets.Malformed, "InvalidCiphertextException")
	})
	t.Run("corrupt ciphertext", func(t *testing.T) {
		bad := append([]byte{}, blob...)
		bad[len(bad)-1] ^= 1
		_, err := fetch(t, env, "awskms:"+b64(bad)+"?ctx.app=idverify&ctx.var=X")
		wantClass(t, err, secrets.Malformed, "InvalidCiphertextException")
	})
	t.Run("denied", func(t *testing.T) {
		k2 := f.CreateKey()
		b2 := f.Encrypt(k2, []byte("p"), nil)
		f.Deny(k2)
		_, err := fetch(t, env, "awskms:"+b64(b2))
		wantClass(t, err, secrets.AccessDenied, "AccessDeniedException")
	})
	t.Run("disabled", func(t *testing.T) {
		k3 := f.CreateKey()
		b3 := f.Encrypt(k3, []byte("p"), nil)
		f.SetKeyEnabled(k3, false)
		_, err := fetch(t, env, "awskms:"+b64(b3))
		wantClass(t, err, secrets.AccessDenied, "DisabledException")
	})
}

func TestSecretsManager(t *testing.T) {
	f, env := start(t)
	v1 := f.PutSecretString("idverify/provider", `{"SecretId":"AKIDsm","SecretKey":"sm-plain-1","AppId":1300000001}`)
	f.PutSecretString("idverify/provider", `{"SecretId":"AKIDsm","SecretKey":"sm-plain-2"}`)
	f.PutSecretBinary("idverify/bin", []byte{0, 1, 2, 'z'})

	cases := []struct{ ref, want string }{
		{"awssm:idverify/provider#SecretKey", "sm-plain-2"},
		{"awssm:idverify/provider?stage=AWSPREVIOUS#SecretKey", "sm-plain-1"},
		{"awssm:idverify/provider?version=" + v1 + "#AppId", "1300000001"},
		{"awssm:arn:aws:secretsmanager:us-east-1:111122223333:secret:idverify/provider-AbCdEf#SecretId", "AKIDsm"},
		{"awssm:idverify/bin", "\x00\x01\x02z"},
	}
	for _, c := range cases {
		got, err := secrets.NewResolver(getenv(env)).Resolve(context.Background(), map[string]string{"V": c.ref})
		if err != nil || got["V"] != c.want {
			t.Errorf("%s: got %q, %v", c.ref, got["V"], err)
		}
	}

	_, err := fetch(t, env, "awssm:missing")
	wantClass(t, err, secrets.NotFound, "ResourceNotFoundException")
	f.Deny("idverify/bin")
	_, err = fetch(t, env, "awssm:idverify/bin")
	wantClass(t, err, secrets.AccessDenied, "AccessDeniedException")
	f.PutSecretString("gone", "x")
	f.DeleteSecret("gone")
	_, err = fetch(t, env, "awssm:gone")
	wantClass(t, err, secrets.NotFound, "InvalidRequestException")
}

func TestSSMParameter(t *testing.T) {
	f, env := start(t)
	f.PutParameter("/idverify/prod/webank-secret", "ssm-plain-1", true)
	got, err := fetch(t, env, "awsssm:/idverify/prod/webank-secret")
	if err != nil || string(got) != "ssm-plain-1" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = fetch(t, env, "awsssm:/idverify/prod/nothing")
	wantClass(t, err, secrets.NotFound, "ParameterNotFound")
	f.Deny("/idverify/prod/webank-secret")
	_, err = fetch(t, env, "awsssm:/idverify/prod/webank-secret")
	wantClass(t, err, secrets.AccessDenied, "AccessDeniedException")
}

// TestBadSignatureRejected: the SDK signs with a key the fake does not
// hold for this id, so the fake's own SigV4 check must refuse it.
func TestBadSignatureRejected(t *testing.T) {
	f, env := start(t)
	f.PutParameter("/p", "ssm-plain-2", true)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
	_, err := fetch(t, env, "awsssm:/p")
	wantClass(t, err, secrets.AccessDenied, "InvalidSignatureException")
}

func TestSessionTokenChecked(t *testing.T) {
	f, env := start(t)
	f.PutParameter("/p", "ssm-plain-3", true)
	t.Setenv("AWS_SESSION_TOKEN", "stolen-or-expired")
	_, err := fetch(t, env, "awsssm:/p")
	wantClass(t, err, secrets.AccessDenied, "UnrecognizedClientException")
	t.Setenv("AWS_SESSION_TOKEN", "")
	_, err = fetch(t, env, "awsssm:/p")
	wantClass(t, err, secrets.AccessDenied, "UnrecognizedClientException")
}

func TestTimeout(t *testing.T) {
	f, env := start(t)
	f.PutParameter("/slow", "ssm-plain-4", true)
	f.SetDelay(3 * time.Second)
	r, _ := secrets.ParseRef("awsssm:/slow")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := secrets.NewResolver(getenv(env)).Fetch(ctx, r)
	wantClass(t, err, secrets.Timeout, "")
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("took %s, the context bound was 200ms", d)
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	f, env := start(t)
	key := f.CreateKey()
	f.CreateAlias("alias/idverify", key)
	be, err := awsbackend.New(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := be.(secrets.Encrypter).Encrypt(context.Background(), secrets.EncryptRequest{
		KeyID: "alias/idverify", Plaintext: []byte("enc-plain-1"), Context: map[string]string{"var": "TENCENTCLOUD_SECRET_KEY"}})
	if err != nil {
		t.Fatal(err)
	}
	text := ref.String()
	if strings.Contains(text, "enc-plain-1") || !strings.Contains(text, "region=us-east-1") || !strings.Contains(text, "ctx.var=TENCENTCLOUD_SECRET_KEY") {
		t.Fatalf("reference %q", text)
	}
	got, err := fetch(t, env, text)
	if err != nil || string(got) != "enc-plain-1" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// TestSDKEndpointEnv: the SDK's own AWS_ENDPOINT_URL works as well as
// IDV_AWS_ENDPOINT, so operators can use the variable they already know.
func TestSDKEndpointEnv(t *testing.T) {
	f, url := awsfake.Start(t, awsfake.Options{})
	roleEnv(t, f)
	t.Setenv("AWS_ENDPOINT_URL", url)
	f.PutParameter("/p", "ssm-plain-5", true)
	got, err := fetch(t, map[string]string{"AWS_REGION": f.Region()}, "awsssm:/p")
	if err != nil || string(got) != "ssm-plain-5" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestMisconfigured(t *testing.T) {
	_, env := start(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	delete(env, "AWS_REGION")
	_, err := fetch(t, env, "awsssm:/p")
	wantClass(t, err, secrets.Misconfigured, "")
}

func TestWrongRegionRefused(t *testing.T) {
	f, env := start(t)
	f.PutParameter("/p", "ssm-plain-6", true)
	_, err := fetch(t, env, "awsssm:/p?region=eu-west-1")
	wantClass(t, err, secrets.AccessDenied, "InvalidSignatureException")
}
