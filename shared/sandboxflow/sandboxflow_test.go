package sandboxflow_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/sandboxflow"
	"github.com/idverify/idverify/tests/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func roundTrip(t *testing.T, a, b sandboxflow.Store) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := b.Load(ctx, "tok-1"); ok || err != nil {
		t.Fatalf("unknown token: %v %v", ok, err)
	}
	st := sandboxflow.State{Kind: sandboxflow.KindDetect, Redirect: "https://a.example/back", Opened: true, Chosen: true, Outcome: 6}
	if err := a.Save(ctx, "tok-1", st, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.Load(ctx, "tok-1")
	if err != nil || !ok || got != st {
		t.Fatalf("loaded %+v %v %v, want %+v", got, ok, err, st)
	}
	if !got.Finished() {
		t.Errorf("a chosen flow is finished")
	}
}

func TestMemory(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	m := sandboxflow.NewMemory(c.now)
	roundTrip(t, m, m)
	c.add(time.Hour)
	if _, ok, _ := m.Load(context.Background(), "tok-1"); ok {
		t.Errorf("a record past its TTL is still there")
	}
}

// TestRedisSharedAcrossFunctions: two stores on one Redis (two functions,
// a DetectAuth one and the pages) see each other's flows, under idv:sbx:
// and a hash of the token, never the token itself.
func TestRedisSharedAcrossFunctions(t *testing.T) {
	rs := redistest.Start(t)
	a := sandboxflow.NewRedis(rs.Client(t), "idv:sbx:")
	b := sandboxflow.NewRedis(rs.Client(t), "idv:sbx:")
	roundTrip(t, a, b)
	keys, err := rs.Inspect(t).Keys(context.Background(), "*").Result()
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], "idv:sbx:") || strings.Contains(keys[0], "tok-1") {
		t.Errorf("keys %v %v", keys, err)
	}
	ttl, _ := rs.Inspect(t).TTL(context.Background(), keys[0]).Result()
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL %s", ttl)
	}
	// A FaceID sandbox in one process and another in a second, sharing the
	// store: the DetectAuth one records the redirect, the other answers the
	// choice the pages stored.
	issuer := sandbox.New(sandbox.Options{Flows: a})
	out, err := issuer.Call(context.Background(), "DetectAuth", []byte(`{"RuleId":"1","RedirectUrl":"https://a.example/r"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := between(string(out), `"BizToken":"`, `"`)
	st, ok, err := b.Load(context.Background(), tok)
	if err != nil || !ok || st.Redirect != "https://a.example/r" || st.Kind != sandboxflow.KindDetect {
		t.Fatalf("recorded %+v %v %v", st, ok, err)
	}
	st.Opened, st.Chosen, st.Outcome = true, true, 4 // 2006
	if err := b.Save(context.Background(), tok, st, time.Hour); err != nil {
		t.Fatal(err)
	}
	reader := sandbox.New(sandbox.Options{Flows: b})
	res, err := reader.Call(context.Background(), "GetDetectInfoEnhanced", []byte(`{"BizToken":"`+tok+`","RuleId":"1","InfoType":"1"}`))
	if err != nil || !strings.Contains(string(res), `"ErrCode":2006`) {
		t.Fatalf("the other function's answer: %s %v", res, err)
	}
}

func TestStoreDownIsAnError(t *testing.T) {
	rs := redistest.Start(t)
	c := rs.Client(t)
	s := sandboxflow.NewRedis(c, "idv:sbx:")
	rs.Stop()
	if _, _, err := s.Load(context.Background(), "x"); err == nil {
		t.Errorf("a store that is down answered")
	}
	p := sandbox.New(sandbox.Options{Flows: s})
	if _, err := p.Call(context.Background(), "DetectAuth", []byte(`{"RuleId":"1"}`)); err == nil {
		t.Errorf("DetectAuth with the store down: no error")
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{"110101199003074477": "110***********4477", "12345": "*****", "": ""} {
		if got := sandboxflow.MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"王小明": "王**", "张三": "张*", "": ""} {
		if got := sandboxflow.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	return s[:strings.Index(s, b)]
}
