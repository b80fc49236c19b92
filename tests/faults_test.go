package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/idverify/idverify/tests/runtimes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/tencent"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// The upstream fault suite: the live Tencent provider, alone and inside the
// real functions/all binary, against the fault-injecting fake FaceID. Every
// fault must end in the right class without a panic, only the faults that
// cannot have been billed may be retried, and the fake's billable count
// must show at most one billed call per logical request.

const (
	faultAction = "IdCardVerification"
	// Not the banner's example values, so the PII scan means something.
	faultParams = `{"IdCard":"440304198506121230","Name":"李四"}`
	// The busy code of IdCardVerification: "-4" 证件库服务异常, free.
	busyCode = "-4"
)

// retries counts the provider's "faceid retry" log lines by class.
func retries(t *testing.T, logs string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, l := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m struct{ Msg, Class string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m.Msg == "faceid retry" {
			n[m.Class]++
		}
	}
	return n
}

type faultCase struct {
	name  string
	queue []fake.Behavior
	// want: "" for success, else the error code.
	kind      errs.Kind
	code      string
	calls     int
	billable  int
	retried   map[string]int
	mayBilled bool // the message must warn that the call may have been billed
}

var (
	limited = fake.Behavior{ErrorCode: "RequestLimitExceeded", ErrorMessage: "请求的次数超过了频率限制"}
	busy    = fake.Behavior{Result: busyCode}
)

func faultCases() []faultCase {
	return []faultCase{
		{name: "none", calls: 1, billable: 1},
		{name: "throttled then ok", queue: []fake.Behavior{limited, limited}, calls: 3, billable: 1,
			retried: map[string]int{"throttled": 2}},
		{name: "throttled throughout", queue: []fake.Behavior{limited, limited, limited},
			kind: errs.Throttled, code: "RequestLimitExceeded", calls: 3, billable: 0, retried: map[string]int{"throttled": 2}},
		{name: "busy then ok", queue: []fake.Behavior{busy}, calls: 2, billable: 1, retried: map[string]int{"busy_result": 1}},
		{name: "busy throughout", queue: []fake.Behavior{busy, busy, busy}, calls: 3, billable: 0,
			retried: map[string]int{"busy_result": 2}},
		{name: "delay past deadline", queue: []fake.Behavior{{Delay: time.Minute}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamTimeout, calls: 1, billable: 1, mayBilled: true},
		{name: "5xx", queue: []fake.Behavior{{Status: http.StatusBadGateway, Body: []byte("<html>502</html>")}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamBadResponse, calls: 1, billable: 1, mayBilled: true},
		{name: "reset after read", queue: []fake.Behavior{{Fault: fake.ResetAfterRead}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamConnection, calls: 1, billable: 1, mayBilled: true},
		{name: "malformed json", queue: []fake.Behavior{{Fault: fake.Malformed}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamBadResponse, calls: 1, billable: 1, mayBilled: true},
		{name: "slow body", queue: []fake.Behavior{{Trickle: 200 * time.Millisecond}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamTimeout, calls: 1, billable: 1, mayBilled: true},
		{name: "throttled then reset", queue: []fake.Behavior{limited, {Fault: fake.ResetAfterRead}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamConnection, calls: 2, billable: 1, mayBilled: true,
			retried: map[string]int{"throttled": 1}},
		{name: "busy then delay", queue: []fake.Behavior{busy, {Delay: time.Minute}},
			kind: errs.Unavailable, code: tencent.CodeUpstreamTimeout, calls: 2, billable: 1, mayBilled: true,
			retried: map[string]int{"busy_result": 1}},
	}
}

func TestFaultsProvider(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, url := fake.Start(t, fake.Options{})
			s.Queue(faultAction, c.queue...)
			logs := &runtimes.LockedBuffer{}
			p, err := tencent.New(tencent.Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey,
				Endpoint: url, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			body, err := p.Call(ctx, faultAction, json.RawMessage(faultParams))
			checkOutcome(t, c, body, err)
			if s.Calls(faultAction) != c.calls || s.Billable(faultAction) != c.billable {
				t.Fatalf("fake: %d calls, %d billable; want %d, %d", s.Calls(faultAction), s.Billable(faultAction), c.calls, c.billable)
			}
			checkRetries(t, c, logs.String())
			assertNoPII(t, logs.String(), "440304198506121230", "李四")
		})
	}
}

func checkOutcome(t *testing.T, c faultCase, body json.RawMessage, err error) {
	t.Helper()
	if c.code == "" {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if c.billable == 0 && !bytes.Contains(body, []byte(`"Result":"`+busyCode+`"`)) {
			t.Fatalf("body %s", body)
		}
		return
	}
	e := errs.As(err)
	if e == nil || e.Kind != c.kind || e.Code != c.code {
		t.Fatalf("err = %v, want %v %s", err, c.kind, c.code)
	}
	if got := strings.Contains(e.Message, "may have processed and billed"); got != c.mayBilled {
		t.Fatalf("message %q: billing warning %v, want %v", e.Message, got, c.mayBilled)
	}
}

func checkRetries(t *testing.T, c faultCase, logs string) {
	t.Helper()
	got := retries(t, logs)
	want := c.retried
	if want == nil {
		want = map[string]int{}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("retries %v, want %v", got, want)
	}
}

// Refused before reading: the fake processed nothing. Whether the provider
// may retry depends on whether its request left the machine before the
// reset arrived, which it measures; either way nothing is billed twice.
func TestFaultsRefused(t *testing.T) {
	for i := range 5 {
		s, url := fake.Start(t, fake.Options{})
		s.Queue(faultAction, fake.Behavior{Fault: fake.Refuse})
		logs := &runtimes.LockedBuffer{}
		p, err := tencent.New(tencent.Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey,
			Endpoint: url, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Call(context.Background(), faultAction, json.RawMessage(faultParams))
		r := retries(t, logs.String())
		switch {
		case err == nil: // the write itself failed: nothing sent, repeated
			if r["connection_not_sent"] != 1 || s.Calls(faultAction) != 2 || s.Billable(faultAction) != 1 {
				t.Fatalf("run %d: retries %v, calls %d, billable %d", i, r, s.Calls(faultAction), s.Billable(faultAction))
			}
		default: // written, then reset: ambiguous, never repeated
			e := errs.As(err)
			if e.Kind != errs.Unavailable || e.Code != tencent.CodeUpstreamConnection || len(r) != 0 ||
				s.Calls(faultAction) != 1 || s.Billable(faultAction) != 0 || !strings.Contains(e.Message, "Idempotency-Key") {
				t.Fatalf("run %d: err %v, retries %v, calls %d, billable %d", i, err, r, s.Calls(faultAction), s.Billable(faultAction))
			}
		}
	}
}

// Nothing listening: every attempt fails before a byte is sent, so the
// provider repeats it and says nothing was billed.
func TestFaultsNothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logs := &runtimes.LockedBuffer{}
	p, err := tencent.New(tencent.Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey,
		Endpoint: "http://" + addr, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Call(ctx, faultAction, json.RawMessage(faultParams))
	e := errs.As(err)
	if e.Kind != errs.Unavailable || e.Code != tencent.CodeUpstreamConnection || !strings.Contains(e.Message, "nothing was billed") {
		t.Fatalf("err = %v", err)
	}
	if r := retries(t, logs.String()); r["connection_not_sent"] != tencent.MaxAttempts-1 {
		t.Fatalf("retries %v", r)
	}
}

// Many logical requests at once, each meeting a fault: the fake never bills
// more calls than there were requests that ended in success or an
// ambiguous failure.
func TestFaultsConcurrent(t *testing.T) {
	s, url := fake.Start(t, fake.Options{})
	p, err := tencent.New(tencent.Config{SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	cases := faultCases()
	const rounds = 3
	var wg sync.WaitGroup
	for range rounds {
		for _, c := range cases {
			s.Queue(faultAction, c.queue...)
		}
	}
	n := rounds * len(cases)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			_, err := p.Call(ctx, faultAction, json.RawMessage(faultParams))
			if e := errs.As(err); e != nil && e.Kind != errs.Unavailable && e.Kind != errs.Throttled {
				t.Errorf("unexpected class: %v", err)
			}
		}()
	}
	wg.Wait()
	// Interleaved, the queued behaviours meet different requests, but each
	// request is billed at most once: never more billable calls than
	// requests.
	if b := s.Billable(faultAction); b > n {
		t.Fatalf("%d billable calls for %d requests", b, n)
	}
}

// The real binary in live mode against the fake: the classes reach the
// caller as HTTP statuses and codes, and the retries are logged without
// personal data.
func TestFaultsBinary(t *testing.T) {
	s, url := fake.Start(t, fake.Options{})
	srv := startServer(t, buildBinary(t, "all"),
		"IDV_MODE=live", "IDV_PROVIDER_QPS=off",
		"TENCENTCLOUD_SECRET_ID="+fake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+fake.DefaultSecretKey,
		"IDV_TENCENT_ENDPOINT="+url, "IDV_TENCENT_TIMEOUT=1s")
	cases := []struct {
		name     string
		queue    []fake.Behavior
		status   int
		code     string
		calls    int
		billable int
	}{
		{"throttled throughout", []fake.Behavior{limited, limited, limited}, http.StatusTooManyRequests, "RequestLimitExceeded", 3, 0},
		{"busy then ok", []fake.Behavior{busy}, http.StatusOK, "", 2, 1},
		{"delay past deadline", []fake.Behavior{{Delay: time.Minute}}, http.StatusBadGateway, tencent.CodeUpstreamTimeout, 1, 1},
		{"reset after read", []fake.Behavior{{Fault: fake.ResetAfterRead}}, http.StatusBadGateway, tencent.CodeUpstreamConnection, 1, 1},
		{"malformed json", []fake.Behavior{{Fault: fake.Malformed}}, http.StatusBadGateway, tencent.CodeUpstreamBadResponse, 1, 1},
		{"5xx", []fake.Behavior{{Status: http.StatusServiceUnavailable}}, http.StatusBadGateway, tencent.CodeUpstreamBadResponse, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Reset()
			s.Queue(faultAction, c.queue...)
			resp, err := http.Post(srv.url+"/v1/faceid/"+faultAction, "application/json", strings.NewReader(faultParams))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var env struct {
				Response struct {
					Error  struct{ Code, Message string }
					Result string
				}
			}
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if resp.StatusCode != c.status || env.Response.Error.Code != c.code {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, b, c.status, c.code)
			}
			if c.status == http.StatusBadGateway && !strings.Contains(env.Response.Error.Message, "Idempotency-Key") {
				t.Fatalf("no billing warning: %s", b)
			}
			if s.Calls(faultAction) != c.calls || s.Billable(faultAction) != c.billable {
				t.Fatalf("fake: %d calls, %d billable; want %d, %d", s.Calls(faultAction), s.Billable(faultAction), c.calls, c.billable)
			}
		})
	}
	logs := logsOnceAll(func(l string) bool {
		r := retries(t, jsonLines(l))
		return r["throttled"] >= 2 && r["busy_result"] >= 1
	}, srv)
	if r := retries(t, jsonLines(logs)); r["throttled"] != 2 || r["busy_result"] != 1 {
		t.Fatalf("retry log lines: %v\n%s", r, logs)
	}
	assertNoPII(t, logs, "440304198506121230", "李四")
}
