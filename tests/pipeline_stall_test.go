//go:build unix

package tests

// An Idempotency-Key through the whole pipeline while Redis stalls: the
// real functions/all in live mode against the fake FaceID (which counts
// billable calls), sharing a real redis-server that is paused (SIGSTOP)
// and resumed (SIGCONT). A request that failed in the store never reached
// the provider, so its key must become usable again within the claim
// lease: "in progress" for a while at most, never "outcome unknown", and
// the provider billed once.

import (
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/redistest"
)

// redisPID is the process id of a redistest server, from INFO server.
func redisPID(t *testing.T, rs *redistest.Server) int {
	t.Helper()
	info, err := rs.Inspect(t).Info(t.Context(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if pid, err := strconv.Atoi(v); err == nil && pid > 0 {
				return pid
			}
		}
	}
	t.Fatal("INFO server has no process_id")
	return 0
}

func TestPipelineIdempotencyRedisStall(t *testing.T) {
	bin := buildBinary(t, "all")
	rs := redistest.Start(t)
	pid := redisPID(t, rs)
	stopped := false
	resume := func() {
		if stopped {
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Error(err)
			}
			stopped = false
		}
	}
	// Registered after redistest's cleanup, so it runs first: never leave
	// a stopped server behind.
	t.Cleanup(resume)

	fake, fakeURL := faceidfake.Start(t, faceidfake.Options{})
	s := startServer(t, bin, "IDV_MODE=live", "IDV_TENCENT_ENDPOINT="+fakeURL, "IDV_REDIS_URL="+rs.URL,
		"TENCENTCLOUD_SECRET_ID="+faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY="+faceidfake.DefaultSecretKey,
		"IDV_STORE_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	url := s.url + "/v1/faceid/IdCardVerification"

	// Warm the store's connections with another key.
	if r := plDo(t, http.MethodPost, url, plIDCard, http.Header{"Idempotency-Key": {"stall-warm"}}); r.status != 200 {
		t.Fatalf("warm-up: %s", r)
	}
	base := fake.Billable("IdCardVerification")
	calls := fake.Calls("IdCardVerification")

	const key = "stall-order-1"
	hdr := http.Header{"Idempotency-Key": {key}}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped = true
	start := time.Now()
	r := plDo(t, http.MethodPost, url, plIDCard, hdr)
	stalled := time.Since(start)
	resume()
	t.Logf("request while Redis was stopped: %s in %v", r, stalled.Round(time.Millisecond))
	if resp, code := r.faceID(t); r.status < 500 || code == "" || resp["Result"] != nil {
		t.Fatalf("request while Redis was stopped: %s, want a 5xx error", r)
	}
	if n := fake.Calls("IdCardVerification"); n != calls {
		t.Fatalf("the provider was called %d times while the idempotency store was stopped", n-calls)
	}

	// Retry the key: "in progress" (a claim the stalled store applied late)
	// is allowed until the claim lease (15 s) passes; OutcomeUnknown never.
	retryStart := time.Now()
	deadline := retryStart.Add(20 * time.Second)
	var inProgress, unavailable int
	for {
		r = plDo(t, http.MethodPost, url, plIDCard, hdr)
		_, code := r.faceID(t)
		if r.status == 200 {
			break
		}
		switch {
		case code == "IdempotencyOutcomeUnknown":
			t.Fatalf("retry %v after the stall: %s: the key is lost although nothing was sent", time.Since(retryStart).Round(time.Millisecond), r)
		case r.status == 409 && code == "IdempotencyInProgress":
			inProgress++
		case r.status >= 500:
			unavailable++ // the store reconnecting
		default:
			t.Fatalf("retry after the stall: %s", r)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer for the key within 20 s of the stall (%d in progress, %d unavailable): %s", inProgress, unavailable, r)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the key answered 200 %v after Redis resumed (%d in-progress and %d unavailable answers before)",
		time.Since(retryStart).Round(time.Millisecond), inProgress, unavailable)
	if resp, _ := r.faceID(t); resp["Result"] != "0" || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first answer for the key: %s %v", r, r.header)
	}
	// Replayed from now on, and billed once.
	again := plDo(t, http.MethodPost, url, plIDCard, hdr)
	if again.status != 200 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("retry after the answer: %s %v", again, again.header)
	}
	if n := fake.Billable("IdCardVerification") - base; n != 1 {
		t.Fatalf("the provider billed %d calls for one key", n)
	}
}
