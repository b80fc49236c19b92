package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The sandbox H5 pages in a real browser: functions/all (the real binary)
// hands out page URLs from DetectAuth, GetEidToken and Baidu's
// verifyToken/generate; headless Chromium opens each, a tester's click
// chooses an outcome, and the browser must land where the provider's page
// would send it, after which the result query answers that outcome.

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browser starts a fresh headless Chromium for t, with the flags this
// closed network needs (no background connections). The flows and the
// sandbox pages are only proven in a browser, so a machine without one
// fails with the install command rather than skipping.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s (Debian: apt-get install -y chromium; .ci/run installs it): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(430, 1200),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// landing is the caller's page the browser is sent back to: a loopback
// server that records what it was asked for.
type landing struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string
}

func newLanding(t *testing.T) *landing {
	l := &landing{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/favicon.ico" {
			l.mu.Lock()
			l.hits = append(l.hits, r.URL.RequestURI())
			l.mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>back</title><p id="landed">back at the caller</p>`)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *landing) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.hits...)
}

// postJSON calls the server and decodes the answer (the FaceID Response
// object, or Baidu's whole answer).
func pagesPost(t *testing.T, s *server, path string, body any) (map[string]any, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
	}
	if r, ok := m["Response"].(map[string]any); ok {
		return r, resp.Header
	}
	return m, resp.Header
}

// clickOutcome opens pageURL, optionally saves a screenshot, clicks the
// outcome's button and waits for the caller's page; it returns where the
// browser landed.
func clickOutcome(t *testing.T, ctx context.Context, pageURL, outcome, screenshot string) string {
	t.Helper()
	button := `button[name="outcome"][value="` + outcome + `"]`
	fail := func(err error) {
		body, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
		t.Fatalf("%s, outcome %s: %v\npage now: %.600s", pageURL, outcome, err, body)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		fail(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(button)); err != nil {
		fail(err)
	}
	var shot []byte
	if screenshot != "" {
		var err error
		if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
			fail(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(button)); err != nil {
		fail(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#landed")); err != nil {
		fail(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		fail(err)
	}
	if screenshot != "" {
		if err := os.WriteFile(screenshot, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", screenshot, len(shot))
	}
	return loc
}

func TestSandboxPagesInChromium(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))
	ctx := browser(t) // after the build: its deadline is the browser's
	back := newLanding(t)

	t.Run("DetectAuth", func(t *testing.T) {
		start, sh := pagesPost(t, s, "/v1/faceid/DetectAuth", map[string]any{"RuleId": "1", "IdCard": "11010519491231002X", "Name": "王小明",
			"RedirectUrl": back.URL + "/detect/back?order=7"})
		tok, pageURL := start["BizToken"].(string), start["Url"].(string)
		if !strings.Contains(pageURL, "/sandbox/h5/detect?token=") || strings.Contains(pageURL, "idverify.invalid") {
			t.Fatalf("DetectAuth Url %q is not the function's own sandbox page", pageURL)
		}
		shot := ""
		if os.Getenv("IDV_UPDATE_SCREENSHOT") == "1" {
			shot = filepath.Join("testdata", "sandbox-h5.png")
		}
		// 6 is 2016 比对相似度未达到通过标准: the face does not match.
		loc := clickOutcome(t, ctx, pageURL, "6", shot)
		// functions/all runs flows: the page's redirect is the flow's return
		// route (with token=, as Tencent's), which sends the browser on to
		// the caller's URL with the flow id only.
		if want := back.URL + "/detect/back?order=7&idv_flow=" + sh.Get("X-Idv-Flow-Id"); loc != want || strings.Contains(loc, url.QueryEscape(tok)) {
			t.Fatalf("landed on %q, want %q", loc, want)
		}
		res, _ := pagesPost(t, s, "/v1/faceid/GetDetectInfoEnhanced", map[string]any{"BizToken": tok, "RuleId": "1", "InfoType": "1"})
		if code := res["Text"].(map[string]any)["ErrCode"]; code != float64(2016) {
			t.Fatalf("GetDetectInfoEnhanced after choosing 2016: ErrCode %v", code)
		}
	})

	t.Run("eID", func(t *testing.T) {
		start, eh := pagesPost(t, s, "/v1/faceid/GetEidToken", map[string]any{"MerchantId": "0NSJ2112211016593", "RedirectUrl": back.URL + "/eid/back"})
		tok, pageURL := start["EidToken"].(string), start["Url"].(string)
		// 6 is the eID plan's 1002 疑似非真人录制: liveness fails.
		loc := clickOutcome(t, ctx, pageURL, "6", "")
		if want := back.URL + "/eid/back?idv_flow=" + eh.Get("X-Idv-Flow-Id"); loc != want {
			t.Fatalf("landed on %q, want %q", loc, want)
		}
		res, _ := pagesPost(t, s, "/v1/faceid/GetEidResult", map[string]any{"EidToken": tok})
		if code := res["Text"].(map[string]any)["ErrCode"]; code != float64(1002) {
			t.Fatalf("GetEidResult after choosing 1002: ErrCode %v", code)
		}
		if st, _ := pagesPost(t, s, "/v1/faceid/CheckEidTokenStatus", map[string]any{"EidToken": tok}); st["Status"] != "finished" {
			t.Fatalf("CheckEidTokenStatus: %v", st)
		}
	})

	t.Run("Baidu", func(t *testing.T) {
		gen, h := pagesPost(t, s, "/rpc/2.0/brain/solution/faceprint/verifyToken/generate", map[string]any{"plan_id": "1",
			"redirect_config": map[string]string{"success_url": back.URL + "/baidu/ok", "failed_url": back.URL + "/baidu/no"}})
		vt := gen["result"].(map[string]any)["verify_token"].(string)
		pageURL := h.Get("X-Idv-Sandbox-Url")
		if !strings.Contains(pageURL, "/sandbox/h5/faceprint?token="+vt+"&successUrl=") {
			t.Fatalf("X-Idv-Sandbox-Url %q", pageURL)
		}
		loc := clickOutcome(t, ctx, pageURL, "0", "")
		if loc != back.URL+"/baidu/ok" {
			t.Fatalf("landed on %q, want the successUrl", loc)
		}
		d, _ := pagesPost(t, s, "/rpc/2.0/brain/solution/faceprint/result/detail", map[string]any{"verify_token": vt})
		if d["success"] != true {
			t.Fatalf("result/detail after passing: %v", d)
		}
		// Another flow that fails lands on failedUrl.
		gen, h = pagesPost(t, s, "/rpc/2.0/brain/solution/faceprint/verifyToken/generate", map[string]any{"plan_id": "1",
			"redirect_config": map[string]string{"success_url": back.URL + "/baidu/ok", "failed_url": back.URL + "/baidu/no"}})
		vt = gen["result"].(map[string]any)["verify_token"].(string)
		if loc := clickOutcome(t, ctx, h.Get("X-Idv-Sandbox-Url"), "2", ""); loc != back.URL+"/baidu/no" {
			t.Fatalf("landed on %q, want the failedUrl", loc)
		}
		if d, _ := pagesPost(t, s, "/rpc/2.0/brain/solution/faceprint/result/detail", map[string]any{"verify_token": vt}); d["code"] != float64(223120) {
			t.Fatalf("result/detail after choosing 223120: %v", d)
		}
	})

	// The caller's page saw exactly the four returns, and no page logged
	// the identity.
	if got := back.got(); len(got) != 4 {
		t.Errorf("the caller's page was reached %d times: %v", len(got), got)
	}
	assertNoPII(t, s.logs(), "11010519491231002X", "王小明")
}
