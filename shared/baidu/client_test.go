package baidu_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/tests/fakes/baidufake"
	"github.com/idverify/idverify/tests/redistest"
)

// backoffs records the waits a client asked for and waits for none, so
// retry tests count calls instead of timing them.
type backoffs struct {
	mu sync.Mutex
	n  []int
}

func (b *backoffs) wait(n int) time.Duration {
	b.mu.Lock()
	b.n = append(b.n, n)
	b.mu.Unlock()
	return 0
}

func newClient(t *testing.T, f *baidufake.Server, mod ...func(*baidu.Config)) *baidu.Client {
	t.Helper()
	cfg := baidu.Config{APIKey: baidufake.DefaultAPIKey, SecretKey: baidufake.DefaultSecretKey, BaseURL: f.URL, Now: f.Now,
		Backoff: (&backoffs{}).wait}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := baidu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func generate(t *testing.T, c *baidu.Client) (string, error) {
	t.Helper()
	out, err := c.Faceprint(context.Background(), "verifyToken/generate", []byte(`{"plan_id":1}`))
	if err != nil {
		return "", err
	}
	var a struct {
		Success bool
		Result  struct {
			VerifyToken string `json:"verify_token"`
		}
	}
	if err := json.Unmarshal(out, &a); err != nil || !a.Success || a.Result.VerifyToken == "" {
		t.Fatalf("generate answered %s", out)
	}
	return a.Result.VerifyToken, nil
}

func baiduCode(err error) int {
	var a *baidu.APIError
	if errors.As(err, &a) {
		return a.Code
	}
	return -1
}

func TestTokenFetchedOnceAndReused(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	for range 3 {
		if _, err := generate(t, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Calls("oauth"); n != 1 {
		t.Errorf("token fetched %d times, want 1", n)
	}
}

func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	if _, err := generate(t, c); err != nil {
		t.Fatal(err)
	}
	// 26 days in: still fresh.
	f.Advance(26 * 24 * time.Hour)
	if _, err := generate(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls("oauth"); n != 1 {
		t.Fatalf("refreshed too early: %d fetches", n)
	}
	// 28 days in: inside the last tenth, so a new token is fetched before
	// Baidu ever refuses the old one.
	f.Advance(2 * 24 * time.Hour)
	if _, err := generate(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls("oauth"); n != 2 {
		t.Errorf("token fetches = %d, want 2", n)
	}
	if n := f.Calls("verifyToken/generate"); n != 3 {
		t.Errorf("generate calls = %d, want 3 (none refused)", n)
	}
}

func TestRevokedTokenRenewedAndRetriedOnce(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	if _, err := generate(t, c); err != nil {
		t.Fatal(err)
	}
	f.Revoke() // 110
	if _, err := generate(t, c); err != nil {
		t.Fatalf("after revoke: %v", err)
	}
	if o, g := f.Calls("oauth"), f.Calls("verifyToken/generate"); o != 2 || g != 3 {
		t.Errorf("oauth=%d generate=%d, want 2 and 3", o, g)
	}
}

func TestExpiredTokenRenewed(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	// The client's clock says the token is fresh; Baidu's says expired (111).
	c := newClient(t, f, func(cfg *baidu.Config) { cfg.Now = time.Now })
	if _, err := generate(t, c); err != nil {
		t.Fatal(err)
	}
	f.Advance(baidufake.TokenLifetime)
	if _, err := generate(t, c); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if o, g := f.Calls("oauth"), f.Calls("verifyToken/generate"); o != 2 || g != 3 {
		t.Errorf("oauth=%d generate=%d, want 2 and 3", o, g)
	}
}

func TestTokenRefusedTwiceIsNotLooped(t *testing.T) {
	for _, code := range []int{110, 111} {
		f := baidufake.Start(t, baidufake.Options{})
		c := newClient(t, f)
		f.FailNext("verifyToken/generate", code, code, code)
		_, err := generate(t, c)
		e := errs.As(err)
		if e == nil || e.Code != "13" || e.Kind != errs.Internal {
			t.Fatalf("%d twice: err = %v", code, err)
		}
		if o, g := f.Calls("oauth"), f.Calls("verifyToken/generate"); o != 2 || g != 2 {
			t.Errorf("%d twice: oauth=%d generate=%d, want 2 and 2", code, o, g)
		}
	}
}

func TestFlowControlRetriedWithBackoff(t *testing.T) {
	for _, code := range []int{2, 4, 18} {
		f := baidufake.Start(t, baidufake.Options{})
		b := &backoffs{}
		c := newClient(t, f, func(cfg *baidu.Config) { cfg.Backoff = b.wait })
		f.FailNext("verifyToken/generate", code, code)
		if _, err := generate(t, c); err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		if g := f.Calls("verifyToken/generate"); g != 3 {
			t.Errorf("%d: calls = %d, want 3", code, g)
		}
		if len(b.n) != 2 || b.n[0] != 1 || b.n[1] != 2 {
			t.Errorf("%d: backoff steps = %v, want [1 2]", code, b.n)
		}
	}
}

func TestFlowControlGivesUpAfterAttempts(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	f.FailNext("result/simple", 18, 18, 18, 18)
	_, err := c.Faceprint(context.Background(), "result/simple", []byte(`{"verify_token":"x"}`))
	if baiduCode(err) != 18 || errs.KindOf(err) != errs.Throttled {
		t.Fatalf("err = %v", err)
	}
	if g := f.Calls("result/simple"); g != 3 {
		t.Errorf("calls = %d, want 3", g)
	}
}

func TestQuotaAndPermissionNeverRetried(t *testing.T) {
	for _, code := range []int{6, 17, 19} {
		f := baidufake.Start(t, baidufake.Options{})
		b := &backoffs{}
		c := newClient(t, f, func(cfg *baidu.Config) { cfg.Backoff = b.wait })
		f.FailNext("verifyToken/generate", code)
		_, err := generate(t, c)
		if baiduCode(err) != code || errs.KindOf(err) != errs.Forbidden {
			t.Errorf("%d: err = %v", code, err)
		}
		var a *baidu.APIError
		if errors.As(err, &a) && !strings.Contains(string(a.Body), `"error_code":`) {
			t.Errorf("%d: Baidu's body not kept: %s", code, a.Body)
		}
		if g := f.Calls("verifyToken/generate"); g != 1 || len(b.n) != 0 {
			t.Errorf("%d: calls = %d, backoffs = %v; want 1 and none", code, g, b.n)
		}
	}
}

func TestBusinessErrorAndOutcomes(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	_, err := c.Faceprint(context.Background(), "verifyToken/generate", []byte(`{"plan_id":"404"}`))
	if baiduCode(err) != baidu.CodePlanNotExist || errs.KindOf(err) != errs.Invalid {
		t.Fatalf("unknown plan: %v", err)
	}
	vt, err := generate(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Complete(vt, baidufake.NameMismatch); err != nil {
		t.Fatal(err)
	}
	// A failed verification is the answer to a result query, not an error.
	out, err := c.Faceprint(context.Background(), "result/simple", []byte(`{"verify_token":"`+vt+`"}`))
	if err != nil || !strings.Contains(string(out), `"code":222351`) {
		t.Fatalf("result/simple = %s, %v", out, err)
	}
}

func TestWrongKeysNeverLeak(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f, func(cfg *baidu.Config) { cfg.SecretKey = "s3cr3t-wrong-key" })
	_, err := generate(t, c)
	e := errs.As(err)
	if e == nil || e.Code != "13" || !strings.Contains(e.Message, "Client authentication failed") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the secret key appears in %q", err)
	}
	// Unreachable: url.Error would quote the URL with the secret key.
	c = newClient(t, f, func(cfg *baidu.Config) { cfg.SecretKey = "s3cr3t-key"; cfg.BaseURL = "http://127.0.0.1:1" })
	_, err = generate(t, c)
	if errs.KindOf(err) != errs.Unavailable || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	for _, cfg := range []baidu.Config{
		{APIKey: "k"},
		{APIKey: "k", SecretKey: "s", BaseURL: "ftp://x"},
		{APIKey: "k", SecretKey: "s", BaseURL: "http://x", RequireHTTPS: true},
		{APIKey: "k", SecretKey: "s", BaseURL: "https://u:p@x"},
	} {
		if _, err := baidu.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestTokenSharedThroughRedis(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	r := redistest.Start(t)
	a := newClient(t, f, func(cfg *baidu.Config) { cfg.Redis = r.Client(t) })
	b := newClient(t, f, func(cfg *baidu.Config) { cfg.Redis = r.Client(t) })
	if _, err := generate(t, a); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(t, b); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls("oauth"); n != 1 {
		t.Fatalf("two instances fetched %d tokens, want 1", n)
	}
	// After a revoke the first instance to notice renews; the other finds
	// the new token in Redis instead of fetching its own.
	f.Revoke()
	if _, err := generate(t, a); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(t, b); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls("oauth"); n != 2 {
		t.Errorf("token fetches = %d, want 2", n)
	}
	ttl := r.Inspect(t).TTL(context.Background(), keyOf(t, r)).Val()
	if ttl < 29*24*time.Hour || ttl > 30*24*time.Hour {
		t.Errorf("cached token TTL = %v, want about 30 days", ttl)
	}
	// A store outage costs a fetch, not the request.
	r.Stop()
	c := newClient(t, f, func(cfg *baidu.Config) { cfg.Redis = r.Client(t) })
	if _, err := generate(t, c); err != nil {
		t.Fatalf("without redis: %v", err)
	}
}

func keyOf(t *testing.T, r *redistest.Server) string {
	keys := r.Inspect(t).Keys(context.Background(), "idv:baidu:token:*").Val()
	if len(keys) != 1 {
		t.Fatalf("token keys = %v", keys)
	}
	if strings.Contains(keys[0], baidufake.DefaultAPIKey) {
		t.Errorf("the API key appears in the Redis key %q", keys[0])
	}
	return keys[0]
}

func TestConcurrentCallsFetchOneToken(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	c := newClient(t, f)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := c.Faceprint(context.Background(), "verifyToken/generate", []byte(`{"plan_id":1}`)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.Calls("oauth"); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}
