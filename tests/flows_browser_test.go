package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idverify/idverify/shared/flows"
	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
)

// shop is the customer's site: the page the browser is sent back to.
type shop struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []url.Values
}

func newShop(t *testing.T) *shop {
	s := &shop{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/done" {
			http.NotFound(w, r) // the browser's favicon.ico
			return
		}
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.Query())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><title>shop</title><p id="thanks">Thank you</p>`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *shop) last() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.hits) == 0 {
		return nil
	}
	return s.hits[len(s.hits)-1]
}

// startFlow makes the customer's first call and returns the page URL the
// person is sent to and the flow id.
func startFlow(t *testing.T, base, path, body string) (pageURL, flowID string, answer map[string]any) {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct{ Response map[string]any }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &env); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	u, _ := env.Response["Url"].(string)
	return u, resp.Header.Get(flows.FlowIDHeader), env.Response
}

// waitEvent waits for the webhook of flowID and returns it.
func waitEvent(t *testing.T, rc *hookReceiver, flowID string) flows.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ids, bad := rc.seen()
		if bad != 0 {
			t.Fatalf("%d webhooks with a bad signature", bad)
		}
		for _, id := range ids {
			rc.mu.Lock()
			body := rc.bodies[id]
			rc.mu.Unlock()
			var ev flows.Event
			if json.Unmarshal([]byte(body), &ev) == nil && ev.Flow != nil && ev.Flow.ID == flowID {
				return ev
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no webhook for flow %s", flowID)
	return flows.Event{}
}

// browse opens page in Chromium, clicks sel, and waits for the shop.
func browse(t *testing.T, ctx context.Context, page, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS("#thanks"))); err != nil {
		t.Fatalf("browser at %s: %v", page, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestFlowsInChromiumAgainstTheFakes runs the H5 flows in live mode
// against the FaceID fake (which plays Tencent's page): the customer's
// first call, the person's browser on the provider's page, back through
// the return route to the customer's page with only the flow id, and the
// signed webhook at the customer's endpoint.
func TestFlowsInChromiumAgainstTheFakes(t *testing.T) {
	if testing.Short() {
		t.Skip("real binary and browser")
	}
	fake, fakeURL := faceidfake.Start(t, faceidfake.Options{H5: true})
	rc := newHookReceiver(t, hookSecret, false)
	sh := newShop(t)
	srv := startServer(t, buildBinary(t, "all"),
		"IDV_MODE=live", "TENCENTCLOUD_SECRET_ID="+faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+faceidfake.DefaultSecretKey,
		"IDV_TENCENT_ENDPOINT="+fakeURL,
		`IDV_WEBHOOKS=[{"caller":"loopback","url":"`+rc.srv.URL+`","secret":"`+hookSecret+`"}]`, "IDV_FLOW_SWEEP=200ms")
	ctx := browser(t)
	for _, c := range []struct {
		name, path, body, click, event string
	}{
		{"DetectAuth passes", "/v1/faceid/DetectAuth", `{"RuleId":"1","RedirectUrl":"` + sh.srv.URL + `/done?order=7"}`, "#pass", "flow.succeeded"},
		{"DetectAuth fails", "/v1/faceid/DetectAuth", `{"RuleId":"1","RedirectUrl":"` + sh.srv.URL + `/done?order=8"}`, "#fail", "flow.failed"},
		{"eID passes", "/v1/faceid/GetEidToken", `{"MerchantId":"M1","RedirectUrl":"` + sh.srv.URL + `/done?order=9"}`, "#pass", "flow.succeeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, flowID, _ := startFlow(t, srv.url, c.path, c.body)
			if flowID == "" || !strings.HasPrefix(page, fakeURL+"/h5/") {
				t.Fatalf("flow %q, page %q", flowID, page)
			}
			// Tencent was given the return route, not the shop.
			for _, action := range []string{"DetectAuth", "GetEidToken"} {
				if r, ok := fake.LastRequest(action); ok && strings.Contains(string(r.Body), sh.srv.URL) {
					t.Fatalf("%s was sent the customer's URL: %s", action, r.Body)
				}
			}
			loc := browse(t, ctx, page, c.click)
			q := sh.last()
			if q.Get("idv_flow") != flowID || len(q) != 2 || !strings.HasPrefix(loc, sh.srv.URL+"/done") {
				t.Fatalf("the shop got %v at %s: want its order and idv_flow only", q, loc)
			}
			ev := waitEvent(t, rc, flowID)
			if ev.Type != c.event || !ev.Livemode || ev.Flow.State != strings.TrimPrefix(c.event, "flow.") {
				t.Fatalf("event %+v", ev)
			}
		})
	}
	if t.Failed() {
		t.Log(srv.logs())
	}
}

// TestFlowsInChromiumInTheSandbox runs every browser flow with no account:
// the sandbox's own H5 pages play the providers', the tester picks an
// outcome, and each flow ends at the customer's page and in a signed
// webhook (expired for a person who gave up or left).
func TestFlowsInChromiumInTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("real binary and browser")
	}
	rc := newHookReceiver(t, hookSecret, false)
	sh := newShop(t)
	srv := startServer(t, buildBinary(t, "all"),
		`IDV_WEBHOOKS=[{"caller":"*","url":"`+rc.srv.URL+`","secret":"`+hookSecret+`"}]`,
		"IDV_FLOW_SWEEP=200ms", "IDV_FLOW_POLL=500ms", "IDV_FLOW_TTL=4s")
	ctx := browser(t)
	outcome := func(v string) string { return `button[name="outcome"][value="` + v + `"]` }
	for _, c := range []struct {
		name, path, body, click, event string
	}{
		{"DetectAuth passes", "/v1/faceid/DetectAuth", `{"RuleId":"1","RedirectUrl":"` + sh.srv.URL + `/done?order=1"}`, outcome("0"), "flow.succeeded"},
		{"DetectAuth liveness fails", "/v1/faceid/DetectAuth", `{"RuleId":"1","RedirectUrl":"` + sh.srv.URL + `/done?order=2"}`, outcome("1"), "flow.failed"},
		{"DetectAuth gives up", "/v1/faceid/DetectAuth", `{"RuleId":"1","RedirectUrl":"` + sh.srv.URL + `/done?order=3"}`, outcome("giveup"), "flow.expired"},
		{"eID passes", "/v1/faceid/GetEidToken", `{"MerchantId":"M1","RedirectUrl":"` + sh.srv.URL + `/done?order=4"}`, outcome("0"), "flow.succeeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, flowID, _ := startFlow(t, srv.url, c.path, c.body)
			if flowID == "" || !strings.Contains(page, "/sandbox/h5/") {
				t.Fatalf("flow %q, page %q", flowID, page)
			}
			loc := browse(t, ctx, page, c.click)
			if q := sh.last(); q.Get("idv_flow") != flowID || len(q) != 2 || !strings.HasPrefix(loc, sh.srv.URL+"/done") {
				t.Fatalf("the shop got %v at %s", q, loc)
			}
			ev := waitEvent(t, rc, flowID)
			if ev.Type != c.event || ev.Livemode || !ev.Flow.Sandbox {
				t.Fatalf("event %s, want %s: %+v", ev.Type, c.event, ev.Flow)
			}
		})
	}
	// The app SDK flows have no page: the sandbox ends them at once, and
	// the sweep announces them.
	for _, c := range []struct{ name, path, body, kind string }{
		{"GetFaceIdToken (SDK)", "/v1/faceid/GetFaceIdToken", `{"CompareLib":"LIVENESS"}`, "sdk"},
		{"faceAdv (SDK)", "/tech/ai/face/faceAdv", `{"userId":"user9","type":"authmatch","name":"张三","idNo":"110101199003074477","extData":"order-9"}`, "faceadv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, h := postFlowJSON(t, srv.url+c.path, c.body)
			ev := waitEvent(t, rc, h.Get("X-Idv-Flow-Id"))
			if ev.Type != "flow.succeeded" || ev.Flow.Kind != c.kind || ev.Livemode {
				t.Fatalf("event %+v", ev)
			}
			if c.kind == "faceadv" && string(ev.Flow.ExtData) != `"order-9"` {
				t.Fatalf("extData %s", ev.Flow.ExtData)
			}
		})
	}
	t.Run("Baidu fails", func(t *testing.T) {
		_, h := postFlowJSON(t, srv.url+"/rpc/2.0/brain/solution/faceprint/verifyToken/generate", `{"plan_id":"1"}`,
			"X-Idv-Redirect", sh.srv.URL+"/done?order=5")
		flowID, ret, page := h.Get("X-Idv-Flow-Id"), h.Get("X-Idv-Return-Url"), h.Get("X-Idv-Sandbox-Url")
		if flowID == "" || ret == "" || page == "" {
			t.Fatalf("headers %v", h)
		}
		page += "&successUrl=" + url.QueryEscape(ret) + "&failedUrl=" + url.QueryEscape(ret)
		loc := browse(t, ctx, page, `button[name="outcome"][data-code="223120"]`)
		if q := sh.last(); q.Get("idv_flow") != flowID || q.Get("order") != "5" || !strings.HasPrefix(loc, sh.srv.URL) {
			t.Fatalf("the shop got %v at %s", q, loc)
		}
		if ev := waitEvent(t, rc, flowID); ev.Type != "flow.failed" || ev.Flow.Kind != "faceprint" {
			t.Fatalf("event %+v", ev)
		}
	})
	if t.Failed() {
		t.Log(srv.logs())
	}
}
