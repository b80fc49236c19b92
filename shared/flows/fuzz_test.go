package flows

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/gateway"
)

// FuzzVerify: any header and body are judged without a panic, and only a
// signature made with the secret over that body passes.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1764669600, 0)
	f.Add(Sign([]byte(testSecret), now, []byte(`{}`)), []byte(`{}`))
	f.Add("t=,v1=", []byte(""))
	f.Add("t=1764669600,v1=zz,v1=00,=,,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := Verify([]byte(testSecret), header, body, now, DefaultTolerance)
		if err != nil {
			return
		}
		// A pass is bound to this body and this secret.
		if !strings.Contains(header, "v1=") || !strings.Contains(header, "t=") {
			t.Fatalf("passed without t= and v1=: %q", header)
		}
		if Verify([]byte(testSecret), header, append(body, 'x'), now, DefaultTolerance) == nil {
			t.Fatalf("%q passed for another body", header)
		}
		if Verify([]byte("another-secret-0123456789"), header, body, now, DefaultTolerance) == nil {
			t.Fatalf("%q passed with another secret", header)
		}
	})
}

// FuzzRoute: any method and path is routed or refused without a panic,
// and no path segment that is not a flow id reaches the store.
func FuzzRoute(f *testing.F) {
	for _, p := range []string{"/v1/flows/flw_00000000000000000000000000000000", "/v1/flows/x/return", "/v1/flows/webhooks",
		"/v1/flows/webhooks/evt_1/redeliver", "/v1/flows/", "/v1/flows//return", "/v1/flows/a/b/c"} {
		f.Add("GET", p)
		f.Add("POST", p)
	}
	c := NewContract(NewService(Options{}), "sandbox")
	f.Fuzz(func(t *testing.T, method, path string) {
		op, ok := c.Route(&gateway.Request{Method: method, Path: path, Header: http.Header{}})
		if !strings.HasPrefix(path, Prefix) {
			if ok {
				t.Fatalf("routed %q", path)
			}
			return
		}
		if !ok {
			t.Fatalf("did not answer %q", path)
		}
		if id, _ := op.Data.(string); op.Err == nil && op.Action == ActionGet && !validID(flowPrefix, id) {
			if f, err := c.svc.Get(t.Context(), id); f != nil || err != nil {
				t.Fatalf("%q reached the store", id)
			}
		}
		if op.Public && op.Action != ActionReturn {
			t.Fatalf("%s %q is public", method, path)
		}
	})
}
