package flows

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/seal"
)

// provider is a fake FaceID-like contract serving the start and result
// actions of the detect and sdk flows, with results the test sets.
type provider struct {
	mu      sync.Mutex
	seen    map[string][][]byte // action -> bodies
	results map[string]string   // token -> GetDetectInfoEnhanced answer
	n       int
}

func newProvider() *provider {
	return &provider{seen: map[string][][]byte{}, results: map[string]string{}}
}

func (p *provider) Name() string { return "faceid" }
func (p *provider) Mode() string { return "sandbox" }
func (p *provider) Route(req *gateway.Request) (gateway.Op, bool) {
	a, ok := strings.CutPrefix(req.Path, "/v1/faceid/")
	if !ok {
		return gateway.Op{}, false
	}
	return p.op(a)
}
func (p *provider) op(a string) (gateway.Op, bool) {
	op := gateway.Op{Action: a, Surface: "faceid"}
	switch a {
	case "DetectAuth":
		op.Produces = []gateway.TokenField{{Path: "BizToken", Kind: "biz"}}
	case "GetDetectInfoEnhanced":
		op.Consumes = []gateway.TokenField{{Path: "BizToken", Kind: "biz"}}
	default:
		return gateway.Op{}, false
	}
	return op, true
}
func (p *provider) RouteInvoke(a string, _ map[string]json.RawMessage) (gateway.Op, bool) {
	return p.op(a)
}
func (p *provider) Call(_ context.Context, c *gateway.Call) (*gateway.Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[c.Op.Action] = append(p.seen[c.Op.Action], append([]byte(nil), c.Body...))
	switch c.Op.Action {
	case "DetectAuth":
		var in struct{ RuleId string }
		_ = json.Unmarshal(c.Body, &in)
		if in.RuleId == "refuse" {
			return nil, errs.E(errs.Invalid, "InvalidParameterValue.RuleIdNotExist", "no such rule")
		}
		p.n++
		tok := "biz-" + string(rune('a'+p.n))
		return &gateway.Answer{Body: mustJSON(map[string]string{"BizToken": tok, "Url": "https://h5.example/" + tok}), Sandbox: true}, nil
	case "GetDetectInfoEnhanced":
		var in struct{ BizToken string }
		_ = json.Unmarshal(c.Body, &in)
		r, ok := p.results[in.BizToken]
		if !ok {
			r = `{"Text":{"ErrCode":null}}`
		}
		return &gateway.Answer{Body: []byte(r), Sandbox: true}, nil
	}
	return nil, errs.E(errs.NotFound, "InvalidAction", "no")
}
func (p *provider) Render(_ gateway.Op, ans *gateway.Answer, e *errs.Error, _ string) *gateway.Response {
	if e != nil {
		return &gateway.Response{Status: e.Kind.HTTPStatus(), Body: []byte(`{"error":"` + e.Code + `"}`)}
	}
	return &gateway.Response{Status: 200, Body: ans.Body}
}
func (p *provider) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }

func (p *provider) count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen[action])
}

func (p *provider) set(tok, ans string) {
	p.mu.Lock()
	p.results[tok] = ans
	p.mu.Unlock()
}

// auth: "Bearer <id>" is caller id.
type auth struct{}

func (auth) Authenticate(_ context.Context, req *gateway.Request, _ string) (*gateway.Caller, error) {
	id, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, errs.E(errs.Unauthorized, "AuthFailure", "no key")
	}
	return &gateway.Caller{ID: id}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	p     *gateway.Pipeline
	prov  *provider
	svc   *Service
	clock *clock
}

const testSecret = "whsec-test-0123456789abcdef"

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	fx := &fixture{t: t, prov: newProvider(), clock: &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}}
	if o.PublicURL == "" {
		o.PublicURL = "https://idv.example"
	}
	o.Now = fx.clock.now
	if o.InlineDelivery == 0 {
		o.InlineDelivery = 5 * time.Second
	}
	if o.Secret == nil {
		o.Secret = func(string) []byte { return []byte(testSecret) }
	}
	for i := range o.Endpoints {
		o.Endpoints[i].id = EndpointID(o.Endpoints[i].URL)
	}
	fx.svc = NewService(o)
	p, err := gateway.New(gateway.Options{Contracts: []gateway.Contract{fx.prov, NewContract(fx.svc, "sandbox")},
		Auth: auth{}, Interceptors: []gateway.Interceptor{fx.svc}})
	if err != nil {
		t.Fatal(err)
	}
	fx.svc.SetPipeline(p)
	fx.p = p
	return fx
}

func (fx *fixture) do(method, path, caller, body string) *gateway.Response {
	h := http.Header{}
	if caller != "" {
		h.Set("Authorization", "Bearer "+caller)
	}
	path, query, _ := strings.Cut(path, "?")
	return fx.p.ServeRequest(context.Background(), &gateway.Request{Method: method, Path: path, RawQuery: query, Header: h,
		Body: []byte(body), ContentLength: -1, SourceIP: "203.0.113.9"})
}

// start runs DetectAuth for caller and returns the flow id and token.
func (fx *fixture) start(caller, body string) (string, string) {
	fx.t.Helper()
	r := fx.do("POST", "/v1/faceid/DetectAuth", caller, body)
	if r.Status != 200 {
		fx.t.Fatalf("DetectAuth: %d %s", r.Status, r.Body)
	}
	var a struct{ BizToken string }
	_ = json.Unmarshal(r.Body, &a)
	id := r.Header.Get(FlowIDHeader)
	if !validID(flowPrefix, id) || a.BizToken == "" {
		fx.t.Fatalf("no flow id (%q) or token in %s", id, r.Body)
	}
	return id, a.BizToken
}

func TestStartKeepsTheCallersRedirectAndGivesTheProviderTheReturnRoute(t *testing.T) {
	fx := newFixture(t, Options{})
	id, tok := fx.start("web", `{"RuleId":"7","RedirectUrl":"https://shop.example/done?order=42#top"}`)
	sent := fx.prov.seen["DetectAuth"][0]
	var got struct{ RedirectUrl, RuleId string }
	_ = json.Unmarshal(sent, &got)
	if want := "https://idv.example/v1/flows/" + id + "/return"; got.RedirectUrl != want || got.RuleId != "7" {
		t.Fatalf("the provider was sent %s, want RedirectUrl %s", sent, want)
	}
	f, err := fx.svc.Get(context.Background(), id)
	if err != nil || f == nil {
		t.Fatal(f, err)
	}
	if f.Caller != "web" || f.Token != tok || f.ReturnTo != "https://shop.example/done?order=42#top" || f.Ref["RuleId"] != "7" || f.State != StatePending {
		t.Fatalf("stored flow %+v", f)
	}
	// A refused start leaves no flow behind and no header.
	r := fx.do("POST", "/v1/faceid/DetectAuth", "web", `{"RuleId":"refuse"}`)
	if r.Status != 400 || r.Header.Get(FlowIDHeader) != "" {
		t.Fatalf("refused start: %d %v", r.Status, r.Header)
	}
}

func TestReturnRoutePullsAndSendsTheBrowserOnWithTheFlowIDOnly(t *testing.T) {
	fx := newFixture(t, Options{})
	id, tok := fx.start("web", `{"RuleId":"7","RedirectUrl":"https://shop.example/done?order=42#top"}`)
	fx.prov.set(tok, `{"Text":{"ErrCode":0,"Name":"张三"}}`)
	r := fx.do("GET", "/v1/flows/"+id+"/return?token="+tok, "", "")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("return: %d %s", r.Status, r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "https://shop.example/done?order=42&idv_flow="+id+"#top" {
		t.Fatalf("Location %q", loc)
	}
	if strings.Contains(r.Header.Get("Location"), tok) {
		t.Fatal("the token leaked into the redirect")
	}
	var pulled struct{ BizToken, RuleId, InfoType string }
	_ = json.Unmarshal(fx.prov.seen["GetDetectInfoEnhanced"][0], &pulled)
	if pulled.BizToken != tok || pulled.RuleId != "7" {
		t.Fatalf("pulled with %+v", pulled)
	}
	// The result route answers its owner only.
	r = fx.do("GET", "/v1/flows/"+id, "web", "")
	var got struct{ Flow Flow }
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Flow.State != StateSucceeded || !strings.Contains(string(got.Flow.Result), "张三") {
		t.Fatalf("result route: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "shop.example") {
		t.Fatal("the result route shows the caller's return URL")
	}
	if r := fx.do("GET", "/v1/flows/"+id, "other", ""); r.Status != 404 {
		t.Fatalf("another caller: %d %s", r.Status, r.Body)
	}
	if r := fx.do("GET", "/v1/flows/"+id, "", ""); r.Status != 401 {
		t.Fatalf("no caller: %d", r.Status)
	}
	// A token that is not the flow's, an unknown flow and a hostile id.
	for path, status := range map[string]int{
		"/v1/flows/" + id + "/return?token=biz-zzz":             400,
		"/v1/flows/flw_00000000000000000000000000000000/return": 404,
		"/v1/flows/..%2f..%2fetc/return":                        404,
	} {
		r := fx.do("GET", path, "", "")
		if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %v", path, r.Status, r.Header)
		}
	}
}

// receiver is a webhook endpoint that checks signatures and can fail.
type receiver struct {
	mu       sync.Mutex
	srv      *httptest.Server
	fail     atomic.Int32 // answer 500 while > 0, counting down
	attempts []string     // event ids, in arrival order
	bodies   map[string]string
	badSig   int
}

func newReceiver(t *testing.T, secret string, now func() time.Time) *receiver {
	rc := &receiver{bodies: map[string]string{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := Verify([]byte(secret), r.Header.Get(HeaderSignature), b, now(), DefaultTolerance); err != nil {
			rc.badSig++
			w.WriteHeader(400)
			return
		}
		id := r.Header.Get(HeaderEventID)
		rc.attempts = append(rc.attempts, id)
		if prev, ok := rc.bodies[id]; ok && prev != string(b) {
			t.Errorf("event %s came back with another body", id)
		}
		rc.bodies[id] = string(b)
		if rc.fail.Load() > 0 {
			rc.fail.Add(-1)
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) seen() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.attempts...)
}

func TestWebhookRetriesUnderOneEventIDThenGivesUpAndIsRedelivered(t *testing.T) {
	fx0 := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	rc := newReceiver(t, testSecret, fx0.now)
	fx := newFixture(t, Options{Endpoints: []Endpoint{{Caller: "web", URL: rc.srv.URL}}, MaxAttempts: 3, Backoff: time.Minute})
	fx.clock = fx0
	fx.svc.o.Now = fx0.now
	rc.fail.Store(10)
	id, tok := fx.start("web", `{"RuleId":"7"}`)
	fx.prov.set(tok, `{"Text":{"ErrCode":1001}}`)
	fx.do("GET", "/v1/flows/"+id+"/return", "", "")
	ctx := context.Background()
	for _, step := range []time.Duration{time.Minute, 3 * time.Minute} {
		fx0.add(step)
		rep, err := fx.svc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("after %s: %+v", step, rep)
	}
	got := rc.seen()
	if len(got) != 3 || got[0] != got[1] || got[1] != got[2] || !validID(eventPrefix, got[0]) {
		t.Fatalf("attempts %v: want 3 of one event id", got)
	}
	var ev Event
	if err := json.Unmarshal([]byte(rc.bodies[got[0]]), &ev); err != nil || ev.Type != "flow.failed" || ev.Flow.ID != id || ev.Livemode {
		t.Fatalf("event %s", rc.bodies[got[0]])
	}
	// Given up: listed as failed, and nothing more is sent.
	fx0.add(time.Hour)
	_, _ = fx.svc.Sweep(ctx)
	if len(rc.seen()) != 3 {
		t.Fatalf("sent after giving up: %v", rc.seen())
	}
	r := fx.do("GET", "/v1/flows/webhooks?state=failed", "web", "")
	var list struct{ Deliveries []Delivery }
	_ = json.Unmarshal(r.Body, &list)
	if len(list.Deliveries) != 1 || list.Deliveries[0].Event != got[0] || list.Deliveries[0].Attempts != 3 || list.Deliveries[0].LastStatus != 500 {
		t.Fatalf("failed list: %s", r.Body)
	}
	if r := fx.do("GET", "/v1/flows/webhooks?state=failed", "other", ""); strings.Contains(string(r.Body), got[0]) {
		t.Fatal("another caller sees the delivery")
	}
	if r := fx.do("POST", "/v1/flows/webhooks/"+got[0]+"/redeliver", "other", ""); r.Status != 404 {
		t.Fatalf("another caller redelivers: %d", r.Status)
	}
	rc.fail.Store(0)
	r = fx.do("POST", "/v1/flows/webhooks/"+got[0]+"/redeliver", "web", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"state": "delivered"`) {
		t.Fatalf("redeliver: %d %s", r.Status, r.Body)
	}
	if s := rc.seen(); len(s) != 4 || s[3] != got[0] {
		t.Fatalf("redelivered as %v", s)
	}
}

func TestAFlowNobodyFinishesExpiresAndSaysSo(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	rc := newReceiver(t, testSecret, c.now)
	fx := newFixture(t, Options{Endpoints: []Endpoint{{Caller: "*", URL: rc.srv.URL}}, TTL: 10 * time.Minute, Poll: time.Minute})
	fx.clock = c
	fx.svc.o.Now = c.now
	id, _ := fx.start("web", `{"RuleId":"7"}`)
	ctx := context.Background()
	for i := 0; i < 15; i++ {
		c.add(time.Minute)
		if _, err := fx.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := fx.svc.Get(ctx, id)
	if f.State != StateExpired || f.Finished == nil {
		t.Fatalf("flow %+v", f)
	}
	pulls := fx.prov.count("GetDetectInfoEnhanced")
	if pulls < 3 || pulls > 8 {
		t.Fatalf("%d pulls over ten minutes: want a few, spaced out", pulls)
	}
	s := rc.seen()
	if len(s) != 1 || !strings.Contains(rc.bodies[s[0]], `"type":"flow.expired"`) {
		t.Fatalf("webhooks %v", s)
	}
	c.add(time.Hour)
	_, _ = fx.svc.Sweep(ctx)
	if fx.prov.count("GetDetectInfoEnhanced") != pulls || len(rc.seen()) != 1 {
		t.Fatal("an ended flow was pulled or announced again")
	}
}

func TestTwoInstancesEndingOneFlowMakeOneEvent(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	rc := newReceiver(t, testSecret, c.now)
	store := newMemKV(c.now)
	o := Options{Endpoints: []Endpoint{{Caller: "web", URL: rc.srv.URL}}, store: store, Now: c.now,
		Secret: func(string) []byte { return []byte(testSecret) }}
	o.Endpoints[0].id = EndpointID(rc.srv.URL)
	a, b := NewService(o), NewService(o)
	f := &Flow{ID: newID(flowPrefix), Kind: "detect", Caller: "web", State: StateSucceeded, Created: c.now(), Expires: c.now().Add(time.Hour)}
	now := c.now()
	f.Finished = &now
	var wg sync.WaitGroup
	for _, s := range []*Service{a, b, a, b} {
		wg.Add(1)
		go func(s *Service) {
			defer wg.Done()
			if err := s.announce(context.Background(), f); err != nil {
				t.Error(err)
			}
		}(s)
	}
	wg.Wait()
	_, _ = a.Sweep(context.Background())
	_, _ = b.Sweep(context.Background())
	if s := rc.seen(); len(s) != 1 {
		t.Fatalf("deliveries %v: want one event, once", s)
	}
}

// brokenKV fails every operation.
type brokenKV struct{ kv }

var errDown = errors.New("store down")

func (brokenKV) set(context.Context, string, []byte, time.Duration) error { return errDown }
func (brokenKV) get(context.Context, string) ([]byte, error)              { return nil, errDown }

func TestAStoreThatIsDownRefusesTheStartWithNothingSent(t *testing.T) {
	fx := newFixture(t, Options{store: brokenKV{newMemKV(time.Now)}})
	r := fx.do("POST", "/v1/faceid/DetectAuth", "web", `{"RuleId":"7"}`)
	if r.Status < 500 || !strings.Contains(string(r.Body), "FlowStoreUnavailable") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if fx.prov.count("DetectAuth") != 0 {
		t.Fatal("the provider was called")
	}
}

func TestSealedAtRest(t *testing.T) {
	keys, err := seal.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	store := newMemKV(time.Now)
	fx := newFixture(t, Options{store: store, Keys: keys})
	id, tok := fx.start("web", `{"RuleId":"7","RedirectUrl":"https://shop.example/done"}`)
	fx.prov.set(tok, `{"Text":{"ErrCode":0,"Name":"张三","IdCard":"110101199003074477"}}`)
	fx.do("GET", "/v1/flows/"+id+"/return", "", "")
	raw, _ := store.get(context.Background(), keyFlow+id)
	for _, s := range []string{"110101199003074477", "shop.example", tok} {
		if strings.Contains(string(raw), s) {
			t.Fatalf("%q is in the stored record in the clear", s)
		}
	}
	if f, err := fx.svc.Get(context.Background(), id); err != nil || f.State != StateSucceeded {
		t.Fatal(f, err)
	}
}

func TestSignAndVerify(t *testing.T) {
	secret := []byte(testSecret)
	now := time.Unix(1764669600, 0)
	body := []byte(`{"id":"evt_1"}`)
	h := Sign(secret, now, body)
	// Computed independently: printf '1764669600.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec-test-0123456789abcdef
	if h != "t=1764669600,v1=e346ee39d5903207c6e347ac47d85a4e73106827aee6be4e975ae10a6cae248f" {
		t.Fatalf("signature %s", h)
	}
	if err := Verify(secret, h, body, now.Add(time.Minute), DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		"tampered body":  {h, []byte(`{"id":"evt_2"}`), now, ErrSignature},
		"old":            {h, body, now.Add(10 * time.Minute), ErrTimestamp},
		"future":         {h, body, now.Add(-10 * time.Minute), ErrTimestamp},
		"no v1":          {"t=1764669600", body, now, ErrNoSignature},
		"empty":          {"", body, now, ErrNoSignature},
		"rotated secret": {h + ",v1=00", body, now, nil},
		"other secret":   {Sign([]byte("another-secret-0123456789"), now, body), body, now, ErrSignature},
	}
	for name, c := range cases {
		if err := Verify(secret, c.header, c.body, c.now, DefaultTolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestParseEndpoints(t *testing.T) {
	good := `[{"caller":"web","url":"https://hooks.example/idv","secret":"tcssm:idv/hook"},{"caller":"*","url":"http://127.0.0.1:9/x","secret":"0123456789abcdef01234567"}]`
	eps, err := parseEndpoints(good, true)
	if err != nil || len(eps) != 2 || eps[0].id != EndpointID("https://hooks.example/idv") {
		t.Fatal(eps, err)
	}
	for raw, want := range map[string]string{
		`{}`: "JSON array",
		`[{"url":"https://a.example","secret":"x"}]`:                                                                    "[0].caller",
		`[{"caller":"web","url":"ftp://a.example","secret":"x"}]`:                                                       "[0].url",
		`[{"caller":"web","url":"http://a.example","secret":"x"}]`:                                                      "http is refused in production",
		`[{"caller":"web","url":"https://a.example"}]`:                                                                  "[0].secret",
		`[{"caller":"web","url":"https://a.example","secret":"x","x":1}]`:                                               "JSON array",
		`[{"caller":"w","url":"https://a.example","secret":"x"},{"caller":"w","url":"https://a.example","secret":"y"}]`: "twice",
	} {
		if _, err := parseEndpoints(raw, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}
