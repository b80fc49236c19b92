package tests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/fakes/webankfake"
	"github.com/idverify/idverify/tests/redistest"
)

// faceAdvEnvelope is the seed-002 answer as a caller reads it.
type faceAdvEnvelope struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
	Data    struct {
		Status  string         `json:"status"`
		TraceNo string         `json:"traceNo"`
		Result  map[string]any `json:"result"`
	} `json:"data"`
}

func postFaceAdv(t *testing.T, base, path string, body any) faceAdvEnvelope {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer local-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: HTTP %d %s", path, resp.StatusCode, raw)
	}
	var env faceAdvEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s: %s", path, raw)
	}
	return env
}

// TestFaceAdvBinarySandbox builds functions/face-adv and drives it over
// local HTTP with no WeBank credentials: the sandbox answers, validation
// refuses bad input, uri photos to internal addresses are refused after
// resolution, and nothing personal reaches the logs.
func TestFaceAdvBinarySandbox(t *testing.T) {
	bin := buildBinary(t, "face-adv")
	s := startServer(t, bin)
	adv := postFaceAdv(t, s.url, "/tech/ai/face/faceAdv", map[string]any{
		"async": false, "userId": "user123", "type": "authmatch", "name": "李四", "idNo": "11010519491231002X"})
	if adv.Errcode != 0 || adv.Errmsg != "SUCCESS" || adv.Data.Status != "SUCCESS" || adv.Data.TraceNo == "" ||
		adv.Data.Result["faceId"] == nil || adv.Data.Result["sign"] == nil || adv.Data.Result["nonce"] == nil || adv.Data.Result["appId"] == nil {
		t.Fatalf("faceAdv: %+v", adv)
	}
	for _, c := range []struct {
		body map[string]any
		code int
		msg  string
	}{
		{map[string]any{"userId": "user#1", "type": "authmatch", "name": "李四", "idNo": "11010519491231002X"}, 40003, "userId"},
		{map[string]any{"userId": "u1", "type": "match"}, 40003, "sourcePhotoStr is required"},
		{map[string]any{"userId": "u1", "type": "authmatch", "idNo": "11010519491231002X"}, 40003, "name is required"},
		{map[string]any{"userId": "u1", "type": "authmatch", "name": "李四", "idNo": "110105194912310021"}, 40003, "idNo"},
		{map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "uri", "data": "http://127.0.0.1:9/a.jpg"}}, 40004, "non-public"},
		{map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "uri", "data": "http://localhost:9/a.jpg"}}, 40004, "non-public"},
		{map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "uri", "data": "http://10.0.0.8/a.jpg"}}, 40004, "non-public"},
		{map[string]any{"userId": "u1", "type": "match", "sourcePhotoStr": map[string]string{"origin": "uri", "data": "http://169.254.169.254/latest/meta-data/"}}, 40004, "non-public"},
	} {
		env := postFaceAdv(t, s.url, "/tech/ai/face/faceAdv", c.body)
		if env.Errcode != c.code || !strings.Contains(env.Errmsg, c.msg) {
			t.Errorf("%v: %d %s", c.body, env.Errcode, env.Errmsg)
		}
	}
	// face-adv serves only faceAdv.
	if env := postFaceAdv(t, s.url, "/tech/ai/face/faceAdvResult", map[string]any{"orderNo": "o1"}); env.Errcode != 40400 {
		t.Fatalf("faceAdvResult on face-adv: %+v", env)
	}
	// Async in the local server: a goroutine finishes the job; the result
	// is fetched from face-adv-result only when both share Redis, so here
	// the traceNo is only checked for shape.
	async := postFaceAdv(t, s.url, "/tech/ai/face/faceAdv", map[string]any{
		"async": true, "userId": "user123", "type": "match", "sourcePhotoStr": map[string]string{"data": base64.StdEncoding.EncodeToString([]byte("jpeg"))}})
	if async.Errcode != 0 || async.Data.Status != "PROCESSING" || len(async.Data.TraceNo) != 20 {
		t.Fatalf("async: %+v", async)
	}
	time.Sleep(50 * time.Millisecond) // let the request logs flush
	assertNoPII(t, s.logs(), "11010519491231002X", "110105194912310021", "李四")
}

// TestFaceAdvAsyncSurvivesRestart: face-adv accepts an async job and is
// killed in the middle of the WeBank call; face-adv-result, sharing Redis,
// finishes the job when polled, with the same orderNo (one order at WeBank).
func TestFaceAdvAsyncSurvivesRestart(t *testing.T) {
	rs := redistest.Start(t)
	var once sync.Once
	release := make(chan struct{})
	reached := make(chan struct{})
	fake := webankfake.Start(t, webankfake.Options{Hold: func(path string) {
		if path == "/api/server/getAdvFaceId" {
			first := false
			once.Do(func() { first = true; close(reached) })
			if first {
				<-release
			}
		}
	}})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	env := []string{
		"IDV_WEBANK_APP_ID=" + fake.AppID(), "IDV_WEBANK_SECRET=" + fake.Secret(), "IDV_WEBANK_BASE_URL=" + fake.URL,
		"IDV_REDIS_URL=" + rs.URL, "IDV_FACEADV_JOB_LEASE=2s",
	}
	adv := startServer(t, buildBinary(t, "face-adv"), env...)
	accepted := postFaceAdv(t, adv.url, "/tech/ai/face/faceAdv", map[string]any{
		"async": true, "userId": "user123", "type": "authmatch", "name": "李四", "idNo": "11010519491231002X"})
	if accepted.Errcode != 0 || accepted.Data.Status != "PROCESSING" {
		t.Fatalf("accept: %+v", accepted)
	}
	select {
	case <-reached:
	case <-time.After(15 * time.Second):
		t.Fatalf("the job never reached WeBank\n%s", adv.logs())
	}
	// The instance dies mid-call.
	_ = adv.cmd.Process.Kill()
	exit := <-adv.done
	adv.done <- exit // startServer's cleanup waits for it too
	close(release)

	res := startServer(t, buildBinary(t, "face-adv-result"), env...)
	deadline := time.Now().Add(20 * time.Second)
	var got faceAdvEnvelope
	for time.Now().Before(deadline) {
		got = postFaceAdv(t, res.url, "/tech/ai/face/faceAdvResult", map[string]any{"traceNo": accepted.Data.TraceNo})
		if got.Data.Status != "PROCESSING" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got.Errcode != 0 || got.Data.Status != "SUCCESS" || got.Data.TraceNo != accepted.Data.TraceNo || got.Data.Result["faceId"] == nil {
		t.Fatalf("after restart: %+v\n%s", got, res.logs())
	}
	if got.Data.Result["appId"] != fake.AppID() || got.Data.Result["orderNo"] != "FA"+accepted.Data.TraceNo {
		t.Fatalf("result: %+v", got.Data.Result)
	}
	if n := fake.Orders(); n != 1 {
		t.Fatalf("WeBank saw %d orders, want 1", n)
	}
	// The result of the orderNo is then fetched the seed's way.
	if err := fake.Complete("FA"+accepted.Data.TraceNo, webankfake.Outcome{}); err == nil {
		t.Fatal("an order never launched by the SDK was completed")
	}
	byOrder := postFaceAdv(t, res.url, "/tech/ai/face/faceAdvResult", map[string]any{"async": false, "orderNo": "FA" + accepted.Data.TraceNo, "getFile": "2"})
	if byOrder.Errcode != 0 || byOrder.Data.Status != "FAIL" || byOrder.Data.Result["tencentCode"] != webankfake.CodeNoRecord {
		t.Fatalf("by orderNo: %+v", byOrder)
	}
	assertNoPII(t, res.logs(), "11010519491231002X", "李四", fake.Secret())
}
