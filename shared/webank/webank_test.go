package webank_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/webank"
	"github.com/idverify/idverify/tests/fakes/webankfake"
	"github.com/idverify/idverify/tests/redistest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, opts webankfake.Options) (*webankfake.Server, *clock) {
	t.Helper()
	clk := newClock()
	opts.Now = clk.Now
	return webankfake.Start(t, opts), clk
}

func client(t *testing.T, fake *webankfake.Server, clk *clock, mutate ...func(*webank.Config)) *webank.Client {
	t.Helper()
	cfg := webank.Config{AppID: fake.AppID(), Secret: fake.Secret(), BaseURL: fake.URL, Now: clk.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := webank.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSign(t *testing.T) {
	vals := []string{"userID1", "1.0.0", "IDAXXXXX", "ticket", "nonce"}
	sum := sha1.Sum([]byte("1.0.0" + "IDAXXXXX" + "nonce" + "ticket" + "userID1"))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	if got := webank.Sign(vals...); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if webank.Sign("b", "a") != webank.Sign("a", "b") {
		t.Fatal("Sign depends on argument order")
	}
	if vals[0] != "userID1" {
		t.Fatal("Sign reordered its argument")
	}
	n := webank.Nonce()
	if len(n) != 32 || strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" || n == webank.Nonce() {
		t.Fatalf("nonce %q", n)
	}
}

// launch plays the client SDK against the fake.
func launch(t *testing.T, fake *webankfake.Server, orderNo, faceID string, ls *webank.LaunchSign) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"appId": ls.AppID, "userId": ls.UserID, "orderNo": orderNo,
		"faceId": faceID, "nonce": ls.Nonce, "sign": ls.Sign, "version": ls.Version})
	resp, err := http.Post(fake.URL+"/fake/sdk/launch", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.Code
}

func TestFullFlow(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	c := client(t, fake, clk)
	ctx := context.Background()
	res, err := c.GetAdvFaceID(ctx, webank.AdvFaceIDInput{OrderNo: "order1", UserID: "user123", SourcePhoto: "cGhvdG8="})
	if err != nil {
		t.Fatal(err)
	}
	if res.FaceID == "" || res.OrderNo != "order1" || res.BizSeqNo == "" {
		t.Fatalf("result %+v", res)
	}
	ls, err := c.NewLaunchSign(ctx, "user123")
	if err != nil {
		t.Fatal(err)
	}
	if code := launch(t, fake, "order1", res.FaceID, ls); code != "0" {
		t.Fatalf("launch code %s", code)
	}
	// Before the session ends there is no record.
	rec, err := c.QueryFaceRecord(ctx, "order1", "1")
	if err != nil || rec.Code != webankfake.CodeNoRecord {
		t.Fatalf("early query: %+v %v", rec, err)
	}
	if err := fake.Complete("order1", webankfake.Outcome{Code: "0", Msg: "请求成功", LiveRate: "99", Similarity: "97.0", Photo: "UA==", Video: "Vg==", SdkVersion: "1.0", TrtcFlag: "N"}); err != nil {
		t.Fatal(err)
	}
	for getFile, want := range map[string][2]string{"1": {"UA==", "Vg=="}, "2": {"UA==", ""}, "3": {"", "Vg=="}, "": {"", ""}} {
		rec, err := c.QueryFaceRecord(ctx, "order1", getFile)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != "0" || rec.LiveRate != "99" || rec.Similarity != "97.0" || rec.Photo != want[0] || rec.Video != want[1] || rec.SdkVersion != "1.0" || rec.OrderNo != "order1" {
			t.Fatalf("getFile %q: %+v", getFile, rec)
		}
	}
	if n := fake.Calls("/api/oauth2/access_token"); n != 1 {
		t.Fatalf("access_token fetched %d times, want 1", n)
	}
	if n := c.Fetches(); n != 1 {
		t.Fatalf("client counted %d fetches", n)
	}
}

func TestAuthorityModeNeedsNameAndID(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	c := client(t, fake, clk)
	if _, err := c.GetAdvFaceID(context.Background(), webank.AdvFaceIDInput{OrderNo: "o2", UserID: "u"}); err == nil || !strings.Contains(err.Error(), webankfake.CodeParam) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.GetAdvFaceID(context.Background(), webank.AdvFaceIDInput{OrderNo: "o2", UserID: "u", Name: "张三", IDNo: "110101199003074477"}); err != nil {
		t.Fatal(err)
	}
}

func TestWrongSecret(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	c := client(t, fake, clk, func(c *webank.Config) { c.Secret = "nope" })
	_, err := c.GetAdvFaceID(context.Background(), webank.AdvFaceIDInput{OrderNo: "o", UserID: "u", SourcePhoto: "eA=="})
	if err == nil || !strings.Contains(err.Error(), "400101") || strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestRefreshAheadOfExpiry(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	c := client(t, fake, clk)
	ctx := context.Background()
	in := webank.AdvFaceIDInput{OrderNo: "o1", UserID: "u1", SourcePhoto: "eA=="}
	if _, err := c.GetAdvFaceID(ctx, in); err != nil {
		t.Fatal(err)
	}
	clk.Add(19 * time.Minute)
	if _, err := c.GetAdvFaceID(ctx, in); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("/api/oauth2/access_token"); n != 1 {
		t.Fatalf("refreshed before 20 minutes: %d fetches", n)
	}
	clk.Add(2 * time.Minute)
	if _, err := c.GetAdvFaceID(ctx, in); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("/api/oauth2/access_token"); n != 2 {
		t.Fatalf("not refreshed after 21 minutes: %d fetches", n)
	}
}

// TestFakeEnforcesExpiry drives the fake's wire directly: a token and a
// SIGN ticket stop working at their expire_in, and a ticket dies with its
// token.
func TestFakeEnforcesExpiry(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{TokenTTL: 600 * time.Second, SignTTL: 300 * time.Second})
	tok := getJSON(t, fake.URL+"/api/oauth2/access_token?"+url.Values{"appId": {fake.AppID()}, "secret": {fake.Secret()}, "grant_type": {"client_credential"}, "version": {"1.0.0"}}.Encode())
	if tok["code"] != "0" || tok["expire_in"] != "600" {
		t.Fatalf("token: %v", tok)
	}
	ticketURL := func(typ string) string {
		return fake.URL + "/api/oauth2/api_ticket?" + url.Values{"appId": {fake.AppID()}, "access_token": {tok["access_token"].(string)}, "type": {typ}, "version": {"1.0.0"}, "user_id": {"u1"}}.Encode()
	}
	tk := getJSON(t, ticketURL("SIGN"))
	if tk["code"] != "0" {
		t.Fatalf("ticket: %v", tk)
	}
	signTicket := tk["tickets"].([]any)[0].(map[string]any)["value"].(string)
	query := func() string {
		nonce := webank.Nonce()
		body := map[string]string{"appId": fake.AppID(), "version": "1.0.0", "nonce": nonce, "orderNo": "o1",
			"sign": webank.Sign(fake.AppID(), "o1", "1.0.0", signTicket, nonce)}
		return postJSON(t, fake.URL+"/api/v2/base/queryfacerecord?orderNo=o1", body)["code"].(string)
	}
	if code := query(); code != webankfake.CodeNoRecord { // signature accepted, nothing to find
		t.Fatalf("fresh ticket: %s", code)
	}
	// A wrong signature is refused.
	bad := map[string]string{"appId": fake.AppID(), "version": "1.0.0", "nonce": webank.Nonce(), "orderNo": "o1", "sign": strings.Repeat("A", 40)}
	if code := postJSON(t, fake.URL+"/api/v2/base/queryfacerecord?orderNo=o1", bad)["code"]; code != "400101" {
		t.Fatalf("bad sign: %v", code)
	}
	clk.Add(301 * time.Second)
	if code := query(); code != "400101" {
		t.Fatalf("expired SIGN ticket accepted: %s", code)
	}
	if code := getJSON(t, ticketURL("SIGN"))["code"]; code != "0" {
		t.Fatalf("token before expiry: %v", code)
	}
	clk.Add(300 * time.Second)
	if code := getJSON(t, ticketURL("NONCE"))["code"]; code != "400101" {
		t.Fatalf("expired token accepted: %v", code)
	}
	if code := query(); code != "400101" {
		t.Fatalf("ticket outlived its token: %s", code)
	}
}

func TestNonceTicketSingleUseAndExpiry(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	c := client(t, fake, clk)
	ctx := context.Background()
	res, err := c.GetAdvFaceID(ctx, webank.AdvFaceIDInput{OrderNo: "o1", UserID: "u1", SourcePhoto: "eA=="})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := c.NewLaunchSign(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if code := launch(t, fake, "o1", res.FaceID, ls); code != "0" {
		t.Fatalf("first launch: %s", code)
	}
	if code := launch(t, fake, "o1", res.FaceID, ls); code != "400101" {
		t.Fatalf("NONCE ticket reused: %s", code)
	}
	ls2, err := c.NewLaunchSign(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(121 * time.Second)
	if code := launch(t, fake, "o1", res.FaceID, ls2); code != "400101" {
		t.Fatalf("expired NONCE ticket accepted: %s", code)
	}
	forged := *ls2
	forged.UserID = "u2"
	if code := launch(t, fake, "o1", res.FaceID, &forged); code == "0" {
		t.Fatal("a sign for another user was accepted")
	}
}

// TestReplacedTokenGrace: two instances without a shared store. When one
// refreshes, the other's token keeps working for the grace minute, then is
// refused; the client replaces it once and the call succeeds.
func TestReplacedTokenGrace(t *testing.T) {
	fake, clk := setup(t, webankfake.Options{})
	a, b := client(t, fake, clk), client(t, fake, clk)
	ctx := context.Background()
	in := webank.AdvFaceIDInput{OrderNo: "o1", UserID: "u1", SourcePhoto: "eA=="}
	if _, err := b.GetAdvFaceID(ctx, in); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute)
	if _, err := a.GetAdvFaceID(ctx, in); err != nil { // a's fetch starts b's grace minute
		t.Fatal(err)
	}
	clk.Add(30 * time.Second)
	if _, err := b.QueryFaceRecord(ctx, "o1", ""); err != nil {
		t.Fatal(err)
	}
	if b.Fetches() != 1 {
		t.Fatal("b refreshed inside the grace minute")
	}
	clk.Add(31 * time.Second)
	rec, err := b.QueryFaceRecord(ctx, "o1", "")
	if err != nil || rec.Code != webankfake.CodeNoRecord {
		t.Fatalf("after grace: %+v %v", rec, err)
	}
	if b.Fetches() != 2 {
		t.Fatalf("b fetched %d times, want a replacement after the refusal", b.Fetches())
	}
}

// TestTokenSharedThroughRedis: two instances share one store: one fetch
// serves both, refreshes never overlap, and a refresh is seen by the other.
func TestTokenSharedThroughRedis(t *testing.T) {
	rs := redistest.Start(t)
	fake, clk := setup(t, webankfake.Options{TokenDelay: 30 * time.Millisecond})
	rdbA, rdbB := rs.Client(t), rs.Client(t)
	a := client(t, fake, clk, func(c *webank.Config) { c.Redis = rdbA })
	b := client(t, fake, clk, func(c *webank.Config) { c.Redis = rdbB })
	ctx := context.Background()
	run := func(round int) {
		var wg sync.WaitGroup
		errc := make(chan error, 40)
		for i := 0; i < 20; i++ {
			for _, c := range []*webank.Client{a, b} {
				wg.Add(1)
				go func(c *webank.Client, i int) {
					defer wg.Done()
					_, err := c.GetAdvFaceID(ctx, webank.AdvFaceIDInput{OrderNo: "o" + string(rune('a'+round)), UserID: "u1", SourcePhoto: "eA=="})
					errc <- err
				}(c, i)
			}
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	run(0)
	if n := fake.Calls("/api/oauth2/access_token"); n != 1 {
		t.Fatalf("two instances fetched %d tokens, want 1", n)
	}
	if a.Fetches()+b.Fetches() != 1 {
		t.Fatalf("fetches a=%d b=%d", a.Fetches(), b.Fetches())
	}
	clk.Add(21 * time.Minute)
	run(1)
	if n := fake.Calls("/api/oauth2/access_token"); n != 2 {
		t.Fatalf("refresh: %d token fetches, want 2", n)
	}
	if fake.Overlaps() != 0 {
		t.Fatalf("%d concurrent refreshes", fake.Overlaps())
	}
	// Both now sign with the new token: after the grace minute nothing is
	// refused and nobody fetches again.
	clk.Add(61 * time.Second)
	run(2)
	if n := fake.Calls("/api/oauth2/access_token"); n != 2 {
		t.Fatalf("after grace: %d token fetches", n)
	}
	// A changed secret kills every token: the first refusal is answered by
	// one replacement, shared by both.
	fake.Expire()
	clk.Add(time.Second)
	run(3)
	if n := fake.Calls("/api/oauth2/access_token"); n != 3 {
		t.Fatalf("after expiry: %d token fetches, want 3", n)
	}
}

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func postJSON(t *testing.T, u string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
