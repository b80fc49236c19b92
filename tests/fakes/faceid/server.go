// Package faceid is a fake Tencent FaceID 2018-03-01 server for tests. It
// speaks the real wire protocol (POST /, JSON, X-TC-Action, X-TC-Version,
// TC3-HMAC-SHA256 verified with shared/tc3, optional X-TC-Token) and answers
// every action with a recorded response in which every field of the spec is
// populated, plus one field the spec does not know ("FutureField").
//
// Tests can program it per action (override response, error code, HTTP
// failure, delay) and read back how often each action was called and what
// the last request carried, e.g. to assert billing counts.
package faceid

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/tc3"
)

//go:generate go run ../../../scripts/fakegen -spec ../../../shared/faceid/spec/faceid-2018-03-01.json -out testdata/responses

// The recordings are embedded so the fake works from any package's tests.
//
//go:embed testdata/responses/*.json
var recordings embed.FS

const (
	Service = "faceid"
	Version = "2018-03-01"

	// Default credentials, used when Options leaves them empty.
	DefaultSecretID  = "AKIDfakeFaceIDsecretId"
	DefaultSecretKey = "fakeFaceIDsecretKey"

	maxBody = 12 << 20 // above the largest FaceID payload (10 MB video)
)

// Options configures a Server.
type Options struct {
	SecretID, SecretKey string
	// SessionToken, when set, must arrive as X-TC-Token (temporary
	// credentials). When empty, a request carrying X-TC-Token is refused.
	SessionToken string
	// Now is the clock for the signature's 5-minute window; nil is time.Now.
	Now func() time.Time
}

// Behavior programs the answer to one action. The zero value means "answer
// with the recording".
type Behavior struct {
	// Response replaces the recording: the inner object of {"Response": ...}.
	Response json.RawMessage
	// ErrorCode, when set, answers {"Response":{"Error":{Code,Message},"RequestId"}}
	// with HTTP 200, as Tencent does.
	ErrorCode, ErrorMessage string
	// Status, when non-zero, answers with this HTTP status, Header and Body
	// verbatim, like a broken load balancer.
	Status int
	Header http.Header
	Body   []byte
	// Delay holds the answer back; it ends early if the client goes away.
	Delay time.Duration
}

// Request is what the fake saw of one call.
type Request struct {
	Header http.Header
	Body   []byte
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	verifier tc3.Verifier
	token    string

	mu        sync.Mutex
	behaviors map[string]Behavior
	calls     map[string]int
	last      map[string]Request
	seq       int
}

// New returns a fake that accepts requests signed with opts' credentials.
func New(opts Options) *Server {
	if opts.SecretID == "" {
		opts.SecretID = DefaultSecretID
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	s := &Server{token: opts.SessionToken}
	s.verifier = tc3.Verifier{
		Service: Service,
		Now:     opts.Now,
		Lookup: func(id string) (string, bool) {
			return opts.SecretKey, id == opts.SecretID
		},
	}
	s.Reset()
	return s
}

// Start runs a new fake on an httptest server that is closed when the test
// ends, and returns the fake and its base URL (http://127.0.0.1:port).
func Start(t testing.TB, opts Options) (*Server, string) {
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// Program sets the behaviour of action; action "" applies to every action
// that has no behaviour of its own.
func (s *Server) Program(action string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviors[action] = b
}

// Reset forgets programmed behaviours, call counts and recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviors = map[string]Behavior{}
	s.calls = map[string]int{}
	s.last = map[string]Request{}
}

// Calls is how many requests named action in X-TC-Action, whatever the
// outcome (a rejected signature or programmed error counts too), so tests can
// assert exactly how often the upstream would have been hit.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// TotalCalls is the number of requests of every action.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// LastRequest is the most recent request that named action.
func (s *Server) LastRequest(action string) (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.last[action]
	return r, ok
}

// Actions lists the recorded actions, sorted.
func Actions() []string {
	entries, _ := recordings.ReadDir("testdata/responses")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// Recording is the full recorded wire body of action.
func Recording(action string) ([]byte, bool) {
	if action == "" || strings.ContainsAny(action, "/.\\") {
		return nil, false
	}
	b, err := recordings.ReadFile(path.Join("testdata/responses", action+".json"))
	return b, err == nil
}

// Recorded is the inner Response object of action's recording, which is what
// a provider's Call must return for it.
func Recorded(action string) (json.RawMessage, bool) {
	b, ok := Recording(action)
	if !ok {
		return nil, false
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
		return nil, false
	}
	return env.Response, true
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	action := r.Header.Get("X-TC-Action")

	s.mu.Lock()
	s.calls[action]++
	s.last[action] = Request{Header: r.Header.Clone(), Body: bytes.Clone(body)}
	b, ok := s.behaviors[action]
	if !ok {
		b = s.behaviors[""]
	}
	s.mu.Unlock()

	if err != nil {
		s.fail(w, "RequestSizeLimitExceeded", "request body too large")
		return
	}
	if code, msg := s.check(r, action, body); code != "" {
		s.fail(w, code, msg)
		return
	}

	if b.Delay > 0 && !sleep(r.Context(), b.Delay) {
		return // the client gave up; nobody reads an answer
	}
	switch {
	case b.Status != 0:
		for k, v := range b.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(b.Status)
		w.Write(b.Body)
	case b.ErrorCode != "":
		s.fail(w, b.ErrorCode, b.ErrorMessage)
	case b.Response != nil:
		writeJSON(w, []byte(`{"Response":`+string(b.Response)+`}`))
	default:
		rec, _ := Recording(action)
		writeJSON(w, rec)
	}
}

// check validates the request as Tencent would, returning an error code and
// message, or "" when the request is acceptable.
func (s *Server) check(r *http.Request, action string, body []byte) (code, msg string) {
	if r.Method != http.MethodPost {
		return "InvalidRequest", "the fake accepts POST only"
	}
	if action == "" {
		return "MissingParameter", "missing X-TC-Action"
	}
	if v := r.Header.Get("X-TC-Version"); v != Version {
		return "NoSuchVersion", fmt.Sprintf("version %q is not supported, want %s", v, Version)
	}
	if _, err := s.verifier.Verify(r, body); err != nil {
		e := errs.As(err)
		return e.Code, e.Message
	}
	// The token is not signed; Tencent checks it against the secret id.
	if r.Header.Get("X-TC-Token") != s.token {
		return "AuthFailure.TokenFailure", "X-TC-Token does not match"
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "InvalidParameter", "Content-Type must be application/json"
	}
	if _, ok := Recording(action); !ok {
		return "InvalidAction", fmt.Sprintf("action %s does not exist in %s %s", action, Service, Version)
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(body, &params); err != nil {
		return "InvalidParameter", "request body is not a JSON object"
	}
	return "", ""
}

func (s *Server) fail(w http.ResponseWriter, code, msg string) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq)
	s.mu.Unlock()

	var resp struct {
		Response struct {
			Error struct {
				Code    string
				Message string
			}
			RequestId string
		}
	}
	resp.Response.Error.Code, resp.Response.Error.Message = code, msg
	resp.Response.RequestId = id
	b, _ := json.Marshal(resp)
	writeJSON(w, b)
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
