package tests

// Secrets, black box: the real backends (aws-sdk-go-v2, tencentcloud common
// client) against the fakes on loopback, through secrets.Load as a function
// calls it at cold start and through the operator command; fail-closed init;
// rotation after the TTL; which binaries carry which SDK; and a scan of every
// byte of output for the secret values.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/secrets"
	_ "github.com/idverify/idverify/shared/secrets/backends"
	"github.com/idverify/idverify/shared/secrets/secretscmd"
	"github.com/idverify/idverify/tests/fakes/awsfake"
	"github.com/idverify/idverify/tests/fakes/tcfake"
)

// secWorld is both clouds' fakes plus the environment a function would see.
type secWorld struct {
	aws *awsfake.Server
	tc  *tcfake.Server

	mu   sync.Mutex
	live map[string]string // what os.Getenv would return (role credentials rotate)

	out   *secOutput
	plain []string // every secret value used; none may ever be printed
}

// secOutput collects everything logged or printed, for the leak scan.
type secOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *secOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}
func (o *secOutput) String() string { o.mu.Lock(); defer o.mu.Unlock(); return o.b.String() }

func newSecWorld(t *testing.T) *secWorld {
	w := &secWorld{out: &secOutput{}}
	var awsURL string
	w.aws, awsURL = awsfake.Start(t, awsfake.Options{})
	w.tc = tcfake.Start(t, tcfake.Options{})

	// Lambda-style role variables for the AWS SDK's default chain, and
	// nothing from this machine's AWS configuration.
	t.Setenv("AWS_ACCESS_KEY_ID", awsfake.DefaultAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.DefaultSecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", awsfake.DefaultSessionToken)
	t.Setenv("AWS_REGION", w.aws.Region())
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_PROFILE", "")

	w.live = map[string]string{
		"AWS_REGION":                w.aws.Region(),
		"IDV_AWS_ENDPOINT":          awsURL,
		"TENCENTCLOUD_REGION":       w.tc.Region(),
		"IDV_TENCENT_KMS_ENDPOINT":  w.tc.KMSURL,
		"IDV_TENCENT_SSM_ENDPOINT":  w.tc.SSMURL,
		"TENCENTCLOUD_SECRETID":     tcfake.DefaultSecretID,
		"TENCENTCLOUD_SECRETKEY":    tcfake.DefaultSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN": tcfake.DefaultToken,
	}
	t.Cleanup(func() { secAssertNoLeak(t, w.out.String(), w.plain) })
	return w
}

func (w *secWorld) getenv(k string) string { w.mu.Lock(); defer w.mu.Unlock(); return w.live[k] }
func (w *secWorld) set(k, v string)        { w.mu.Lock(); defer w.mu.Unlock(); w.live[k] = v }

// environ is the live environment plus the function's configuration.
func (w *secWorld) environ(config map[string]string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for k, v := range w.live {
		out = append(out, k+"="+v)
	}
	for k, v := range config {
		out = append(out, k+"="+v)
	}
	return out
}

func (w *secWorld) secret(v string) string { w.plain = append(w.plain, v); return v }

func (w *secWorld) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(w.out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func secAssertNoLeak(t *testing.T, out string, plain []string) {
	t.Helper()
	for _, p := range plain {
		if strings.Contains(out, p) {
			t.Errorf("secret value %q was printed:\n%s", p, out)
		}
		// Nor in the encodings a careless log line would use.
		if b := base64.StdEncoding.EncodeToString([]byte(p)); strings.Contains(out, b) {
			t.Errorf("secret value %q was printed in base64", p)
		}
	}
}

type secClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *secClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *secClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestSecretsEveryKindAndRotation resolves one reference of each of the five
// kinds at "cold start", then rotates every source and checks that the old
// values are served before the TTL and the new ones after it.
func TestSecretsEveryKindAndRotation(t *testing.T) {
	w := newSecWorld(t)
	awsKey := w.aws.CreateKey()
	tcKey := w.tc.CreateKey(w.tc.Region())
	kmsBlob := w.aws.Encrypt(awsKey, []byte(w.secret("e2e-awskms-value-1")), map[string]string{"var": "TENCENTCLOUD_SECRET_KEY"})
	tcBlob := w.tc.Encrypt(tcKey, []byte(w.secret("e2e-tckms-value-1")), map[string]string{"var": "BAIDU_SECRET_KEY"})
	w.aws.PutSecretString("idverify/callers", `{"callers":"`+w.secret("e2e-awssm-value-1")+`"}`)
	w.aws.PutParameter("/idverify/webank", w.secret("e2e-awsssm-value-1"), true)
	w.tc.PutSecretString("idverify-faceid", "v1", `{"SecretId":"AKIDe2e","SecretKey":"`+w.secret("e2e-tcssm-value-1")+`"}`)

	config := map[string]string{
		"TENCENTCLOUD_SECRET_KEY": "awskms:" + base64.StdEncoding.EncodeToString(kmsBlob) + "?ctx.var=TENCENTCLOUD_SECRET_KEY",
		"BAIDU_SECRET_KEY":        "tckms:" + tcBlob + "?ctx.var=BAIDU_SECRET_KEY",
		"IDV_CALLERS":             "awssm:idverify/callers#callers",
		"WEBANK_SECRET":           "awsssm:/idverify/webank",
		"FACEID_KEY":              "tcssm:idverify-faceid?version=v1#SecretKey",
		"FACEID_ID":               "tcssm:idverify-faceid?version=v1#SecretId",
		"IDV_ENV":                 "production",
		"IDV_MODE":                "live",
	}
	clk := &secClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	env, err := secrets.Load(context.Background(), secrets.Options{
		Environ: w.environ(config),
		Getenv:  func(k string) string { return w.getenv(k) },
		Secret:  append(secrets.DefaultSecretVars, "BAIDU_SECRET_KEY", "WEBANK_SECRET"),
		Logger:  w.logger(),
		Now:     clk.now,
		TTL:     15 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TENCENTCLOUD_SECRET_KEY": "e2e-awskms-value-1", "BAIDU_SECRET_KEY": "e2e-tckms-value-1", "IDV_CALLERS": "e2e-awssm-value-1",
		"WEBANK_SECRET": "e2e-awsssm-value-1", "FACEID_KEY": "e2e-tcssm-value-1", "FACEID_ID": "AKIDe2e",
	}
	for k, v := range want {
		if got := env.Getenv(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if n := w.tc.Calls("ssm.GetSecretValue"); n != 1 {
		t.Errorf("Tencent GetSecretValue called %d times for two keys of one secret", n)
	}

	// Rotate everything at the source, and SCF rotates the role credentials.
	w.aws.PutSecretString("idverify/callers", `{"callers":"`+w.secret("e2e-awssm-value-2")+`"}`)
	w.aws.PutParameter("/idverify/webank", w.secret("e2e-awsssm-value-2"), true)
	w.tc.PutSecretString("idverify-faceid", "v1", `{"SecretId":"AKIDe2e","SecretKey":"`+w.secret("e2e-tcssm-value-2")+`"}`)
	rotated := tcfake.Credential{SecretID: "AKIDfakeScfRole0009", SecretKey: "fakeScfRoleSecretKey0009", Token: "fakeScfSessionToken0009"}
	w.tc.SetCredentials(rotated)
	w.set("TENCENTCLOUD_SECRETID", rotated.SecretID)
	w.set("TENCENTCLOUD_SECRETKEY", rotated.SecretKey)
	w.set("TENCENTCLOUD_SESSIONTOKEN", rotated.Token)

	clk.advance(10 * time.Minute)
	for _, k := range []string{"IDV_CALLERS", "WEBANK_SECRET", "FACEID_KEY"} {
		if got := env.Getenv(k); got != want[k] {
			t.Errorf("before TTL %s = %q, want the old %q", k, got, want[k])
		}
	}
	clk.advance(6 * time.Minute)
	for k, v := range map[string]string{"IDV_CALLERS": "e2e-awssm-value-2", "WEBANK_SECRET": "e2e-awsssm-value-2", "FACEID_KEY": "e2e-tcssm-value-2",
		"TENCENTCLOUD_SECRET_KEY": "e2e-awskms-value-1", "BAIDU_SECRET_KEY": "e2e-tckms-value-1"} {
		if got := env.Getenv(k); got != v {
			t.Errorf("after TTL %s = %q, want %q", k, got, v)
		}
	}
}

// TestSecretsFailClosedAtInit: one Load, one broken reference of each
// class; the error names every variable and class, and no value.
func TestSecretsFailClosedAtInit(t *testing.T) {
	w := newSecWorld(t)
	w.aws.PutParameter("/slow", w.secret("e2e-slow-value"), true)
	w.tc.PutSecretString("denied", "v1", w.secret("e2e-denied-value"))
	w.tc.Deny("denied")
	w.aws.PutSecretString("fine", w.secret("e2e-fine-value"))
	key := w.aws.CreateKey()
	blob := base64.StdEncoding.EncodeToString(w.aws.Encrypt(key, []byte(w.secret("e2e-ctx-value")), map[string]string{"var": "A"}))

	config := map[string]string{
		"V_NOT_FOUND":     "awssm:idverify/nothing-here",
		"V_DENIED":        "tcssm:denied?version=v1",
		"V_MALFORMED":     "awskms:this is not base64",
		"V_WRONG_CONTEXT": "awskms:" + blob + "?ctx.var=B",
		"V_PLAIN":         w.secret("e2e-plain-provider-key"),
		"V_FINE":          "awssm:fine",
		"IDV_ENV":         "production",
	}
	begin := time.Now()
	env, err := secrets.Load(context.Background(), secrets.Options{
		Environ: w.environ(config), Getenv: w.getenv, Secret: []string{"V_PLAIN"}, Logger: w.logger(),
	})
	if env != nil || err == nil {
		t.Fatal("Load succeeded")
	}
	w.out.Write([]byte(err.Error()))
	var le *secrets.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("%T %v", err, err)
	}
	got := map[string]secrets.Class{}
	for _, e := range le.Errors {
		got[e.Var] = e.Class
	}
	want := map[string]secrets.Class{
		"V_NOT_FOUND": secrets.NotFound, "V_DENIED": secrets.AccessDenied, "V_MALFORMED": secrets.Malformed,
		"V_WRONG_CONTEXT": secrets.Malformed, "V_PLAIN": secrets.Plaintext,
	}
	if len(got) != len(want) {
		t.Fatalf("errors for %v, want %v\n%v", got, want, err)
	}
	for k, c := range want {
		if got[k] != c {
			t.Errorf("%s: %s, want %s", k, got[k], c)
		}
		if !strings.Contains(err.Error(), k) {
			t.Errorf("message does not name %s", k)
		}
	}
	t.Log(err)

	// Timeout: a backend that does not answer cannot hold the cold start.
	w.aws.SetDelay(10 * time.Second)
	begin = time.Now()
	_, err = secrets.Load(context.Background(), secrets.Options{
		Environ: w.environ(map[string]string{"V_SLOW": "awsssm:/slow"}), Getenv: w.getenv, Logger: w.logger(), Timeout: 300 * time.Millisecond,
	})
	var e *secrets.Error
	if !errors.As(err, &e) || e.Class != secrets.Timeout || e.Var != "V_SLOW" {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Fatalf("Load took %s with a 300ms bound", d)
	}
	w.out.Write([]byte(err.Error()))
}

// TestSecretsCommand: encrypt on both clouds from stdin, then check an env
// file holding the printed references and some broken ones.
func TestSecretsCommand(t *testing.T) {
	w := newSecWorld(t)
	awsKey := w.aws.CreateKey()
	w.aws.CreateAlias("alias/idverify", awsKey)
	tcKey := w.tc.CreateKey(w.tc.Region())
	for k, v := range w.live {
		t.Setenv(k, v)
	}
	// The operator's own Tencent key, tccli-style, instead of role credentials.
	w.tc.SetCredentials(tcfake.Credential{SecretID: "AKIDoperator", SecretKey: "operator-key"})
	for _, k := range []string{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("TENCENTCLOUD_SECRET_ID", "AKIDoperator")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "operator-key")

	run := func(stdin string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		c := &secretscmd.Command{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv, Environ: os.Environ()}
		code := c.Run(context.Background(), args)
		w.out.Write(stdout.Bytes())
		w.out.Write(stderr.Bytes())
		return code, stdout.String(), stderr.String()
	}

	code, awsRef, stderr := run(w.secret("cli-aws-value-1")+"\n", "encrypt", "--cloud", "aws", "--key-id", "alias/idverify", "--context", "var=TENCENTCLOUD_SECRET_KEY")
	if code != 0 || !strings.HasPrefix(awsRef, "awskms:") {
		t.Fatalf("aws encrypt: %d %q %q", code, awsRef, stderr)
	}
	code, tcLine, stderr := run(w.secret("cli-tc-value-1"), "encrypt", "--cloud", "tencent", "--key-id", tcKey, "--region", w.tc.Region(), "--var", "BAIDU_SECRET_KEY")
	if code != 0 || !strings.HasPrefix(tcLine, "BAIDU_SECRET_KEY=tckms:") {
		t.Fatalf("tencent encrypt: %d %q %q", code, tcLine, stderr)
	}

	// Usage errors never echo what was typed.
	code, _, stderr = run("", "encrypt", "--cloud", "aws", "--key-id", "k", w.secret("cli-typed-on-argv"))
	if code != 2 || !strings.Contains(stderr, "stdin") {
		t.Fatalf("value on argv: %d %q", code, stderr)
	}
	code, _, _ = run("", "encrypt", "--cloud", "aws", "--key-id", "alias/idverify")
	if code != 1 {
		t.Fatalf("empty stdin: %d", code)
	}
	code, _, _ = run("x", "encrypt", "--cloud", "gcp", "--key-id", "k")
	if code != 2 {
		t.Fatalf("bad cloud: %d", code)
	}
	code, _, stderr = run(w.secret("cli-aws-denied-value"), "encrypt", "--cloud", "aws", "--key-id", "alias/nothing")
	if code != 1 || !strings.Contains(stderr, "not_found") {
		t.Fatalf("unknown key: %d %q", code, stderr)
	}

	w.aws.PutSecretString("idverify/callers", w.secret("cli-awssm-value"))
	envFile := filepath.Join(t.TempDir(), "prod.env")
	os.WriteFile(envFile, []byte(strings.Join([]string{
		"# production configuration",
		"IDV_ENV=production",
		"TENCENTCLOUD_SECRET_KEY=" + strings.TrimSpace(awsRef),
		strings.TrimSpace(tcLine),
		`IDV_CALLERS="awssm:idverify/callers"`,
		"WEBANK_SECRET=awsssm:/idverify/none",
		"export FACEID_ID=tcssm:idverify-faceid",
		"PLAIN_KEY=" + w.secret("cli-plain-in-file"),
		"IDV_LOG_LEVEL=info",
	}, "\n")), 0o600)
	code, out, stderr := run("", "check", "--env-file", envFile, "--secret", "PLAIN_KEY")
	t.Logf("check output:\n%s%s", out, stderr)
	if code != 1 {
		t.Fatalf("check exit %d", code)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(l)
		lines[f[0]] = f[1] + " " + f[2]
	}
	want := map[string]string{
		"TENCENTCLOUD_SECRET_KEY": "awskms ok", "BAIDU_SECRET_KEY": "tckms ok", "IDV_CALLERS": "awssm ok",
		"WEBANK_SECRET": "awsssm not_found:", "FACEID_ID": "tcssm malformed:", "PLAIN_KEY": "plain plaintext_refused:",
	}
	if len(lines) != len(want) {
		t.Errorf("lines %v", lines)
	}
	for k, v := range want {
		if lines[k] != v {
			t.Errorf("%s: %q, want %q", k, lines[k], v)
		}
	}

	code, out, _ = run("", "help")
	if code != 0 || !strings.Contains(out, "encrypt --cloud tencent") {
		t.Fatalf("help: %d", code)
	}
}

// TestSecretsBackendsByBuildTag checks that each platform build carries
// only its own cloud's SDK, and that a left-out backend fails closed
// naming the tag.
func TestSecretsBackendsByBuildTag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	deps := func(tags string) string {
		args := []string{"list", "-deps"}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command("go", append(args, "./scripts/idvsecrets")...)
		cmd.Dir = ".."
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -tags %q: %v", tags, err)
		}
		return string(b)
	}
	const awsSDK = "github.com/idverify/idverify/shared/secrets/awsbackend"
	const tcBackend = "github.com/idverify/idverify/shared/secrets/tcbackend"
	const tcSDK = "github.com/tencentcloud/tencentcloud-sdk-go"
	all := deps("")
	if !strings.Contains(all, awsSDK) || !strings.Contains(all, tcBackend) {
		t.Fatal("the default build should link both backends")
	}
	if scf := deps("idv_no_aws"); strings.Contains(scf, "github.com/aws/") || !strings.Contains(scf, tcBackend) {
		t.Error("-tags idv_no_aws still links the AWS SDK, or lost the Tencent backend")
	}
	if lambda := deps("idv_no_tencent"); strings.Contains(lambda, tcBackend) || strings.Contains(lambda, tcSDK) || !strings.Contains(lambda, awsSDK) {
		t.Error("-tags idv_no_tencent still links the Tencent backend, or lost the AWS SDK")
	}
	// The deployed Lambda functions (idv_lambda) take the role's credentials
	// from the environment and link none of the SDK's config chain.
	fn := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,idv_no_tencent,idv_lambda", "./functions/id-card-verification")
	fn.Dir = ".."
	fnDeps, err := fn.Output()
	if err != nil {
		t.Fatal(err)
	}
	// Nor any generated service client: a secret is one signed request.
	for _, pkg := range []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/sts", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
		"github.com/aws/aws-sdk-go-v2/service/kms", "github.com/aws/aws-sdk-go-v2/service/secretsmanager", "github.com/aws/aws-sdk-go-v2/service/ssm"} {
		if strings.Contains(string(fnDeps), pkg+"\n") {
			t.Errorf("a Lambda function build links %s", pkg)
		}
	}
	if !strings.Contains(string(fnDeps), awsSDK) {
		t.Error("a Lambda function build lost the AWS secrets backend")
	}

	bin := filepath.Join(t.TempDir(), "idvsecrets-scf")
	build := exec.Command("go", "build", "-tags", "idv_no_aws", "-o", bin, "./scripts/idvsecrets")
	build.Dir = ".."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	envFile := filepath.Join(t.TempDir(), "lambda.env")
	os.WriteFile(envFile, []byte("TENCENTCLOUD_SECRET_KEY=awsssm:/idverify/key\n"), 0o600)
	cmd := exec.Command(bin, "check", "--env-file", envFile)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not_compiled") || !strings.Contains(string(out), "idv_no_aws") {
		t.Fatalf("an SCF build checking an AWS reference: %v\n%s", err, out)
	}
}
