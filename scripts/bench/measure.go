package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// The request every timing sends: valid, so it passes every local check
// and reaches FaceID (the same body as scripts/load).
const idCardBody = `{"IdCard":"440304198506121230","Name":"李四"}`

// results are the raw samples of one run.
type results struct {
	ColdIDV, ColdPeer       []time.Duration
	ColdRSSIDV, ColdRSSPeer []int64
	TputIDV, TputPeer       []float64 // requests per second, one per round
	CPUIDV, CPUPeer         []float64 // server CPU µs per request, one per round
	BodyRSSIDV, BodyRSSPeer []int64
	WarmRequests            [2]int // answered requests, idverify and peer
	WarmErrors              [2]int
	LogBytesPerRequest      float64 // idverify's output per warm request
	FakeCalls               int     // signed calls the fake FaceID answered
}

// bench holds what every measurement shares.
type bench struct {
	o        *options
	bins     *binaries
	logf     func(string, ...any)
	fake     *fake.Server
	upstream string
	key      string
	env      []string // the configuration both sides get
	event    []byte   // the Lambda event
	bigBody  []byte
}

func measure(ctx context.Context, o *options, bins *binaries, logf func(string, ...any)) (*results, error) {
	b := &bench{o: o, bins: bins, logf: logf, fake: fake.New(fake.Options{})}
	up := httptest.NewServer(b.fake)
	defer up.Close()
	b.upstream = up.URL

	// A caller key, as a deployment issues one (scripts/idvcaller new-key).
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	b.key = "idvk_" + hex.EncodeToString(raw)
	sum := sha256.Sum256([]byte(b.key))
	callers := fmt.Sprintf(`[{"id":"bench","keySha256":"%x","actions":["IdCardVerification","LivenessCompare"]}]`, sum)
	b.env = []string{
		// idverify: live, against the fake, one caller, request logs at
		// the default level (info: one line per request).
		"IDV_ENV=development",
		"IDV_MODE=live",
		"IDV_CALLERS=" + callers,
		"IDV_TENCENT_ENDPOINT=" + up.URL,
		// FaceID's per-action QPS would answer RequestLimitExceeded
		// under load: measure the function, not the quota.
		"IDV_PROVIDER_QPS=off",
		// Every request checks the same person: the per-person limit
		// (1000 a day for IdCardVerification) would refuse past it.
		"IDV_PERSON_LIMITS=off",
		// hellotc3 and signproxy.
		"FACEID_ENDPOINT=" + up.URL,
		// Both.
		"TENCENTCLOUD_SECRET_ID=" + fake.DefaultSecretID,
		"TENCENTCLOUD_SECRET_KEY=" + fake.DefaultSecretKey,
	}
	var err error
	if b.event, err = httpAPIEvent(b.key); err != nil {
		return nil, err
	}
	b.bigBody = livenessBody(o.bodySize)

	r := &results{}
	servers, err := b.startServers(ctx)
	if err != nil {
		return nil, err
	}
	defer servers.stop()

	for round := range o.rounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Pairs alternate which side goes first (AB, BA, AB...), so
		// neither side always runs on the machine the other just warmed.
		turn := round
		pair := func(f func(idv bool) error) error {
			turn++
			for _, idv := range []bool{turn%2 == 1, turn%2 == 0} {
				if err := f(idv); err != nil {
					return err
				}
			}
			return nil
		}
		logf("round %d/%d (load %s)", round+1, o.rounds, loadAvg())

		// Cold start and its peak RSS.
		for range o.coldPer {
			if err := pair(func(idv bool) error {
				d, rss, err := b.cold(ctx, idv)
				if err != nil {
					return err
				}
				if idv {
					r.ColdIDV, r.ColdRSSIDV = append(r.ColdIDV, d), append(r.ColdRSSIDV, rss)
				} else {
					r.ColdPeer, r.ColdRSSPeer = append(r.ColdPeer, d), append(r.ColdRSSPeer, rss)
				}
				return nil
			}); err != nil {
				return nil, err
			}
		}
		logf("  cold start: idverify %s %s, hellotc3 %s %s (medians so far)",
			ms(medianDur(r.ColdIDV)), mib(median64(r.ColdRSSIDV)), ms(medianDur(r.ColdPeer)), mib(median64(r.ColdRSSPeer)))

		// Warm throughput and CPU per request.
		if err := pair(func(idv bool) error {
			s := servers.side(idv)
			w, err := b.warm(ctx, s, o.warm)
			if err != nil {
				return err
			}
			i := 1
			if idv {
				i = 0
				r.TputIDV, r.CPUIDV = append(r.TputIDV, w.rps), append(r.CPUIDV, w.cpuPerReq)
				if w.ok > 0 {
					r.LogBytesPerRequest = float64(w.logBytes) / float64(w.ok)
				}
			} else {
				r.TputPeer, r.CPUPeer = append(r.TputPeer, w.rps), append(r.CPUPeer, w.cpuPerReq)
			}
			r.WarmRequests[i] += w.ok
			r.WarmErrors[i] += w.bad
			logf("  warm %-8s %6.0f req/s, %4.0f µs CPU per request, %d errors", s.name, w.rps, w.cpuPerReq, w.bad)
			return nil
		}); err != nil {
			return nil, err
		}

		// Peak RSS under concurrent large bodies.
		if err := pair(func(idv bool) error {
			rss, err := b.bodies(ctx, idv)
			if err != nil {
				return err
			}
			if idv {
				r.BodyRSSIDV = append(r.BodyRSSIDV, rss)
			} else {
				r.BodyRSSPeer = append(r.BodyRSSPeer, rss)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		logf("  %d × %.1f MB LivenessCompare: idverify %s, signproxy %s (medians so far)", o.bodies, float64(o.bodySize)/1e6,
			mib(median64(r.BodyRSSIDV)), mib(median64(r.BodyRSSPeer)))
	}
	r.FakeCalls = b.fake.TotalCalls()
	return r, nil
}

// httpAPIEvent is the repository's API Gateway HTTP API (payload 2.0)
// sample (events/lambda-http-v2.json) carrying the bench body and the
// caller's key, as API Gateway would deliver that request.
func httpAPIEvent(key string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "lambda-http-v2.json"))
	if err != nil {
		return nil, err
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("events/lambda-http-v2.json: %v", err)
	}
	h, ok := ev["headers"].(map[string]any)
	if !ok {
		return nil, errors.New("events/lambda-http-v2.json has no headers")
	}
	h["authorization"] = "Bearer " + key
	h["content-length"] = strconv.Itoa(len(idCardBody))
	ev["body"] = idCardBody
	return json.Marshal(ev)
}

// livenessBody is a valid LivenessCompare request of about size bytes:
// random media, standard base64, the image within its 3 MiB and the video
// within its 8 MiB.
func livenessBody(size int) []byte {
	rng := mrand.NewChaCha8([32]byte{'i', 'd', 'v'})
	media := func(encoded int) string {
		raw := make([]byte, encoded/4*3)
		_, _ = rng.Read(raw)
		return base64.StdEncoding.EncodeToString(raw)
	}
	img := min(size/3, 3<<20-4)
	vid := size - img - 100
	return []byte(`{"LivenessType":"SILENT","ImageBase64":"` + media(img) + `","VideoBase64":"` + media(vid) + `"}`)
}

// cold runs one cold start of the Lambda binary (idverify's or hellotc3)
// and returns the time from exec to its response POST, and its peak RSS.
func (b *bench) cold(ctx context.Context, idv bool) (time.Duration, int64, error) {
	bin, name := b.bins.HelloHost, "hellotc3"
	if idv {
		bin, name = b.bins.LambdaHost, "idverify"
	}
	api, err := newRuntimeAPI(b.event)
	if err != nil {
		return 0, 0, err
	}
	defer api.close()
	calls := b.fake.TotalCalls()
	p, err := start(bin, append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + api.addr,
		"AWS_LAMBDA_FUNCTION_NAME=idverify-bench",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/idverify-bench",
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]bench",
		"AWS_REGION=ap-east-1",
		"AWS_DEFAULT_REGION=ap-east-1",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=/var/task",
		"TZ=:UTC",
	}, b.env...))
	if err != nil {
		return 0, 0, err
	}
	defer p.kill()
	var inv invocation
	select {
	case inv = <-api.result:
	case <-p.done:
		return 0, 0, fmt.Errorf("%s exited before answering:\n%s", name, p.out)
	case <-time.After(30 * time.Second):
		return 0, 0, fmt.Errorf("%s did not answer within 30s:\n%s", name, p.out)
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	d := inv.at.Sub(p.started)
	rss, err := p.peakRSS()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v", name, err)
	}
	p.kill()
	if err := checkLambdaAnswer(inv); err != nil {
		return 0, 0, fmt.Errorf("%s: %v\n%s", name, err, p.out)
	}
	if b.fake.TotalCalls() != calls+1 {
		return 0, 0, fmt.Errorf("%s answered without exactly one FaceID call (%d)", name, b.fake.TotalCalls()-calls)
	}
	return d, rss, nil
}

// checkLambdaAnswer wants an HTTP API response with status 200 and FaceID's
// answer (Result "0", no Error) as the body.
func checkLambdaAnswer(inv invocation) error {
	if inv.kind != "response" {
		return fmt.Errorf("posted %s %s: %s", inv.kind, inv.errorType, inv.body)
	}
	var resp struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(inv.body, &resp); err != nil {
		return fmt.Errorf("answer is not an HTTP API response: %s", inv.body)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("answer body is not base64: %v", err)
		}
	}
	if resp.StatusCode != http.StatusOK || !answered(body) {
		return fmt.Errorf("answer %d %s", resp.StatusCode, body)
	}
	return nil
}

// answered reports whether body is FaceID's answer and not an error.
func answered(body []byte) bool {
	var env struct {
		Response map[string]json.RawMessage
	}
	if json.Unmarshal(body, &env) != nil || env.Response == nil {
		return false
	}
	_, isErr := env.Response["Error"]
	return !isErr && env.Response["RequestId"] != nil
}

// server is a long-running HTTP side of the warm comparison.
type server struct {
	name   string
	p      *proc
	url    string // POST url+"/v1/faceid/<Action>"
	client *http.Client
}

type servers struct{ idv, peer *server }

func (s *servers) side(idv bool) *server {
	if idv {
		return s.idv
	}
	return s.peer
}

func (s *servers) stop() {
	for _, v := range []*server{s.idv, s.peer} {
		if v != nil {
			v.p.kill()
		}
	}
}

// startServer starts an HTTP server side on a free port and waits until it
// answers.
func (b *bench) startServer(ctx context.Context, idv bool, bin string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	name, env := "signproxy", []string{"LISTEN=127.0.0.1:" + port}
	if idv {
		name, env = "idverify", []string{"IDV_RUNTIME=local", "PORT=" + port}
	}
	p, err := start(bin, append(env, b.env...))
	if err != nil {
		return nil, err
	}
	s := &server{name: name, p: p, url: "http://127.0.0.1:" + port, client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: b.o.concurrency, MaxIdleConnsPerHost: b.o.concurrency},
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz") // any answer means it serves
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited at start:\n%s", name, p.out)
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s did not serve within 30s:\n%s", name, p.out)
		}
	}
}

func (b *bench) startServers(ctx context.Context) (*servers, error) {
	s := &servers{}
	var err error
	if s.idv, err = b.startServer(ctx, true, b.bins.ServerIDC); err != nil {
		return nil, err
	}
	if s.peer, err = b.startServer(ctx, false, b.bins.Proxy); err != nil {
		s.stop()
		return nil, err
	}
	// Warm both up (connections, caches, heap) before anything counts.
	for _, v := range []*server{s.idv, s.peer} {
		w, err := b.warm(ctx, v, min(b.o.warm/2, time.Second))
		if err != nil {
			s.stop()
			return nil, err
		}
		if w.ok == 0 {
			s.stop()
			return nil, fmt.Errorf("%s answered no request during warm-up (%d errors, first: %s):\n%s", v.name, w.bad, w.firstErr, v.p.out)
		}
	}
	return s, nil
}

// warmRun is one side's share of a round.
type warmRun struct {
	ok, bad   int
	rps       float64
	cpuPerReq float64 // µs
	logBytes  int64
	firstErr  string
}

// warm loads s at the configured concurrency for d and reads its CPU time
// before and after.
func (b *bench) warm(ctx context.Context, s *server, d time.Duration) (warmRun, error) {
	body := []byte(idCardBody)
	url := s.url + "/v1/faceid/IdCardVerification"
	cpu0, err := s.p.cpu()
	if err != nil {
		return warmRun{}, fmt.Errorf("%s: %v", s.name, err)
	}
	log0 := s.p.out.total.Load()
	var ok, bad atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range b.o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(stop) {
				if err := post(ctx, s.client, url, b.key, body); err != nil {
					bad.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	cpu1, err := s.p.cpu()
	if err != nil {
		return warmRun{}, fmt.Errorf("%s: %v (exited?)\n%s", s.name, err, s.p.out)
	}
	w := warmRun{ok: int(ok.Load()), bad: int(bad.Load()), logBytes: s.p.out.total.Load() - log0}
	if v, _ := firstErr.Load().(string); v != "" {
		w.firstErr = v
	}
	w.rps = float64(w.ok) / elapsed.Seconds()
	if w.ok > 0 {
		w.cpuPerReq = float64((cpu1 - cpu0).Microseconds()) / float64(w.ok)
	}
	if w.bad > w.ok/100 {
		return w, fmt.Errorf("%s: %d of %d requests failed (first: %s)", s.name, w.bad, w.ok+w.bad, w.firstErr)
	}
	return w, ctx.Err()
}

// post sends one request and wants FaceID's answer back.
func post(ctx context.Context, c *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !answered(buf.Bytes()) {
		return fmt.Errorf("HTTP %d %.200s", resp.StatusCode, buf.Bytes())
	}
	return nil
}

// bodies starts a fresh server (liveness-compare, or signproxy), sends it
// the concurrent large bodies, and returns its peak RSS.
func (b *bench) bodies(ctx context.Context, idv bool) (int64, error) {
	bin := b.bins.Proxy
	if idv {
		bin = b.bins.ServerLC
	}
	s, err := b.startServer(ctx, idv, bin)
	if err != nil {
		return 0, err
	}
	defer s.p.kill()
	url := s.url + "/v1/faceid/LivenessCompare"
	errc := make(chan error, b.o.bodies)
	for range b.o.bodies {
		go func() { errc <- post(ctx, s.client, url, b.key, b.bigBody) }()
	}
	for range b.o.bodies {
		if err := <-errc; err != nil {
			return 0, fmt.Errorf("%s, LivenessCompare of %d bytes: %v\n%s", s.name, len(b.bigBody), err, s.p.out)
		}
	}
	rss, err := s.p.peakRSS()
	if err != nil {
		return 0, fmt.Errorf("%s: %v", s.name, err)
	}
	return rss, nil
}
