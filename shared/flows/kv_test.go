package flows

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/redistest"
)

// TestStoresBehaveAlike runs the same script against the memory store and
// a real Redis: what flows rely on (set-if-absent, lifetimes, due-time
// queues) must not differ between the local server and a deployment.
func TestStoresBehaveAlike(t *testing.T) {
	rs := redistest.Start(t)
	for name, s := range map[string]kv{
		"memory": newMemKV(time.Now),
		"redis":  redisKV{c: rs.Client(t), prefix: "idv:flows:test:"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if b, err := s.get(ctx, "absent"); b != nil || err != nil {
				t.Fatalf("absent: %q %v", b, err)
			}
			if err := s.set(ctx, "k", []byte("v1"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.setNX(ctx, "k", []byte("v2"), time.Minute); ok || err != nil {
				t.Fatalf("setNX over a value: %v %v", ok, err)
			}
			if ok, _ := s.setNX(ctx, "n", []byte("x"), 50*time.Millisecond); !ok {
				t.Fatal("setNX of an absent key")
			}
			time.Sleep(120 * time.Millisecond)
			if b, _ := s.get(ctx, "n"); b != nil {
				t.Fatalf("expired value still there: %q", b)
			}
			if ok, _ := s.setNX(ctx, "n", []byte("y"), time.Minute); !ok {
				t.Fatal("setNX after expiry")
			}
			if err := s.del(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if b, _ := s.get(ctx, "k"); b != nil {
				t.Fatal("deleted value still there")
			}
			t0 := time.UnixMilli(1_800_000_000_000)
			for i, m := range []string{"c", "a", "b"} {
				if err := s.schedule(ctx, "q", m, t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			_ = s.schedule(ctx, "q", "c", t0.Add(5*time.Second)) // moved later
			due, _ := s.due(ctx, "q", t0.Add(1500*time.Millisecond), 10)
			all, _ := s.members(ctx, "q", 10)
			if strings.Join(due, ",") != "a" || strings.Join(all, ",") != "a,b,c" {
				t.Fatalf("due %v, members %v", due, all)
			}
			_ = s.unschedule(ctx, "q", "a")
			if due, _ := s.due(ctx, "q", t0.Add(time.Hour), 1); strings.Join(due, ",") != "b" {
				t.Fatalf("due after unschedule, limit 1: %v", due)
			}
		})
	}
}

func TestAWorkflowFindsItsFlowByToken(t *testing.T) {
	fx := newFixture(t, Options{})
	id, tok := fx.start("web", `{"RuleId":"7"}`)
	out, err := fx.p.Invoke(context.Background(), []byte(`{"Action":"flows/get","Token":"`+tok+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Flow Flow }
	if err := json.Unmarshal(out, &got); err != nil || got.Flow.ID != id {
		t.Fatalf("%s %v", out, err)
	}
	if _, err := fx.p.Invoke(context.Background(), []byte(`{"Action":"flows/get","Token":"nope"}`)); err == nil {
		t.Fatal("an unknown token found a flow")
	}
	out, err = fx.p.Invoke(context.Background(), []byte(`{"Action":"flows/sweep"}`))
	if err != nil || !strings.Contains(string(out), `"flows"`) {
		t.Fatalf("sweep: %s %v", out, err)
	}
}
