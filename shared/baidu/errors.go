package baidu

import (
	"fmt"

	"github.com/idverify/idverify/shared/errs"
)

// Baidu error codes this package acts on. Sources: the faceprint error
// table (https://ai.baidu.com/ai-doc/FACE/zl958mm8k) and Baidu's generic
// table (https://ai.baidu.com/ai-doc/FACE/5k37c1ujz).
const (
	CodeUnknown          = 1  // Unknown error
	CodeUnavailable      = 2  // Service temporarily unavailable: retry with backoff
	CodeUnsupported      = 3  // Unsupported openapi method (an unknown path)
	CodeClusterLimit     = 4  // Open api request limit reached: retry with backoff
	CodeNoPermission     = 6  // no permission to access data: never retried
	CodeServiceToken     = 13 // Get service token failed: this deployment's Baidu key does not work
	CodeDailyLimit       = 17 // Open api daily request limit reached: never retried
	CodeQPSLimit         = 18 // Open api qps request limit reached: retry with backoff
	CodeTotalLimit       = 19 // Open api total request limit reached: never retried
	CodeInvalidToken     = 100
	CodeTokenInvalid     = 110 // Access token invalid or no longer valid: new token, one retry
	CodeTokenExpired     = 111 // Access token expired: new token, one retry
	CodeInvalidParam     = 216100
	CodeBadRequestBody   = 283513 // the body is not JSON
	CodePlanNotExist     = 283435
	CodeServiceBusy      = 283512 // 服务异常,请稍后再试 (Baidu's redis)
	CodeMissingMatchType = 283520
)

// Messages are Baidu's own texts for the codes, so answers read as Baidu's.
var Messages = map[int]string{
	CodeUnknown:          "Unknown error",
	CodeUnavailable:      "Service temporarily unavailable",
	CodeUnsupported:      "Unsupported openapi method",
	CodeClusterLimit:     "Open api request limit reached",
	CodeNoPermission:     "no permission to access data",
	CodeServiceToken:     "Get service token failed",
	CodeDailyLimit:       "Open api daily request limit reached",
	CodeQPSLimit:         "Open api qps request limit reached",
	CodeTotalLimit:       "Open api total request limit reached",
	CodeInvalidToken:     "Invalid parameter",
	CodeTokenInvalid:     "Access token invalid or no longer valid",
	CodeTokenExpired:     "Access token expired",
	CodeInvalidParam:     "invalid param",
	CodeBadRequestBody:   "请求参数错误",
	CodePlanNotExist:     "方案不存在。Plan not exist.",
	CodeServiceBusy:      "服务异常,请稍后再试",
	CodeMissingMatchType: "请传入核验方式",
}

// APIError is an error answer from Baidu. Body is the answer as Baidu sent
// it, so a surface that speaks Baidu's shape can pass it through unchanged.
type APIError struct {
	Code  int
	Msg   string
	LogID string
	Body  []byte
}

func (e *APIError) Error() string { return fmt.Sprintf("baidu error_code %d: %s", e.Code, e.Msg) }

// tokenRejected reports whether code says the access token, not the
// request, is at fault: a new token may fix it.
func tokenRejected(code int) bool {
	return code == CodeInvalidToken || code == CodeTokenInvalid || code == CodeTokenExpired
}

// backoffRetryable reports whether code is a transient flow-control or
// availability refusal. Baidu refused the call before doing the work, and
// the faceprint endpoints are not billed per call (the paid V4 checks run
// from the H5 page), so a retry cannot bill twice.
func backoffRetryable(code int) bool {
	return code == CodeUnavailable || code == CodeClusterLimit || code == CodeQPSLimit
}

// KindOf classifies a Baidu code for workflows (errs.Kind decides Retry and
// Catch). Daily and total quota (17, 19) and missing permission (6) are
// Forbidden, not Throttled: retrying them soon cannot help.
func KindOf(code int) errs.Kind {
	switch code {
	case CodeUnavailable, CodeServiceBusy:
		return errs.Unavailable
	case CodeClusterLimit, CodeQPSLimit:
		return errs.Throttled
	case CodeNoPermission, CodeDailyLimit, CodeTotalLimit:
		return errs.Forbidden
	case CodeInvalidToken, CodeTokenInvalid, CodeTokenExpired, CodeServiceToken:
		return errs.Internal
	case CodeUnsupported:
		return errs.NotFound
	case CodeInvalidParam, CodeBadRequestBody, CodePlanNotExist, CodeMissingMatchType:
		return errs.Invalid
	default:
		return errs.Provider
	}
}

// Message is Baidu's text for code, or "error <code>".
func Message(code int) string {
	if m, ok := Messages[code]; ok {
		return m
	}
	return fmt.Sprintf("error %d", code)
}

// asErr wraps a Baidu answer as the project's error type, keeping the
// APIError for callers that pass Baidu's body through. The errs code is
// the Baidu code in decimal, which is what the faceprint surface answers.
func asErr(a *APIError) *errs.Error {
	e := errs.Wrap(a, KindOf(a.Code), fmt.Sprint(a.Code), "%s", a.Msg)
	e.RequestID = a.LogID
	return e
}
