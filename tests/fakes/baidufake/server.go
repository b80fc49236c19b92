// Package baidufake is a fake Baidu AI for tests: the OAuth token endpoint
// and the eight faceprint (H5 face real-name solution) endpoints, on a
// loopback server. It checks what Baidu checks: API key and secret key on
// /oauth/2.0/token; on every faceprint call an access_token that it issued
// and that has not expired (100 missing, 110 unknown or revoked, 111
// expired); a JSON body; the plan; and the verify_token lifecycle (2 hours
// to run the flow, results kept 3 days after it ends, nothing once it has
// lapsed). Tests queue flow-control answers (2, 4, 6, 17, 18, 19) per
// endpoint, move the fake's clock, finish an H5 flow with a chosen outcome,
// and count calls to prove what a client retried.
//
// It imports nothing from shared/: it stands for Baidu, not for our idea of
// it.
package baidufake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults for Options left empty.
const (
	DefaultAPIKey    = "fakeBaiduApiKey0001"
	DefaultSecretKey = "fakeBaiduSecretKey0001"
	DefaultPlan      = "1"
	TokenLifetime    = 30 * 24 * time.Hour
	FlowLifetime     = 2 * time.Hour
	ResultLifetime   = 72 * time.Hour

	// CodeVerifyTokenInvalid answers a verify_token that is unknown, lapsed
	// or already used up, with Baidu's documented text "Token无效或者已过期".
	// The number is not in our reference (the per-endpoint tables of
	// zl958mm8k were cut off); it is from the solution's 2835xx range.
	CodeVerifyTokenInvalid = 283504
	// CodeFlowNotDone answers a result query before the user finished.
	CodeFlowNotDone = 283505

	prefix = "/rpc/2.0/brain/solution/faceprint/"
)

// Outcome is how an H5 flow ended. Code 0 is a pass.
type Outcome struct {
	Code    int
	Message string
	Score   float64
}

// Pass is a successful verification.
var Pass = Outcome{Code: 0, Message: "核验成功", Score: 93.7835}

// Failures Baidu documents for the H5 flow's result codes.
var (
	NameMismatch = Outcome{Code: 222351, Message: "证件号与姓名不匹配"}
	NotLive      = Outcome{Code: 223120, Message: "活体检测未通过"}
	Timeout      = Outcome{Code: 800001, Message: "采集超时"}
)

// Options configures a Server.
type Options struct {
	APIKey, SecretKey string
	Plans             []string // existing plan ids; default {"1"}
	// TokenLifetime is the expires_in of issued access tokens; 0 is 30 days.
	TokenLifetime time.Duration
}

type flow struct {
	accessApp string // verify_tokens belong to the app whose token made them
	issued    time.Time
	done      time.Time // zero until Complete
	outcome   Outcome
	name, id  string
	certType  int
	image     bool
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	opts   Options
	mu     sync.Mutex
	offset time.Duration
	tokens map[string]time.Time // access token -> expiry
	flows  map[string]*flow
	calls  map[string]int
	faults map[string][]int
	seq    int
}

// Start runs a fake for t, closed when the test ends.
func Start(t testing.TB, opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if len(opts.Plans) == 0 {
		opts.Plans = []string{DefaultPlan}
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = TokenLifetime
	}
	s := &Server{opts: opts, tokens: map[string]time.Time{}, flows: map[string]*flow{},
		calls: map[string]int{}, faults: map[string][]int{}}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Now is the fake's clock: real time plus what Advance added.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// Advance moves the fake's clock forward, for expiry.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// Calls counts requests to endpoint ("verifyToken/generate", ...) or to
// "oauth" (the token endpoint), refused ones included.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// FailNext makes the next len(codes) calls to endpoint answer those
// error codes, after the access token check.
func (s *Server) FailNext(endpoint string, codes ...int) {
	s.mu.Lock()
	s.faults[endpoint] = append(s.faults[endpoint], codes...)
	s.mu.Unlock()
}

// Revoke invalidates every access token issued so far (Baidu answers 110).
func (s *Server) Revoke() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// Complete ends the H5 flow of verifyToken as if the user had finished it.
func (s *Server) Complete(verifyToken string, o Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flows[verifyToken]
	now := time.Now().Add(s.offset)
	if f == nil || !f.done.IsZero() || now.After(f.issued.Add(FlowLifetime)) {
		return fmt.Errorf("verify_token %q cannot be completed", verifyToken)
	}
	f.done, f.outcome = now, o
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/oauth/2.0/token":
		s.serveToken(w, r)
	case r.URL.Path == pagePath:
		s.servePage(w, r)
	case strings.HasPrefix(r.URL.Path, prefix):
		s.serveFaceprint(w, r, strings.TrimPrefix(r.URL.Path, prefix))
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error_code": 3, "error_msg": "Unsupported openapi method"})
	}
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls["oauth"]++
	s.mu.Unlock()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "invalid_request", "error_description": "method not allowed"})
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported"})
		return
	}
	if q.Get("client_id") != s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "unknown client id"})
		return
	}
	if q.Get("client_secret") != s.opts.SecretKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	s.mu.Lock()
	now := time.Now().Add(s.offset)
	life := s.opts.TokenLifetime
	tok := fmt.Sprintf("24.%s.%d.%d.282335-10000001", randHex(16), int64(life.Seconds()), now.Unix())
	s.tokens[tok] = now.Add(life)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"refresh_token": "25." + randHex(16), "expires_in": int64(life.Seconds()),
		"scope": "public brain_all_scope", "session_key": randHex(16), "access_token": tok, "session_secret": randHex(16),
	})
}

// baiduError is the gateway-level error shape (flow control, tokens).
func (s *Server) baiduError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"error_code": code, "error_msg": msg, "log_id": s.logID()})
}

// failure is the solution-level error shape.
func (s *Server) failure(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"success": false, "result": nil, "code": code, "message": msg, "log_id": s.logID()})
}

func (s *Server) ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": result, "log_id": s.logID()})
}

var flowMessages = map[int]string{
	2: "Service temporarily unavailable", 4: "Open api request limit reached", 6: "no permission to access data",
	17: "Open api daily request limit reached", 18: "Open api qps request limit reached", 19: "Open api total request limit reached",
}

func (s *Server) serveFaceprint(w http.ResponseWriter, r *http.Request, ep string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[ep]++
	now := time.Now().Add(s.offset)
	if r.Method != http.MethodPost {
		s.baiduError(w, 3, "Unsupported openapi method")
		return
	}
	tok := r.URL.Query().Get("access_token")
	exp, known := s.tokens[tok]
	switch {
	case tok == "":
		s.baiduError(w, 100, "Invalid parameter")
		return
	case !known:
		s.baiduError(w, 110, "Access token invalid or no longer valid")
		return
	case !now.Before(exp):
		s.baiduError(w, 111, "Access token expired")
		return
	}
	if q := s.faults[ep]; len(q) > 0 {
		s.faults[ep] = q[1:]
		s.baiduError(w, q[0], flowMessages[q[0]])
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 20<<20))
	var body map[string]json.RawMessage
	if err != nil || !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/json") || json.Unmarshal(raw, &body) != nil || body == nil {
		s.failure(w, 283513, "请求参数错误")
		return
	}
	switch ep {
	case "verifyToken/generate":
		s.generate(w, body, now)
	case "idcard/submit":
		s.submit(w, body, now)
	case "uploadMatchImage":
		s.upload(w, body, now)
	case "result/simple", "result/detail", "result/stat", "result/media/query", "result/getall":
		s.result(w, ep, body, now)
	default:
		s.baiduError(w, 3, "Unsupported openapi method")
	}
}

func (s *Server) generate(w http.ResponseWriter, body map[string]json.RawMessage, now time.Time) {
	var plan string
	if json.Unmarshal(body["plan_id"], &plan) != nil {
		var n json.Number
		if json.Unmarshal(body["plan_id"], &n) != nil || n == "" {
			s.failure(w, 216100, "invalid param")
			return
		}
		plan = n.String()
	}
	exists := false
	for _, p := range s.opts.Plans {
		exists = exists || p == plan
	}
	if !exists {
		s.failure(w, 283435, "方案不存在。Plan not exist.")
		return
	}
	vt := randAlnum(24)
	s.flows[vt] = &flow{issued: now}
	s.ok(w, map[string]any{"verify_token": vt})
}

// runnable is a flow whose verification can still happen.
func (s *Server) runnable(body map[string]json.RawMessage, now time.Time) *flow {
	var vt string
	_ = json.Unmarshal(body["verify_token"], &vt)
	f := s.flows[vt]
	if f == nil || !f.done.IsZero() || !now.Before(f.issued.Add(FlowLifetime)) {
		return nil
	}
	return f
}

func str(body map[string]json.RawMessage, k string) string {
	var v string
	_ = json.Unmarshal(body[k], &v)
	return v
}

func (s *Server) submit(w http.ResponseWriter, body map[string]json.RawMessage, now time.Time) {
	f := s.runnable(body, now)
	if f == nil {
		s.failure(w, CodeVerifyTokenInvalid, "Token无效或者已过期")
		return
	}
	name, id := str(body, "id_name"), str(body, "id_no")
	ct := 0
	if raw, ok := body["certificate_type"]; ok {
		if json.Unmarshal(raw, &ct) != nil || ct < 0 || ct > 5 {
			s.failure(w, 216100, "invalid param")
			return
		}
	}
	if name == "" || id == "" {
		s.failure(w, 216100, "invalid param")
		return
	}
	f.name, f.id, f.certType = name, id, ct
	s.ok(w, 1)
}

var controls = map[string]bool{"": true, "NONE": true, "LOW": true, "NORMAL": true, "HIGH": true}

func (s *Server) upload(w http.ResponseWriter, body map[string]json.RawMessage, now time.Time) {
	f := s.runnable(body, now)
	if f == nil {
		s.failure(w, CodeVerifyTokenInvalid, "Token无效或者已过期")
		return
	}
	img := str(body, "image")
	if img == "" || len(img) > 10<<20 || !controls[str(body, "quality_control")] || !controls[str(body, "liveness_control")] {
		s.failure(w, 216100, "invalid param")
		return
	}
	if _, err := base64.StdEncoding.DecodeString(img); err != nil {
		s.failure(w, 216100, "invalid param")
		return
	}
	f.image = true
	s.ok(w, nil)
}

func (s *Server) result(w http.ResponseWriter, ep string, body map[string]json.RawMessage, now time.Time) {
	vt := str(body, "verify_token")
	f := s.flows[vt]
	switch {
	case f == nil:
		s.failure(w, CodeVerifyTokenInvalid, "Token无效或者已过期")
		return
	case f.done.IsZero() && now.Before(f.issued.Add(FlowLifetime)):
		s.failure(w, CodeFlowNotDone, "认证流程尚未完成")
		return
	case f.done.IsZero() || !now.Before(f.done.Add(ResultLifetime)):
		s.failure(w, CodeVerifyTokenInvalid, "Token无效或者已过期")
		return
	}
	passed := f.outcome.Code == 0
	at := f.done.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	confirm := map[string]any{"name": f.name, "idcard_number": f.id}
	switch ep {
	case "result/simple":
		if !passed {
			s.failure(w, f.outcome.Code, f.outcome.Message)
			return
		}
		s.ok(w, map[string]any{"image": "https://brain.baidu.com/solution/faceprint/image/query?verify_token=" + vt})
	case "result/detail":
		if !passed {
			s.failure(w, f.outcome.Code, f.outcome.Message)
			return
		}
		s.ok(w, map[string]any{
			"verify_result":  map[string]any{"score": f.outcome.Score, "liveness_score": 0.9672966, "spoofing": 0.0},
			"idcard_confirm": confirm,
		})
	case "result/stat":
		s.ok(w, map[string]any{
			"Verify_FIN":  []any{map[string]any{"error_code": f.outcome.Code, "count": 1}},
			"Sessioncode": []any{}, "OCR": []any{},
			"verify":           []any{map[string]any{"error_code": f.outcome.Code, "count": 1}},
			"VideoLiveness":    []any{map[string]any{"error_code": 0, "count": 1}},
			"Livenesscolorful": []any{}, "VerifySec": []any{},
		})
	case "result/media/query":
		s.ok(w, map[string]any{"processVideo": []string{}, "video": []string{"http://bj.bcebos.com/v1/fake/" + vt + ".mp4"},
			"images": []string{}, "extInfo": nil})
	case "result/getall":
		charged := f.outcome.Code == 0 || f.outcome.Code == NameMismatch.Code
		chargeTime := ""
		if charged {
			chargeTime = at
		}
		confirm["idcard_type"] = strconv.Itoa(f.certType)
		msg := f.outcome.Message
		s.ok(w, map[string]any{
			"verify_count": 1, "ocr_charge_count": 0, "match_charge_count": 0, "verify_charge_count": boolInt(charged),
			"verify_result": []any{map[string]any{
				"order": 1, "is_verify_passed": passed, "code": strconv.Itoa(f.outcome.Code), "message": msg,
				"verify_time": at, "is_charged": charged, "charge_type": "verify", "charge_time": chargeTime,
				"verify_detail": map[string]any{"face_image": "https://brain.baidu.com/solution/faceprint/image/query?verify_token=" + vt,
					"verify_log_id": s.logID(), "score": f.outcome.Score, "threshold": 80, "liveness_score": 0},
				"idcard_confirm": confirm,
			}},
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) logID() string {
	s.seq++
	return strconv.Itoa(1000000000 + s.seq)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}
