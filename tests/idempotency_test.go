package tests

// Idempotency, black box: two instances of the real binary in live mode share
// a real redis-server and the fake FaceID (which counts verified, billable
// calls). A retried request, on the same or another instance, gets the first
// answer and the provider sees one call; a concurrent duplicate is told the
// first is in progress; a first attempt that failed before the provider can
// be retried.

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/redistest"
)

func idemPost(t *testing.T, url, key, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/faceid/IdCardVerification", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestIdempotencyAcrossInstancesWithRedis(t *testing.T) {
	bin := buildBinary(t, "all")
	rs := redistest.Start(t)
	fake, fakeURL := faceidfake.Start(t, faceidfake.Options{})
	env := []string{
		"IDV_MODE=live", "IDV_TENCENT_ENDPOINT=" + fakeURL, "IDV_REDIS_URL=" + rs.URL,
		"TENCENTCLOUD_SECRET_ID=" + faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY=" + faceidfake.DefaultSecretKey,
		"IDV_STORE_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	a, b := startServer(t, bin, env...), startServer(t, bin, env...)
	const body = `{"IdCard":"110101199003074477","Name":"张三"}`

	s1, h1, r1 := idemPost(t, a.url, "order-1001", body)
	s2, h2, r2 := idemPost(t, b.url, "order-1001", body)
	if s1 != 200 || s2 != 200 || r1 != r2 {
		t.Fatalf("first %d %s\nretry %d %s", s1, r1, s2, r2)
	}
	if h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay marking: %q %q", h1.Get("Idempotent-Replayed"), h2.Get("Idempotent-Replayed"))
	}
	if n := fake.Calls("IdCardVerification"); n != 1 {
		t.Fatalf("the provider saw %d calls for one key", n)
	}
	// Nothing readable in Redis: the stored answer is sealed.
	c := rs.Inspect(t)
	keys, _ := c.Keys(t.Context(), "*").Result()
	for _, k := range keys {
		v, _ := c.Dump(t.Context(), k).Result()
		if strings.Contains(k+v, "110101199003074477") || strings.Contains(v, "一致") {
			t.Fatalf("personal data in Redis under %s", k)
		}
	}

	// The same key for another request is refused.
	if s, _, r := idemPost(t, a.url, "order-1001", `{"IdCard":"110101199003074477","Name":"李四"}`); s != 409 || !strings.Contains(r, "IdempotencyKeyReused") {
		t.Fatalf("reused key: %d %s", s, r)
	}

	// A concurrent duplicate: the first is held by the provider for a while.
	fake.Program("IdCardVerification", faceidfake.Behavior{Delay: 1500 * time.Millisecond})
	var wg sync.WaitGroup
	var slowStatus int
	wg.Add(1)
	go func() { defer wg.Done(); slowStatus, _, _ = idemPost(t, a.url, "order-1002", body) }()
	deadline := time.Now().Add(5 * time.Second)
	for fake.Calls("IdCardVerification") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s, _, r := idemPost(t, b.url, "order-1002", body)
	wg.Wait()
	if s != 409 || !strings.Contains(r, "IdempotencyInProgress") || slowStatus != 200 {
		t.Fatalf("concurrent duplicate: %d %s (first: %d)", s, r, slowStatus)
	}
	fake.Program("IdCardVerification", faceidfake.Behavior{})

	// A first attempt refused before the provider (missing field) can be
	// retried, corrected, under the same key.
	if s, _, _ := idemPost(t, a.url, "order-1003", `{"Name":"张三"}`); s != 400 {
		t.Fatalf("bad first attempt: %d", s)
	}
	before := fake.Calls("IdCardVerification")
	if s, _, r := idemPost(t, b.url, "order-1003", `{"Name":"张三"}`); s != 400 || strings.Contains(r, "Idempotency") {
		t.Fatalf("retry of a refused attempt: %d %s", s, r)
	}
	if fake.Calls("IdCardVerification") != before {
		t.Fatal("a refused request reached the provider")
	}
	// Bad keys are named.
	if s, _, r := idemPost(t, a.url, strings.Repeat("k", 300), body); s != 400 || !strings.Contains(r, "Idempotency-Key") {
		t.Fatalf("long key: %d %s", s, r)
	}
	assertNoPII(t, jsonLines(a.logs()+b.logs()), "110101199003074477", "张三", "李四")
}
