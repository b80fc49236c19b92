package tests

// Issue 4's "done when", against the real binary: a function configured only
// with secret references starts, resolves them through the real clients
// against the cloud fakes, and signs its FaceID calls with the resolved key
// (the fake FaceID verifies the TC3 signature); a reference that cannot be
// resolved stops it at start with a message naming the variable.

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/fakes/awsfake"
	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/runtimes"
)

const secretsBinaryBody = `{"IdCard":"110101199003074477","Name":"张三"}`

func TestSecretsBinaryStartsFromReferencesOnly(t *testing.T) {
	bin := buildBinary(t, "id-card-verification")
	w := newSecWorld(t)
	fid := "AKIDresolvedFromSSM0001"
	fkey := w.secret("resolved-faceid-key-0001")
	fake, fakeURL := faceidfake.Start(t, faceidfake.Options{SecretID: fid, SecretKey: fkey})

	cases := map[string]map[string]string{
		// SCF style: both halves from one Tencent SSM secret, fetched with
		// the function role's temporary credentials.
		"tcssm": {
			"TENCENTCLOUD_SECRET_ID":  "tcssm:idverify-faceid?version=v1#SecretId",
			"TENCENTCLOUD_SECRET_KEY": "tcssm:idverify-faceid?version=v1#SecretKey",
		},
		// Lambda style: the key as AWS KMS ciphertext bound to its variable.
		"awskms": {
			"TENCENTCLOUD_SECRET_ID":  fid,
			"TENCENTCLOUD_SECRET_KEY": "",
		},
	}
	w.tc.PutSecretString("idverify-faceid", "v1", `{"SecretId":"`+fid+`","SecretKey":"`+fkey+`"}`)
	key := w.aws.CreateKey()
	blob := w.aws.Encrypt(key, []byte(fkey), map[string]string{"var": "TENCENTCLOUD_SECRET_KEY"})
	cases["awskms"]["TENCENTCLOUD_SECRET_KEY"] = "awskms:" + base64.StdEncoding.EncodeToString(blob) + "?ctx.var=TENCENTCLOUD_SECRET_KEY"

	for name, config := range cases {
		t.Run(name, func(t *testing.T) {
			env := secretsBinaryEnv(w, config, fakeURL)
			s := startServer(t, bin, env...)
			before := fake.Calls("IdCardVerification")
			resp, err := http.Post(s.url+"/v1/faceid/IdCardVerification", "application/json", strings.NewReader(secretsBinaryBody))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Idv-Mode") != "live" || strings.Contains(string(body), `"Error"`) {
				t.Fatalf("status %d mode %q: %s\n%s", resp.StatusCode, resp.Header.Get("X-Idv-Mode"), body, s.logs())
			}
			if got := fake.Calls("IdCardVerification") - before; got != 1 {
				t.Fatalf("the fake FaceID saw %d verified calls, want 1", got)
			}
			w.out.Write([]byte(s.logs()))
		})
	}

	// The deployed Lambda build links no SDK config loader and no local
	// server: it takes the role's credentials from the environment
	// (config_lambda.go) and is driven through the Lambda Runtime API, as
	// Lambda would, with a direct invocation.
	t.Run("awskms (Lambda build)", func(t *testing.T) {
		lambdaBin := buildBinaryTags(t, "id-card-verification", "lambda.norpc,idv_no_tencent,idv_lambda")
		var env []string
		for _, kv := range secretsBinaryEnv(w, cases["awskms"], fakeURL) {
			if !strings.HasPrefix(kv, "IDV_RUNTIME=") {
				env = append(env, kv)
			}
		}
		a := runtimes.StartLambda(t, lambdaBin, append(env, "AWS_REGION="+w.aws.Region())...)
		before := fake.Calls("IdCardVerification")
		o, err := a.Invoke(t.Context(), []byte(secretsBinaryBody), 10*time.Second)
		if err != nil {
			t.Fatalf("%v\n%s", err, a.Proc.Output())
		}
		if o.Failure != nil || !strings.Contains(string(o.Payload), `"RequestId"`) || strings.Contains(string(o.Payload), `"Error"`) {
			t.Fatalf("failure %+v payload %s\n%s", o.Failure, o.Payload, a.Proc.Output())
		}
		if got := fake.Calls("IdCardVerification") - before; got != 1 {
			t.Fatalf("the fake FaceID saw %d verified calls, want 1", got)
		}
		if p := a.Problems(); len(p) > 0 {
			t.Fatalf("runtime protocol problems: %v", p)
		}
	})
}

func TestSecretsBinaryFailsClosed(t *testing.T) {
	bin := buildBinary(t, "id-card-verification")
	w := newSecWorld(t)
	w.tc.PutSecretString("denied", "v1", `{"SecretKey":"`+w.secret("denied-value-0002")+`"}`)
	w.tc.Deny("denied")
	cases := map[string]struct {
		config map[string]string
		want   []string
	}{
		"not found": {map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "tcssm:missing?version=v1#SecretKey"},
			[]string{"TENCENTCLOUD_SECRET_KEY", "not_found"}},
		"access denied": {map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "tcssm:denied?version=v1#SecretKey"},
			[]string{"TENCENTCLOUD_SECRET_KEY", "access_denied"}},
		"malformed": {map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "awskms:%%%"},
			[]string{"TENCENTCLOUD_SECRET_KEY", "malformed"}},
		"plain secret in production": {map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": w.secret("plain-key-in-prod-0003"), "IDV_ENV": "production"},
			[]string{"TENCENTCLOUD_SECRET_KEY", "plaintext_refused"}},
		"caller list unresolved": {map[string]string{"IDV_CALLERS": "awssm:idverify/none"},
			[]string{"IDV_CALLERS", "not_found"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := execCommand(bin, secretsBinaryEnv(w, c.config, "http://127.0.0.1:9")...)
			cmd.Env = append(cmd.Env, "PORT="+freePort(t))
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the function kept running with an unresolvable reference")
			}
			if err == nil {
				t.Fatalf("exit status 0; output:\n%s", out)
			}
			low := strings.ToLower(string(out))
			for _, want := range c.want {
				if !strings.Contains(low, strings.ToLower(want)) {
					t.Errorf("output does not mention %q:\n%s", want, out)
				}
			}
			w.out.Write(out)
		})
	}
}

// secretsBinaryEnv is the environment a deployed function would have: role
// credentials, the clouds' endpoints (here the fakes), and its configuration.
func secretsBinaryEnv(w *secWorld, config map[string]string, faceidURL string) []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + awsfake.DefaultAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awsfake.DefaultSecretAccessKey,
		"AWS_SESSION_TOKEN=" + awsfake.DefaultSessionToken, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"IDV_TENCENT_ENDPOINT=" + faceidURL, "IDV_RUNTIME=local", "IDV_SECRET_TIMEOUT=5s",
	}
	return append(env, w.environ(config)...)
}
