package faceadv

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/safefetch"
	"github.com/idverify/idverify/shared/webank"
	"github.com/idverify/idverify/tests/fakes/awsfake"
	"github.com/idverify/idverify/tests/fakes/webankfake"
	"github.com/idverify/idverify/tests/redistest"
)

// keys is a real Authenticator: the Authorization header (Bearer or bare)
// must name a configured key.
type keys map[string]gateway.Caller

func (k keys) Authenticate(_ context.Context, req *gateway.Request, _ string) (*gateway.Caller, error) {
	v := strings.TrimSpace(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "))
	if c, ok := k[v]; ok && v != "" {
		return &c, nil
	}
	return nil, errs.E(errs.Unauthorized, "AuthFailure", "Authorization must carry a valid key")
}

var callers = keys{"live-key": {ID: "alice"}, "test-key": {ID: "tester", Test: true}, "bob-key": {ID: "bob"}}

const (
	goodID   = "110101199003074477"
	goodName = "张三"
)

var photo = base64.StdEncoding.EncodeToString([]byte("a jpeg"))

func newHandler(t *testing.T, opts Options) *Handler {
	t.Helper()
	if opts.Auth == nil {
		opts.Auth = callers
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Wait)
	return h
}

func post(t *testing.T, h *Handler, path, key string, body any) *Envelope {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	req := &gateway.Request{Method: "POST", Path: path, Header: http.Header{}, Body: b, SourceIP: "203.0.113.9"}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp := h.ServeRequest(context.Background(), req)
	if resp.Status != 200 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var env Envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		t.Fatalf("%s: %v", resp.Body, err)
	}
	return &env
}

// TestSeedExamplesRoundTrip: each example of the seed decodes into our
// types and encodes back to the same JSON, member order included.
func TestSeedExamplesRoundTrip(t *testing.T) {
	trailing := regexp.MustCompile(`,(\s*})`)
	for _, f := range []string{"adv-request.json", "result-request.json", "adv-response.json", "result-response.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "seed002", f))
		if err != nil {
			t.Fatal(err)
		}
		src := trailing.ReplaceAll(raw, []byte("$1"))
		var want bytes.Buffer
		if err := json.Compact(&want, src); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var got []byte
		if strings.Contains(f, "request") {
			r, err := decode(src)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got, _ = json.Marshal(r)
		} else {
			var env Envelope
			if err := json.Unmarshal(src, &env); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got, _ = json.Marshal(&env)
		}
		if string(got) != want.String() {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want.String())
		}
	}
}

func TestValidation(t *testing.T) {
	h := newHandler(t, Options{FDSBaseURL: "http://fds.internal/files"})
	noFDS := newHandler(t, Options{})
	match := func(origin, data string) map[string]any {
		return map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": origin, "data": data}}
	}
	for _, c := range []struct {
		name string
		h    *Handler
		path string
		body any
		code int
		msg  string
	}{
		{"not json", h, PathAdv, `{"userId":`, CodeBadJSON, "body"},
		{"array", h, PathAdv, `[]`, CodeBadJSON, "body"},
		{"two objects", h, PathAdv, `{}{}`, CodeBadJSON, "single"},
		{"wrong type", h, PathAdv, `{"userId":12}`, CodeBadJSON, "userId"},
		{"no userId", h, PathAdv, map[string]any{"type": "authmatch"}, CodeMissing, "userId is required"},
		{"userId special", h, PathAdv, map[string]any{"userId": "u$1", "type": "authmatch", "name": goodName, "idNo": goodID}, CodeInvalid, "userId must contain only letters"},
		{"userId space", h, PathAdv, map[string]any{"userId": "u 1", "type": "authmatch", "name": goodName, "idNo": goodID}, CodeInvalid, "userId"},
		{"userId long", h, PathAdv, map[string]any{"userId": strings.Repeat("u", 33), "type": "authmatch", "name": goodName, "idNo": goodID}, CodeInvalid, "userId must be at most 32"},
		{"no type", h, PathAdv, map[string]any{"userId": "u1"}, CodeMissing, "type is required"},
		{"bad type", h, PathAdv, map[string]any{"userId": "u1", "type": "live"}, CodeInvalid, "type must be match or authmatch"},
		{"match without photo", h, PathAdv, map[string]any{"userId": "u1", "type": "match"}, CodeInvalid, "sourcePhotoStr is required when type is match"},
		{"match empty data", h, PathAdv, match("self", ""), CodeInvalid, "sourcePhotoStr.data is required"},
		{"authmatch no name", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "idNo": goodID}, CodeInvalid, "name is required when type is authmatch"},
		{"authmatch no idNo", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "name": goodName}, CodeInvalid, "idNo is required when type is authmatch"},
		{"authmatch bad idNo", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "name": goodName, "idNo": "110101199003074478"}, CodeInvalid, "idNo check digit"},
		{"authmatch short idNo", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "name": goodName, "idNo": "1101011990"}, CodeInvalid, "idNo must be 18"},
		{"authmatch bad name", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "name": "张3", "idNo": goodID}, CodeInvalid, "name "},
		{"bad origin", h, PathAdv, match("ftp", "x"), CodeInvalid, "sourcePhotoStr.origin must be self, uri or fds"},
		{"self not base64", h, PathAdv, match("self", "not base64!"), CodePhoto, "sourcePhotoStr.data"},
		{"self too large", h, PathAdv, match("", strings.Repeat("A", MaxPhotoBase64+4)), CodePhoto, "at most 409600"},
		{"uri ftp", h, PathAdv, match("uri", "ftp://example.com/a.jpg"), CodePhoto, "http://"},
		{"fds traversal", h, PathAdv, match("fds", "a/../../etc/passwd"), CodePhoto, ".."},
		{"fds url", h, PathAdv, match("fds", "http://evil.example/a.jpg"), CodePhoto, "not a URL"},
		{"fds off", noFDS, PathAdv, match("fds", "a.jpg"), CodeInvalid, "IDV_FACEADV_FDS_BASE_URL"},
		{"bad orderNo", h, PathAdv, map[string]any{"userId": "u1", "type": "authmatch", "name": goodName, "idNo": goodID, "orderNo": "o-1"}, CodeInvalid, "orderNo must contain only letters and digits"},
		{"getFile object", h, PathResult, `{"orderNo":"o1","getFile":{}}`, CodeBadJSON, "getFile"},
		{"no orderNo", h, PathResult, map[string]any{"getFile": "1"}, CodeMissing, "orderNo is required"},
		{"bad traceNo", h, PathResult, map[string]any{"traceNo": "../x"}, CodeInvalid, "traceNo"},
		{"unknown traceNo", h, PathResult, map[string]any{"traceNo": "123"}, CodeNotFound, "traceNo is unknown"},
	} {
		env := post(t, c.h, c.path, "test-key", c.body)
		if env.Errcode != c.code || !strings.Contains(env.Errmsg, c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, env.Errcode, env.Errmsg, c.code, c.msg)
		}
		if env.Data == nil || env.Data.Status != StatusFail {
			t.Errorf("%s: data %+v", c.name, env.Data)
		}
		if strings.Contains(env.Errmsg, goodID) || strings.Contains(env.Errmsg, "110101199003074478") {
			t.Errorf("%s: errmsg echoes the ID number", c.name)
		}
	}
	// getFile as a number is accepted.
	if env := post(t, h, PathResult, "test-key", map[string]any{"orderNo": "o1", "getFile": 2}); env.Errcode != 0 {
		t.Fatalf("numeric getFile: %+v", env)
	}
	// Seed 002: getFile values other than 1, 2 and 3 return no file.
	for _, g := range []any{"0", "5", 0, 4, "", "x"} {
		env := post(t, h, PathResult, "test-key", map[string]any{"orderNo": "o1", "getFile": g})
		rec, _ := env.Data.Result.(*RecordResult)
		if env.Errcode != 0 || rec == nil || rec.Photo != "" || rec.Video != "" || rec.TencentCode != "0" {
			t.Errorf("getFile %#v: %+v %+v", g, env, rec)
		}
	}
	if env := post(t, h, PathResult, "test-key", map[string]any{"orderNo": "o1", "getFile": "2"}); env.Data.Result.(*RecordResult).Photo == "" {
		t.Errorf("getFile 2 returned no photo")
	}
}

// TestExtDataComesBack: extData registered with a call comes back with its
// answer, and with an async job's result (kept with the job), and is never
// logged.
func TestExtDataComesBack(t *testing.T) {
	var logs strings.Builder
	h := newHandler(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ext := json.RawMessage(`{"ticket":"EXT-7f3a","n":[1,2]}`)
	env := post(t, h, PathResult, "test-key", map[string]any{"orderNo": "o1", "extData": ext})
	if env.Errcode != 0 || string(env.Data.ExtData) != string(ext) {
		t.Fatalf("sync faceAdvResult: %+v", env.Data)
	}
	env = post(t, h, PathAdv, "test-key", map[string]any{"userId": "u1", "type": "authmatch", "name": "张三",
		"idNo": "110101199003074477", "async": true, "extData": ext})
	if env.Data.Status != StatusProcessing || string(env.Data.ExtData) != string(ext) {
		t.Fatalf("async faceAdv: %+v", env.Data)
	}
	h.Wait()
	res := post(t, h, PathResult, "test-key", map[string]any{"traceNo": env.Data.TraceNo})
	if res.Data.Status != StatusSuccess || string(res.Data.ExtData) != string(ext) {
		t.Fatalf("the async job's result: %+v", res.Data)
	}
	if strings.Contains(logs.String(), "EXT-7f3a") {
		t.Errorf("extData was logged: %s", logs.String())
	}
	// Without extData there is no member.
	if b, _ := json.Marshal(post(t, h, PathResult, "test-key", map[string]any{"orderNo": "o1"})); strings.Contains(string(b), "extData") {
		t.Errorf("extData without one sent: %s", b)
	}
}

func TestAuthorization(t *testing.T) {
	h := newHandler(t, Options{})
	body := map[string]any{"orderNo": "o1"}
	for _, key := range []string{"", "wrong"} {
		if env := post(t, h, PathResult, key, body); env.Errcode != CodeUnauthorized {
			t.Errorf("key %q: %+v", key, env)
		}
	}
	// A bare key works as well as Bearer.
	req := &gateway.Request{Method: "POST", Path: PathResult, Header: http.Header{"Authorization": {"test-key"}}, Body: []byte(`{"orderNo":"o1"}`)}
	var env Envelope
	_ = json.Unmarshal(h.ServeRequest(context.Background(), req).Body, &env)
	if env.Errcode != 0 {
		t.Fatalf("bare key: %+v", env)
	}
	// Routes and methods.
	resp := h.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: PathAdv})
	if !bytes.Contains(resp.Body, []byte(`"errcode":40400`)) {
		t.Fatalf("GET: %s", resp.Body)
	}
	resp = h.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/healthz"})
	if resp.Status != 200 || !bytes.Contains(resp.Body, []byte("faceAdvResult")) {
		t.Fatalf("healthz: %s", resp.Body)
	}
	one := newHandler(t, Options{Endpoints: []string{ActionResult}})
	if env := post(t, one, PathAdv, "test-key", map[string]any{}); env.Errcode != CodeNotFound {
		t.Fatalf("unserved endpoint: %+v", env)
	}
}

// TestURIRefusedAfterResolution: a uri photo is fetched only from public
// addresses; names are checked after DNS (localhost), literals too.
func TestURIRefusedAfterResolution(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		_, _ = w.Write([]byte("jpeg"))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	h := newHandler(t, Options{})
	for _, u := range []string{
		"http://127.0.0.1" + port + "/a.jpg", "http://localhost" + port + "/a.jpg",
		"http://10.1.2.3/a.jpg", "http://169.254.169.254/latest/meta-data/", "http://[::1]" + port + "/a.jpg",
		"http://192.168.0.1/a.jpg", "http://172.20.109.105:7007/a.jpg",
	} {
		env := post(t, h, PathAdv, "test-key", map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "uri", "data": u}})
		if env.Errcode != CodePhoto || !strings.Contains(env.Errmsg, "non-public address") {
			t.Errorf("%s: %d %s", u, env.Errcode, env.Errmsg)
		}
	}
	if hits != 0 {
		t.Fatalf("the loopback server was fetched %d times", hits)
	}
	// The same server is reachable as an operator-configured fds.
	fds := newHandler(t, Options{FDSBaseURL: srv.URL + "/files"})
	env := post(t, fds, PathAdv, "test-key", map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "fds", "data": "2026/a.jpg"}})
	if env.Errcode != 0 || hits != 1 {
		t.Fatalf("fds: %+v hits=%d", env, hits)
	}
}

func TestSandboxScenarios(t *testing.T) {
	h := newHandler(t, Options{})
	for _, s := range Scenarios() {
		if s.Endpoint != ActionResult {
			continue
		}
		// Steer from faceAdv: the generated orderNo carries the userId's ending.
		user := "user" + s.EndsWith
		adv := post(t, h, PathAdv, "test-key", map[string]any{"userId": user, "type": "authmatch", "name": goodName, "idNo": goodID})
		res := adv.Data.Result.(*AdvResult)
		if adv.Errcode != 0 || res.FaceID == "" || res.AppID != SandboxAppID || res.Sign != webank.Sign(SandboxAppID, user, "1.0.0", sandboxTicket, res.Nonce) {
			t.Fatalf("%s: faceAdv %+v %+v", s.Name, adv, res)
		}
		if !strings.HasSuffix(res.OrderNo, s.EndsWith) || len(res.OrderNo) > 32 {
			t.Fatalf("%s: orderNo %q", s.Name, res.OrderNo)
		}
		env := post(t, h, PathResult, "test-key", map[string]any{"orderNo": res.OrderNo, "getFile": "1"})
		rec := env.Data.Result.(*RecordResult)
		if env.Errcode != 0 || env.Data.Status != s.Status || rec.TencentCode != s.TencentCode {
			t.Errorf("%s: %+v %+v", s.Name, env.Data, rec)
		}
		if s.Status == StatusSuccess && (rec.Photo == "" || rec.Video == "" || rec.LiveRate != "99") {
			t.Errorf("%s: %+v", s.Name, rec)
		}
	}
}

// live builds a handler in live mode against the fake WeBank.
func liveHandler(t *testing.T, fake *webankfake.Server, opts Options) *Handler {
	t.Helper()
	c, err := webank.New(webank.Config{AppID: fake.AppID(), Secret: fake.Secret(), BaseURL: fake.URL, Redis: opts.Redis})
	if err != nil {
		t.Fatal(err)
	}
	opts.Live = c
	return newHandler(t, opts)
}

func sdkLaunch(t *testing.T, fake *webankfake.Server, userID string, r *AdvResult) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"appId": r.AppID, "userId": userID, "orderNo": r.OrderNo, "faceId": r.FaceID,
		"nonce": r.Nonce, "sign": r.Sign, "version": r.Version})
	resp, err := http.Post(fake.URL+"/fake/sdk/launch", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.Code
}

func TestLiveAgainstFakeWeBank(t *testing.T) {
	fake := webankfake.Start(t, webankfake.Options{})
	h := liveHandler(t, fake, Options{})
	adv := post(t, h, PathAdv, "live-key", map[string]any{"userId": "user123", "type": "match", "orderNo": "order1",
		"sourcePhotoStr": map[string]string{"origin": "self", "data": photo}})
	if adv.Errcode != 0 || adv.Data.Status != StatusSuccess {
		t.Fatalf("faceAdv: %+v", adv)
	}
	res := adv.Data.Result.(*AdvResult)
	if res.AppID != fake.AppID() || res.OrderNo != "order1" || res.FaceID == "" || res.BizSeqNo == "" {
		t.Fatalf("result %+v", res)
	}
	// The sign works once at the SDK (a fresh NONCE ticket per faceAdv).
	if code := sdkLaunch(t, fake, "user123", res); code != "0" {
		t.Fatalf("SDK launch: %s", code)
	}
	if code := sdkLaunch(t, fake, "user123", res); code != "400101" {
		t.Fatalf("second launch with the same sign: %s", code)
	}
	pending := post(t, h, PathResult, "live-key", map[string]any{"orderNo": "order1"})
	if pending.Errcode != 0 || pending.Data.Status != StatusFail || pending.Data.Result.(*RecordResult).TencentCode != webankfake.CodeNoRecord {
		t.Fatalf("before completion: %+v", pending.Data)
	}
	if err := fake.Complete("order1", webankfake.Outcome{Code: "0", Msg: "请求成功", LiveRate: "99", Similarity: "97.0", Photo: "UA==", Video: "Vg=="}); err != nil {
		t.Fatal(err)
	}
	env := post(t, h, PathResult, "live-key", map[string]any{"orderNo": "order1", "getFile": "2"})
	rec := env.Data.Result.(*RecordResult)
	if env.Errcode != 0 || env.Data.Status != StatusSuccess || rec.Similarity != "97.0" || rec.Photo != "UA==" || rec.Video != "" || rec.TencentCode != "0" {
		t.Fatalf("result: %+v %+v", env.Data, rec)
	}
	// A test caller is served by the sandbox even in live mode.
	calls := fake.Calls("/api/server/getAdvFaceId")
	tenv := post(t, h, PathAdv, "test-key", map[string]any{"userId": "user123", "type": "authmatch", "name": goodName, "idNo": goodID})
	if tenv.Errcode != 0 || tenv.Data.Result.(*AdvResult).AppID != SandboxAppID || fake.Calls("/api/server/getAdvFaceId") != calls {
		t.Fatalf("test caller reached WeBank: %+v", tenv)
	}
	// A WeBank refusal becomes errcode 50001 with WeBank's code.
	bad := post(t, h, PathAdv, "live-key", map[string]any{"userId": "other", "type": "match", "orderNo": "order1",
		"sourcePhotoStr": map[string]string{"data": photo}})
	if bad.Errcode != CodeProvider || !strings.Contains(bad.Errmsg, webankfake.CodeDuplicate) {
		t.Fatalf("refusal: %+v", bad)
	}
}

func TestAsyncInMemory(t *testing.T) {
	h := newHandler(t, Options{})
	env := post(t, h, PathAdv, "test-key", map[string]any{"async": true, "userId": "user123", "type": "authmatch", "name": goodName, "idNo": goodID})
	if env.Errcode != 0 || env.Data.Status != StatusProcessing || len(env.Data.TraceNo) != 20 {
		t.Fatalf("async answer: %+v", env)
	}
	h.Wait()
	got := post(t, h, PathResult, "test-key", map[string]any{"traceNo": env.Data.TraceNo})
	if got.Errcode != 0 || got.Data.Status != StatusSuccess || got.Data.TraceNo != env.Data.TraceNo || got.Data.Result.(*AdvResult).FaceID == "" {
		t.Fatalf("fetched: %+v", got.Data)
	}
	// Only the caller that started the job may fetch it.
	other := newHandler(t, Options{})
	other.jobs = h.jobs
	if e := post(t, other, PathResult, "bob-key", map[string]any{"traceNo": env.Data.TraceNo}); e.Errcode != CodeNotFound {
		t.Fatalf("another caller: %+v", e)
	}
	// On an event-driven platform, async needs the shared store.
	strict := newHandler(t, Options{RequireStoreForAsync: true})
	if e := post(t, strict, PathAdv, "test-key", map[string]any{"async": true, "userId": "u", "type": "authmatch", "name": goodName, "idNo": goodID}); e.Errcode != CodeInvalid || !strings.Contains(e.Errmsg, "IDV_REDIS_URL") {
		t.Fatalf("async without store: %+v", e)
	}
}

// TestAsyncRestart: the instance that accepted a job dies (before running
// it, and while running it); a new instance on the same Redis finishes it.
// The resumed faceAdv sends the same orderNo, so WeBank sees one order.
func TestAsyncRestart(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	ins := rs.Inspect(t)
	fake := webankfake.Start(t, webankfake.Options{})
	dead := liveHandler(t, fake, Options{Redis: rdb, Background: func(string) {}}) // dies before running anything
	body := map[string]any{"async": true, "userId": "user123", "type": "match", "sourcePhotoStr": map[string]string{"data": photo}}
	first := post(t, dead, PathAdv, "live-key", body)
	if first.Data.Status != StatusProcessing {
		t.Fatalf("%+v", first)
	}
	second := post(t, dead, PathAdv, "live-key", body)

	fresh := liveHandler(t, fake, Options{Redis: rs.Client(t)})
	got := post(t, fresh, PathResult, "live-key", map[string]any{"traceNo": first.Data.TraceNo})
	if got.Data.Status != StatusSuccess || got.Data.TraceNo != first.Data.TraceNo {
		t.Fatalf("resumed by poll: %+v", got)
	}
	res := got.Data.Result.(*AdvResult)
	if code := sdkLaunch(t, fake, "user123", res); code != "0" {
		t.Fatalf("resumed result is not usable by the SDK: %s", code)
	}

	// The second job's runner died holding its lease, after counting an
	// attempt. While the lease lives, the job is PROCESSING; once it
	// lapses (deleted here rather than waited for), a poll finishes it.
	trace := second.Data.TraceNo
	j, _ := fresh.jobs.get(context.Background(), trace)
	j.Attempts = 1
	_ = fresh.jobs.put(context.Background(), j)
	if _, ok, _ := fresh.jobs.lease(context.Background(), trace, time.Minute); !ok {
		t.Fatal("lease")
	}
	if e := post(t, fresh, PathResult, "live-key", map[string]any{"traceNo": trace}); e.Data.Status != StatusProcessing {
		t.Fatalf("leased job: %+v", e.Data)
	}
	ins.Del(context.Background(), jobPrefix+trace+":lease")
	calls := fake.Calls("/api/server/getAdvFaceId")
	e := post(t, fresh, PathResult, "live-key", map[string]any{"traceNo": trace})
	if e.Data.Status != StatusSuccess {
		t.Fatalf("after lease: %+v", e)
	}
	if fake.Calls("/api/server/getAdvFaceId") != calls+1 {
		t.Fatal("the resumed job did not run exactly once")
	}
	if e.Data.Result.(*AdvResult).OrderNo != "FA"+trace {
		t.Fatalf("orderNo %s is not derived from the traceNo", e.Data.Result.(*AdvResult).OrderNo)
	}
	j, _ = fresh.jobs.get(context.Background(), trace)
	if j.Attempts != 2 {
		t.Fatalf("attempts %d", j.Attempts)
	}
	// Finished jobs leave the open set; polling again does not call WeBank.
	if ids, _ := fresh.jobs.open(context.Background()); len(ids) != 0 {
		t.Fatalf("open jobs left: %v", ids)
	}
	post(t, fresh, PathResult, "live-key", map[string]any{"traceNo": trace})
	if fake.Calls("/api/server/getAdvFaceId") != calls+1 {
		t.Fatal("a finished job ran again")
	}
	// A job whose runners keep dying is abandoned after maxAttempts.
	third := post(t, dead, PathAdv, "live-key", body)
	j, _ = fresh.jobs.get(context.Background(), third.Data.TraceNo)
	j.Attempts = maxAttempts
	_ = fresh.jobs.put(context.Background(), j)
	if e := post(t, fresh, PathResult, "live-key", map[string]any{"traceNo": third.Data.TraceNo}); e.Errcode != CodeUnavailable {
		t.Fatalf("abandoned job: %+v", e)
	}
}

func TestCallbackSignedAndRetried(t *testing.T) {
	secret := "cb-secret"
	var mu sync.Mutex
	var got [][]byte
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !VerifyCallback([]byte(secret), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), b, time.Now(), 5*time.Minute) {
			http.Error(w, "bad signature", 401)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			http.Error(w, "down", 503)
			return
		}
		got = append(got, b)
	}))
	defer srv.Close()
	h := newHandler(t, Options{CallbackURL: srv.URL, CallbackSecret: secret})
	env := post(t, h, PathAdv, "test-key", map[string]any{"async": true, "userId": "user123", "type": "authmatch", "name": goodName, "idNo": goodID})
	h.Wait()
	if ids, _ := h.jobs.open(context.Background()); len(ids) != 1 {
		t.Fatalf("an undelivered job must stay open: %v", ids)
	}
	if n, err := h.ResumeOpen(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d callbacks", len(got))
	}
	var cb Envelope
	if err := json.Unmarshal(got[0], &cb); err != nil || cb.Data.TraceNo != env.Data.TraceNo || cb.Data.Status != StatusSuccess {
		t.Fatalf("callback %s", got[0])
	}
	if VerifyCallback([]byte("other"), "1", SignCallback([]byte(secret), "1", got[0]), got[0], time.Unix(1, 0), time.Minute) {
		t.Fatal("wrong secret verified")
	}
	if _, err := New(Options{CallbackURL: srv.URL}); err == nil {
		t.Fatal("a callback URL without a secret was accepted")
	}
}

func TestInvoke(t *testing.T) {
	h := newHandler(t, Options{})
	out, err := h.Invoke(context.Background(), []byte(`{"Action":"faceAdv","userId":"u1","type":"authmatch","name":"张三","idNo":"110101199003074477"}`))
	if err != nil || !bytes.Contains(out, []byte(`"status":"SUCCESS"`)) {
		t.Fatalf("%s %v", out, err)
	}
	_, err = h.Invoke(context.Background(), []byte(`{"Action":"faceAdv","userId":"u$"}`))
	if e := errs.As(err); e.Kind != errs.Invalid || !strings.Contains(e.Message, "userId") {
		t.Fatalf("invalid: %v", err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"userId":"u1"}`)); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("no action: %v", err)
	}
	out, _ = h.Invoke(context.Background(), []byte(`{"Action":"faceAdv","async":true,"userId":"u1","type":"authmatch","name":"张三","idNo":"110101199003074477"}`))
	var env Envelope
	_ = json.Unmarshal(out, &env)
	h.Wait()
	out, err = h.Invoke(context.Background(), []byte(`{"Action":"faceAdv","resumeJob":"`+env.Data.TraceNo+`"}`))
	if err != nil || !bytes.Contains(out, []byte(`"status":"SUCCESS"`)) {
		t.Fatalf("resumeJob: %s %v", out, err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"resumeJob":"1"}`)); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("unknown job: %v", err)
	}
}

// TestEventFiles drives events/faceadv/*.json through the runtime's
// dispatcher, as a Lambda or SCF would deliver them.
func TestEventFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "faceadv", "*.json"))
	if len(files) < 7 {
		t.Fatalf("%d event files", len(files))
	}
	h := newHandler(t, Options{Auth: keys{"sk_test_example_caller_key": {ID: "example", Test: true}}})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := dispatch.Handle(context.Background(), h, b)
		base := filepath.Base(f)
		if base == "faceadv-resume-job.json" {
			if errs.KindOf(err) != errs.NotFound {
				t.Errorf("%s: %v", base, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if strings.Contains(base, "function-url") {
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			_ = json.Unmarshal(out, &resp)
			out = []byte(resp.Body)
		}
		want := `"errcode":0`
		if base == "faceadv-resume-open.json" {
			want = `"looked"`
		}
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("%s: %s", base, out)
		}
	}
}

// The uri fetcher used by the handler is the safe one.
var _ = safefetch.ErrForbidden

// TestLambdaSelfInvoke: on Lambda an async job is started by an Event
// invocation of the function itself, signed with SigV4 (checked by the
// AWS fake's verifier); the invoked instance resumes the job from Redis.
func TestLambdaSelfInvoke(t *testing.T) {
	rs := redistest.Start(t)
	worker := newHandler(t, Options{Redis: rs.Client(t)})
	cred := awsfake.Credential{AccessKeyID: "AKIDLAMBDAROLE", SecretAccessKey: "lambda-role-secret", SessionToken: "lambda-session"}
	var mu sync.Mutex
	var invoked []string
	lambda := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		scope, err := awsfake.VerifySigV4(r, body, func(id string) (awsfake.Credential, bool) { return cred, id == cred.AccessKeyID }, time.Now())
		if err != nil || scope.Service != "lambda" || scope.Region != "ap-east-1" {
			http.Error(w, "signature", 403)
			return
		}
		if r.URL.Path != "/2015-03-31/functions/idv-face-adv/invocations" || r.Header.Get("X-Amz-Invocation-Type") != "Event" {
			http.Error(w, "shape", 400)
			return
		}
		mu.Lock()
		invoked = append(invoked, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		// Lambda runs the event in another instance, later.
		go func() { _, _ = worker.Invoke(context.Background(), body) }()
	}))
	defer lambda.Close()
	env := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "idv-face-adv", "AWS_REGION": "ap-east-1",
		"AWS_ACCESS_KEY_ID": cred.AccessKeyID, "AWS_SECRET_ACCESS_KEY": cred.SecretAccessKey, "AWS_SESSION_TOKEN": cred.SessionToken,
		"IDV_LAMBDA_ENDPOINT": lambda.URL}
	inv := lambdaInvokerFromEnv(func(k string) string { return env[k] })
	if inv == nil {
		t.Fatal("no invoker")
	}
	front := newHandler(t, Options{Redis: rs.Client(t), RequireStoreForAsync: true})
	front.opts.Background = inv.background(front)
	acc := post(t, front, PathAdv, "test-key", map[string]any{"async": true, "userId": "user123", "type": "authmatch", "name": goodName, "idNo": goodID})
	mu.Lock()
	if len(invoked) != 1 || !strings.Contains(invoked[0], `"resumeJob":"`+acc.Data.TraceNo+`"`) {
		t.Fatalf("invocations: %v", invoked)
	}
	mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, _ := front.jobs.get(context.Background(), acc.Data.TraceNo)
		if j != nil && j.State == stateDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the invoked instance did not finish the job")
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := post(t, front, PathResult, "test-key", map[string]any{"traceNo": acc.Data.TraceNo})
	if got.Data.Status != StatusSuccess {
		t.Fatalf("%+v", got)
	}
	// A refused invocation (unknown key) leaves the job to the first poll.
	inv.creds.AccessKeyID = "AKIDUNKNOWN"
	acc = post(t, front, PathAdv, "test-key", map[string]any{"async": true, "userId": "user123", "type": "authmatch", "name": goodName, "idNo": goodID})
	if got := post(t, front, PathResult, "test-key", map[string]any{"traceNo": acc.Data.TraceNo}); got.Data.Status != StatusSuccess {
		mu.Lock()
		n := len(invoked)
		mu.Unlock()
		t.Fatalf("after failed invoke (%d invocations): %+v", n, got.Data)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(invoked) != 1 {
		t.Fatalf("an invocation signed with an unknown key was accepted")
	}
}
