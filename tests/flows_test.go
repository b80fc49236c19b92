package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/flows"
	"github.com/idverify/idverify/tests/redistest"
)

// hookReceiver is a customer's webhook endpoint: it checks every
// signature, records event ids in arrival order, and can hold a delivery
// (the instance sending it dies meanwhile).
type hookReceiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	ids    []string
	bodies map[string]string
	bad    int
	hold   chan struct{} // the first delivery waits on it when set
	held   chan struct{} // closed when the first delivery arrived
	once   sync.Once
}

func newHookReceiver(t *testing.T, secret string, hold bool) *hookReceiver {
	h := &hookReceiver{secret: secret, bodies: map[string]string{}, held: make(chan struct{})}
	if hold {
		h.hold = make(chan struct{})
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := flows.Verify([]byte(secret), r.Header.Get(flows.HeaderSignature), b, time.Now(), flows.DefaultTolerance); err != nil {
			h.mu.Lock()
			h.bad++
			h.mu.Unlock()
			w.WriteHeader(400)
			return
		}
		h.mu.Lock()
		h.ids = append(h.ids, r.Header.Get(flows.HeaderEventID))
		h.bodies[r.Header.Get(flows.HeaderEventID)] = string(b)
		h.mu.Unlock()
		first := false
		h.once.Do(func() { first = true; close(h.held) })
		if first && h.hold != nil {
			select {
			case <-h.hold:
			case <-r.Context().Done():
			}
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(func() {
		if h.hold != nil {
			select {
			case <-h.hold:
			default:
				close(h.hold)
			}
		}
		h.srv.Close()
	})
	return h
}

func (h *hookReceiver) seen() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...), h.bad
}

const hookSecret = "whsec-binary-test-0123456789"

func noFollow() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestFlowWebhookSurvivesARestartMidDelivery: the binary that ends a flow
// dies while its webhook is on the wire; the next instance sends the same
// event (same id, same body) from Redis, and nothing goes out under
// another id.
func TestFlowWebhookSurvivesARestartMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("real binary")
	}
	rs := redistest.Start(t)
	rc := newHookReceiver(t, hookSecret, true)
	env := []string{"IDV_REDIS_URL=" + rs.URL, "IDV_STORE_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		`IDV_WEBHOOKS=[{"caller":"loopback","url":"` + rc.srv.URL + `","secret":"` + hookSecret + `"}]`,
		"IDV_WEBHOOK_BACKOFF=200ms", "IDV_WEBHOOK_TIMEOUT=1s", "IDV_FLOW_SWEEP=200ms"}
	bin := buildBinary(t, "all")
	a := startServer(t, bin, env...)
	resp, err := http.Post(a.url+"/v1/faceid/DetectAuth", "application/json",
		strings.NewReader(`{"RuleId":"1","RedirectUrl":"https://shop.example/done?order=42"}`))
	if err != nil {
		t.Fatal(err)
	}
	var start struct {
		Response struct{ BizToken, Url string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&start)
	resp.Body.Close()
	flowID := resp.Header.Get(flows.FlowIDHeader)
	if flowID == "" || start.Response.BizToken == "" {
		t.Fatalf("no flow: %v %+v", resp.Header, start)
	}
	// The browser comes back; the flow ends and its webhook leaves.
	go func() {
		r, err := noFollow().Get(a.url + "/v1/flows/" + flowID + "/return?token=" + start.Response.BizToken)
		if err == nil {
			r.Body.Close()
		}
	}()
	select {
	case <-rc.held:
	case <-time.After(15 * time.Second):
		t.Fatalf("no delivery arrived\n%s", a.logs())
	}
	_ = a.cmd.Process.Kill()
	exit := <-a.done
	a.done <- exit
	close(rc.hold)

	b := startServer(t, bin, env...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ids, _ := rc.seen(); len(ids) >= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything more would show now
	ids, bad := rc.seen()
	if len(ids) != 2 || ids[0] != ids[1] || bad != 0 {
		t.Fatalf("deliveries %v (bad signatures %d): want the same event twice\n%s", ids, bad, b.logs())
	}
	var ev flows.Event
	if err := json.Unmarshal([]byte(rc.bodies[ids[0]]), &ev); err != nil || ev.Type != "flow.succeeded" || ev.Flow.ID != flowID ||
		ev.Flow.Token != start.Response.BizToken || ev.Livemode || !strings.Contains(string(ev.Flow.Result), `"ErrCode":0`) {
		t.Fatalf("event: %s", rc.bodies[ids[0]])
	}
	// The result route of the new instance has it too; the caller's
	// return URL is not shown.
	r, err := http.Get(b.url + "/v1/flows/" + flowID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), `"state": "succeeded"`) || strings.Contains(string(body), "shop.example") {
		t.Fatalf("result route: %d %s", r.StatusCode, body)
	}
	// Sealed at rest: nothing personal in Redis in the clear.
	keys := rs.Inspect(t).Keys(t.Context(), "idv:flows:*").Val()
	for _, k := range keys {
		v, _ := rs.Inspect(t).Get(t.Context(), k).Result()
		for _, pii := range []string{"110101199003074477", "张三", "shop.example"} {
			if strings.Contains(v, pii) {
				t.Errorf("%s holds %q in the clear", k, pii)
			}
		}
	}
	// The log lines (the banner's try-this examples are the sandbox's
	// documented magic values).
	assertNoPII(t, jsonLines(a.logs()+b.logs()), "110101199003074477", "张三", hookSecret, "shop.example")
}
