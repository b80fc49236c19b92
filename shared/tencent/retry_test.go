package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// retryLog is what a provider logged about its retries, one map per line.
func retryLog(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "faceid retry" {
			lines = append(lines, m)
		}
	}
	return lines
}

// newLoggedPair is newPair with the provider's log captured and sleeps
// skipped (the backoff itself is checked in TestBackoff).
func newLoggedPair(t *testing.T) (*fake.Server, *FaceID, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, p := newPair(t, fake.Options{}, Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	p.sleep = func(ctx context.Context, _ time.Duration) bool { return ctx.Err() == nil }
	return s, p, logs
}

const idCard = `{"IdCard":"110101199003071234","Name":"张三"}`

func TestThrottledIsRetried(t *testing.T) {
	s, p, logs := newLoggedPair(t)
	const a = "IdCardVerification"
	limit := fake.Behavior{ErrorCode: "RequestLimitExceeded", ErrorMessage: "请求的次数超过了频率限制"}
	s.Queue(a, limit, limit)
	got, err := p.Call(context.Background(), a, json.RawMessage(idCard))
	if want, _ := fake.Recorded(a); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Call = %s, %v", got, err)
	}
	if s.Calls(a) != 3 || s.Billable(a) != 1 {
		t.Fatalf("calls %d billable %d, want 3 1", s.Calls(a), s.Billable(a))
	}
	lines := retryLog(t, logs.String())
	if len(lines) != 2 || lines[0]["class"] != classThrottled || lines[0]["attempt"] != 1.0 || lines[1]["attempt"] != 2.0 ||
		lines[0]["action"] != a || lines[0]["code"] != "RequestLimitExceeded" {
		t.Fatalf("retry log: %v", lines)
	}
	assertNoPII(t, logs.String())

	// Throttled on every attempt: Throttled, after MaxAttempts, nothing billed.
	s.Reset()
	s.Program(a, fake.Behavior{ErrorCode: "RequestLimitExceeded.UinLimitExceeded", ErrorMessage: "limit"})
	_, err = p.Call(context.Background(), a, json.RawMessage(idCard))
	e := errs.As(err)
	if e.Kind != errs.Throttled || e.Code != "RequestLimitExceeded.UinLimitExceeded" || !strings.Contains(e.Message, "3 attempts") {
		t.Fatalf("err = %v", err)
	}
	if s.Calls(a) != MaxAttempts || s.Billable(a) != 0 {
		t.Fatalf("calls %d billable %d", s.Calls(a), s.Billable(a))
	}
}

func TestBusyCodes(t *testing.T) {
	want := map[string][]string{
		"BankCard2EVerification": {"-16"},
		"BankCard4EVerification": {"-18"},
		"IdCardVerification":     {"-4"},
		"CheckIdNameDate":        {"-6"},
		"CheckPhoneAndName":      {"-3"},
		"MobileStatus":           {"-3"},
		"GetLiveCode":            nil,
	}
	for action, codes := range want {
		if got := BusyCodes(action); !reflect.DeepEqual(got, codes) {
			t.Errorf("BusyCodes(%s) = %q, want %q", action, got, codes)
		}
	}
	n := 0
	for _, a := range faceid.All() {
		for _, c := range BusyCodes(a.Name) {
			n++
			if r, _ := a.Result(c); r.Charged {
				t.Errorf("%s %s is charged but retried", a.Name, c)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d busy codes found", n)
	}
}

func TestBusyResultIsRetried(t *testing.T) {
	s, p, logs := newLoggedPair(t)
	const a = "IdCardVerification"
	s.Queue(a, fake.Behavior{Result: "-4"})
	got, err := p.Call(context.Background(), a, json.RawMessage(idCard))
	if want, _ := fake.Recorded(a); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Call = %s, %v", got, err)
	}
	if s.Calls(a) != 2 || s.Billable(a) != 1 {
		t.Fatalf("calls %d billable %d, want 2 1", s.Calls(a), s.Billable(a))
	}
	if l := retryLog(t, logs.String()); len(l) != 1 || l[0]["class"] != classBusy || l[0]["code"] != "-4" {
		t.Fatalf("retry log: %v", l)
	}

	// Busy every time: FaceID's own free answer comes back as is.
	s.Reset()
	s.Program(a, fake.Behavior{Result: "-4"})
	got, err = p.Call(context.Background(), a, json.RawMessage(idCard))
	if err != nil || !bytes.Contains(got, []byte(`"Result":"-4"`)) {
		t.Fatalf("Call = %s, %v", got, err)
	}
	if s.Calls(a) != MaxAttempts || s.Billable(a) != 0 {
		t.Fatalf("calls %d billable %d", s.Calls(a), s.Billable(a))
	}

	// A charged failure ("-1") and a free non-busy one ("-5", no record)
	// are answers, not faults.
	for _, code := range []string{"-1", "-5"} {
		s.Reset()
		s.Program(a, fake.Behavior{Result: code})
		if _, err := p.Call(context.Background(), a, json.RawMessage(idCard)); err != nil || s.Calls(a) != 1 {
			t.Fatalf("%s: err %v, %d calls", code, err, s.Calls(a))
		}
	}
}

// A refused dial sends nothing: the call is repeated and succeeds once
// FaceID is back, billed once.
func TestUnsentIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	s := fake.New(fake.Options{})
	logs := &syncBuffer{}
	p, err := New(Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey, Endpoint: "http://" + addr,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var srv *http.Server
	p.sleep = func(ctx context.Context, _ time.Duration) bool {
		if srv == nil { // FaceID comes back during the first wait
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("relisten: %v", err)
				return false
			}
			srv = &http.Server{Handler: s}
			go srv.Serve(l)
		}
		return true
	}
	t.Cleanup(func() {
		if srv != nil {
			srv.Close()
		}
	})
	if _, err := p.Call(context.Background(), "IdCardVerification", json.RawMessage(idCard)); err != nil {
		t.Fatal(err)
	}
	if s.Calls("IdCardVerification") != 1 || s.Billable("IdCardVerification") != 1 {
		t.Fatalf("calls %d billable %d", s.Calls("IdCardVerification"), s.Billable("IdCardVerification"))
	}
	if l := retryLog(t, logs.String()); len(l) != 1 || l[0]["class"] != classNotSent || l[0]["code"] != CodeUpstreamConnection {
		t.Fatalf("retry log: %v", l)
	}
}

// Everything that may have reached FaceID is answered once, with a class
// that says so.
func TestAmbiguousFailuresAreNotRetried(t *testing.T) {
	cases := []struct {
		name string
		b    fake.Behavior
		code string
	}{
		{"reset after read", fake.Behavior{Fault: fake.ResetAfterRead}, CodeUpstreamConnection},
		{"malformed", fake.Behavior{Fault: fake.Malformed}, CodeUpstreamBadResponse},
		{"502", fake.Behavior{Status: http.StatusBadGateway, Body: []byte("bad gateway")}, CodeUpstreamBadResponse},
		{"500 json", fake.Behavior{Status: http.StatusInternalServerError, Body: []byte(`{"Response":{}}`)}, CodeUpstreamBadResponse},
		{"delay past deadline", fake.Behavior{Delay: time.Minute}, CodeUpstreamTimeout},
		{"slow body", fake.Behavior{Trickle: 100 * time.Millisecond}, CodeUpstreamTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, p, logs := newLoggedPair(t)
			s.Queue("IdCardVerification", c.b)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := p.Call(ctx, "IdCardVerification", json.RawMessage(idCard))
			e := errs.As(err)
			if e.Kind != errs.Unavailable || e.Code != c.code || !strings.HasSuffix(e.Message, mayBeBilled) {
				t.Fatalf("err = %v", err)
			}
			if s.Calls("IdCardVerification") != 1 || s.Billable("IdCardVerification") != 1 {
				t.Fatalf("calls %d billable %d, want 1 1", s.Calls("IdCardVerification"), s.Billable("IdCardVerification"))
			}
			if l := retryLog(t, logs.String()); len(l) != 0 {
				t.Fatalf("retried: %v", l)
			}
		})
	}
}

// The call's deadline keeps a margin before the caller's.
func TestCallContextMargin(t *testing.T) {
	p, err := New(Config{SecretID: "id", SecretKey: "key", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ left, margin time.Duration }{
		{time.Minute, DefaultDeadlineMargin}, // the configured margin
		{2 * time.Second, 200 * time.Millisecond},
	} {
		parent := time.Now().Add(c.left)
		ctx, cancel := context.WithDeadline(context.Background(), parent)
		cctx, ccancel := p.callContext(ctx)
		dl, _ := cctx.Deadline()
		ccancel()
		cancel()
		// time.Until inside callContext ran a little after parent was set,
		// so a proportional margin comes out a hair smaller.
		if got := parent.Sub(dl); got < c.margin-c.margin/4 || got > c.margin {
			t.Errorf("%s left: margin %s, want about %s", c.left, got, c.margin)
		}
	}
	// Without a caller deadline, the provider's timeout.
	p.timeout = time.Minute
	cctx, cancel := p.callContext(context.Background())
	defer cancel()
	if dl, ok := cctx.Deadline(); !ok || time.Until(dl) > time.Minute {
		t.Fatalf("deadline %v %v", dl, ok)
	}
	// A negative margin disables it.
	p2, _ := New(Config{SecretID: "id", SecretKey: "key", DeadlineMargin: -1})
	parent := time.Now().Add(time.Second)
	ctx, cancel2 := context.WithDeadline(context.Background(), parent)
	defer cancel2()
	cctx2, cancel3 := p2.callContext(ctx)
	defer cancel3()
	if dl, _ := cctx2.Deadline(); !dl.Equal(parent) {
		t.Fatalf("deadline %v, want %v", dl, parent)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= 6; attempt++ {
		ceiling := min(backoffCap, backoffBase<<(attempt-1))
		for range 200 {
			if d := backoff(attempt); d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %s, ceiling %s", attempt, d, ceiling)
			}
		}
	}
}

// A wait that would end past the deadline is not started.
func TestNoSleepPastDeadline(t *testing.T) {
	s, p, _ := newLoggedPair(t)
	s.Program("", fake.Behavior{ErrorCode: "RequestLimitExceeded"})
	var waits int
	p.sleep = func(ctx context.Context, d time.Duration) bool {
		waits++
		if dl, _ := ctx.Deadline(); time.Until(dl) < d+minAttempt {
			t.Errorf("asked to wait %s with %s left", d, time.Until(dl))
		}
		return true
	}
	// Less time than the shortest attempt needs: one call, no wait.
	ctx, cancel := context.WithTimeout(context.Background(), minAttempt)
	defer cancel()
	_, err := p.Call(ctx, "GetLiveCode", nil)
	if errs.KindOf(err) != errs.Throttled || waits != 0 || s.Calls("GetLiveCode") != 1 {
		t.Fatalf("err %v, %d waits, %d calls", err, waits, s.Calls("GetLiveCode"))
	}
}

// The key is read at every call: a rotated secret and refreshed role
// credentials are used without rebuilding the provider.
func TestCredentialsRotate(t *testing.T) {
	var mu sync.Mutex
	vars := map[string]string{}
	set := func(kv ...string) {
		mu.Lock()
		defer mu.Unlock()
		for i := 0; i < len(kv); i += 2 {
			vars[kv[i]] = kv[i+1]
		}
	}
	getenv := func(k string) string { mu.Lock(); defer mu.Unlock(); return vars[k] }

	// An explicit key given as a secret reference: the app's getenv serves
	// the new value once the reference is refreshed.
	s, url := fake.Start(t, fake.Options{})
	set("TENCENTCLOUD_SECRET_ID", fake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY", "old-key", "IDV_TENCENT_ENDPOINT", url)
	p, err := New(ConfigFromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); errs.As(err).Code != CodeProviderAuthFailure {
		t.Fatalf("old key: %v", err)
	}
	set("TENCENTCLOUD_SECRET_KEY", fake.DefaultSecretKey)
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); err != nil {
		t.Fatalf("rotated key: %v", err)
	}

	// SCF role credentials, replaced under the running instance.
	s, url = fake.Start(t, fake.Options{SecretID: "AKIDrole2", SecretKey: "rolekey2", SessionToken: "token2"})
	set("TENCENTCLOUD_SECRET_ID", "", "TENCENTCLOUD_SECRET_KEY", "")
	set("TENCENTCLOUD_SECRETID", "AKIDrole1", "TENCENTCLOUD_SECRETKEY", "rolekey1", "TENCENTCLOUD_SESSIONTOKEN", "token1",
		"IDV_TENCENT_ENDPOINT", url)
	p, err = New(ConfigFromEnv(getenv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); errs.As(err).Code != CodeProviderAuthFailure {
		t.Fatalf("expired role credentials: %v", err)
	}
	set("TENCENTCLOUD_SECRETID", "AKIDrole2", "TENCENTCLOUD_SECRETKEY", "rolekey2", "TENCENTCLOUD_SESSIONTOKEN", "token2")
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); err != nil {
		t.Fatalf("refreshed role credentials: %v", err)
	}
	if last, _ := s.LastRequest("GetLiveCode"); last.Header.Get("X-TC-Token") != "token2" ||
		!strings.Contains(last.Header.Get("Authorization"), "Credential=AKIDrole2/") {
		t.Fatalf("headers: %v", last.Header)
	}

	// Credentials gone: refused before anything is sent.
	set("TENCENTCLOUD_SECRETID", "", "TENCENTCLOUD_SECRETKEY", "")
	before := s.TotalCalls()
	if _, err := p.Call(context.Background(), "GetLiveCode", nil); errs.As(err).Code != CodeProviderAuthFailure || s.TotalCalls() != before {
		t.Fatalf("no credentials: %v", err)
	}
}

func TestTimeoutFromEnv(t *testing.T) {
	c := ConfigFromEnv(env(map[string]string{"TENCENTCLOUD_SECRET_ID": "id", "TENCENTCLOUD_SECRET_KEY": "k", "IDV_TENCENT_TIMEOUT": "4s"}))
	if p, err := New(c); err != nil || p.timeout != 4*time.Second {
		t.Fatalf("%v %v", p, err)
	}
	for _, bad := range []string{"4", "-1s", "soon"} {
		c := ConfigFromEnv(env(map[string]string{"TENCENTCLOUD_SECRET_ID": "id", "TENCENTCLOUD_SECRET_KEY": "k", "IDV_TENCENT_TIMEOUT": bad}))
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), "IDV_TENCENT_TIMEOUT") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func assertNoPII(t *testing.T, out string) {
	t.Helper()
	for _, v := range []string{"110101199003071234", "张三"} {
		if strings.Contains(out, v) {
			t.Fatalf("%q logged: %s", v, out)
		}
	}
}
