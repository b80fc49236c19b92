// Command load fires N FaceID requests at concurrency C against the local
// server and prints throughput, latency percentiles, errors by class and,
// when it runs the fake itself, how many calls the fake FaceID billed.
//
// By default it starts the fake FaceID (tests/fakes/faceid, which verifies
// every TC3 signature) in this process, builds functions/all and runs it in
// live mode against the fake on a free loopback port:
//
//	go run ./scripts/load -n 2000 -c 32
//	go run ./scripts/load -action PhoneVerification
//	go run ./scripts/load -mix busy=0.1,throttle=0.05,reset=0.01
//	go run ./scripts/load -url http://127.0.0.1:8080 -key "$IDV_KEY"
//
// With -url it loads an already-running server instead (no fake, no billing
// count). Progress goes to stderr, the report to stdout.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/tencent"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// bodies are valid requests (they pass every local check) for the actions
// the script knows; -body covers the others.
var bodies = map[string]string{
	"IdCardVerification":     `{"IdCard":"440304198506121230","Name":"李四"}`,
	"PhoneVerification":      `{"IdCard":"440304198506121230","Name":"李四","Phone":"13800138000"}`,
	"BankCard2EVerification": `{"Name":"李四","BankCard":"6222020000000000000"}`,
	"BankCard4EVerification": `{"Name":"李四","BankCard":"6222020000000000000","Phone":"13800138000","IdCard":"440304198506121230"}`,
	"MobileStatus":           `{"Mobile":"13800138000"}`,
	"GetLiveCode":            `{}`,
	"GetActionSequence":      `{}`,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type config struct {
	n, c    int
	action  string
	body    string
	url     string
	bin     string
	mix     string
	key     string
	timeout time.Duration
}

func realMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var cfg config
	fs.IntVar(&cfg.n, "n", 2000, "number of requests")
	fs.IntVar(&cfg.c, "c", 32, "concurrent requests")
	fs.StringVar(&cfg.action, "action", "IdCardVerification", "FaceID action to call")
	fs.StringVar(&cfg.body, "body", "", "request JSON (default: valid values for -action)")
	fs.StringVar(&cfg.url, "url", "", "load this running server instead of starting the fake and functions/all")
	fs.StringVar(&cfg.bin, "bin", "", "run this functions/all binary instead of building one")
	fs.StringVar(&cfg.mix, "mix", "", "fake FaceID faults, e.g. busy=0.1,throttle=0.05,reset=0.01 (also 5xx, malformed)")
	fs.StringVar(&cfg.key, "key", "", "API key, sent as Authorization: Bearer <key>")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.n < 1 || cfg.c < 1 {
		return errors.New("-n and -c must be at least 1")
	}
	if cfg.body == "" {
		b, ok := bodies[cfg.action]
		if !ok {
			known := make([]string, 0, len(bodies))
			for a := range bodies {
				known = append(known, a)
			}
			sort.Strings(known)
			return fmt.Errorf("-action %s: give its request with -body (built-in bodies: %s)", cfg.action, strings.Join(known, ", "))
		}
		cfg.body = b
	}
	if !json.Valid([]byte(cfg.body)) {
		return errors.New("-body is not valid JSON")
	}

	var f *fake.Server
	if cfg.mix != "" && cfg.url != "" {
		return errors.New("-mix programs the in-process fake FaceID: it cannot be used with -url")
	}
	if cfg.url == "" {
		f = fake.New(fake.Options{})
		if err := program(f, cfg); err != nil {
			return err
		}
		upstream := httptest.NewServer(f)
		defer upstream.Close()
		srv, err := startLocal(ctx, upstream.URL, cfg.bin)
		if err != nil {
			return err
		}
		defer srv.stop()
		cfg.url = srv.url
		fmt.Fprintf(os.Stderr, "load: functions/all (live) at %s, fake FaceID at %s\n", srv.url, upstream.URL)
	}

	res := run(ctx, cfg)
	res.print(os.Stdout, cfg, f)
	return nil
}

// program queues -mix's faults on the fake: each upstream call (retries
// included) meets a fault with the given probability.
func program(f *fake.Server, cfg config) error {
	if cfg.mix == "" {
		return nil
	}
	type fault struct {
		p float64
		b fake.Behavior
	}
	var faults []fault
	total := 0.0
	for _, item := range strings.Split(cfg.mix, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		p, err := strconv.ParseFloat(val, 64)
		if err != nil || p < 0 || p > 1 {
			return fmt.Errorf("-mix %q: want name=probability between 0 and 1", item)
		}
		var b fake.Behavior
		switch name {
		case "busy":
			codes := tencent.BusyCodes(cfg.action)
			if len(codes) == 0 {
				return fmt.Errorf("-mix busy: %s has no free busy result code", cfg.action)
			}
			b = fake.Behavior{Result: codes[0]}
		case "throttle":
			b = fake.Behavior{ErrorCode: "RequestLimitExceeded", ErrorMessage: "rate limited (load test)"}
		case "reset":
			b = fake.Behavior{Fault: fake.ResetAfterRead}
		case "5xx":
			b = fake.Behavior{Status: http.StatusBadGateway, Body: []byte("bad gateway")}
		case "malformed":
			b = fake.Behavior{Fault: fake.Malformed}
		default:
			return fmt.Errorf("-mix %q: faults are busy, throttle, reset, 5xx, malformed", name)
		}
		total += p
		faults = append(faults, fault{p, b})
	}
	if total > 1 {
		return errors.New("-mix: probabilities add up to more than 1")
	}
	// Retries make more upstream calls than requests; beyond the queue the
	// fake answers normally.
	queue := make([]fake.Behavior, cfg.n*tencent.MaxAttempts)
	for i := range queue {
		x := rand.Float64()
		for _, fl := range faults {
			if x < fl.p {
				queue[i] = fl.b
				break
			}
			x -= fl.p
		}
	}
	f.Queue(cfg.action, queue...)
	return nil
}

// local is functions/all running against the fake.
type local struct {
	cmd  *exec.Cmd
	url  string
	tail *tailBuffer
	done chan struct{}
}

func (l *local) stop() {
	_ = l.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.done:
	case <-time.After(5 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.done
	}
}

// startLocal runs functions/all (bin, or built now when bin is empty) in
// live mode against the fake at upstream on a free loopback port.
func startLocal(ctx context.Context, upstream, bin string) (*local, error) {
	dir, err := os.MkdirTemp("", "idv-load-")
	if err != nil {
		return nil, err
	}
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		bin = filepath.Join(dir, "all")
		fmt.Fprintln(os.Stderr, "load: building functions/all ...")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./functions/all")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("go build ./functions/all: %v\n%s", err, out)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT="+port,
		"IDV_MODE=live",
		// The per-action admission would answer RequestLimitExceeded at
		// FaceID's default QPS; this measures the function, not the quota.
		"IDV_PROVIDER_QPS=off",
		// Every request checks the same person: the per-person limit
		// (1000 a day for IdCardVerification) would refuse past it.
		"IDV_PERSON_LIMITS=off",
		"TENCENTCLOUD_SECRET_ID="+fake.DefaultSecretID,
		"TENCENTCLOUD_SECRET_KEY="+fake.DefaultSecretKey,
		"IDV_TENCENT_ENDPOINT="+upstream,
	)
	tail := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l := &local{cmd: cmd, url: "http://127.0.0.1:" + port, tail: tail, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); os.RemoveAll(dir); close(l.done) }()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(l.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return l, nil
			}
		}
		select {
		case <-l.done:
			return nil, fmt.Errorf("functions/all exited at start:\n%s", tail)
		case <-ctx.Done():
			l.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	l.stop()
	return nil, fmt.Errorf("functions/all did not become ready:\n%s", tail)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the idverify module (go run ./scripts/load)")
	}
	return filepath.Dir(mod), nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

// tailBuffer keeps the last max bytes of a process's output.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// results of one run.
type results struct {
	latencies []time.Duration // successful or not, every answered request
	errors    map[string]int  // class -> count
	elapsed   time.Duration
	sent      int
}

func run(ctx context.Context, cfg config) *results {
	client := &http.Client{
		Timeout: cfg.timeout,
		Transport: &http.Transport{
			MaxIdleConns: cfg.c, MaxIdleConnsPerHost: cfg.c, IdleConnTimeout: 30 * time.Second,
		},
	}
	target := strings.TrimSuffix(cfg.url, "/") + "/v1/faceid/" + cfg.action
	body := []byte(cfg.body)

	var next, finished atomic.Int64
	lat := make([][]time.Duration, cfg.c)
	errc := make([]map[string]int, cfg.c)
	stopProgress := progress(cfg.n, &finished)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range cfg.c {
		errc[w] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && next.Add(1) <= int64(cfg.n) {
				t0 := time.Now()
				class := once(ctx, client, cfg.action, target, cfg.key, body)
				d := time.Since(t0)
				finished.Add(1)
				if !strings.HasPrefix(class, "transport") {
					lat[w] = append(lat[w], d)
				}
				if class != "" {
					errc[w][class]++
				}
			}
		}()
	}
	wg.Wait()
	r := &results{elapsed: time.Since(start), errors: map[string]int{}, sent: int(finished.Load())}
	stopProgress()
	for w := range cfg.c {
		r.latencies = append(r.latencies, lat[w]...)
		for k, v := range errc[w] {
			r.errors[k] += v
		}
	}
	slices.Sort(r.latencies)
	return r
}

// once sends one request and returns "" on success or the error class: the
// HTTP status and FaceID error code, or the transport failure.
func once(ctx context.Context, client *http.Client, action, url, key string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "transport: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "transport: timeout"
		}
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, so failures group by cause
		}
		return "transport: " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "transport: body: " + err.Error()
	}
	var env struct {
		Response map[string]json.RawMessage
	}
	_ = json.Unmarshal(b, &env)
	var e struct{ Code string }
	_ = json.Unmarshal(env.Response["Error"], &e)
	if resp.StatusCode == http.StatusOK && e.Code == "" {
		// A free business result (busy, no record...) is an answer, but
		// one FaceID does not bill: counted apart so billing adds up.
		if a, ok := faceid.Lookup(action); ok && a.ResultField != "" {
			var code string
			if json.Unmarshal(env.Response[a.ResultField], &code) == nil {
				if r, ok := a.Result(code); ok && !r.Charged {
					return "HTTP 200 free result " + code
				}
			}
		}
		return ""
	}
	code := e.Code
	if code == "" {
		code = "(no FaceID error)"
	}
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, code)
}

// progress prints how far the run is, once a second, on stderr.
func progress(n int, finished *atomic.Int64) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(os.Stderr, "load: %d/%d done in %.1fs\n", finished.Load(), n, time.Since(start).Seconds())
				return
			case <-t.C:
				f := finished.Load()
				fmt.Fprintf(os.Stderr, "load: %d/%d (%.0f req/s)\n", f, n, float64(f)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (r *results) print(w io.Writer, cfg config, f *fake.Server) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	errTotal := 0
	for k, v := range r.errors {
		if !strings.HasPrefix(k, "HTTP 200") {
			errTotal += v
		}
	}
	fmt.Fprintf(bw, "target       %s (%s)\n", cfg.url, cfg.action)
	fmt.Fprintf(bw, "requests     %d sent, concurrency %d, %.2fs\n", r.sent, cfg.c, r.elapsed.Seconds())
	fmt.Fprintf(bw, "throughput   %.0f req/s\n", float64(r.sent)/r.elapsed.Seconds())
	if len(r.latencies) > 0 {
		fmt.Fprintf(bw, "latency      p50 %s  p90 %s  p99 %s  max %s\n",
			ms(pct(r.latencies, 50)), ms(pct(r.latencies, 90)), ms(pct(r.latencies, 99)), ms(r.latencies[len(r.latencies)-1]))
	}
	fmt.Fprintf(bw, "errors       %d (answers by class below; HTTP 200 lines are free results, not errors)\n", errTotal)
	classes := make([]string, 0, len(r.errors))
	for k := range r.errors {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	for _, k := range classes {
		fmt.Fprintf(bw, "  %6d  %s\n", r.errors[k], k)
	}
	if f != nil {
		fmt.Fprintf(bw, "fake FaceID  %d calls, %d billable\n", f.TotalCalls(), f.TotalBillable())
		// Each request may be billed once at most: when it got a charged
		// answer, or failed after its call may have been processed (502).
		answered, ambiguous := r.sent, 0
		for k, v := range r.errors {
			answered -= v
			if strings.HasPrefix(k, "HTTP 502") {
				ambiguous += v
			}
		}
		verdict := "ok: nothing billed twice"
		if f.TotalBillable() > answered+ambiguous {
			verdict = "DOUBLE BILLING"
		}
		fmt.Fprintf(bw, "billing      %d charged answers + %d ambiguous failures = %d >= %d billable: %s\n",
			answered, ambiguous, answered+ambiguous, f.TotalBillable(), verdict)
	}
}

// pct is the p-th percentile of sorted (nearest rank).
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
