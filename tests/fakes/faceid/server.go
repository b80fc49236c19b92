// Package faceid is a fake Tencent FaceID 2018-03-01 server for tests. It
// speaks the real wire protocol (POST /, JSON, X-TC-Action, X-TC-Version,
// TC3-HMAC-SHA256 verified with shared/tc3, optional X-TC-Token) and answers
// every action with a recorded response in which every field of the spec is
// populated, plus one field the spec does not know ("FutureField").
//
// Tests can program it per action or per call (override response, error
// code, result code, HTTP failure, delay, transport faults: see Behavior and
// Fault) and read back how often each action was called, how many calls it
// billed, and what the last request carried.
//
// Billing follows the registry (shared/faceid): a call is billable when the
// fake processed it and the answer it produced is a charged result, whether
// or not the client ever received that answer (a delay past the client's
// deadline, a reset after processing, a malformed or trickling body). Calls
// refused before processing (bad signature, RequestLimitExceeded, FaultRefuse)
// are never billable.
package faceid

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
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
	// H5 runs the DetectAuth and GetEidToken flows as Tencent does, with
	// a page of this fake (see h5.go).
	H5 bool
	// EidPublicKey, when set, is the merchant key GetEidResult encrypts
	// EidName and EidIDNum to (crypto.go); nil answers the recording's
	// placeholders.
	EidPublicKey      *ecdsa.PublicKey
	EidName, EidIDNum string
}

// Behavior programs the answer to one action. The zero value means "answer
// with the recording".
type Behavior struct {
	// Response replaces the recording: the inner object of {"Response": ...}.
	Response json.RawMessage
	// Result, when set, answers the recording with its result field (the
	// registry's ResultField: Result or ResultCode) set to this code and
	// Description set to the registry's, e.g. a free "service busy" code.
	Result string
	// ErrorCode, when set, answers {"Response":{"Error":{Code,Message},"RequestId"}}
	// with HTTP 200, as Tencent does. RequestLimitExceeded* is refused
	// before processing: never billed.
	ErrorCode, ErrorMessage string
	// Status, when non-zero, answers with this HTTP status, Header and Body
	// verbatim, like a gateway failing after the backend processed the call:
	// the call is billed as the answer it replaced would have been.
	Status int
	Header http.Header
	Body   []byte
	// Delay holds the answer back after the call was processed (and
	// billed); it ends early if the client goes away.
	Delay time.Duration
	// Trickle sends the answer one byte at a time with this pause between
	// bytes, after processing: a slow body.
	Trickle time.Duration
	// Fault breaks the exchange at the transport level.
	Fault Fault
}

// Fault is a transport-level failure.
type Fault int

const (
	NoFault Fault = iota
	// Refuse closes the connection (with a TCP reset) as soon as the
	// request's headers arrive, without reading the body or processing the
	// call: nothing is billed. The client has written its request and sees
	// a reset or EOF, which it cannot tell apart from ResetAfterRead.
	Refuse
	// ResetAfterRead reads the request, processes (and bills) it, then
	// resets the connection instead of answering.
	ResetAfterRead
	// Malformed processes (and bills) the call, then answers HTTP 200 with
	// the first half of the JSON answer.
	Malformed
)

// Request is what the fake saw of one call.
type Request struct {
	Header http.Header
	Body   []byte
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	verifier tc3.Verifier
	token    string
	opts     Options

	mu        sync.Mutex
	behaviors map[string]Behavior
	queued    map[string][]Behavior
	calls     map[string]int
	billable  map[string]int
	last      map[string]Request
	plain     map[string]map[string]string
	seq       int
	h5        bool
	flows     map[string]*h5Flow
}

// New returns a fake that accepts requests signed with opts' credentials.
func New(opts Options) *Server {
	if opts.SecretID == "" {
		opts.SecretID = DefaultSecretID
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	s := &Server{token: opts.SessionToken, opts: opts, h5: opts.H5, flows: map[string]*h5Flow{}}
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

// Queue programs the next calls of action, one behaviour per call in
// order, ahead of what Program set; action "" queues for any action.
func (s *Server) Queue(action string, bs ...Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[action] = append(s.queued[action], bs...)
}

// next is the behaviour of the call in progress. s.mu is held.
func (s *Server) next(action string) Behavior {
	for _, a := range []string{action, ""} {
		if q := s.queued[a]; len(q) > 0 {
			s.queued[a] = q[1:]
			return q[0]
		}
	}
	if b, ok := s.behaviors[action]; ok {
		return b
	}
	return s.behaviors[""]
}

// Reset forgets programmed behaviours, call and billing counts and recorded
// requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviors = map[string]Behavior{}
	s.queued = map[string][]Behavior{}
	s.calls = map[string]int{}
	s.billable = map[string]int{}
	s.last = map[string]Request{}
	s.plain = map[string]map[string]string{}
}

// Decrypted is what the fake decrypted from the last request of action
// that carried an Encryption object: each listed field's plain text, or
// the whole body's JSON under "EncryptedBody".
func (s *Server) Decrypted(action string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.plain[action]
	return p, ok
}

// Billable is how many calls of action the fake processed with a charged
// result, including those whose answer never reached the client.
func (s *Server) Billable(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.billable[action]
}

// TotalBillable is Billable summed over every action.
func (s *Server) TotalBillable() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.billable {
		n += c
	}
	return n
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
	if s.h5 && strings.HasPrefix(r.URL.Path, "/h5/") {
		s.servePage(w, r)
		return
	}
	action := r.Header.Get("X-TC-Action")
	s.mu.Lock()
	s.calls[action]++
	b := s.next(action)
	s.mu.Unlock()

	if b.Fault == Refuse {
		reset(w)
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	s.mu.Lock()
	s.last[action] = Request{Header: r.Header.Clone(), Body: bytes.Clone(body)}
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, s.errorBody("RequestSizeLimitExceeded", "request body too large"))
		return
	}
	if code, msg := s.check(r, action, body); code != "" {
		writeJSON(w, s.errorBody(code, msg))
		return
	}

	var params map[string]json.RawMessage
	_ = json.Unmarshal(body, &params) // check made sure it parses
	plain, sess, code, msg := decrypt(action, params)
	if code != "" {
		writeJSON(w, s.errorBody(code, msg))
		return
	}
	if plain != nil {
		s.mu.Lock()
		s.plain[action] = plain
		s.mu.Unlock()
	}

	// Processing: the answer is decided, and billed, before any fault
	// keeps it from the client.
	answer := s.answer(action, b)
	if action == "GetEidResult" && s.opts.EidPublicKey != nil && b.Response == nil {
		answer = eidAnswer(s.opts.EidPublicKey, s.opts.EidName, s.opts.EidIDNum, answer)
	}
	answer = s.h5Answer(action, body, answer, r.Host)
	if charged(action, answer) {
		s.mu.Lock()
		s.billable[action]++
		s.mu.Unlock()
	}
	if sess != nil {
		answer = encryptAnswer(sess, answer)
	}

	if b.Delay > 0 && !sleep(r.Context(), b.Delay) {
		return // the client gave up; nobody reads an answer
	}
	switch {
	case b.Fault == ResetAfterRead:
		reset(w)
	case b.Fault == Malformed:
		writeJSON(w, answer[:len(answer)/2])
	case b.Status != 0:
		for k, v := range b.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(b.Status)
		w.Write(b.Body)
	case b.Trickle > 0:
		trickle(r.Context(), w, answer, b.Trickle)
	default:
		writeJSON(w, answer)
	}
}

// answer is the wire body the fake produces for action under b.
func (s *Server) answer(action string, b Behavior) []byte {
	switch {
	case b.ErrorCode != "":
		return s.errorBody(b.ErrorCode, b.ErrorMessage)
	case b.Response != nil:
		return []byte(`{"Response":` + string(b.Response) + `}`)
	case b.Result != "":
		return withResult(action, b.Result)
	default:
		rec, _ := Recording(action)
		return rec
	}
}

// withResult is action's recording with its result field set to code.
func withResult(action, code string) []byte {
	rec, _ := Recording(action)
	a, ok := faceid.Lookup(action)
	var env struct{ Response map[string]json.RawMessage }
	if !ok || a.ResultField == "" || json.Unmarshal(rec, &env) != nil {
		return rec
	}
	env.Response[a.ResultField], _ = json.Marshal(code)
	if r, ok := a.Result(code); ok {
		env.Response["Description"], _ = json.Marshal(r.Description)
	}
	out, _ := json.Marshal(env)
	return out
}

// charged reports whether answer (a whole wire body) is billed, per the
// registry. Anything the registry does not settle counts as billed, so the
// count errs on the side that would expose a double charge.
func charged(action string, answer []byte) bool {
	var env struct {
		Response map[string]json.RawMessage
	}
	if json.Unmarshal(answer, &env) != nil {
		return true
	}
	a, ok := faceid.Lookup(action)
	if raw, isErr := env.Response["Error"]; isErr {
		var e struct{ Code string }
		_ = json.Unmarshal(raw, &e)
		r, known := faceid.ResultCode{}, false
		if ok {
			r, known = a.Result(e.Code)
		}
		return known && r.Charged
	}
	if !ok || a.ResultField == "" {
		return true
	}
	raw := env.Response[a.ResultField]
	var code string
	if json.Unmarshal(raw, &code) != nil {
		code = string(raw)
	}
	r, known := a.Result(code)
	return !known || r.Charged
}

// reset closes the client's connection with a TCP reset, without an answer.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// trickle writes b one byte per pause, flushing each, until done or the
// client goes away.
func trickle(ctx context.Context, w http.ResponseWriter, b []byte, pause time.Duration) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	for i := range b {
		if _, err := w.Write(b[i : i+1]); err != nil {
			return
		}
		if f != nil {
			f.Flush()
		}
		if i < len(b)-1 && !sleep(ctx, pause) {
			return
		}
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

// errorBody is Tencent's error answer with a fresh RequestId.
func (s *Server) errorBody(code, msg string) []byte {
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
	return b
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
