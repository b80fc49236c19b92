package sandboxh5_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/sandboxflow"
	"github.com/idverify/idverify/shared/sandboxh5"
)

const host = "127.0.0.1:8080"

// server builds functions/all's FaceID, faceprint and page parts over one
// pipeline, as the binary does, with env on top of a sandbox setting.
func server(t *testing.T, env map[string]string) *gateway.Pipeline {
	t.Helper()
	vars := map[string]string{"IDV_PUBLIC_URL": "http://" + host}
	for k, v := range env {
		vars[k] = v
	}
	e := &app.Env{Getenv: func(k string) string { return vars[k] }, Log: slog.New(slog.DiscardHandler)}
	p, _, err := app.BuildAll(context.Background(), e, app.Part{Name: "faceid", Build: app.FaceID()}, faceprint.Part(), sandboxh5.Part())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, p *gateway.Pipeline, method, target string, body string, header map[string]string) reply {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Host": {host}}
	for k, v := range header {
		h.Set(k, v)
	}
	r := p.ServeRequest(context.Background(), &gateway.Request{Method: method, Path: u.Path, RawQuery: u.RawQuery,
		Header: h, Body: []byte(body), SourceIP: "127.0.0.1"})
	return reply{r.Status, r.Header, string(r.Body)}
}

func api(t *testing.T, p *gateway.Pipeline, path string, body any) (map[string]any, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	r := do(t, p, "POST", path, string(b), map[string]string{"Content-Type": "application/json"})
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if resp, ok := m["Response"].(map[string]any); ok {
		return resp, r.header
	}
	return m, r.header
}

// choose posts a choice the way the page's form does, from the page.
func choose(t *testing.T, p *gateway.Pipeline, pageURL, token, outcome string) reply {
	t.Helper()
	form := url.Values{"token": {token}, "outcome": {outcome}}.Encode()
	return do(t, p, "POST", pageURL, form, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"})
}

var buttonRE = regexp.MustCompile(`<button type="submit" name="outcome" value="([^"]*)" data-code="([^"]*)"`)

// buttons are the outcomes a rendered page offers: value -> code.
func buttons(body string) map[string]string {
	out := map[string]string{}
	for _, m := range buttonRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestOutcomesAreTheScenarioTables: every numbered outcome a page offers
// is a row of the sandbox's scenario tables reached by the magic value of
// that number, with the same code and description, and every finished
// result of those tables is offered.
func TestOutcomesAreTheScenarioTables(t *testing.T) {
	for _, tc := range []struct{ kind, issuer, result string }{
		{sandboxflow.KindDetect, "DetectAuth", "GetDetectInfoEnhanced"},
		{sandboxflow.KindEid, "GetEidToken", "GetEidResult"},
	} {
		want := map[string]string{} // magic value -> code and description
		for _, sc := range sandbox.Scenarios() {
			if sc.Action != tc.result || sc.Start == nil || sc.Start.Action != tc.issuer || sc.After != "" ||
				sc.ResultField != "Text.ErrCode" || sc.Result == "null" {
				continue
			}
			want[sc.Value] = sc.Result + " " + sc.Description
		}
		got := map[string]string{}
		for _, o := range sandboxh5.Outcomes(tc.kind) {
			if o.Value == sandboxh5.GiveUp || o.Value == sandboxh5.Leave {
				continue
			}
			n, _ := strconv.Atoi(o.Value)
			value := sandbox.MagicIDCard(n)
			if n == 0 {
				value = sandbox.HappyIDCard
			}
			got[value] = o.Code + " " + o.Description
		}
		if len(want) == 0 || !mapsEqual(got, want) {
			t.Errorf("%s: page outcomes %v, scenario table %v", tc.kind, got, want)
		}
	}
	// Baidu: outcome N is plan_id fail-<Failures[N-1]>, whose result code
	// the faceprint table documents.
	want := map[string]string{}
	for _, sc := range faceprint.Scenarios() {
		if sc.Endpoint == "verifyToken/generate" && sc.ResultCode != nil {
			want[strconv.Itoa(*sc.ResultCode)] = sc.Message
		}
	}
	got := map[string]string{}
	for _, o := range sandboxh5.Outcomes(sandboxflow.KindFaceprint) {
		if o.Value == sandboxh5.GiveUp || o.Value == sandboxh5.Leave {
			continue
		}
		if n, _ := strconv.Atoi(o.Value); n > 0 && strconv.Itoa(faceprint.Failures[n-1].Code) != o.Code {
			t.Errorf("faceprint outcome %s is %s, the table's %d", o.Value, o.Code, faceprint.Failures[n-1].Code)
		}
		got[o.Code] = o.Description
	}
	want["0"] = got["0"] // the table words the pass differently
	if !mapsEqual(got, want) {
		t.Errorf("faceprint: page outcomes %v, scenario table %v", got, want)
	}
	// Every page offers the categories the testers need.
	for _, kind := range []string{sandboxflow.KindDetect, sandboxflow.KindEid, sandboxflow.KindFaceprint} {
		var cats []string
		for _, o := range sandboxh5.Outcomes(kind) {
			cats = append(cats, o.Category)
		}
		for _, c := range []string{"passes", "liveness", "identity", "giveup", "leave"} {
			if !slices.Contains(cats, c) {
				t.Errorf("%s offers no %q outcome", kind, c)
			}
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDetectAuthPage(t *testing.T) {
	p := server(t, nil)
	start, _ := api(t, p, "/v1/faceid/DetectAuth", map[string]any{"RuleId": "1", "RedirectUrl": "https://shop.example/back?order=7",
		"IdCard": sandbox.HappyIDCard, "Name": sandbox.HappyName})
	tok := start["BizToken"].(string)
	pageURL := start["Url"].(string)
	if want := "http://" + host + "/sandbox/h5/detect?token=" + url.QueryEscape(tok); pageURL != want {
		t.Fatalf("Url %q, want %q", pageURL, want)
	}
	// Never opened: the magic value decides, as before.
	res, _ := api(t, p, "/v1/faceid/GetDetectInfoEnhanced", map[string]any{"BizToken": tok, "RuleId": "1", "InfoType": "1"})
	if code := res["Text"].(map[string]any)["ErrCode"]; code != float64(0) {
		t.Fatalf("before the page: ErrCode %v", code)
	}
	pg := do(t, p, "GET", pageURL, "", nil)
	if pg.status != 200 || !strings.Contains(pg.header.Get("Content-Security-Policy"), "form-action 'self' https://shop.example") ||
		pg.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %v", pg.status, pg.header)
	}
	if b := buttons(pg.body); b["6"] != "2016" || b["0"] != "0" || len(b) != 10 {
		t.Fatalf("buttons %v", b)
	}
	// The identity shows masked, never whole.
	if strings.Contains(pg.body, sandbox.HappyIDCard) || !strings.Contains(pg.body, "110***********4477") {
		t.Errorf("the page shows the ID number unmasked or not at all")
	}
	// Opened, not finished: the flow is in progress (every result null).
	res, _ = api(t, p, "/v1/faceid/GetDetectInfoEnhanced", map[string]any{"BizToken": tok, "RuleId": "1", "InfoType": "1"})
	if code, ok := res["Text"].(map[string]any)["ErrCode"]; !ok || code != nil {
		t.Fatalf("opened: ErrCode %v", code)
	}
	r := choose(t, p, pageURL, tok, "6")
	if r.status != 303 || r.header.Get("Location") != "https://shop.example/back?order=7&token="+url.QueryEscape(tok) {
		t.Fatalf("choice: %d %v", r.status, r.header)
	}
	res, _ = api(t, p, "/v1/faceid/GetDetectInfoEnhanced", map[string]any{"BizToken": tok, "RuleId": "1", "InfoType": "1"})
	if code := res["Text"].(map[string]any)["ErrCode"]; code != float64(2016) {
		t.Fatalf("after choosing 2016: ErrCode %v", code)
	}
	// The same choice again is the same answer; another one is refused.
	if r := choose(t, p, pageURL, tok, "6"); r.status != 303 {
		t.Errorf("same choice again: %d", r.status)
	}
	if r := choose(t, p, pageURL, tok, "0"); r.status != 409 || !strings.Contains(r.body, "already finished") {
		t.Errorf("another choice: %d %s", r.status, r.body)
	}
	// The page of a finished flow says so.
	if r := do(t, p, "GET", pageURL, "", nil); r.status != 200 || !strings.Contains(r.body, `id="finished"`) {
		t.Errorf("finished page: %d", r.status)
	}
}

func TestGiveUpAndLeave(t *testing.T) {
	p := server(t, nil)
	for _, choice := range []string{sandboxh5.GiveUp, sandboxh5.Leave} {
		start, _ := api(t, p, "/v1/faceid/GetEidToken", map[string]any{"MerchantId": "m1", "RedirectUrl": "https://shop.example/eid"})
		tok, pageURL := start["EidToken"].(string), start["Url"].(string)
		if !strings.HasPrefix(pageURL, "http://"+host+"/sandbox/h5/eid?token=") {
			t.Fatalf("eID Url %q", pageURL)
		}
		do(t, p, "GET", pageURL, "", nil)
		r := choose(t, p, pageURL, tok, choice)
		if choice == sandboxh5.GiveUp && (r.status != 303 || r.header.Get("Location") != "https://shop.example/eid?token="+url.QueryEscape(tok)) {
			t.Fatalf("give up: %d %v", r.status, r.header)
		}
		if choice == sandboxh5.Leave && (r.status != 200 || r.header.Get("Location") != "" || !strings.Contains(r.body, `id="left"`)) {
			t.Fatalf("leave: %d %v", r.status, r.header)
		}
		st, _ := api(t, p, "/v1/faceid/CheckEidTokenStatus", map[string]any{"EidToken": tok})
		if st["Status"] != "doing" {
			t.Errorf("%s: Status %v, want doing", choice, st["Status"])
		}
	}
	// A choice of eID ends the flow with it.
	start, _ := api(t, p, "/v1/faceid/GetEidToken", map[string]any{"MerchantId": "m1", "RedirectUrl": "https://shop.example/eid"})
	tok, pageURL := start["EidToken"].(string), start["Url"].(string)
	do(t, p, "GET", pageURL, "", nil)
	outs := sandboxh5.Outcomes(sandboxflow.KindEid)
	var liveness sandboxh5.Outcome
	for _, o := range outs {
		if o.Category == "liveness" {
			liveness = o
			break
		}
	}
	choose(t, p, pageURL, tok, liveness.Value)
	res, _ := api(t, p, "/v1/faceid/GetEidResult", map[string]any{"EidToken": tok})
	if code := res["Text"].(map[string]any)["ErrCode"]; strconv.Itoa(int(code.(float64))) != liveness.Code {
		t.Errorf("eID after choosing %s: ErrCode %v", liveness.Code, code)
	}
}

func TestFaceprintPage(t *testing.T) {
	p := server(t, nil)
	gen, h := api(t, p, "/rpc/2.0/brain/solution/faceprint/verifyToken/generate", map[string]any{"plan_id": "1",
		"redirect_config": map[string]string{"success_url": "https://shop.example/ok", "failed_url": "https://shop.example/no?x=1"}})
	vt := gen["result"].(map[string]any)["verify_token"].(string)
	pageURL := h.Get(faceprint.PageURLHeader)
	want := "http://" + host + "/sandbox/h5/faceprint?token=" + vt + "&successUrl=" + url.QueryEscape("https://shop.example/ok") +
		"&failedUrl=" + url.QueryEscape("https://shop.example/no?x=1")
	if pageURL != want {
		t.Fatalf("page URL %q, want %q", pageURL, want)
	}
	submit := map[string]any{"verify_token": vt, "id_name": "王小明", "id_no": sandbox.HappyIDCard}
	if r, _ := api(t, p, "/rpc/2.0/brain/solution/faceprint/idcard/submit", submit); r["success"] != true {
		t.Fatalf("submit: %v", r)
	}
	pg := do(t, p, "GET", pageURL, "", nil)
	if pg.status != 200 || !strings.Contains(pg.header.Get("Content-Security-Policy"), "https://shop.example") {
		t.Fatalf("page: %d %v", pg.status, pg.header)
	}
	if strings.Contains(pg.body, sandbox.HappyIDCard) || !strings.Contains(pg.body, "110***********4477") || !strings.Contains(pg.body, "王**") {
		t.Errorf("the page does not show the submitted identity masked")
	}
	// In progress: getall reports no verification yet.
	ga, _ := api(t, p, "/rpc/2.0/brain/solution/faceprint/result/getall", map[string]any{"verify_token": vt})
	if ga["result"].(map[string]any)["verify_count"] != float64(0) {
		t.Errorf("in progress getall: %v", ga)
	}
	r := choose(t, p, pageURL, vt, "2") // Failures[1]: 223120 活体检测未通过
	if r.status != 303 || r.header.Get("Location") != "https://shop.example/no?x=1" {
		t.Fatalf("choice: %d %v", r.status, r.header)
	}
	d, _ := api(t, p, "/rpc/2.0/brain/solution/faceprint/result/detail", map[string]any{"verify_token": vt})
	if d["code"] != float64(223120) || d["success"] != false {
		t.Errorf("detail after choosing 223120: %v", d)
	}
	ga, _ = api(t, p, "/rpc/2.0/brain/solution/faceprint/result/getall", map[string]any{"verify_token": vt})
	row := ga["result"].(map[string]any)["verify_result"].([]any)[0].(map[string]any)
	if c := row["idcard_confirm"].(map[string]any); c["name"] != "王**" || c["idcard_number"] != "110***********4477" || row["code"] != "223120" {
		t.Errorf("getall: %v", row)
	}
	// Verified: no more submit or upload (seed 004).
	if r, _ := api(t, p, "/rpc/2.0/brain/solution/faceprint/idcard/submit", submit); r["code"] != float64(faceprint.CodeVerifyTokenInvalid) {
		t.Errorf("submit after the flow: %v", r)
	}
}

func TestRefusals(t *testing.T) {
	p := server(t, nil)
	start, _ := api(t, p, "/v1/faceid/DetectAuth", map[string]any{"RuleId": "1"})
	tok := start["BizToken"].(string)
	for name, tc := range map[string]struct {
		method, target, body string
		header               map[string]string
		status               int
	}{
		"not a sandbox token":  {"GET", "/sandbox/h5/detect?token=AAAA-live-token", "", nil, 404},
		"no token":             {"GET", "/sandbox/h5/detect", "", nil, 404},
		"eID page, biz token":  {"GET", "/sandbox/h5/eid?token=" + tok, "", nil, 404},
		"faceprint, biz token": {"GET", "/sandbox/h5/faceprint?token=" + tok, "", nil, 404},
		"unknown page":         {"GET", "/sandbox/h5/nope", "", nil, 404},
		"method":               {"PUT", "/sandbox/h5/detect?token=" + tok, "", nil, 405},
		"cross-site origin": {"POST", "/sandbox/h5/detect", "token=" + tok + "&outcome=0",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}, 403},
		"cross-site fetch": {"POST", "/sandbox/h5/detect", "token=" + tok + "&outcome=0",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"}, 403},
		"unknown outcome": {"POST", "/sandbox/h5/detect", "token=" + tok + "&outcome=99",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400},
		"not a form": {"POST", "/sandbox/h5/detect", `{"token":"` + tok + `"}`,
			map[string]string{"Content-Type": "application/json"}, 400},
		"bad form": {"POST", "/sandbox/h5/detect", "token=%zz",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400},
	} {
		r := do(t, p, tc.method, tc.target, tc.body, tc.header)
		if r.status != tc.status || !strings.HasPrefix(r.body, "<!doctype html>") || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: %d %v %.80s", name, r.status, r.header, r.body)
		}
	}
	// Odd input never breaks a page.
	for _, q := range []string{"token=" + strings.Repeat("sandbox-", 400), "token=%E2%80%8B", "token=sandbox-biz-1-00-n-0-0-0",
		"token=sb00", "token=" + tok + "&token=x", "successUrl=javascript:alert(1)&token=sb" + strings.Repeat("0", 24)} {
		for _, page := range []string{"detect", "eid", "faceprint"} {
			r := do(t, p, "GET", "/sandbox/h5/"+page+"?"+q, "", nil)
			if r.status >= 500 || strings.Contains(r.body, "javascript:") {
				t.Errorf("%s?%.60s: %d", page, q, r.status)
			}
			for _, o := range []string{"-1", "007", "", "leave", "giveup"} {
				if r := choose(t, p, "/sandbox/h5/"+page+"?"+q, "sb"+strings.Repeat("1", 24), o); r.status >= 500 {
					t.Errorf("%s choose %q: %d", page, o, r.status)
				}
			}
		}
	}
	// The style and script are served, public.
	for _, a := range []string{"/sandbox/h5/page.css", "/sandbox/h5/page.js"} {
		if r := do(t, p, "GET", a, "", nil); r.status != 200 || len(r.body) == 0 {
			t.Errorf("%s: %d", a, r.status)
		}
	}
}

// TestNotServedWhenEverythingIsLive: a live deployment with no test caller
// issues no sandbox token, so it serves no page.
func TestNotServedWhenEverythingIsLive(t *testing.T) {
	p := server(t, map[string]string{"IDV_MODE": "live", "TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "k",
		faceprint.EnvAPIKey: "a", faceprint.EnvSecretKey: "b"})
	r := do(t, p, "GET", "/sandbox/h5/detect?token=x", "", nil)
	if r.status != 404 || !strings.Contains(r.body, "not served here") {
		t.Errorf("live: %d %s", r.status, r.body)
	}
}
