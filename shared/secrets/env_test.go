package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stub is a Backend whose answers a test programs; Target is the key.
type stub struct {
	mu     sync.Mutex
	values map[string]string
	fail   map[string]*Error
	delay  time.Duration
	gate   chan struct{} // when set, every Fetch waits for it
	calls  atomic.Int32
}

func newStub() *stub { return &stub{values: map[string]string{}, fail: map[string]*Error{}} }

func (s *stub) set(target, v string) { s.mu.Lock(); defer s.mu.Unlock(); s.values[target] = v }
func (s *stub) setErr(target string, e *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e == nil {
		delete(s.fail, target)
	} else {
		s.fail[target] = e
	}
}

func (s *stub) Fetch(ctx context.Context, ref Ref) ([]byte, error) {
	s.calls.Add(1)
	s.mu.Lock()
	gate, delay := s.gate, s.delay
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fail[ref.Target]; e != nil {
		return nil, e
	}
	v, ok := s.values[ref.Target]
	if !ok {
		return nil, Fail(NotFound, "ResourceNotFoundException", "no such secret")
	}
	return []byte(v), nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// logBuf collects everything a test's loggers write, for the leak scan.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type fixture struct {
	st    *stub
	clk   *clock
	log   *logBuf
	opt   Options
	plain []string // secret values used, which must never be logged
}

func newFixture(t *testing.T, environ ...string) *fixture {
	f := &fixture{st: newStub(), clk: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, log: &logBuf{}}
	r := NewResolver(nil).WithBackend(AWSSM, f.st).WithBackend(TCSSM, f.st).WithBackend(AWSSSM, f.st)
	live := ParseEnviron(environ)
	f.opt = Options{
		Environ:  environ,
		Getenv:   func(k string) string { return live[k] },
		Logger:   slog.New(slog.NewJSONHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      f.clk.now,
		Resolver: r,
		TTL:      15 * time.Minute, MaxAge: time.Hour, RetryAfter: 30 * time.Second, Timeout: time.Second,
	}
	t.Cleanup(func() {
		out := f.log.String()
		for _, p := range f.plain {
			if strings.Contains(out, p) {
				t.Errorf("secret value %q appears in the log:\n%s", p, out)
			}
		}
	})
	return f
}

func (f *fixture) secret(target, v string) { f.st.set(target, v); f.plain = append(f.plain, v) }

func TestLoadResolvesAndShares(t *testing.T) {
	f := newFixture(t,
		"TENCENTCLOUD_SECRET_ID=awssm:prov#SecretId",
		"TENCENTCLOUD_SECRET_KEY=awssm:prov#SecretKey",
		"WEBANK_SECRET=tcssm:webank?version=v1",
		"IDV_LOG_LEVEL=debug",
	)
	f.secret("prov", `{"SecretId":"AKIDvalue","SecretKey":"plain-secret-1"}`)
	f.secret("webank", "plain-secret-2")
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	if env.Getenv("TENCENTCLOUD_SECRET_KEY") != "plain-secret-1" || env.Getenv("TENCENTCLOUD_SECRET_ID") != "AKIDvalue" ||
		env.Getenv("WEBANK_SECRET") != "plain-secret-2" || env.Getenv("IDV_LOG_LEVEL") != "debug" || env.Getenv("UNSET") != "" {
		t.Fatal("wrong values")
	}
	if n := f.st.calls.Load(); n != 2 {
		t.Fatalf("%d backend calls, want 2: two variables share one secret", n)
	}
	if got := strings.Join(env.References(), ","); got != "TENCENTCLOUD_SECRET_ID,TENCENTCLOUD_SECRET_KEY,WEBANK_SECRET" {
		t.Fatalf("References() = %s", got)
	}
}

func TestProductionRefusesPlainSecrets(t *testing.T) {
	f := newFixture(t, "IDV_ENV=production", "TENCENTCLOUD_SECRET_KEY=plain-secret-3", "IDV_SECRET_VARS=BAIDU_SECRET_KEY, OTHER",
		"BAIDU_SECRET_KEY=plain-secret-4", "NOT_SECRET=hello")
	f.plain = append(f.plain, "plain-secret-3", "plain-secret-4")
	f.opt.Secret = []string{"TENCENTCLOUD_SECRET_KEY", "EMPTY_IS_FINE"}
	_, err := Load(context.Background(), f.opt)
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errors) != 2 {
		t.Fatalf("err = %v", err)
	}
	for _, e := range le.Errors {
		if e.Class != Plaintext {
			t.Fatalf("%v", e)
		}
	}
	msg := err.Error()
	if !strings.Contains(msg, "TENCENTCLOUD_SECRET_KEY") || !strings.Contains(msg, "BAIDU_SECRET_KEY") || strings.Contains(msg, "plain-secret") {
		t.Fatalf("message %q", msg)
	}

	// The same in development is accepted.
	f2 := newFixture(t, "TENCENTCLOUD_SECRET_KEY=plain-secret-3")
	f2.plain = append(f2.plain, "plain-secret-3")
	f2.opt.Secret = []string{"TENCENTCLOUD_SECRET_KEY"}
	env, err := Load(context.Background(), f2.opt)
	if err != nil || env.Getenv("TENCENTCLOUD_SECRET_KEY") != "plain-secret-3" {
		t.Fatalf("development: %v", err)
	}
}

// TestFailClosed: each failure class stops Load with the variable's name
// and the class, never the value.
func TestFailClosed(t *testing.T) {
	cases := []struct {
		name  string
		value string
		setup func(*fixture)
		class Class
		says  string
	}{
		{"not found", "awssm:missing", nil, NotFound, "ResourceNotFoundException"},
		{"access denied", "awssm:denied", func(f *fixture) {
			f.st.setErr("denied", Fail(AccessDenied, "AccessDeniedException", "refused"))
		}, AccessDenied, "AccessDeniedException"},
		{"timeout", "awssm:slow", func(f *fixture) { f.st.delay = 5 * time.Second; f.opt.Timeout = 100 * time.Millisecond }, Timeout, "no answer"},
		{"malformed reference", "tcssm:no-version", nil, Malformed, "version"},
		{"malformed ciphertext", "awskms:%%%notbase64", nil, Malformed, "base64"},
		{"missing JSON key", "awssm:json#Nope", func(f *fixture) { f.secret("json", `{"Yes":"plain-secret-5"}`) }, NotFound, `no field "Nope"`},
		{"not JSON", "awssm:text#Key", func(f *fixture) { f.secret("text", `plain-secret-6`) }, Malformed, "not a JSON object"},
		{"not compiled", "tckms:AQIDBA==", nil, NotCompiled, "idv_no_tencent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "PROVIDER_KEY="+c.value, "OK=awssm:ok")
			f.secret("ok", "plain-secret-ok")
			if c.setup != nil {
				c.setup(f)
			}
			begin := time.Now()
			env, err := Load(context.Background(), f.opt)
			if env != nil {
				t.Fatal("Load returned an Env despite a failure")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			var e *Error
			for _, x := range le.Errors {
				if x.Var == "PROVIDER_KEY" {
					e = x
				}
			}
			if e == nil || e.Class != c.class {
				t.Fatalf("err = %v, want PROVIDER_KEY %s", err, c.class)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, "PROVIDER_KEY") || !strings.Contains(msg, string(c.class)) || !strings.Contains(msg, c.says) {
				t.Fatalf("message %q should name the variable, class %s and %q", msg, c.class, c.says)
			}
			for _, p := range f.plain {
				if strings.Contains(msg, p) {
					t.Fatalf("message quotes a value: %q", msg)
				}
			}
			if time.Since(begin) > 3*time.Second {
				t.Fatalf("Load took %s", time.Since(begin))
			}
		})
	}
}

func TestConcurrentWithinBound(t *testing.T) {
	var environ []string
	f := newFixture(t)
	for i := range 24 {
		environ = append(environ, fmt.Sprintf("V%02d=awssm:s%02d", i, i))
		f.secret(fmt.Sprintf("s%02d", i), fmt.Sprintf("plain-c-%02d", i))
	}
	f.opt.Environ = environ
	f.st.delay = 100 * time.Millisecond
	f.opt.Concurrency = 8
	begin := time.Now()
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	// 24 calls of 100ms, 8 at a time: 300ms. One at a time would be 2.4s.
	if d := time.Since(begin); d > 1500*time.Millisecond {
		t.Fatalf("took %s: not concurrent", d)
	}
	if env.Getenv("V23") != "plain-c-23" {
		t.Fatal("wrong value")
	}

	// A backend that never answers cannot hold start past the bound.
	f2 := newFixture(t, "A=awssm:a", "B=awssm:b")
	f2.st.gate = make(chan struct{})
	f2.opt.Timeout = 150 * time.Millisecond
	begin = time.Now()
	_, err = Load(context.Background(), f2.opt)
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errors) != 2 || le.Errors[0].Class != Timeout {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("took %s with a 150ms bound", d)
	}
}

func TestRotationAfterTTL(t *testing.T) {
	f := newFixture(t, "K=awssm:rot")
	f.secret("rot", "plain-rot-1")
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	f.secret("rot", "plain-rot-2") // rotated at the source
	f.clk.advance(14 * time.Minute)
	if v := env.Getenv("K"); v != "plain-rot-1" {
		t.Fatalf("before TTL: %q", v)
	}
	if f.st.calls.Load() != 1 {
		t.Fatal("refreshed before the TTL")
	}
	f.clk.advance(2 * time.Minute)
	if v := env.Getenv("K"); v != "plain-rot-2" {
		t.Fatalf("after TTL: %q", v)
	}
	if v := env.Getenv("K"); v != "plain-rot-2" || f.st.calls.Load() != 2 {
		t.Fatalf("second read %q, calls %d", v, f.st.calls.Load())
	}
	if !strings.Contains(f.log.String(), `"changed":true`) {
		t.Fatalf("refresh not logged: %s", f.log)
	}
}

// TestRefreshIsDeduplicated: when many requests see a stale value at once,
// one backend call is made and the others keep the old value meanwhile.
func TestRefreshIsDeduplicated(t *testing.T) {
	f := newFixture(t, "K=awssm:dd")
	f.secret("dd", "plain-dd-1")
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	f.secret("dd", "plain-dd-2")
	f.clk.advance(16 * time.Minute)
	gate := make(chan struct{})
	f.st.mu.Lock()
	f.st.gate = gate
	f.st.mu.Unlock()

	var wg sync.WaitGroup
	results := make(chan string, 64)
	for range 64 {
		wg.Add(1)
		go func() { defer wg.Done(); results <- env.Getenv("K") }()
	}
	// Wait until the one refresh is in flight and every other reader has
	// returned the previous value, then let the refresh finish.
	deadline := time.Now().Add(5 * time.Second)
	for len(results) < 63 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(results)
	var old, fresh int
	for r := range results {
		switch r {
		case "plain-dd-1":
			old++
		case "plain-dd-2":
			fresh++
		default:
			t.Fatalf("read %q", r)
		}
	}
	if calls := f.st.calls.Load(); calls != 2 || old != 63 || fresh != 1 {
		t.Fatalf("calls %d (want 1 + 1 refresh), old %d, fresh %d", calls, old, fresh)
	}
}

func TestRefreshFailureKeepsValueUntilMaxAge(t *testing.T) {
	f := newFixture(t, "K=awssm:kv")
	f.secret("kv", "plain-kv-1")
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	f.st.setErr("kv", Fail(AccessDenied, "AccessDeniedException", "refused"))
	f.clk.advance(16 * time.Minute)
	if v := env.Getenv("K"); v != "plain-kv-1" {
		t.Fatalf("after a failed refresh: %q", v)
	}
	calls := f.st.calls.Load()
	f.clk.advance(10 * time.Second)
	env.Getenv("K")
	if f.st.calls.Load() != calls {
		t.Fatal("retried before RetryAfter: a KMS outage would cost a call per request")
	}
	f.clk.advance(30 * time.Second)
	env.Getenv("K")
	if f.st.calls.Load() != calls+1 {
		t.Fatal("not retried after RetryAfter")
	}
	if !strings.Contains(f.log.String(), `"class":"access_denied"`) {
		t.Fatalf("failure not logged by class: %s", f.log)
	}

	// Past the maximum age the value is withdrawn.
	f.clk.advance(time.Hour)
	v, err := env.Lookup("K")
	var e *Error
	if v != "" || !errors.As(err, &e) || e.Class != Expired || e.Var != "K" {
		t.Fatalf("past max age: %q, %v", v, err)
	}
	if env.Getenv("K") != "" {
		t.Fatal("expired value still served")
	}

	// And comes back when the backend does.
	f.st.setErr("kv", nil)
	f.secret("kv", "plain-kv-2")
	f.clk.advance(time.Minute)
	if v := env.Getenv("K"); v != "plain-kv-2" {
		t.Fatalf("after recovery: %q", v)
	}
}

func TestRefreshWithMissingKeyKeepsOld(t *testing.T) {
	f := newFixture(t, "K=awssm:j#A")
	f.secret("j", `{"A":"plain-j-1"}`)
	env, err := Load(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	f.secret("j", `{"B":"plain-j-2"}`)
	f.clk.advance(16 * time.Minute)
	if v := env.Getenv("K"); v != "plain-j-1" {
		t.Fatalf("got %q", v)
	}
}

func TestBadSettings(t *testing.T) {
	for _, kv := range []string{"IDV_SECRET_TTL=soon", "IDV_SECRET_TIMEOUT=-1s", "IDV_SECRET_MAX_AGE=1m"} {
		f := newFixture(t, kv)
		f.opt.TTL, f.opt.MaxAge, f.opt.Timeout = 0, 0, 0
		_, err := Load(context.Background(), f.opt)
		var e *Error
		if !errors.As(err, &e) || e.Class != Misconfigured {
			t.Errorf("%s: err = %v", kv, err)
		}
	}
}

func TestCheckReportsEveryVariable(t *testing.T) {
	f := newFixture(t, "A=awssm:a", "B=awssm:missing", "C=plain-secret-c", "D=not a secret", "E=tcssm:x")
	f.secret("a", "plain-check-a")
	f.plain = append(f.plain, "plain-secret-c")
	f.opt.Secret = []string{"C"}
	st, err := Check(context.Background(), f.opt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range st {
		class := "ok"
		if s.Err != nil {
			class = string(s.Err.Class)
		}
		got = append(got, s.Var+":"+kindOf(s.Scheme)+":"+class)
	}
	want := "A:awssm:ok B:awssm:not_found C:plain:ok E:tcssm:malformed"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %s\nwant %s", strings.Join(got, " "), want)
	}
}
