package runtimes

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// SCFCustomAPI emulates the SCF Custom Runtime API
// (cloud.tencent.com/document/product/583/47274): POST /runtime/init/ready,
// GET /runtime/invocation/next with the headers Request_Id,
// Memory_Limit_In_Mb and Time_Limit_In_Ms, and POST /runtime/invocation/response
// or /runtime/invocation/error. No request id is in any URL: one invocation
// is in flight at a time, and a repeated next during it returns the same
// event, as the documentation says.
type SCFCustomAPI struct {
	Server *httptest.Server
	Proc   *Process // set by StartSCFCustom

	MemoryLimitMB int

	queue chan *scfCall
	done  chan struct{}

	mu        sync.Mutex
	ready     time.Time
	firstNext time.Time
	current   *scfCall
	seq       int
	problems  []string
}

type scfCall struct {
	id      string
	payload []byte
	limit   time.Duration
	handed  time.Time
	result  chan *Outcome
}

// NewSCFCustomAPI starts an emulator on loopback, closed when the test ends.
func NewSCFCustomAPI(t testing.TB) *SCFCustomAPI {
	a := &SCFCustomAPI{MemoryLimitMB: 256, queue: make(chan *scfCall), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /runtime/init/ready", a.initReady)
	mux.HandleFunc("GET /runtime/invocation/next", a.next)
	mux.HandleFunc("POST /runtime/invocation/response", func(w http.ResponseWriter, r *http.Request) { a.result(w, r, false) })
	mux.HandleFunc("POST /runtime/invocation/error", func(w http.ResponseWriter, r *http.Request) { a.result(w, r, true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.problem("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// HostPort are the values of SCF_RUNTIME_API and SCF_RUNTIME_API_PORT.
func (a *SCFCustomAPI) HostPort() (string, string) {
	host, port, _ := net.SplitHostPort(a.Server.Listener.Addr().String())
	return host, port
}

// Close releases long-polling clients and stops the server.
func (a *SCFCustomAPI) Close() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
	a.Server.Close()
}

// StartSCFCustom starts bin as an SCF Custom Runtime function (as the
// platform starts `bootstrap`) and waits for its first next request.
func StartSCFCustom(t testing.TB, bin string, env ...string) *SCFCustomAPI {
	t.Helper()
	a := NewSCFCustomAPI(t)
	host, port := a.HostPort()
	a.Proc = StartProcess(t, bin, append([]string{
		"SCF_RUNTIME_API=" + host,
		"SCF_RUNTIME_API_PORT=" + port,
		"_HANDLER=bootstrap",
		"TENCENTCLOUD_RUNENV=SCF",
		"TENCENTCLOUD_REGION=ap-guangzhou",
		"SCF_FUNCTIONNAME=idverify-test",
	}, env...))
	waitFor(t, 10*time.Second, func() bool { return !a.times().next.IsZero() || a.Proc.Exited() }, "first invocation/next")
	return a
}

type scfTimes struct{ ready, next time.Time }

func (a *SCFCustomAPI) times() scfTimes {
	a.mu.Lock()
	defer a.mu.Unlock()
	return scfTimes{a.ready, a.firstNext}
}

// ColdStart is the time from process start to init/ready.
func (a *SCFCustomAPI) ColdStart() time.Duration {
	if a.Proc == nil || a.times().ready.IsZero() {
		return 0
	}
	return a.times().ready.Sub(a.Proc.Started)
}

// Ready reports whether init/ready was posted.
func (a *SCFCustomAPI) Ready() bool { return !a.times().ready.IsZero() }

// Problems lists protocol violations: next before init/ready, results with
// no invocation in flight, unexpected paths.
func (a *SCFCustomAPI) Problems() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.problems...)
}

// Invoke queues payload with Time_Limit_In_Ms = timeout and waits for the
// answer. Outcome.Deadline is when the event was handed out plus timeout.
func (a *SCFCustomAPI) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (*Outcome, error) {
	a.mu.Lock()
	a.seq++
	c := &scfCall{
		id:      fmt.Sprintf("5c1d2e3f-0000-4000-9000-%012d", a.seq),
		payload: payload, limit: timeout, result: make(chan *Outcome, 1),
	}
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

func (a *SCFCustomAPI) initReady(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	if !a.ready.IsZero() {
		a.problems = append(a.problems, "init/ready posted twice")
	}
	a.ready = time.Now()
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (a *SCFCustomAPI) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.firstNext.IsZero() {
		a.firstNext = time.Now()
	}
	if a.ready.IsZero() {
		a.problems = append(a.problems, "invocation/next before init/ready")
	}
	c := a.current
	a.mu.Unlock()
	if c == nil {
		select {
		case c = <-a.queue:
			c.handed = time.Now()
			a.mu.Lock()
			a.current = c
			a.mu.Unlock()
		case <-a.done:
			http.Error(w, "emulator closed", http.StatusInternalServerError)
			return
		case <-r.Context().Done():
			return
		}
	}
	// Exact documented capitalisation, bypassing Go's canonicalisation
	// (which would send Request_id), to prove the client matches it.
	h := w.Header()
	h["Request_Id"] = []string{c.id}
	h["Memory_Limit_In_Mb"] = []string{strconv.Itoa(a.MemoryLimitMB)}
	h["Time_Limit_In_Ms"] = []string{strconv.FormatInt(c.limit.Milliseconds(), 10)}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.payload)
}

func (a *SCFCustomAPI) result(w http.ResponseWriter, r *http.Request, failed bool) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	c := a.current
	a.current = nil
	if c == nil {
		a.problems = append(a.problems, "result posted with no invocation in flight")
	}
	a.mu.Unlock()
	if c == nil {
		http.Error(w, "no invocation in flight", http.StatusBadRequest)
		return
	}
	o := &Outcome{RequestID: c.id, Deadline: c.handed.Add(c.limit), Elapsed: time.Since(c.handed)}
	if failed {
		o.Failure = parseFailure(body)
	} else {
		o.Payload = body
	}
	w.WriteHeader(http.StatusOK)
	c.result <- o
}

func (a *SCFCustomAPI) problem(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}
