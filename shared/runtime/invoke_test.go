package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

type fakeHandler struct{}

func (fakeHandler) ServeRequest(_ context.Context, r *gateway.Request) *gateway.Response {
	return &gateway.Response{Status: 200, Body: []byte(r.Method + " " + r.Path)}
}

func (fakeHandler) Invoke(_ context.Context, p []byte) ([]byte, error) {
	if bytes.Contains(p, []byte("throttle")) {
		return nil, errs.E(errs.Throttled, "", "slow down")
	}
	return p, nil
}

func TestInvokeEventFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if len(files) < 8 {
		t.Fatalf("found %d event files", len(files))
	}
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code := Invoke(context.Background(), fakeHandler{}, bytes.NewReader(in), &out, Options{}); code != ExitOK {
			t.Errorf("%s: exit %d, output %s", f, code, out.String())
		}
		var m map[string]any
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Errorf("%s: output is not JSON: %s", f, out.String())
		}
		switch {
		case strings.Contains(f, "direct"):
			if m["IdCard"] != "110101199003074477" {
				t.Errorf("%s: %s", f, out.String())
			}
		case strings.Contains(f, "timer"):
			// A timer invokes with its argument.
			if m["Action"] != "flows/sweep" || len(m) != 1 {
				t.Errorf("%s: %s", f, out.String())
			}
		case m["body"] != "POST /v1/faceid/IdCardVerification" || m["statusCode"] != 200.0:
			t.Errorf("%s: %s", f, out.String())
		}
	}
}

func TestInvokeFailureAndLimits(t *testing.T) {
	var out bytes.Buffer
	code := Invoke(context.Background(), fakeHandler{}, strings.NewReader(`{"op":"throttle"}`), &out, Options{})
	if code != ExitFailed || out.String() != `{"errorType":"Throttled","errorMessage":"RequestLimitExceeded: slow down"}`+"\n" {
		t.Errorf("exit %d: %s", code, out.String())
	}
	out.Reset()
	code = Invoke(context.Background(), fakeHandler{}, strings.NewReader(`{"a":"0123456789"}`), &out, Options{MaxBody: 5})
	if code != ExitUsage || out.Len() != 0 {
		t.Errorf("over limit: exit %d: %s", code, out.String())
	}
}
