package tests

// The request pipeline (shared/gateway), black box: the real binaries over
// local HTTP and through `<binary> invoke`. Each test pins one property the
// pipeline rewrite introduced:
//
//   - a request without a credential is refused from its headers, before
//     its body is read, so outsiders cannot make the function buffer bodies
//     (TestPipelineMemoryBeforeAuth);
//   - the sandbox tables take a caller where callers are configured
//     (TestPipelineScenariosAuthenticated);
//   - flow tokens answer only the caller that created them, on every
//     provider (TestPipelineFlowTokensBoundToCaller, and across instances
//     sharing Redis in TestPipelineFlowTokensAcrossInstances);
//   - throttles and keys in progress say when to retry (TestPipelineRetryAfter);
//   - headers two readers could disagree about are refused
//     (TestPipelineDuplicateHeaders);
//   - a one-action function answers its action at its root, on every event
//     shape (TestPipelineSingleActionRoot).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/redistest"
)

const (
	plKeyA    = "idvk_pipelineCallerA0123456789abcdefghijklmn"
	plKeyB    = "idvk_pipelineCallerB0123456789abcdefghijklmn"
	plKeySlow = "idvk_pipelineCallerSlow0123456789abcdefghijk"
	plIDCard  = `{"IdCard":"110101199003074477","Name":"张三"}`

	plFaceAdv       = "/tech/ai/face/faceAdv"
	plFaceAdvResult = "/tech/ai/face/faceAdvResult"
	plBaidu         = "/rpc/2.0/brain/solution/faceprint/"
)

// plCallers is an IDV_CALLERS with two callers "a" and "b" that may call
// everything, and "slow", limited to one request a second.
func plCallers() string {
	return `[{"id":"a","keySha256":"` + keySha256(plKeyA) + `","actions":["*"]},` +
		`{"id":"b","keySha256":"` + keySha256(plKeyB) + `","actions":["*"]},` +
		`{"id":"slow","keySha256":"` + keySha256(plKeySlow) + `","actions":["*"],"rate":{"perSecond":1,"burst":1}}]`
}

// plResp is one HTTP answer.
type plResp struct {
	status int
	header http.Header
	body   []byte
}

func (r plResp) String() string { return fmt.Sprintf("HTTP %d %s", r.status, r.body) }

// json decodes the body into a map (nil when it is not a JSON object).
func (r plResp) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

// faceID is the inner FaceID response object and its error code.
func (r plResp) faceID(t *testing.T) (map[string]any, string) {
	t.Helper()
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(r.body, &env); err != nil || env.Response == nil {
		t.Fatalf("not a FaceID envelope: %s", r)
	}
	code := ""
	if e, ok := env.Response["Error"].(map[string]any); ok {
		code, _ = e["Code"].(string)
	}
	return env.Response, code
}

// plDo sends one request; hdr may carry a header more than once. A body is
// sent as application/json unless hdr says otherwise.
func plDo(t *testing.T, method, url, body string, hdr http.Header) plResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return plResp{resp.StatusCode, resp.Header, b}
}

func plBearer(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }

// plTCAPI is the Tencent API 3.0 form's headers for action, with key.
func plTCAPI(action, key string) http.Header {
	h := plBearer(key)
	h.Set("X-TC-Action", action)
	h.Set("X-TC-Version", "2018-03-01")
	return h
}

// vmHWM is the peak resident set size of pid, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the server (%v): peak RSS cannot be measured here", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(v)
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				t.Fatalf("VmHWM line %q", sc.Text())
			}
			return n << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// plBigBody POSTs 16 MiB streamed from a generator: exactly the local
// server's platform ceiling (httpserver.DefaultMaxBody), so the server
// itself does not refuse it by its declared length. chunked sends it
// without a Content-Length. It speaks HTTP/1.1 on a raw connection and
// reads the answer while still writing, as a client must when a server
// answers early: Go's http.Client reports the write error instead of an
// answer that came first.
func plBigBody(base, path string, hdr http.Header, chunked bool) (plResp, error) {
	const size = 16 << 20
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return plResp{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nConnection: close\r\n", path, addr)
	if chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n", size)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	written := make(chan int64, 1)
	go func() {
		// Write until done or the server closes; the error is expected.
		var n int64
		defer func() { written <- n }()
		if _, err := io.WriteString(conn, head.String()); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte{'A'}, 64<<10)
		for n < size {
			var err error
			if chunked {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = conn.Write(chunk)
			}
			if err != nil {
				return
			}
			n += int64(len(chunk))
		}
		if chunked {
			_, _ = io.WriteString(conn, "0\r\n\r\n")
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return plResp{}, fmt.Errorf("no answer (after writing %d body bytes): %w", <-written, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	conn.Close()
	<-written
	if err != nil {
		return plResp{}, err
	}
	return plResp{resp.StatusCode, resp.Header, b}, nil
}

// TestPipelineMemoryBeforeAuth: 40 concurrent 16 MiB bodies without a
// credential, to the largest route of each provider, are refused as
// unauthenticated without the server buffering them: its peak RSS stays
// within 64 MiB of its idle peak (it reached 1.1 GB when the body was read
// before authentication). An authenticated caller's 16 MiB body to a 64 KiB
// route is refused 413 unread, declared or chunked.
func TestPipelineMemoryBeforeAuth(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"), "IDV_CALLERS="+plCallers())
	pid := s.cmd.Process.Pid

	// Warm every route once, so the idle peak includes what a first
	// request costs anyway.
	for _, p := range []string{"/v1/faceid/LivenessCompare", plFaceAdv, plBaidu + "uploadMatchImage", "/v1/faceid/IdCardVerification"} {
		plDo(t, http.MethodPost, s.url+p, `{}`, nil)
		plDo(t, http.MethodPost, s.url+p, `{}`, plBearer(plKeyA))
	}
	time.Sleep(100 * time.Millisecond)
	idle := vmHWM(t, pid)
	const margin = 64 << 20

	type check func(r plResp) string
	faceIDUnauth := func(r plResp) string {
		var env struct {
			Response struct{ Error struct{ Code string } }
		}
		_ = json.Unmarshal(r.body, &env)
		if r.status != 401 || env.Response.Error.Code != "AuthFailure.InvalidAuthorization" {
			return "want 401 AuthFailure.InvalidAuthorization"
		}
		return ""
	}
	faceAdvUnauth := func(r plResp) string {
		if m := r.json(); r.status != 200 || m["errcode"] != float64(40100) {
			return "want HTTP 200 errcode 40100"
		}
		return ""
	}
	baiduUnauth := func(r plResp) string {
		if m := r.json(); r.status != 200 || m["error_code"] != float64(110) || m["success"] != false {
			return "want HTTP 200 error_code 110"
		}
		return ""
	}
	targets := []struct {
		path  string
		check check
	}{
		{"/v1/faceid/LivenessCompare", faceIDUnauth},
		{plFaceAdv, faceAdvUnauth},
		{plBaidu + "uploadMatchImage", baiduUnauth},
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 40 {
		tg := targets[i%len(targets)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := plBigBody(s.url, tg.path, nil, false)
			if err != nil {
				t.Errorf("POST %s with a 16 MiB body and no credential: %v", tg.path, err)
				return
			}
			if why := tg.check(r); why != "" {
				t.Errorf("%s without a credential: %s, %s", tg.path, r, why)
			}
		}()
	}
	wg.Wait()
	t.Logf("40 unauthenticated 16 MiB POSTs answered in %v", time.Since(start).Round(time.Millisecond))
	peak := vmHWM(t, pid)
	t.Logf("server VmHWM: idle %.1f MiB, after 40 unauthenticated 16 MiB bodies %.1f MiB", float64(idle)/(1<<20), float64(peak)/(1<<20))
	if peak > idle+margin {
		t.Errorf("the server's peak RSS rose from %d to %d bytes: unauthenticated bodies were buffered", idle, peak)
	}

	// An authenticated caller over a small route's cap: 413 before the
	// body is read (declared length) or past the cap (chunked).
	start = time.Now()
	for i := range 20 {
		chunked := i%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := plBigBody(s.url, "/v1/faceid/IdCardVerification", plBearer(plKeyA), chunked)
			if err != nil {
				t.Errorf("authenticated 16 MiB body (chunked %v): %v", chunked, err)
				return
			}
			var env struct {
				Response struct{ Error struct{ Code string } }
			}
			_ = json.Unmarshal(r.body, &env)
			if r.status != 413 || env.Response.Error.Code != "RequestSizeLimitExceeded" {
				t.Errorf("authenticated 16 MiB body (chunked %v) to IdCardVerification: %s, want 413 RequestSizeLimitExceeded", chunked, r)
			}
		}()
	}
	wg.Wait()
	t.Logf("20 authenticated 16 MiB POSTs answered in %v", time.Since(start).Round(time.Millisecond))
	peak2 := vmHWM(t, pid)
	t.Logf("server VmHWM after 20 authenticated oversized bodies: %.1f MiB", float64(peak2)/(1<<20))
	if peak2 > idle+margin {
		t.Errorf("the server's peak RSS rose from %d to %d bytes: bodies over the route's cap were buffered", idle, peak2)
	}
	// Still serving.
	if r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, plBearer(plKeyA)); r.status != 200 {
		t.Fatalf("after the flood: %s", r)
	}
}

// TestPipelineScenariosAuthenticated: with callers configured the merged
// sandbox table takes a caller's key; with one it is the table of every
// provider, the same bytes each time.
func TestPipelineScenariosAuthenticated(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"), "IDV_CALLERS="+plCallers())
	for _, p := range []string{"/v1/sandbox/scenarios", "/v1/sandbox/faceadv/scenarios", "/v1/sandbox/faceprint/scenarios"} {
		r := plDo(t, http.MethodGet, s.url+p, "", nil)
		if _, code := r.faceID(t); r.status != 401 || code != "AuthFailure.InvalidAuthorization" {
			t.Errorf("GET %s without a key: %s, want 401", p, r)
		}
		if r := plDo(t, http.MethodGet, s.url+p, "", plBearer("idvk_notIssued")); r.status != 401 {
			t.Errorf("GET %s with an unknown key: %s, want 401", p, r)
		}
		if r := plDo(t, http.MethodGet, s.url+p, "", plBearer(plKeyB)); r.status != 200 {
			t.Errorf("GET %s with a key: %s", p, r)
		}
	}
	first := plDo(t, http.MethodGet, s.url+"/v1/sandbox/scenarios", "", plBearer(plKeyA))
	if first.status != 200 || !strings.HasPrefix(first.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /v1/sandbox/scenarios with a key: %s", first)
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(first.body, &merged); err != nil {
		t.Fatalf("merged table: %v", err)
	}
	for _, k := range []string{"scenarios", "faceAdv", "faceprint"} {
		var rows []json.RawMessage
		if err := json.Unmarshal(merged[k], &rows); err != nil || len(rows) == 0 {
			t.Errorf("merged table: %q has %d rows (%v)", k, len(rows), err)
		}
	}
	for i := range 3 {
		r := plDo(t, http.MethodGet, s.url+"/v1/sandbox/scenarios", "", plBearer(plKeyB))
		if r.status != 200 || !bytes.Equal(r.body, first.body) {
			t.Fatalf("GET %d of the table: %d, %d bytes differ from the first %d", i+2, r.status, len(r.body), len(first.body))
		}
	}
}

// plFlows runs one flow per provider: caller A creates a token on issue;
// on consume (the same instance or another one) caller B is refused it and
// A is served.
func plFlows(t *testing.T, issue, consume *server) {
	t.Run("faceid DetectAuth", func(t *testing.T) {
		r := plDo(t, http.MethodPost, issue.url+"/v1/faceid/DetectAuth", `{"RuleId":"0"}`, plBearer(plKeyA))
		resp, code := r.faceID(t)
		tok, _ := resp["BizToken"].(string)
		if r.status != 200 || code != "" || tok == "" {
			t.Fatalf("DetectAuth by A: %s", r)
		}
		body := `{"RuleId":"0","BizToken":"` + tok + `"}`
		for _, action := range []string{"GetDetectInfoEnhanced", "GetDetectInfo"} {
			r = plDo(t, http.MethodPost, consume.url+"/v1/faceid/"+action, body, plBearer(plKeyB))
			if _, code := r.faceID(t); r.status != 404 || code != "ResourceNotFound.Token" {
				t.Errorf("%s by B on /v1: %s, want 404 ResourceNotFound.Token", action, r)
			}
		}
		// The Tencent API 3.0 form: HTTP 200 with Response.Error.
		r = plDo(t, http.MethodPost, consume.url+"/", body, plTCAPI("GetDetectInfoEnhanced", plKeyB))
		if _, code := r.faceID(t); r.status != 200 || code != "ResourceNotFound.Token" {
			t.Errorf("GetDetectInfoEnhanced by B on the API 3.0 form: %s, want Error ResourceNotFound.Token", r)
		}
		r = plDo(t, http.MethodPost, consume.url+"/v1/faceid/GetDetectInfoEnhanced", body, plBearer(plKeyA))
		if resp, code := r.faceID(t); r.status != 200 || code != "" || resp["Text"] == nil {
			t.Errorf("GetDetectInfoEnhanced by A: %s", r)
		}
		r = plDo(t, http.MethodPost, consume.url+"/", body, plTCAPI("GetDetectInfoEnhanced", plKeyA))
		if resp, code := r.faceID(t); r.status != 200 || code != "" || resp["Text"] == nil {
			t.Errorf("GetDetectInfoEnhanced by A on the API 3.0 form: %s", r)
		}
	})

	t.Run("faceid eID", func(t *testing.T) {
		r := plDo(t, http.MethodPost, issue.url+"/v1/faceid/GetEidToken", `{"MerchantId":"sandbox-merchant"}`, plBearer(plKeyA))
		resp, code := r.faceID(t)
		tok, _ := resp["EidToken"].(string)
		if r.status != 200 || code != "" || tok == "" {
			t.Fatalf("GetEidToken by A: %s", r)
		}
		body := `{"EidToken":"` + tok + `"}`
		r = plDo(t, http.MethodPost, consume.url+"/v1/faceid/GetEidResult", body, plBearer(plKeyB))
		if _, code := r.faceID(t); r.status != 404 || code != "ResourceNotFound.Token" {
			t.Errorf("GetEidResult by B: %s, want 404 ResourceNotFound.Token", r)
		}
		r = plDo(t, http.MethodPost, consume.url+"/", body, plTCAPI("GetEidResult", plKeyB))
		if _, code := r.faceID(t); r.status != 200 || code != "ResourceNotFound.Token" {
			t.Errorf("GetEidResult by B on the API 3.0 form: %s, want Error ResourceNotFound.Token", r)
		}
		r = plDo(t, http.MethodPost, consume.url+"/v1/faceid/GetEidResult", body, plBearer(plKeyA))
		if _, code := r.faceID(t); r.status != 200 || code != "" {
			t.Errorf("GetEidResult by A: %s", r)
		}
	})

	t.Run("faceAdv async", func(t *testing.T) {
		r := plDo(t, http.MethodPost, issue.url+plFaceAdv,
			`{"async":true,"userId":"user123","type":"authmatch","name":"李四","idNo":"11010519491231002X"}`, plBearer(plKeyA))
		var env faceAdvEnvelope
		if err := json.Unmarshal(r.body, &env); err != nil || r.status != 200 || env.Errcode != 0 || env.Data.TraceNo == "" {
			t.Fatalf("async faceAdv by A: %s", r)
		}
		body := `{"traceNo":"` + env.Data.TraceNo + `"}`
		r = plDo(t, http.MethodPost, consume.url+plFaceAdvResult, body, plBearer(plKeyB))
		if m := r.json(); r.status != 200 || m["errcode"] != float64(40400) || !strings.Contains(fmt.Sprint(m["errmsg"]), "unknown to this caller") {
			t.Errorf("faceAdvResult by B: %s, want errcode 40400", r)
		}
		// A polls until the job is done (the sandbox finishes it at once).
		deadline := time.Now().Add(10 * time.Second)
		for {
			r = plDo(t, http.MethodPost, consume.url+plFaceAdvResult, body, plBearer(plKeyA))
			var got faceAdvEnvelope
			_ = json.Unmarshal(r.body, &got)
			if r.status != 200 || got.Errcode != 0 || got.Data.TraceNo != env.Data.TraceNo {
				t.Fatalf("faceAdvResult by A: %s, want errcode 0", r)
			}
			if got.Data.Status != "PROCESSING" {
				orderNo, _ := got.Data.Result["orderNo"].(string)
				if got.Data.Status != "SUCCESS" || orderNo == "" {
					t.Fatalf("faceAdvResult by A: %s", r)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the async job was still PROCESSING after 10 s: %s", r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// B still cannot read it.
		r = plDo(t, http.MethodPost, consume.url+plFaceAdvResult, body, plBearer(plKeyB))
		if m := r.json(); m["errcode"] != float64(40400) {
			t.Errorf("faceAdvResult by B once done: %s, want errcode 40400", r)
		}
	})

	t.Run("faceprint verify_token", func(t *testing.T) {
		r := plDo(t, http.MethodPost, issue.url+plBaidu+"verifyToken/generate", `{"plan_id":1}`, plBearer(plKeyA))
		m := r.json()
		res, _ := m["result"].(map[string]any)
		vt, _ := res["verify_token"].(string)
		if r.status != 200 || m["success"] != true || vt == "" {
			t.Fatalf("verifyToken/generate by A: %s", r)
		}
		body := `{"verify_token":"` + vt + `"}`
		for _, ep := range []string{"result/detail", "result/simple"} {
			r = plDo(t, http.MethodPost, consume.url+plBaidu+ep, body, plBearer(plKeyB))
			m = r.json()
			if r.status != 200 || m["error_code"] != float64(216100) || !strings.Contains(fmt.Sprint(m["error_msg"]), "unknown to this caller") {
				t.Errorf("%s by B: %s, want error_code 216100 unknown to this caller", ep, r)
			}
		}
		r = plDo(t, http.MethodPost, consume.url+plBaidu+"result/detail", body, plBearer(plKeyA))
		m = r.json()
		if r.status != 200 || strings.Contains(string(r.body), "unknown to this caller") || (m["success"] != true && m["error_code"] == nil) {
			t.Errorf("result/detail by A: %s", r)
		}
	})
}

// TestPipelineFlowTokensBoundToCaller: a BizToken, an EidToken, a faceAdv
// traceNo and a Baidu verify_token answer only the caller that created
// them (the sandbox's tokens are self-contained, so only the pipeline's
// binding refuses another caller).
func TestPipelineFlowTokensBoundToCaller(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"), "IDV_CALLERS="+plCallers())
	plFlows(t, s, s)
}

// TestPipelineFlowTokensAcrossInstances: two instances share a real Redis;
// a token created through one is refused to another caller on the other,
// and served to its creator there.
func TestPipelineFlowTokensAcrossInstances(t *testing.T) {
	bin := buildBinary(t, "all")
	rs := redistest.Start(t)
	env := []string{"IDV_CALLERS=" + plCallers(), "IDV_REDIS_URL=" + rs.URL,
		"IDV_STORE_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	one, two := startServer(t, bin, env...), startServer(t, bin, env...)
	plFlows(t, one, two)
	// The bindings are in Redis, under hashes: no token is a key.
	keys, err := rs.Inspect(t).Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "idv:own:") {
			owned++
		}
		if strings.Contains(k, "sandbox-") || !strings.HasPrefix(k, "idv:") {
			t.Errorf("unexpected Redis key %q", k)
		}
	}
	if owned < 4 {
		t.Errorf("%d token bindings in Redis (keys %q), want one per flow at least", owned, keys)
	}
}

// TestPipelineRetryAfter: a caller over its own rate is told when to
// retry (429 and Retry-After in whole seconds, on every provider), and so
// is a duplicate of an Idempotency-Key whose first request is still at the
// provider (409 IdempotencyInProgress).
func TestPipelineRetryAfter(t *testing.T) {
	bin := buildBinary(t, "all")
	retryAfter := func(t *testing.T, what string, r plResp) {
		t.Helper()
		v := r.header.Values("Retry-After")
		n, err := strconv.Atoi(strings.Join(v, ","))
		if len(v) != 1 || err != nil || n < 1 || n > 3600 {
			t.Errorf("%s: Retry-After %q, want one integer number of seconds >= 1", what, v)
		}
	}

	t.Run("caller rate", func(t *testing.T) {
		s := startServer(t, bin, "IDV_CALLERS="+plCallers())
		if r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, plBearer(plKeySlow)); r.status != 200 {
			t.Fatalf("first request of the limited caller: %s", r)
		}
		// The bucket (burst 1, 1/s) is empty: back-to-back requests are
		// refused, on every provider. A few tries each, in case a slow
		// machine let a token refill between two of them.
		throttled := func(what string, send func() plResp, is func(plResp) bool) plResp {
			t.Helper()
			var r plResp
			for range 5 {
				if r = send(); is(r) {
					retryAfter(t, what, r)
					return r
				}
			}
			t.Errorf("%s: 5 back-to-back requests of a caller limited to 1/s, none refused; last %s", what, r)
			return r
		}
		r := throttled("FaceID /v1", func() plResp {
			return plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, plBearer(plKeySlow))
		}, func(r plResp) bool {
			_, code := r.faceID(t)
			return r.status == 429 && code == "RequestLimitExceeded"
		})
		t.Logf("429 RequestLimitExceeded: Retry-After %s", r.header.Get("Retry-After"))
		throttled("FaceID API 3.0 form", func() plResp {
			return plDo(t, http.MethodPost, s.url+"/", plIDCard, plTCAPI("IdCardVerification", plKeySlow))
		}, func(r plResp) bool {
			_, code := r.faceID(t)
			return r.status == 200 && code == "RequestLimitExceeded"
		})
		throttled("faceAdv", func() plResp {
			return plDo(t, http.MethodPost, s.url+plFaceAdv, `{"userId":"u1","type":"authmatch","name":"李四","idNo":"11010519491231002X"}`, plBearer(plKeySlow))
		}, func(r plResp) bool {
			m := r.json()
			return r.status == 200 && m["errcode"] == float64(42900)
		})
		throttled("Baidu", func() plResp {
			return plDo(t, http.MethodPost, s.url+plBaidu+"verifyToken/generate", `{"plan_id":1}`, plBearer(plKeySlow))
		}, func(r plResp) bool { return r.status == 200 && r.json()["error_code"] == float64(18) })
		// Other callers are not limited by it.
		if r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, plBearer(plKeyA)); r.status != 200 {
			t.Errorf("another caller: %s", r)
		}
	})

	t.Run("idempotency in progress", func(t *testing.T) {
		fake, fakeURL := faceidfake.Start(t, faceidfake.Options{})
		s := startServer(t, bin, "IDV_MODE=live", "IDV_TENCENT_ENDPOINT="+fakeURL,
			"TENCENTCLOUD_SECRET_ID="+faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+faceidfake.DefaultSecretKey)
		fake.Program("IdCardVerification", faceidfake.Behavior{Delay: 1500 * time.Millisecond})
		key := http.Header{"Idempotency-Key": {"pipeline-retry-after-1"}}
		var wg sync.WaitGroup
		var first plResp
		wg.Add(1)
		go func() {
			defer wg.Done()
			first = plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, key)
		}()
		deadline := time.Now().Add(5 * time.Second)
		for fake.Calls("IdCardVerification") < 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, key)
		wg.Wait()
		if _, code := r.faceID(t); r.status != 409 || code != "IdempotencyInProgress" {
			t.Fatalf("duplicate while the first is at the provider: %s (first: %s)", r, first)
		}
		retryAfter(t, "409 IdempotencyInProgress", r)
		t.Logf("409 IdempotencyInProgress: Retry-After %s", r.header.Get("Retry-After"))
		if first.status != 200 || fake.Calls("IdCardVerification") != 1 {
			t.Fatalf("first: %s; provider calls %d", first, fake.Calls("IdCardVerification"))
		}
	})
}

// TestPipelineDuplicateHeaders: a header two readers of one request could
// read differently is refused, never resolved by taking the first.
func TestPipelineDuplicateHeaders(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"), "IDV_CALLERS="+plCallers())
	twoKeys := func(auth string) http.Header {
		h := plBearer(auth)
		h["Idempotency-Key"] = []string{"dup-1", "dup-2"}
		return h
	}
	twoAuth := http.Header{"Authorization": {"Bearer " + plKeyA, "Bearer " + plKeyB}}

	t.Run("two Idempotency-Key headers", func(t *testing.T) {
		r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, twoKeys(plKeyA))
		resp, code := r.faceID(t)
		if r.status != 400 || code != "InvalidParameter" || !strings.Contains(fmt.Sprint(resp["Error"]), "Idempotency-Key") {
			t.Errorf("FaceID /v1: %s, want 400 naming Idempotency-Key", r)
		}
		r = plDo(t, http.MethodPost, s.url+"/", plIDCard, func() http.Header {
			h := plTCAPI("IdCardVerification", plKeyA)
			h["Idempotency-Key"] = []string{"dup-1", "dup-2"}
			return h
		}())
		if resp, code := r.faceID(t); code != "InvalidParameter" || !strings.Contains(fmt.Sprint(resp["Error"]), "Idempotency-Key") {
			t.Errorf("FaceID API 3.0 form: %s, want InvalidParameter naming Idempotency-Key", r)
		}
		r = plDo(t, http.MethodPost, s.url+plFaceAdv, `{"userId":"u1","type":"authmatch","name":"李四","idNo":"11010519491231002X"}`, twoKeys(plKeyA))
		if m := r.json(); m["errcode"] == float64(0) || !strings.Contains(fmt.Sprint(m["errmsg"]), "Idempotency-Key") {
			t.Errorf("faceAdv: %s, want a refusal naming Idempotency-Key", r)
		}
		r = plDo(t, http.MethodPost, s.url+plBaidu+"verifyToken/generate", `{"plan_id":1}`, twoKeys(plKeyA))
		if m := r.json(); m["success"] != false || m["error_code"] != float64(216100) || !strings.Contains(fmt.Sprint(m["error_msg"]), "Idempotency-Key") {
			t.Errorf("faceprint: %s, want error_code 216100 naming Idempotency-Key", r)
		}
	})

	t.Run("two Authorization headers", func(t *testing.T) {
		// Two credentials are no credential: 401 on /v1 (whichever of the
		// two keys is valid), 40100 on faceAdv, 110 on Baidu's paths.
		r := plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, twoAuth)
		if _, code := r.faceID(t); r.status != 401 {
			t.Errorf("FaceID /v1: %s (code %s), want 401", r, code)
		}
		r = plDo(t, http.MethodPost, s.url+plFaceAdv, `{"userId":"u1","type":"authmatch","name":"李四","idNo":"11010519491231002X"}`, twoAuth)
		if m := r.json(); m["errcode"] != float64(40100) {
			t.Errorf("faceAdv: %s, want errcode 40100", r)
		}
		r = plDo(t, http.MethodPost, s.url+plBaidu+"verifyToken/generate", `{"plan_id":1}`, twoAuth)
		if m := r.json(); m["error_code"] != float64(110) {
			t.Errorf("faceprint: %s, want error_code 110", r)
		}
	})
}

// plEventAt returns the sample HTTP event file with its path replaced by
// path and, when action is set, the API 3.0 headers added.
func plEventAt(t *testing.T, file, path, action string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "rawPath"} {
		if _, ok := ev[k]; ok {
			ev[k] = path
		}
	}
	if rc, ok := ev["requestContext"].(map[string]any); ok {
		if h, ok := rc["http"].(map[string]any); ok {
			h["path"] = path
		}
		if _, ok := rc["resourcePath"]; ok {
			rc["resourcePath"] = "/{proxy+}"
		}
	}
	if _, ok := ev["resource"]; ok {
		ev["resource"] = "/{proxy+}"
	}
	if _, ok := ev["pathParameters"].(map[string]any); ok {
		ev["pathParameters"] = map[string]any{}
	}
	if action != "" {
		if h, ok := ev["headers"].(map[string]any); ok {
			h["x-tc-action"] = action
			h["x-tc-version"] = "2018-03-01"
		}
		if h, ok := ev["multiValueHeaders"].(map[string]any); ok {
			h["X-TC-Action"] = []string{action}
			h["X-TC-Version"] = []string{"2018-03-01"}
		}
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPipelineSingleActionRoot: a one-action function answers its action
// at "/" without X-TC-Action (its Function URL's root), on every HTTP event
// shape and over plain HTTP; the API 3.0 form at "/" still works, and a
// path nobody serves is still 404.
func TestPipelineSingleActionRoot(t *testing.T) {
	bin := buildBinary(t, "id-card-verification")
	happyResult := func(t *testing.T, what string, r plResp) {
		t.Helper()
		resp, code := r.faceID(t)
		if r.status != 200 || code != "" || resp["Result"] != "0" {
			t.Errorf("%s: %s, want 200 Result \"0\"", what, r)
		}
	}
	t.Run("invoke", func(t *testing.T) {
		files := []string{"lambda-rest-v1.json", "lambda-http-v2.json", "lambda-alb.json", "lambda-function-url.json",
			"scf-function-url.json", "scf-apigw-legacy.json"}
		// The events come from public addresses: open the sandbox to them.
		env := []string{"IDV_SANDBOX_OPEN=true"}
		type job struct {
			name  string
			event []byte
			check func(t *testing.T, r plResp)
		}
		var jobs []job
		for _, f := range files {
			jobs = append(jobs,
				job{f + " POST /", plEventAt(t, f, "/", ""), func(t *testing.T, r plResp) { happyResult(t, f+" POST /", r) }},
				job{f + " POST / X-TC-Action", plEventAt(t, f, "/", "IdCardVerification"), func(t *testing.T, r plResp) {
					happyResult(t, f+" POST / with X-TC-Action", r)
				}},
				job{f + " POST /nope", plEventAt(t, f, "/nope", ""), func(t *testing.T, r plResp) {
					if _, code := r.faceID(t); r.status != 404 || code != "InvalidAction" {
						t.Errorf("%s POST /nope: %s, want 404 InvalidAction", f, r)
					}
				}},
			)
		}
		// Two at a time: each is a process start.
		results := make([]plResp, len(jobs))
		sem := make(chan struct{}, 2)
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				results[i] = plInvokeNoFatal(t, bin, j.event, env...)
			}()
		}
		wg.Wait()
		for i, j := range jobs {
			if results[i].status == 0 {
				continue // reported
			}
			j.check(t, results[i])
		}
	})

	t.Run("http", func(t *testing.T) {
		s := startServer(t, bin)
		happyResult(t, "POST /", plDo(t, http.MethodPost, s.url+"/", plIDCard, nil))
		happyResult(t, "POST / as curl -d", plDo(t, http.MethodPost, s.url+"/", plIDCard, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}))
		happyResult(t, "POST / with X-TC-Action", plDo(t, http.MethodPost, s.url+"/", plIDCard, http.Header{
			"X-TC-Action": {"IdCardVerification"}, "X-TC-Version": {"2018-03-01"}}))
		happyResult(t, "POST /v1/faceid/IdCardVerification", plDo(t, http.MethodPost, s.url+"/v1/faceid/IdCardVerification", plIDCard, nil))
		// The sandbox's invalid-input answer comes through the root too.
		r := plDo(t, http.MethodPost, s.url+"/", `{"IdCard":"110101199003074478","Name":"张三"}`, nil)
		if resp, _ := r.faceID(t); resp["Result"] != "-2" {
			t.Errorf("POST / with a bad check digit: %s, want Result -2", r)
		}
		r = plDo(t, http.MethodPost, s.url+"/nope", plIDCard, nil)
		if _, code := r.faceID(t); r.status != 404 || code != "InvalidAction" {
			t.Errorf("POST /nope: %s, want 404 InvalidAction", r)
		}
		r = plDo(t, http.MethodGet, s.url+"/", "", nil)
		if r.status != 405 || r.header.Get("Allow") != "POST" {
			t.Errorf("GET /: %s, want 405 Allow: POST", r)
		}
		// Another action at the root of this function is not served.
		r = plDo(t, http.MethodPost, s.url+"/", `{"Phone":"13800138000","Name":"张三","IdCard":"110101199003074477"}`, http.Header{
			"X-TC-Action": {"PhoneVerification"}, "X-TC-Version": {"2018-03-01"}})
		if _, code := r.faceID(t); code != "InvalidAction" {
			t.Errorf("PhoneVerification at the root of id-card-verification: %s, want InvalidAction", r)
		}
	})
}

// plInvokeNoFatal runs `bin invoke` on event and returns the HTTP answer
// it printed; safe in goroutines: it reports with Errorf and
// returns a zero plResp on failure.
func plInvokeNoFatal(t *testing.T, bin string, event []byte, env ...string) (r plResp) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "invoke")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, env...)
	cmd.Stdin = bytes.NewReader(event)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("invoke: %v\n%s\n%s", err, out, stderr.String())
		return plResp{}
	}
	var hr struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out, &hr); err != nil || hr.StatusCode == 0 {
		t.Errorf("invoke printed no HTTP answer: %s", out)
		return plResp{}
	}
	body := []byte(hr.Body)
	if hr.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(hr.Body); err != nil {
			t.Error(err)
			return plResp{}
		}
	}
	return plResp{status: hr.StatusCode, body: body}
}
