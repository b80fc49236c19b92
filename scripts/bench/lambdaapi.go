package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// runtimeAPI emulates the AWS Lambda Runtime API for one cold start
// (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): the first GET
// /2018-06-01/runtime/invocation/next gets the event with the real headers,
// later ones wait until the emulator closes; the function's POST
// .../{id}/response, .../{id}/error or /runtime/init/error ends the
// invocation, timed on arrival.
//
// (tests/runtimes has a fuller emulator, but it is built on testing.TB.)
type runtimeAPI struct {
	srv    *http.Server
	addr   string
	event  []byte
	id     string
	result chan invocation
	closed chan struct{}
	once   sync.Once
	handed sync.Once
}

// invocation is how the function answered.
type invocation struct {
	at        time.Time // when the answer's POST arrived
	kind      string    // "response", "error" or "init/error"
	body      []byte
	errorType string
}

func newRuntimeAPI(event []byte) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{
		addr: ln.Addr().String(), event: event, id: "8d2a3b4c-0000-4000-8000-000000000001",
		result: make(chan invocation, 1), closed: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.answer("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.answer("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", a.answer("init/error"))
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	first := false
	a.handed.Do(func() { first = true })
	if !first {
		select { // one invocation per cold start: the next one never comes
		case <-a.closed:
		case <-r.Context().Done():
		}
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", a.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:ap-east-1:123456789012:function:idverify-bench")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-65f1c0de-3f2a9b7c1d4e5f6a7b8c9d0e;Parent=53995c3f42cd8ad8;Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(a.event)
}

func (a *runtimeAPI) answer(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		if kind != "init/error" && r.PathValue("id") != a.id {
			http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		inv := invocation{at: at, kind: kind, body: body, errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
		if kind != "response" {
			var doc struct {
				Type string `json:"errorType"`
			}
			if json.Unmarshal(body, &doc) == nil && doc.Type != "" {
				inv.errorType = doc.Type
			}
		}
		w.WriteHeader(http.StatusAccepted)
		select {
		case a.result <- inv:
		default:
		}
	}
}

func (a *runtimeAPI) close() {
	a.once.Do(func() { close(a.closed) })
	_ = a.srv.Close()
}
