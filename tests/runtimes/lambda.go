package runtimes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// LambdaAPI emulates the AWS Lambda Runtime API
// (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): GET
// /2018-06-01/runtime/invocation/next long-polls and hands out one event
// with the real headers; POST .../{id}/response and .../{id}/error answer
// 202; POST /2018-06-01/runtime/init/error records an init failure.
type LambdaAPI struct {
	Server *httptest.Server
	Proc   *Process // set by StartLambda

	FunctionARN string

	queue chan *lambdaCall
	done  chan struct{}

	mu        sync.Mutex
	pending   map[string]*lambdaCall
	firstNext time.Time
	initErr   *Failure
	seq       int
	problems  []string
}

type lambdaCall struct {
	id       string
	payload  []byte
	deadline time.Time
	handed   time.Time
	result   chan *Outcome
}

// NewLambdaAPI starts an emulator on loopback, closed when the test ends.
func NewLambdaAPI(t testing.TB) *LambdaAPI {
	a := &LambdaAPI{
		FunctionARN: "arn:aws:lambda:ap-east-1:123456789012:function:idverify-test",
		queue:       make(chan *lambdaCall),
		done:        make(chan struct{}),
		pending:     map[string]*lambdaCall{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.error)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", a.initError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.problem("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API (host:port, no scheme).
func (a *LambdaAPI) Addr() string { return a.Server.Listener.Addr().String() }

// Close releases long-polling clients and stops the server.
func (a *LambdaAPI) Close() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
	a.Server.Close()
}

// StartLambda starts bin as a Lambda function against a new emulator and
// waits for its first next request.
func StartLambda(t testing.TB, bin string, env ...string) *LambdaAPI {
	t.Helper()
	a := NewLambdaAPI(t)
	a.Proc = StartProcess(t, bin, append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + a.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=idverify-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=ap-east-1",
	}, env...))
	waitFor(t, 10*time.Second, func() bool { return !a.firstNextTime().IsZero() || a.Proc.Exited() }, "first invocation/next")
	return a
}

// ColdStart is the time from process start to the first next request.
func (a *LambdaAPI) ColdStart() time.Duration {
	if a.Proc == nil || a.firstNextTime().IsZero() {
		return 0
	}
	return a.firstNextTime().Sub(a.Proc.Started)
}

func (a *LambdaAPI) firstNextTime() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.firstNext
}

// InitError is what the function posted to init/error, if anything.
func (a *LambdaAPI) InitError() *Failure {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.initErr
}

// Problems lists protocol violations the emulator saw (unknown ids,
// unexpected paths). A correct runtime leaves it empty.
func (a *LambdaAPI) Problems() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.problems...)
}

// Invoke queues payload and waits for the function's answer.
func (a *LambdaAPI) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (*Outcome, error) {
	a.mu.Lock()
	a.seq++
	c := &lambdaCall{
		id:       fmt.Sprintf("8d2a3b4c-0000-4000-8000-%012d", a.seq),
		payload:  payload,
		deadline: time.Now().Add(timeout),
		result:   make(chan *Outcome, 1),
	}
	a.pending[c.id] = c
	a.mu.Unlock()
	select {
	case a.queue <- c:
	case <-ctx.Done():
		return nil, fmt.Errorf("no next request: %w", ctx.Err())
	}
	select {
	case o := <-c.result:
		return o, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("invocation %s unanswered: %w", c.id, ctx.Err())
	}
}

func (a *LambdaAPI) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.firstNext.IsZero() {
		a.firstNext = time.Now()
	}
	a.mu.Unlock()
	select {
	case c := <-a.queue:
		c.handed = time.Now()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", c.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(c.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", a.FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-65f1c0de-3f2a9b7c1d4e5f6a7b8c9d0e;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(c.payload)
	case <-a.done:
		http.Error(w, "emulator closed", http.StatusInternalServerError)
	case <-r.Context().Done():
	}
}

func (a *LambdaAPI) take(w http.ResponseWriter, r *http.Request) (*lambdaCall, []byte, bool) {
	id := r.PathValue("id")
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	c, ok := a.pending[id]
	delete(a.pending, id)
	a.mu.Unlock()
	if !ok {
		a.problem("result for unknown request id %q", id)
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return nil, nil, false
	}
	w.WriteHeader(http.StatusAccepted)
	return c, body, true
}

func (a *LambdaAPI) response(w http.ResponseWriter, r *http.Request) {
	if c, body, ok := a.take(w, r); ok {
		c.result <- &Outcome{RequestID: c.id, Deadline: c.deadline, Payload: body, Elapsed: time.Since(c.handed)}
	}
}

func (a *LambdaAPI) error(w http.ResponseWriter, r *http.Request) {
	if c, body, ok := a.take(w, r); ok {
		f := parseFailure(body)
		f.Header = firstNonEmpty(r.Header.Get("Lambda-Runtime-Function-Error-Type"), r.Trailer.Get("Lambda-Runtime-Function-Error-Type"))
		c.result <- &Outcome{RequestID: c.id, Deadline: c.deadline, Failure: f, Elapsed: time.Since(c.handed)}
	}
}

func (a *LambdaAPI) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f := parseFailure(body)
	f.Header = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	a.mu.Lock()
	a.initErr = f
	a.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (a *LambdaAPI) problem(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// parseFailure reads a {"errorType","errorMessage"} document; a body that is
// not one keeps only Raw.
func parseFailure(body []byte) *Failure {
	var doc struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &doc)
	return &Failure{Type: doc.Type, Message: doc.Message, Raw: body}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
