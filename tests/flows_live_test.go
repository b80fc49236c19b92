package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idverify/idverify/tests/fakes/baidufake"
	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/fakes/webankfake"
)

// postJSON posts body and returns the decoded answer and the headers.
func postFlowJSON(t *testing.T, url, body string, header ...string) (map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return m, resp.Header
}

// TestFlowsLiveAgainstTheFakes runs the other flows in live mode through
// one real binary: the SDK flows (GetFaceIdToken, faceAdv: no browser, the
// app SDK is played by the fakes) end on the sweep, and Baidu's H5 flow
// runs in Chromium on the Baidu fake's page. Each ends in a signed webhook.
func TestFlowsLiveAgainstTheFakes(t *testing.T) {
	if testing.Short() {
		t.Skip("real binary and browser")
	}
	tc, tcURL := faceidfake.Start(t, faceidfake.Options{})
	wb := webankfake.Start(t, webankfake.Options{})
	bd := baidufake.Start(t, baidufake.Options{})
	rc := newHookReceiver(t, hookSecret, false)
	sh := newShop(t)
	srv := startServer(t, buildBinary(t, "all"),
		"IDV_MODE=live", "TENCENTCLOUD_SECRET_ID="+faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+faceidfake.DefaultSecretKey,
		"IDV_TENCENT_ENDPOINT="+tcURL,
		"IDV_WEBANK_APP_ID="+wb.AppID(), "IDV_WEBANK_SECRET="+wb.Secret(), "IDV_WEBANK_BASE_URL="+wb.URL,
		"BAIDU_API_KEY="+baidufake.DefaultAPIKey, "BAIDU_SECRET_KEY="+baidufake.DefaultSecretKey, "BAIDU_BASE_URL="+bd.URL,
		`IDV_WEBHOOKS=[{"caller":"*","url":"`+rc.srv.URL+`","secret":"`+hookSecret+`"}]`,
		"IDV_FLOW_SWEEP=200ms", "IDV_FLOW_POLL=300ms")

	t.Run("GetFaceIdToken", func(t *testing.T) {
		tc.Program("GetFaceIdResult", faceidfake.Behavior{Result: "0"})
		_, h := postFlowJSON(t, srv.url+"/v1/faceid/GetFaceIdToken", `{"CompareLib":"LIVENESS"}`)
		ev := waitEvent(t, rc, h.Get("X-Idv-Flow-Id"))
		if ev.Type != "flow.succeeded" || ev.Flow.Kind != "sdk" || ev.Flow.ResultAction != "GetFaceIdResult" || !ev.Livemode {
			t.Fatalf("event %+v", ev)
		}
	})

	t.Run("faceAdv", func(t *testing.T) {
		m, h := postFlowJSON(t, srv.url+"/tech/ai/face/faceAdv",
			`{"userId":"user7","type":"authmatch","name":"李四","idNo":"11010519491231002X","extData":{"order":"A-17"}}`)
		res, _ := m["data"].(map[string]any)["result"].(map[string]any)
		flowID := h.Get("X-Idv-Flow-Id")
		if res == nil || flowID == "" {
			t.Fatalf("faceAdv: %v %v", m, h)
		}
		// The app SDK starts with what faceAdv returned, and the person
		// passes.
		launch, _ := json.Marshal(map[string]any{"appId": res["appId"], "orderNo": res["orderNo"], "faceId": res["faceId"],
			"userId": "user7", "version": res["version"], "nonce": res["nonce"], "sign": res["sign"]})
		resp, err := http.Post(wb.URL+"/fake/sdk/launch", "application/json", bytes.NewReader(launch))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := wb.Complete(res["orderNo"].(string), webankfake.Outcome{Code: "0", LiveRate: "99", Similarity: "97.0"}); err != nil {
			t.Fatal(err)
		}
		ev := waitEvent(t, rc, flowID)
		if ev.Type != "flow.succeeded" || ev.Flow.Kind != "faceadv" || string(ev.Flow.ExtData) != `{"order":"A-17"}` {
			t.Fatalf("event %+v %s", ev, ev.Flow.ExtData)
		}
	})

	t.Run("Baidu H5 in Chromium", func(t *testing.T) {
		_, h := postFlowJSON(t, srv.url+"/rpc/2.0/brain/solution/faceprint/verifyToken/generate", `{"plan_id":"1"}`,
			"X-Idv-Redirect", sh.srv.URL+"/done?order=11")
		flowID, ret := h.Get("X-Idv-Flow-Id"), h.Get("X-Idv-Return-Url")
		if flowID == "" || !strings.HasSuffix(ret, "/v1/flows/"+flowID+"/return") {
			t.Fatalf("headers %v", h)
		}
		// The customer builds the page URL as Baidu documents it, with
		// the return route as successUrl and failedUrl.
		flow := getFlow(t, srv.url, flowID)
		tok, _ := flow["token"].(string)
		page := bd.URL + "/face/print/?token=" + tok + "&successUrl=" + url.QueryEscape(ret) + "&failedUrl=" + url.QueryEscape(ret)
		loc := browse(t, browser(t), page, "#fail")
		if q := sh.last(); q.Get("idv_flow") != flowID || q.Get("order") != "11" || !strings.HasPrefix(loc, sh.srv.URL) {
			t.Fatalf("the shop got %v at %s", q, loc)
		}
		ev := waitEvent(t, rc, flowID)
		if ev.Type != "flow.failed" || ev.Flow.Kind != "faceprint" || ev.Flow.ResultAction != "faceprint/result/getall" {
			t.Fatalf("event %+v", ev)
		}
	})
	if t.Failed() {
		t.Log(srv.logs())
	}
}

func getFlow(t *testing.T, base, id string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/v1/flows/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Flow map[string]any }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("flow %s: %d %s", id, resp.StatusCode, b)
	}
	return out.Flow
}
