package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/runtimes"
)

// configErrorType is the class of a start-up configuration error: the
// "initialisation failed" line carries it (with the variable in "field")
// instead of hiding the message behind "Internal"/"internal error", because
// CloudWatch and CLS show only the JSON lines.
const configErrorType = "ConfigurationError"

// bakedSecret stands for a real Baidu key: it must never reach the output.
const bakedSecret = "baidu-secret-value-must-not-leak-7f3a"

// TestConfigErrorsAtStart starts the real binaries with configurations they
// must refuse, and checks the exit status and the structured line.
func TestConfigErrorsAtStart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, fn string
		env      []string
		field    string
		// hidden are values read that the log line must not repeat.
		hidden []string
	}{
		{"log level verbose", "id-card-verification", []string{"IDV_LOG_LEVEL=verbose"}, "IDV_LOG_LEVEL", []string{"verbose"}},
		{"log level verbose (all)", "all", []string{"IDV_LOG_LEVEL=verbose"}, "IDV_LOG_LEVEL", []string{"verbose"}},
		{"mode bogus", "id-card-verification", []string{"IDV_MODE=bogus"}, "IDV_MODE", []string{"bogus"}},
		{"mode bogus (all)", "all", []string{"IDV_MODE=bogus"}, "IDV_MODE", []string{"bogus"}},
		{"production without callers", "id-card-verification", []string{"IDV_ENV=production", "IDV_MODE=sandbox"}, "IDV_CALLERS", nil},
		{"production without callers (all)", "all", []string{"IDV_ENV=production", "IDV_MODE=sandbox"}, "IDV_CALLERS", nil},
		{"encryption algorithm bogus", "id-card-verification", []string{"IDV_FACEID_ENCRYPT=AES-128-ECB"}, "IDV_FACEID_ENCRYPT", []string{"AES-128-ECB"}},
		{"Tencent RSA key malformed", "id-card-verification", []string{"IDV_FACEID_RSA_PUBLIC_KEY=rsa-key-value-4d2c"}, "IDV_FACEID_RSA_PUBLIC_KEY", []string{"rsa-key-value-4d2c"}},
		{"Tencent SM2 key malformed (all)", "all", []string{"IDV_FACEID_SM2_PUBLIC_KEY=sm2-key-value-8b0e"}, "IDV_FACEID_SM2_PUBLIC_KEY", []string{"sm2-key-value-8b0e"}},
		{"eID key malformed", "get-eid-result", []string{"IDV_EID_SM2_PRIVATE_KEY=eid-secret-value-5e1b"}, "IDV_EID_SM2_PRIVATE_KEY", []string{"eid-secret-value-5e1b"}},
		{"Baidu keys with an open sandbox", "faceprint-verify-token-generate",
			[]string{"BAIDU_API_KEY=baidu-api-key-value-9c1e", "BAIDU_SECRET_KEY=" + bakedSecret, "IDV_SANDBOX_OPEN=true"},
			"IDV_SANDBOX_OPEN", []string{"baidu-api-key-value-9c1e", bakedSecret}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := buildBinary(t, c.fn)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := execCommand(bin, append([]string{"IDV_RUNTIME=local", "PORT=" + freePort(t)}, c.env...)...)
			cmd = withContext(ctx, cmd)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after 30s: it started with a configuration it must refuse\n%s", stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero status\n%s", err, stderr.String())
			}
			line := initFailedLine(t, stderr.String())
			checkConfigLine(t, line, c.field, c.hidden)
			if out := stdout.String() + stderr.String(); strings.Contains(out, bakedSecret) {
				t.Errorf("the secret value appears in the output:\n%s", out)
			}
		})
	}
}

// On Lambda the same class and message reach the invoker through
// init/error, not a bare "Runtime exited".
func TestConfigErrorOnLambdaInitError(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, "id-card-verification")
	a := runtimes.NewLambdaAPI(t)
	p := runtimes.StartProcess(t, bin, []string{
		"AWS_LAMBDA_RUNTIME_API=" + a.Addr(), "AWS_LAMBDA_FUNCTION_NAME=idverify-test", "IDV_LOG_LEVEL=verbose",
	})
	if code, ok := p.Wait(20 * time.Second); !ok || code == 0 {
		t.Fatalf("exit %d (exited %v)\n%s", code, ok, p.Output())
	}
	f := a.InitError()
	if f == nil || f.Type != configErrorType || !strings.Contains(f.Message, "IDV_LOG_LEVEL") ||
		strings.Contains(f.Message, "internal error") || strings.Contains(f.Message, "verbose") {
		t.Errorf("init/error: %+v\n%s", f, p.Output())
	}
	checkConfigLine(t, initFailedLine(t, p.Output()), "IDV_LOG_LEVEL", []string{"verbose"})
}

// initFailedLine is the decoded "initialisation failed" JSON line of out.
func initFailedLine(t *testing.T, out string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(jsonLines(out), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "initialisation failed" {
			return m
		}
	}
	t.Fatalf("no \"initialisation failed\" JSON line in:\n%s", out)
	return nil
}

func checkConfigLine(t *testing.T, m map[string]any, field string, hidden []string) {
	t.Helper()
	msg, _ := m["error"].(string)
	if m["error_type"] != configErrorType || m["field"] != field || m["level"] != "ERROR" {
		t.Errorf("error_type %v field %v level %v, want %s %s ERROR: %v", m["error_type"], m["field"], m["level"], configErrorType, field, m)
	}
	if msg == "" || msg == "internal error" || strings.Contains(msg, "internal error") || !strings.Contains(msg, field) {
		t.Errorf("error %q: want the configuration message naming %s", msg, field)
	}
	line, _ := json.Marshal(m)
	for _, v := range hidden {
		if strings.Contains(string(line), v) {
			t.Errorf("the value %q appears in the log line %s", v, line)
		}
	}
}

// withContext rebuilds cmd so that ctx kills it.
func withContext(ctx context.Context, cmd *exec.Cmd) *exec.Cmd {
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Env, c.Dir = cmd.Env, cmd.Dir
	return c
}
