// Package webankfake is a fake WeBank face-verification server API
// (kyc1.qcloud.com) for tests. It checks what the real one checks
// (provider-apis.md §5): the app secret, access_token and SIGN ticket
// lifetimes, the one-minute overlap of a replaced token or ticket, a
// ticket dying with its token, single-use NONCE tickets, and the SHA-1
// signature of every call. It also plays the client SDK's part: a launch
// signed with a NONCE ticket (consuming it), then a test decides the
// outcome of the face session with Complete.
//
// WeBank's error-code tables were not available (§5.5, UNCONFIRMED): the
// fake answers every refused credential or signature with the one
// documented code, 400101, and uses its own codes for the rest (below).
package webankfake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/webank"
)

// Codes the fake answers.
const (
	CodeOK        = "0"
	CodeIllegal   = webank.CodeIllegalRequest // bad secret, token, ticket or signature
	CodeParam     = "400102"                  // fake's own: a missing or malformed parameter
	CodeNoRecord  = "400604"                  // fake's own: no result for the orderNo (yet)
	CodeDuplicate = "400605"                  // fake's own: orderNo reused for another user
)

// Defaults are WeBank's documented lifetimes.
const (
	DefaultTokenTTL = 7200 * time.Second
	DefaultSignTTL  = 3600 * time.Second
	DefaultNonceTTL = 120 * time.Second
	DefaultGrace    = time.Minute
)

// Options configures a Server.
type Options struct {
	AppID, Secret                      string
	TokenTTL, SignTTL, NonceTTL, Grace time.Duration
	Now                                func() time.Time
	// TokenDelay slows access_token answers, to widen the window in which
	// concurrent refreshes would overlap.
	TokenDelay time.Duration
	// Hold, when set, is called before a request is handled: a test can
	// block there to catch a caller in the middle of a call.
	Hold func(path string)
}

// Outcome is the result of a face session, set by a test with Complete.
type Outcome struct {
	Code, Msg                string // "0" for verified and matched
	LiveRate, Similarity     string
	Photo, Video, SdkVersion string
	TrtcFlag                 string
}

type ticket struct {
	value   string
	token   string
	expires time.Time
	userID  string // NONCE only
	used    bool   // NONCE only
}

type order struct {
	faceID, userID, bizSeqNo string
	authority                bool // name+idNo rather than a source photo
	launched                 bool
	outcome                  *Outcome
	occurred                 time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL  string
	opts Options

	mu          sync.Mutex
	tokens      map[string]time.Time // access token -> expiry
	signTickets []*ticket
	nonces      map[string]*ticket
	orders      map[string]*order
	inToken     int
	calls       map[string]int
	// overlaps counts access_token requests that arrived while another
	// was in flight: WeBank forbids concurrent refreshes.
	overlaps int
	seq      int
}

// New makes a fake; Start serves it.
func New(opts Options) *Server {
	if opts.AppID == "" {
		opts.AppID = "IDAFAKE1"
	}
	if opts.Secret == "" {
		opts.Secret = "fakeSecret0123456789abcdef0123456789abcdef0123456789abcdef012345"
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.SignTTL == 0 {
		opts.SignTTL = DefaultSignTTL
	}
	if opts.NonceTTL == 0 {
		opts.NonceTTL = DefaultNonceTTL
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, tokens: map[string]time.Time{}, nonces: map[string]*ticket{},
		orders: map[string]*order{}, calls: map[string]int{}}
}

// Start serves s on a loopback port until the test ends.
func Start(t interface{ Cleanup(func()) }, opts Options) *Server {
	s := New(opts)
	srv := httptest.NewServer(s)
	s.URL = srv.URL
	t.Cleanup(srv.Close)
	return s
}

// AppID and Secret are the credentials the fake accepts.
func (s *Server) AppID() string  { return s.opts.AppID }
func (s *Server) Secret() string { return s.opts.Secret }

// Calls is how many requests reached path (e.g. "/api/oauth2/access_token").
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Overlaps is how many access_token requests overlapped another.
func (s *Server) Overlaps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlaps
}

// Orders is how many distinct orderNos getAdvFaceId accepted.
func (s *Server) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

// Complete ends the face session of orderNo with outcome. It fails when
// the SDK never launched that order with a valid NONCE-ticket signature.
func (s *Server) Complete(orderNo string, outcome Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderNo]
	if o == nil {
		return fmt.Errorf("webankfake: no order %q", orderNo)
	}
	if !o.launched {
		return fmt.Errorf("webankfake: order %q was never launched by the SDK", orderNo)
	}
	o.outcome, o.occurred = &outcome, s.opts.Now()
	return nil
}

// Expire ends every token and ticket now, as a changed secret would.
func (s *Server) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tokens {
		s.tokens[k] = s.opts.Now()
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	if s.opts.Hold != nil {
		s.opts.Hold(r.URL.Path)
	}
	var out map[string]any
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/oauth2/access_token":
		out = s.accessToken(r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/oauth2/api_ticket":
		out = s.apiTicket(r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/server/getAdvFaceId":
		out = s.getAdvFaceID(r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/base/queryfacerecord":
		out = s.queryFaceRecord(r)
	case r.Method == http.MethodPost && r.URL.Path == "/fake/sdk/launch":
		out = s.sdkLaunch(r)
	default:
		http.NotFound(w, r)
		return
	}
	out["transactionTime"] = s.opts.Now().Format("20060102150405")
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(out)
}

func fail(code, msg string) map[string]any { return map[string]any{"code": code, "msg": msg} }

func (s *Server) accessToken(r *http.Request) map[string]any {
	s.mu.Lock()
	s.inToken++
	if s.inToken > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inToken--; s.mu.Unlock() }()
	if s.opts.TokenDelay > 0 {
		time.Sleep(s.opts.TokenDelay)
	}
	q := r.URL.Query()
	if q.Get("appId") != s.opts.AppID || q.Get("secret") != s.opts.Secret {
		return fail(CodeIllegal, "appId or secret is wrong")
	}
	if q.Get("grant_type") != "client_credential" || q.Get("version") != webank.Version {
		return fail(CodeParam, "grant_type must be client_credential and version 1.0.0")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	// A new token leaves the old ones one minute.
	for k, exp := range s.tokens {
		if exp.After(now.Add(s.opts.Grace)) {
			s.tokens[k] = now.Add(s.opts.Grace)
		}
	}
	tok := s.random("tok")
	s.tokens[tok] = now.Add(s.opts.TokenTTL)
	return map[string]any{"code": CodeOK, "msg": "请求成功", "access_token": tok,
		"expire_time": now.Add(s.opts.TokenTTL).Format("20060102150405"),
		"expire_in":   strconv.Itoa(int(s.opts.TokenTTL / time.Second))}
}

var userIDRule = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func (s *Server) apiTicket(r *http.Request) map[string]any {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	tok := q.Get("access_token")
	if q.Get("appId") != s.opts.AppID || !s.tokenValid(tok, now) {
		return fail(CodeIllegal, "access_token is invalid or expired")
	}
	if q.Get("version") != webank.Version {
		return fail(CodeParam, "version must be 1.0.0")
	}
	var t *ticket
	switch q.Get("type") {
	case "SIGN":
		for _, old := range s.signTickets {
			if old.expires.After(now.Add(s.opts.Grace)) {
				old.expires = now.Add(s.opts.Grace)
			}
		}
		t = &ticket{value: s.random("sign"), token: tok, expires: now.Add(s.opts.SignTTL)}
		s.signTickets = append(s.signTickets, t)
	case "NONCE":
		uid := q.Get("user_id")
		if !userIDRule.MatchString(uid) {
			return fail(CodeParam, "user_id must be 1-32 letters or digits")
		}
		t = &ticket{value: s.random("nonce"), token: tok, expires: now.Add(s.opts.NonceTTL), userID: uid}
		s.nonces[t.value] = t
	default:
		return fail(CodeParam, "type must be SIGN or NONCE")
	}
	life := t.expires.Sub(now)
	return map[string]any{"code": CodeOK, "msg": "请求成功", "tickets": []map[string]string{{
		"value": t.value, "expire_in": strconv.Itoa(int(life / time.Second)),
		"expire_time": t.expires.Format("20060102150405"),
	}}}
}

func (s *Server) tokenValid(tok string, now time.Time) bool {
	exp, ok := s.tokens[tok]
	return ok && now.Before(exp)
}

// signedWithSignTicket reports whether sign is Sign(values..., T) for a
// SIGN ticket T that is still valid, with its token.
func (s *Server) signedWithSignTicket(sign string, now time.Time, values ...string) bool {
	for _, t := range s.signTickets {
		if now.Before(t.expires) && s.tokenValid(t.token, now) && equalFold(webank.Sign(append(values, t.value)...), sign) {
			return true
		}
	}
	return false
}

var (
	orderRule = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)
	nonceRule = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

func decode(r *http.Request) (map[string]string, bool) {
	var m map[string]string
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 8<<20)).Decode(&m); err != nil {
		return nil, false
	}
	return m, true
}

func (s *Server) getAdvFaceID(r *http.Request) map[string]any {
	b, ok := decode(r)
	if !ok {
		return fail(CodeParam, "the body must be a JSON object of strings")
	}
	if b["appId"] != s.opts.AppID || b["version"] != webank.Version || !nonceRule.MatchString(b["nonce"]) {
		return fail(CodeParam, "appId, version 1.0.0 and a 32-character nonce are required")
	}
	if !orderRule.MatchString(b["orderNo"]) || !userIDRule.MatchString(b["userId"]) {
		return fail(CodeParam, "orderNo and userId must be 1-32 letters or digits")
	}
	authority := b["name"] != "" && b["idNo"] != ""
	if !authority && b["sourcePhotoStr"] == "" {
		return fail(CodeParam, "name and idNo, or sourcePhotoStr, are required")
	}
	if b["sourcePhotoStr"] != "" && b["sourcePhotoType"] != "1" && b["sourcePhotoType"] != "2" {
		return fail(CodeParam, "sourcePhotoType must be 1 or 2")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if !s.signedWithSignTicket(b["sign"], now, b["appId"], b["userId"], b["nonce"], b["version"]) {
		return fail(CodeIllegal, "sign is wrong or its SIGN ticket expired")
	}
	o := s.orders[b["orderNo"]]
	if o != nil && o.userID != b["userId"] {
		return fail(CodeDuplicate, "orderNo was used for another user")
	}
	if o == nil {
		o = &order{faceID: s.random("face"), userID: b["userId"], bizSeqNo: s.random("biz"), authority: authority}
		s.orders[b["orderNo"]] = o
	}
	return map[string]any{"code": CodeOK, "msg": "请求成功", "bizSeqNo": o.bizSeqNo, "result": map[string]any{
		"bizSeqNo": o.bizSeqNo, "orderNo": b["orderNo"], "faceId": o.faceID, "optimalDomain": "kyc1.qcloud.com", "success": true,
	}}
}

// sdkLaunch is what the client SDK does with faceAdv's answer: it proves
// the launch sign with a NONCE ticket, which is then spent.
func (s *Server) sdkLaunch(r *http.Request) map[string]any {
	b, ok := decode(r)
	if !ok {
		return fail(CodeParam, "the body must be a JSON object of strings")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	o := s.orders[b["orderNo"]]
	if o == nil || o.faceID != b["faceId"] || o.userID != b["userId"] {
		return fail(CodeParam, "unknown orderNo/faceId for this userId")
	}
	for _, t := range s.nonces {
		if t.userID != b["userId"] || t.used || !now.Before(t.expires) || !s.tokenValid(t.token, now) {
			continue
		}
		if equalFold(webank.Sign(b["appId"], b["userId"], b["version"], t.value, b["nonce"]), sign(b)) && b["appId"] == s.opts.AppID {
			t.used = true
			o.launched = true
			return map[string]any{"code": CodeOK, "msg": "请求成功"}
		}
	}
	return fail(CodeIllegal, "sign is wrong, or its NONCE ticket expired or was already used")
}

func sign(b map[string]string) string { return b["sign"] }

func (s *Server) queryFaceRecord(r *http.Request) map[string]any {
	b, ok := decode(r)
	if !ok {
		return fail(CodeParam, "the body must be a JSON object of strings")
	}
	if b["appId"] != s.opts.AppID || b["version"] != webank.Version || !nonceRule.MatchString(b["nonce"]) || !orderRule.MatchString(b["orderNo"]) {
		return fail(CodeParam, "appId, version 1.0.0, a 32-character nonce and orderNo are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if !s.signedWithSignTicket(b["sign"], now, b["appId"], b["orderNo"], b["version"], b["nonce"]) {
		return fail(CodeIllegal, "sign is wrong or its SIGN ticket expired")
	}
	o := s.orders[b["orderNo"]]
	if o == nil || o.outcome == nil {
		return fail(CodeNoRecord, "no face verification result for this orderNo")
	}
	res := map[string]any{
		"orderNo": b["orderNo"], "bizSeqNo": o.bizSeqNo, "liveRate": o.outcome.LiveRate,
		"similarity": o.outcome.Similarity, "occurredTime": o.occurred.Format("20060102150405"),
		"appId": s.opts.AppID,
	}
	switch b["getFile"] {
	case "1":
		res["photo"], res["video"] = o.outcome.Photo, o.outcome.Video
	case "2":
		res["photo"] = o.outcome.Photo
	case "3":
		res["video"] = o.outcome.Video
	}
	if b["queryVersion"] == "1.0" {
		res["sdkVersion"], res["trtcFlag"] = o.outcome.SdkVersion, o.outcome.TrtcFlag
	}
	return map[string]any{"code": o.outcome.Code, "msg": o.outcome.Msg, "bizSeqNo": o.bizSeqNo, "result": res}
}

func (s *Server) random(prefix string) string {
	s.seq++
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%d%x", prefix, s.seq, b)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 32
		}
		if 'a' <= y && y <= 'z' {
			y -= 32
		}
		if x != y {
			return false
		}
	}
	return true
}
