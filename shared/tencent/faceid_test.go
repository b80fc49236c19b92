package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// newPair starts the fake FaceID server and a provider pointed at it.
func newPair(t *testing.T, opts fake.Options, cfg Config) (*fake.Server, *FaceID) {
	t.Helper()
	s, url := fake.Start(t, opts)
	if cfg.SecretID == "" {
		cfg.SecretID, cfg.SecretKey = fake.DefaultSecretID, fake.DefaultSecretKey
	}
	cfg.Endpoint = url
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func specActions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../faceid/spec/faceid-2018-03-01.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct{ Actions []struct{ Action string } }
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range spec.Actions {
		out = append(out, a.Action)
	}
	if len(out) != 37 {
		t.Fatalf("spec has %d actions", len(out))
	}
	return out
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // exact numbers: 9007199254740993 must not become ...992
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestEveryActionRoundTrips is the "nothing is dropped" guarantee: for each
// of the 37 actions, the fake verifies our TC3 signature and answers with a
// recording that has every spec field plus FutureField; Call must return it
// unchanged.
func TestEveryActionRoundTrips(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	for _, action := range specActions(t) {
		t.Run(action, func(t *testing.T) {
			got, err := p.Call(context.Background(), action, json.RawMessage(`{"Name":"张三"}`))
			if err != nil {
				t.Fatalf("Call: %v", err) // a signature the fake rejects ends here
			}
			want, ok := fake.Recorded(action)
			if !ok {
				t.Fatal("no recording")
			}
			if !reflect.DeepEqual(decode(t, got), decode(t, want)) {
				t.Fatalf("response differs from the recording\n got: %s\nwant: %s", got, want)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("response is equal but not byte-identical")
			}
			ff, _ := decode(t, got).(map[string]any)["FutureField"].(map[string]any)
			if ff["BigNumber"] != json.Number("9007199254740993") {
				t.Fatalf("FutureField = %v", ff)
			}
			if s.Calls(action) != 1 {
				t.Fatalf("fake saw %d calls", s.Calls(action))
			}
			last, _ := s.LastRequest(action)
			if !strings.HasPrefix(last.Header.Get("Authorization"), "TC3-HMAC-SHA256 Credential="+fake.DefaultSecretID+"/") ||
				last.Header.Get("X-TC-Version") != "2018-03-01" || last.Header.Get("X-TC-Region") != DefaultRegion {
				t.Fatalf("headers: %v", last.Header)
			}
		})
	}
}

// The request body reaches FaceID with the caller's values, exact numbers
// included (the SDK's CommonRequest would turn them into float64).
func TestParamsPassThrough(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	params := `{ "Name": "张三", "IdCard": "110101199003071234", "Big": 9007199254740993, "Tag": "<a&b>",
		"Nested": {"List": ["Name"], "Iv": "x"}, "Float": 0.1 }`
	if _, err := p.Call(context.Background(), "IdCardVerification", json.RawMessage(params)); err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastRequest("IdCardVerification")
	if !reflect.DeepEqual(decode(t, last.Body), decode(t, []byte(params))) {
		t.Fatalf("sent %s\nwant %s", last.Body, params)
	}

	for _, empty := range []string{"", "  "} {
		if _, err := p.Call(context.Background(), "GetLiveCode", json.RawMessage(empty)); err != nil {
			t.Fatalf("empty params: %v", err)
		}
	}
	if last, _ := s.LastRequest("GetLiveCode"); string(last.Body) != "{}" {
		t.Fatalf("empty params sent as %q", last.Body)
	}
}

func TestRejectsBadInput(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	for _, c := range []struct{ action, params, code string }{
		{"", `{}`, "InvalidAction"},
		{"Get\r\nX-Evil: 1", `{}`, "InvalidAction"},
		{"IdCardVerification", `[]`, "InvalidParameter"},
		{"IdCardVerification", `{"a":`, "InvalidParameter"},
		{"IdCardVerification", `null`, "InvalidParameter"},
	} {
		_, err := p.Call(context.Background(), c.action, json.RawMessage(c.params))
		e := errs.As(err)
		if e == nil || e.Kind != errs.Invalid || e.Code != c.code {
			t.Errorf("Call(%q, %q) = %v", c.action, c.params, err)
		}
	}
	if s.TotalCalls() != 0 {
		t.Fatal("invalid input reached FaceID")
	}
}

func TestUpstreamErrorMapping(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	cases := []struct {
		code string
		kind errs.Kind
	}{
		{"RequestLimitExceeded", errs.Throttled},
		{"RequestLimitExceeded.UinLimitExceeded", errs.Throttled},
		{"UnauthorizedOperation.Arrears", errs.Provider},
		{"UnauthorizedOperation.Nonactivated", errs.Provider},
		{"InvalidParameter", errs.Invalid},
		{"InvalidParameterValue", errs.Invalid},
		{"InvalidParameterValue.BizTokenExpired", errs.Invalid},
		{"MissingParameter", errs.Invalid},
		{"UnknownParameter", errs.Invalid},
		{"InternalError", errs.Unavailable},
		{"InternalError.UnKnown", errs.Unavailable},
		{"FailedOperation.UnKnown", errs.Unavailable},
		{"FailedOperation.DetectEngineSystemError", errs.Unavailable},
		{"FailedOperation.CompareLowSimilarity", errs.Provider},
		{"FailedOperation.IdNameMisMatch", errs.Provider},
		{"FailedOperation", errs.Provider},
		{"ResourceNotFound", errs.Provider},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			s.Program("IdCardVerification", fake.Behavior{ErrorCode: c.code, ErrorMessage: "msg for " + c.code})
			before := s.Calls("IdCardVerification")
			_, err := p.Call(context.Background(), "IdCardVerification", json.RawMessage(`{}`))
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v", err)
			}
			if e.Kind != c.kind || e.Code != c.code || !strings.HasPrefix(e.Message, "msg for "+c.code) || e.RequestID == "" {
				t.Fatalf("got kind=%v code=%s msg=%q rid=%q", e.Kind, e.Code, e.Message, e.RequestID)
			}
			// Only a throttled call, refused before processing, is repeated.
			want := 1
			if c.kind == errs.Throttled {
				want = MaxAttempts
			}
			if n := s.Calls("IdCardVerification") - before; n != want {
				t.Fatalf("%d upstream calls, want %d", n, want)
			}
		})
	}
}

// Our own key failing upstream is this deployment's fault, never the
// caller's: it must not come back as an AuthFailure the caller's SDK would
// read as its own signature failing.
func TestWrongCredentials(t *testing.T) {
	_, p := newPair(t, fake.Options{}, Config{SecretID: fake.DefaultSecretID, SecretKey: "wrong"})
	_, err := p.Call(context.Background(), "GetLiveCode", nil)
	e := errs.As(err)
	if e.Kind != errs.Unavailable || e.Code != CodeProviderAuthFailure || !strings.Contains(e.Message, "AuthFailure.SignatureFailure") {
		t.Fatalf("err = %v", err)
	}
	for _, code := range []string{"AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound"} {
		s, p := newPair(t, fake.Options{}, Config{})
		s.Program("GetLiveCode", fake.Behavior{ErrorCode: code, ErrorMessage: "x"})
		_, err := p.Call(context.Background(), "GetLiveCode", nil)
		if e := errs.As(err); e.Kind != errs.Unavailable || e.Code != CodeProviderAuthFailure || e.RequestID == "" {
			t.Fatalf("%s: err = %v", code, err)
		}
	}
}

func TestDeadlineHonoured(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	s.Program("LivenessRecognition", fake.Behavior{Delay: 30 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Call(ctx, "LivenessRecognition", json.RawMessage(`{}`))
	elapsed := time.Since(start)
	e := errs.As(err)
	if e.Kind != errs.Unavailable || e.Code != CodeUpstreamTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v (cause %v)", err, e.Err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("returned after %s, deadline was 200ms", elapsed)
	}
	if s.Calls("LivenessRecognition") != 1 {
		t.Fatalf("%d calls, want 1 (no retry)", s.Calls("LivenessRecognition"))
	}
}

func TestConfigTimeoutCapsCall(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{Timeout: 150 * time.Millisecond})
	s.Program("", fake.Behavior{Delay: 30 * time.Second})
	start := time.Now()
	_, err := p.Call(context.Background(), "GetLiveCode", nil)
	if e := errs.As(err); e.Code != CodeUpstreamTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestCanceled(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	s.Program("", fake.Behavior{Delay: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := p.Call(ctx, "GetLiveCode", nil)
	if e := errs.As(err); e.Kind != errs.Unavailable || e.Code != CodeUpstreamUnavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestHTTPFailures(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	pii := "110101199003071234"
	for _, b := range []fake.Behavior{
		{Status: http.StatusBadGateway, Body: []byte("<html>502 " + pii + "</html>")},
		{Status: http.StatusServiceUnavailable, Body: []byte(`{"Response":{"IdCard":"` + pii + `"}}`)},
		{Status: http.StatusOK, Body: []byte(`{"Response":{"IdCard":"` + pii)}, // truncated
		{Status: http.StatusOK, Body: []byte(`{"NoResponse":{}}`)},
		{Status: http.StatusOK, Body: []byte(`{"Response":"x"}`)},
	} {
		s.Program("GetLiveCode", b)
		_, err := p.Call(context.Background(), "GetLiveCode", nil)
		e := errs.As(err)
		if e.Kind != errs.Unavailable || e.Code != CodeUpstreamBadResponse || !strings.Contains(e.Message, mayBeBilled) {
			t.Fatalf("%s: err = %v", b.Body, err)
		}
		// Neither the message nor the cause may quote the body.
		if strings.Contains(e.Message, pii) || (e.Err != nil && strings.Contains(e.Err.Error(), pii)) {
			t.Fatalf("body leaked: %q / %v", e.Message, e.Err)
		}
	}
	// Go's client would follow this 307 and POST the action again.
	s.Program("GetLiveCode", fake.Behavior{Status: http.StatusTemporaryRedirect,
		Header: http.Header{"Location": {"/again"}}, Body: []byte("moved")})
	before := s.Calls("GetLiveCode")
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); !strings.Contains(err.Error(), "HTTP 307") || s.Calls("GetLiveCode") != before+1 {
		t.Fatalf("redirect: %v, %d calls", err, s.Calls("GetLiveCode")-before)
	}
	s.Program("GetLiveCode", fake.Behavior{Status: http.StatusBadGateway, Body: []byte("bad")})
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); !strings.Contains(err.Error(), "502") {
		t.Fatalf("status missing from %v", err)
	}
}

// A connection that dies after the request was written is reported once,
// never retried: FaceID may have billed it.
func TestNetworkFailureNotRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	p, err := New(Config{SecretID: "id", SecretKey: "key", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Call(context.Background(), "IdCardVerification", json.RawMessage(`{}`))
	if e := errs.As(err); e.Kind != errs.Unavailable || e.Code != CodeUpstreamConnection || !strings.Contains(e.Message, mayBeBilled) {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Fatalf("%d attempts, want 1", calls)
	}

	// Nothing listening at all.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	// Nothing was sent: safe to repeat, and said so.
	p, _ = New(Config{SecretID: "id", SecretKey: "key", Endpoint: "http://" + addr})
	p.sleep = func(context.Context, time.Duration) bool { return true }
	_, err = p.Call(context.Background(), "GetLiveCode", nil)
	if e := errs.As(err); e.Code != CodeUpstreamConnection || !strings.Contains(e.Message, notBilled) ||
		!strings.Contains(e.Message, fmt.Sprintf("(%d attempts)", MaxAttempts)) {
		t.Fatalf("err = %v", err)
	}
}

func TestSessionToken(t *testing.T) {
	s, p := newPair(t, fake.Options{SessionToken: "role-token"}, Config{
		SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey, SessionToken: "role-token",
	})
	if _, err := p.Call(context.Background(), "GetNFCToken", nil); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastRequest("GetNFCToken"); last.Header.Get("X-TC-Token") != "role-token" {
		t.Fatalf("X-TC-Token = %q", last.Header.Get("X-TC-Token"))
	}

	// Without a token the fake (like Tencent) refuses role credentials.
	_, p = newPair(t, fake.Options{SessionToken: "role-token"}, Config{})
	_, err := p.Call(context.Background(), "GetNFCToken", nil)
	if e := errs.As(err); e.Code != CodeProviderAuthFailure || e.Kind != errs.Unavailable || !strings.Contains(e.Message, "AuthFailure.TokenFailure") {
		t.Fatalf("err = %v", err)
	}
}

// The endpoint override decides scheme, host and the signed Host header, and
// a provider from ConfigFromEnv reaches it.
func TestEndpointOverrideFromEnv(t *testing.T) {
	s, url := fake.Start(t, fake.Options{})
	cfg := ConfigFromEnv(env(map[string]string{
		"TENCENTCLOUD_SECRETID": fake.DefaultSecretID, "TENCENTCLOUD_SECRETKEY": fake.DefaultSecretKey,
		"TENCENTCLOUD_REGION": "ap-beijing", "IDV_TENCENT_ENDPOINT": url + "/",
	}))
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), "GetActionSequence", nil); err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastRequest("GetActionSequence")
	if last.Header.Get("X-TC-Region") != "ap-beijing" {
		t.Fatalf("region header %q", last.Header.Get("X-TC-Region"))
	}
}

// One provider serves many goroutines (run with -race).
func TestConcurrentCalls(t *testing.T) {
	s, p := newPair(t, fake.Options{}, Config{})
	actions := specActions(t)
	var wg sync.WaitGroup
	errc := make(chan error, 4*len(actions))
	for range 4 {
		for _, a := range actions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := p.Call(context.Background(), a, json.RawMessage(`{}`))
				if want, _ := fake.Recorded(a); err == nil && !bytes.Equal(got, want) {
					err = errors.New(a + ": wrong response")
				}
				if err != nil {
					errc <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if s.TotalCalls() != 4*len(actions) {
		t.Fatalf("TotalCalls = %d", s.TotalCalls())
	}
}
