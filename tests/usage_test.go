package tests

// Per-person limits, caller budgets and usage accounting, black box: two
// instances of the real binary in live mode share a real redis-server and
// the fake FaceID, which counts the calls it processed and billed. A
// repeated identity and a looping caller are driven at concurrency 64
// across both instances; the fake sees no call past either limit, and the
// usage report (scripts/idvusage, and GET /v1/usage) matches the fake's
// own count of billable calls.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/usage"
	faceidfake "github.com/idverify/idverify/tests/fakes/faceid"
	"github.com/idverify/idverify/tests/redistest"
	"github.com/idverify/idverify/tests/runtimes"
)

// idNumber is a valid resident ID number (GB 11643 check digit) that
// differs by seq.
func idNumber(prefix string, seq int) string {
	base := fmt.Sprintf("%s%03d", prefix, seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

type answer struct {
	status int
	header http.Header
	body   string
}

func verify(t *testing.T, url, key, idNo string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/faceid/IdCardVerification",
		strings.NewReader(`{"IdCard":"`+idNo+`","Name":"王五"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// concurrently sends n requests from 64 goroutines, alternating between
// the instances, and returns the answers.
func concurrently(t *testing.T, urls []string, n int, send func(url string, i int) answer) []answer {
	out := make([]answer, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = send(urls[i%len(urls)], i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func countBy(as []answer, status int, code string) int {
	n := 0
	for _, a := range as {
		if a.status == status && strings.Contains(a.body, code) {
			n++
		}
	}
	return n
}

func keyEntry(id, key, extra string) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf(`{"id":%q,"keySha256":%q%s}`, id, hex.EncodeToString(sum[:]), extra)
}

func TestLimitsBudgetsAndUsageReport(t *testing.T) {
	bin := buildBinary(t, "all")
	rs := redistest.Start(t)
	fake, fakeURL := faceidfake.Start(t, faceidfake.Options{})
	const webKey, loopKey, qaKey, opsKey = "key-web-0123456789", "key-loop-0123456789", "key-qa-0123456789", "key-ops-0123456789"
	callersJSON := "[" + strings.Join([]string{
		keyEntry("web", webKey, `,"actions":["IdCardVerification"]`),
		keyEntry("loop", loopKey, `,"actions":["*"]`),
		keyEntry("qa", qaKey, `,"actions":["IdCardVerification"],"test":true`),
		keyEntry("ops", opsKey, `,"actions":["usage"]`),
	}, ",") + "]"
	env := []string{
		"IDV_MODE=live", "IDV_TENCENT_ENDPOINT=" + fakeURL, "IDV_REDIS_URL=" + rs.URL,
		"TENCENTCLOUD_SECRET_ID=" + faceidfake.DefaultSecretID, "TENCENTCLOUD_SECRET_KEY=" + faceidfake.DefaultSecretKey,
		"IDV_STORE_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"IDV_PROVIDER_QPS=off", // the account's QPS is not what is measured here
		"IDV_CALLERS=" + callersJSON,
		"IDV_PERSON_LIMITS=IdCardVerification=5/7",
		`IDV_BUDGETS={"loop":{"day":20,"warn":0.5},"qa":{"day":3}}`,
		`IDV_USAGE_PRICES={"currency":"CNY","perCall":{"IdCardVerification":0.3}}`,
		"IDV_USAGE_METRICS=log",
	}
	a, b := startServer(t, bin, env...), startServer(t, bin, env...)
	urls := []string{a.url, b.url}

	// 1. One person, 64 attempts at once: the fake sees the minute's 5
	// (7 at most, the day's limit, if the minute turned meanwhile).
	person := idNumber("11010119850101", 1)
	start := time.Now().Unix() / 60
	got := concurrently(t, urls, 64, func(url string, _ int) answer { return verify(t, url, webKey, person) })
	sameMinute := time.Now().Unix()/60 == start
	sent := fake.Calls("IdCardVerification")
	if (sameMinute && sent != 5) || sent > 7 {
		t.Fatalf("the provider saw %d calls for one person (limit 5 a minute, 7 a day)", sent)
	}
	limited := countBy(got, 429, "FailedOperation.IdentityAuthLimitExceeded")
	if limited != 64-sent || countBy(got, 200, `"Result"`) != sent {
		t.Fatalf("%d of 64 refused, %d sent", limited, sent)
	}
	for _, x := range got {
		if x.status == 429 && x.header.Get("Retry-After") == "" {
			t.Fatal("a refusal without Retry-After")
		}
	}
	// 8 more, whether or not the minute turned: never past the day's 7.
	for i := 0; i < 8; i++ {
		verify(t, urls[i%2], webKey, person)
	}
	if n := fake.Calls("IdCardVerification"); n > 7 {
		t.Fatalf("the provider saw %d calls for one person past the day's 7", n)
	}
	personCalls := fake.Calls("IdCardVerification")

	// 2. Free answers do not use a budget: 10 "no such record" (-5).
	fake.Program("IdCardVerification", faceidfake.Behavior{Result: "-5"})
	for i := 0; i < 10; i++ {
		if x := verify(t, urls[i%2], loopKey, idNumber("11010119900101", i)); x.status != 200 || !strings.Contains(x.body, `"-5"`) {
			t.Fatalf("free answer %d: %d %s", i, x.status, x.body)
		}
	}
	fake.Program("IdCardVerification", faceidfake.Behavior{})

	// 3. A looping caller, 64 at once against a budget of 20 a day: exactly
	// 20 reach the provider.
	before := fake.Calls("IdCardVerification")
	got = concurrently(t, urls, 64, func(url string, i int) answer { return verify(t, url, loopKey, idNumber("11010119900201", i)) })
	if n := fake.Calls("IdCardVerification") - before; n != 20 {
		t.Fatalf("the provider saw %d calls against a budget of 20", n)
	}
	if n := countBy(got, 429, "LimitExceeded"); n != 44 {
		t.Fatalf("%d refusals over budget, want 44", n)
	}
	// Nearly used: warned once across both instances.
	warned := func(l string) bool { return strings.Count(l, `"msg":"budget nearly used"`) >= 1 }
	if n := strings.Count(logsOnceAll(warned, a, b), `"msg":"budget nearly used"`); n != 1 {
		t.Fatalf("%d budget warnings, want 1", n)
	}

	// 4. A test caller rehearses its budget in the sandbox: 3 of 5 pass,
	// nothing reaches the provider.
	before = fake.TotalCalls()
	var qaOK int
	for i := 0; i < 5; i++ {
		x := verify(t, urls[i%2], qaKey, idNumber("11010119900301", i))
		if x.status == 200 && x.header.Get("X-Idv-Mode") == "sandbox" {
			qaOK++
		}
	}
	if qaOK != 3 || fake.TotalCalls() != before {
		t.Fatalf("sandbox budget: %d passed, provider calls +%d", qaOK, fake.TotalCalls()-before)
	}

	// 5. The report matches the provider's own count of billable calls.
	billable := fake.TotalBillable()
	if billable != personCalls+20 {
		t.Fatalf("the fake billed %d, want %d", billable, personCalls+20)
	}
	tool := filepath.Join(t.TempDir(), "idvusage")
	if out, err := exec.Command("go", "build", "-o", tool, "../scripts/idvusage").CombinedOutput(); err != nil {
		t.Fatalf("build idvusage: %v\n%s", err, out)
	}
	runTool := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tool, args...)
		cmd.Env = []string{"IDV_REDIS_URL=" + rs.URL, `IDV_USAGE_PRICES={"currency":"CNY","perCall":{"IdCardVerification":0.3}}`}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("idvusage %v: %v", args, err)
		}
		return string(out)
	}
	var rep usage.Report
	if err := json.Unmarshal([]byte(runTool("--json")), &rep); err != nil {
		t.Fatal(err)
	}
	checkReport(t, "idvusage --json", &rep, billable, personCalls)

	text := runTool()
	if !strings.Contains(text, "est. cost (CNY)") || !strings.Contains(text, "loop") {
		t.Fatalf("text report:\n%s", text)
	}
	csv := runTool("--csv", "--by", "month", "--caller", "loop")
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.Contains(lines[1], ",loop,IdCardVerification,live,74,20,54,0,6.00,CNY") {
		t.Fatalf("csv report:\n%s", csv)
	}

	// GET /v1/usage: for a caller with the usage permission only.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/v1/usage?by=month", nil)
	req.Header.Set("Authorization", "Bearer "+loopKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("usage for a caller with \"*\": %v %v", resp.StatusCode, err)
	}
	var viaURL usage.Report
	cmd := exec.Command(tool, "--url", b.url, "--json")
	cmd.Env = []string{"IDV_USAGE_KEY=" + opsKey}
	out, err := cmd.Output()
	if err != nil || json.Unmarshal(out, &viaURL) != nil {
		t.Fatalf("idvusage --url: %v %s", err, out)
	}
	checkReport(t, "GET /v1/usage", &viaURL, billable, personCalls)

	// The counts carried in the SCF-style log fields agree.
	logs := logsOnceAll(func(l string) bool { return strings.Count(l, `"msg":"usage"`) >= 64+8+10+64+5 }, a, b)
	if n := strings.Count(logs, `"msg":"usage"`); n != 64+8+10+64+5 {
		t.Fatalf("%d usage log lines, want %d", n, 64+8+10+64+5)
	}

	// Nothing in Redis or the logs leads back to a person.
	c := rs.Inspect(t)
	keys, _ := c.Keys(t.Context(), "*").Result()
	for _, k := range keys {
		v, _ := c.Dump(t.Context(), k).Result()
		if strings.Contains(k+v, person) || strings.Contains(k+v, "19900201") {
			t.Fatalf("an ID number in Redis under %s", k)
		}
	}
	assertNoPII(t, logs, person, idNumber("11010119900201", 0), "王五")
}

// checkReport compares a report with what the test did.
func checkReport(t *testing.T, what string, rep *usage.Report, billable, personCalls int) {
	t.Helper()
	rows := map[string]usage.Row{}
	for _, r := range rep.Rows {
		rows[r.Caller+"/"+r.Mode] = r
	}
	var live usage.Row
	for _, r := range rep.Totals {
		if r.Mode == "live" {
			live = r
		}
	}
	if live.Charged != int64(billable) || live.Uncertain != 0 {
		t.Fatalf("%s: live charged %d (uncertain %d), the provider billed %d", what, live.Charged, live.Uncertain, billable)
	}
	want := map[string][3]int64{ // calls, charged, free
		"web/live":   {72, int64(personCalls), int64(72 - personCalls)},
		"loop/live":  {74, 20, 54},
		"qa/sandbox": {5, 3, 2},
	}
	for k, w := range want {
		r := rows[k]
		if r.Calls != w[0] || r.Charged != w[1] || r.Free != w[2] {
			t.Errorf("%s: %s calls %d charged %d free %d, want %v", what, k, r.Calls, r.Charged, r.Free, w)
		}
	}
	if r := rows["loop/live"]; r.Cost != 6 || r.Codes["-5"] != 10 || r.Codes["LimitExceeded"] != 44 {
		t.Errorf("%s: loop row %+v", what, r)
	}
	if len(rows) != len(want) {
		t.Errorf("%s: rows %v", what, rows)
	}
}

// Past a per-person limit every contract answers its own rate-limit code
// in its own envelope, with Retry-After (functions/all in the sandbox).
func TestPersonLimitsInEveryEnvelope(t *testing.T) {
	srv := startServer(t, buildBinary(t, "all"),
		"IDV_PERSON_LIMITS=faceAdv=1/0,faceprint/result/simple=0/1,IdCardVerification=1/0")
	post := func(path, body string) answer {
		resp, err := http.Post(srv.url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	twice := func(path, body string) answer {
		if first := post(path, body); first.status != 200 {
			t.Fatalf("%s: first call %d %s", path, first.status, first.body)
		}
		second := post(path, body)
		if second.header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After: %v", path, second.header)
		}
		return second
	}
	if x := twice("/v1/faceid/IdCardVerification", `{"IdCard":"110101199003074477","Name":"张三"}`); x.status != 429 ||
		!strings.Contains(x.body, `"Code":"FailedOperation.IdentityAuthLimitExceeded"`) {
		t.Errorf("FaceID: %d %s", x.status, x.body)
	}
	if x := twice("/tech/ai/face/faceAdv", `{"userId":"u1","type":"authmatch","name":"张三","idNo":"110101199003074477"}`); x.status != 200 ||
		!strings.Contains(x.body, `"errcode":42900`) {
		t.Errorf("faceAdv: %d %s", x.status, x.body)
	}
	gen := post("/rpc/2.0/brain/solution/faceprint/verifyToken/generate", `{"plan_id":"1"}`)
	var tok struct {
		Result struct {
			VerifyToken string `json:"verify_token"`
		} `json:"result"`
	}
	if json.Unmarshal([]byte(gen.body), &tok) != nil || tok.Result.VerifyToken == "" {
		t.Fatalf("generate: %s", gen.body)
	}
	if x := twice("/rpc/2.0/brain/solution/faceprint/result/simple", `{"verify_token":"`+tok.Result.VerifyToken+`"}`); x.status != 200 ||
		!strings.Contains(x.body, `"error_code":17`) {
		t.Errorf("faceprint: %d %s", x.status, x.body)
	}
	assertNoPII(t, jsonLines(srv.logs()), "110101199003074477", tok.Result.VerifyToken)
}

// On Lambda every count is also a CloudWatch Embedded Metric Format line:
// the function itself, under the Lambda Runtime API, writes it.
func TestUsageMetricsOnLambdaAreEMF(t *testing.T) {
	target := runtimes.StartLambda(t, runtimes.Build(t, "./functions/id-card-verification"))
	for _, body := range []string{`{"IdCard":"110101199003074477","Name":"王五"}`, `{"IdCard":"110101199003074478","Name":"王五"}`} {
		if o, err := target.Invoke(context.Background(), []byte(body), 5*time.Second); err != nil || o.Failure != nil {
			t.Fatalf("%+v %v", o, err)
		}
	}
	// The lines reach us through a pipe the test copies from, so the
	// second may still be on its way when the invocation returns.
	var emf []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		emf = emf[:0]
		for _, l := range strings.Split(target.Proc.Output(), "\n") {
			var m map[string]any
			if strings.Contains(l, `"_aws"`) && json.Unmarshal([]byte(l), &m) == nil {
				emf = append(emf, m)
			}
		}
		if len(emf) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(emf) != 2 {
		t.Fatalf("%d EMF lines, want 2:\n%s", len(emf), target.Proc.Output())
	}
	aws, _ := emf[0]["_aws"].(map[string]any)
	dirs, _ := aws["CloudWatchMetrics"].([]any)
	if _, ok := aws["Timestamp"].(float64); !ok || len(dirs) != 1 {
		t.Fatalf("not EMF: %v", emf[0])
	}
	d := dirs[0].(map[string]any)
	if d["Namespace"] != "idverify" || len(d["Metrics"].([]any)) != 4 {
		t.Fatalf("directive %v", d)
	}
	// Both answers are the sandbox's: the happy path is charged, the
	// malformed ID number (answered locally) is free.
	if emf[0]["caller"] != "invoke" || emf[0]["mode"] != "sandbox" || emf[0]["charged"] != 1.0 || emf[1]["free"] != 1.0 || emf[1]["code"] != "-2" {
		t.Fatalf("counts %v / %v", emf[0], emf[1])
	}
	assertNoPII(t, target.Proc.Output(), "110101199003074477", "王五")
}
