package faceprint

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/errs"
)

// Backend answers faceprint calls: the live Baidu client or the sandbox.
// Body has been validated; the answer is Baidu's JSON. Error answers are
// *errs.Error values wrapping a *baidu.APIError.
type Backend interface {
	Faceprint(ctx context.Context, endpoint string, body []byte) ([]byte, error)
}

// Lifecycle of a verify_token, as Baidu documents it.
const (
	FlowLifetime   = 2 * time.Hour  // to run the H5 flow (submit, upload, verify)
	ResultLifetime = 72 * time.Hour // results are kept 3 days
)

// CodeVerifyTokenInvalid answers an unknown or lapsed verify_token with
// Baidu's documented text "Token无效或者已过期". UNCONFIRMED: the number is
// not in our reference (the per-endpoint tables of zl958mm8k were cut off);
// it is taken from the solution's 2835xx range, and the fake uses the same.
const CodeVerifyTokenInvalid = 283504

const msgVerifyTokenInvalid = "Token无效或者已过期"

// LapsedVerifyToken is a sandbox verify_token that is always lapsed.
const LapsedVerifyToken = "sandbox-lapsed"

// Outcome is how an emulated H5 flow ends: code 0 passes.
type Outcome struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Failures are the H5 flow's documented result codes, each reachable in
// the sandbox with plan_id "fail-<code>".
var Failures = []Outcome{
	{222351, "证件号与姓名不匹配"},
	{223120, "活体检测未通过"},
	{223131, "合成图检测未通过"},
	{223051, "唇语验证未通过"},
	{216509, "视频中的声音无法识别"},
	{800001, "采集超时"},
	{800002, "炫瞳检测失败"},
}

// generateErrors are the answers verifyToken/generate can give instead of a
// token, reachable with plan_id "error-<code>".
var generateErrors = []int{
	baidu.CodeUnavailable, baidu.CodeClusterLimit, baidu.CodeNoPermission, baidu.CodeDailyLimit,
	baidu.CodeQPSLimit, baidu.CodeTotalLimit, baidu.CodePlanNotExist, baidu.CodeServiceBusy,
}

// SandboxOptions configure a Sandbox.
type SandboxOptions struct {
	Now func() time.Time // nil is time.Now
}

// Sandbox emulates the eight endpoints with no outbound call. It keeps no
// state: a verify_token carries its issue time and outcome under a MAC, so
// any instance answers for a token another issued, with or without Redis.
// The MAC key is public; it only turns a mistyped or edited token into
// "Token无效或者已过期" as Baidu would.
type Sandbox struct {
	now func() time.Time
}

// NewSandbox builds a Sandbox.
func NewSandbox(opts SandboxOptions) *Sandbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sandbox{now: opts.Now}
}

var sandboxKey = []byte("idverify faceprint sandbox v1")

type logIDKey struct{}

// withLogID passes the request's log_id to the sandbox.
func withLogID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, logIDKey{}, id)
}

func logIDFrom(ctx context.Context) string {
	if id, _ := ctx.Value(logIDKey{}).(string); id != "" {
		return id
	}
	return "sandbox-" + randHex(8)
}

// issue makes a token: "sb" + hex(issued unix u32, outcome index, 4
// random bytes, 3 bytes of HMAC-SHA256).
func (s *Sandbox) issue(outcome int) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(s.now().Unix()))
	b[4] = byte(outcome)
	_, _ = rand.Read(b[5:9])
	m := hmac.New(sha256.New, sandboxKey)
	m.Write(b[:9])
	copy(b[9:], m.Sum(nil))
	return "sb" + hex.EncodeToString(b[:])
}

// open checks a token and returns its issue time and outcome index.
func (s *Sandbox) open(vt string) (time.Time, int, bool) {
	b, err := hex.DecodeString(strings.TrimPrefix(vt, "sb"))
	if !strings.HasPrefix(vt, "sb") || err != nil || len(b) != 12 {
		return time.Time{}, 0, false
	}
	m := hmac.New(sha256.New, sandboxKey)
	m.Write(b[:9])
	if !hmac.Equal(m.Sum(nil)[:3], b[9:]) || int(b[4]) > len(Failures) {
		return time.Time{}, 0, false
	}
	return time.Unix(int64(binary.BigEndian.Uint32(b[0:4])), 0), int(b[4]), true
}

type envelope struct {
	Success bool   `json:"success"`
	Result  any    `json:"result"`
	LogID   string `json:"log_id"`
}

// failed is the solution's own error shape (success false, code, message).
type failed struct {
	Success bool   `json:"success"`
	Result  any    `json:"result"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	LogID   string `json:"log_id"`
}

func ok(logID string, result any) ([]byte, error) {
	return json.Marshal(envelope{Success: true, Result: result, LogID: logID})
}

// refuse answers an error the way Baidu would: flow control with
// error_code/error_msg, the solution's errors with success/code/message.
func refuse(logID string, code int, msg string) error {
	var body []byte
	if code < 1000 {
		body, _ = json.Marshal(map[string]any{"error_code": code, "error_msg": msg, "log_id": logID})
	} else {
		body, _ = json.Marshal(failed{Code: code, Message: msg, LogID: logID})
	}
	e := errs.Wrap(&baidu.APIError{Code: code, Msg: msg, LogID: logID, Body: body}, baidu.KindOf(code), strconv.Itoa(code), "%s", msg)
	e.RequestID = logID
	return e
}

// Faceprint answers one call.
func (s *Sandbox) Faceprint(ctx context.Context, endpoint string, body []byte) ([]byte, error) {
	logID := logIDFrom(ctx)
	var m members
	if json.Unmarshal(body, &m) != nil {
		return nil, refuse(logID, baidu.CodeBadRequestBody, baidu.Message(baidu.CodeBadRequestBody))
	}
	if endpoint == "verifyToken/generate" {
		return s.generate(logID, m)
	}
	vt, _, _ := m.str("verify_token", false)
	issued, outcome, valid := s.open(vt)
	now := s.now()
	limit := ResultLifetime
	if endpoint == "idcard/submit" || endpoint == "uploadMatchImage" {
		limit = FlowLifetime
	}
	if !valid || now.Before(issued.Add(-time.Minute)) || !now.Before(issued.Add(limit)) {
		return nil, refuse(logID, CodeVerifyTokenInvalid, msgVerifyTokenInvalid)
	}
	o := Outcome{Code: 0, Message: "核验成功"}
	if outcome > 0 {
		o = Failures[outcome-1]
	}
	return s.answer(endpoint, logID, vt, issued, o)
}

func (s *Sandbox) generate(logID string, m members) ([]byte, error) {
	plan := planID(m)
	outcome := 0
	switch {
	case strings.HasPrefix(plan, "error-"):
		code, _ := strconv.Atoi(strings.TrimPrefix(plan, "error-"))
		for _, c := range generateErrors {
			if c == code {
				return nil, refuse(logID, code, baidu.Message(code))
			}
		}
		return nil, refuse(logID, baidu.CodePlanNotExist, baidu.Message(baidu.CodePlanNotExist))
	case strings.HasPrefix(plan, "fail-"):
		code, _ := strconv.Atoi(strings.TrimPrefix(plan, "fail-"))
		for i, f := range Failures {
			if f.Code == code {
				outcome = i + 1
			}
		}
		if outcome == 0 {
			return nil, refuse(logID, baidu.CodePlanNotExist, baidu.Message(baidu.CodePlanNotExist))
		}
	}
	return ok(logID, map[string]string{"verify_token": s.issue(outcome)})
}

func planID(m members) string {
	var s string
	if json.Unmarshal(m["plan_id"], &s) == nil {
		return s
	}
	var n json.Number
	_ = json.Unmarshal(m["plan_id"], &n)
	return n.String()
}

const sandboxMedia = "https://sandbox.idverify.invalid/faceprint/"

// Identity the sandbox reports, masked as Baidu's examples are.
const (
	sandboxName = "张*"
	sandboxID   = "110***********4477"
)

type countRow struct {
	ErrorCode int `json:"error_code"`
	Count     int `json:"count"`
}

func (s *Sandbox) answer(endpoint, logID, vt string, issued time.Time, o Outcome) ([]byte, error) {
	passed := o.Code == 0
	at := issued.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
	face := sandboxMedia + "image?verify_token=" + vt
	switch endpoint {
	case "idcard/submit":
		return ok(logID, 1)
	case "uploadMatchImage":
		return ok(logID, nil)
	case "result/simple":
		if !passed {
			return json.Marshal(failed{Code: o.Code, Message: o.Message, LogID: logID})
		}
		return ok(logID, map[string]string{"image": face})
	case "result/detail":
		if !passed {
			return json.Marshal(failed{Code: o.Code, Message: o.Message, LogID: logID})
		}
		return ok(logID, map[string]any{
			"verify_result":  map[string]float64{"score": 93.7835, "liveness_score": 0.9672966, "spoofing": 0},
			"idcard_confirm": map[string]string{"name": sandboxName, "idcard_number": sandboxID},
		})
	case "result/stat":
		row := []countRow{{ErrorCode: o.Code, Count: 1}}
		return ok(logID, map[string]any{
			"Verify_FIN": row, "Sessioncode": []countRow{{0, 1}}, "OCR": []countRow{},
			"verify": row, "VideoLiveness": []countRow{{0, 1}}, "Livenesscolorful": []countRow{}, "VerifySec": []countRow{},
		})
	case "result/media/query":
		return ok(logID, map[string]any{
			"processVideo": []string{}, "video": []string{sandboxMedia + "video/" + vt + ".mp4"},
			"images": []string{}, "extInfo": nil,
		})
	case "result/getall":
		var score any
		chargeTime := ""
		if passed {
			score, chargeTime = 93.7835, at
		}
		msg := o.Message
		return ok(logID, map[string]any{
			"verify_count": 1, "ocr_charge_count": 0, "match_charge_count": 0, "verify_charge_count": boolInt(passed),
			"verify_result": []any{map[string]any{
				"order": 1, "is_verify_passed": passed, "code": strconv.Itoa(o.Code), "message": msg,
				"verify_time": at, "is_charged": passed, "charge_type": "verify", "charge_time": chargeTime,
				"verify_detail": map[string]any{
					"face_image": face, "verify_log_id": logID, "score": score, "threshold": 80,
					"liveness_score": 0, "spoofing_score": 0, "is_demote": false,
				},
				"idcard_confirm": map[string]string{"name": sandboxName, "idcard_number": sandboxID, "idcard_type": "0"},
			}},
		})
	}
	return nil, refuse(logID, baidu.CodeUnsupported, baidu.Message(baidu.CodeUnsupported))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Scenario is one row of the sandbox's magic-value table.
type Scenario struct {
	// Endpoint is called with Field set to Value.
	Endpoint string `json:"endpoint"`
	Field    string `json:"field"`
	Value    string `json:"value"`
	// ErrorCode is the code Endpoint answers with, when it refuses.
	ErrorCode int `json:"error_code,omitempty"`
	// ResultCode is the verification outcome the token's result queries
	// then show (0: passed), for a generate that succeeds.
	ResultCode *int   `json:"result_code,omitempty"`
	Message    string `json:"message"`
}

// Scenarios is the sandbox's table of magic values and what each gives.
func Scenarios() []Scenario {
	zero := 0
	out := []Scenario{{Endpoint: "verifyToken/generate", Field: "plan_id", Value: "1",
		ResultCode: &zero, Message: "any other plan_id: the user passes (score 93.7835, liveness 0.9672966)"}}
	for _, f := range Failures {
		code := f.Code
		out = append(out, Scenario{Endpoint: "verifyToken/generate", Field: "plan_id", Value: "fail-" + strconv.Itoa(f.Code),
			ResultCode: &code, Message: f.Message})
	}
	for _, c := range generateErrors {
		out = append(out, Scenario{Endpoint: "verifyToken/generate", Field: "plan_id", Value: "error-" + strconv.Itoa(c),
			ErrorCode: c, Message: baidu.Message(c)})
	}
	for _, e := range endpoints[1:] {
		out = append(out, Scenario{Endpoint: e.Path, Field: "verify_token", Value: LapsedVerifyToken,
			ErrorCode: CodeVerifyTokenInvalid, Message: msgVerifyTokenInvalid + " (also: any token after 2 hours for idcard/submit and uploadMatchImage, after 3 days for result/*)"})
	}
	return out
}
