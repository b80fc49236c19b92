package faceadv

import (
	"errors"
	"fmt"

	"github.com/idverify/idverify/shared/errs"
)

// The errcodes this implementation answers. The seed defines only 0
// (success) and "anything else is a failure"; these values group failures
// by what the caller should do, HTTP-style, and never change once
// published. errmsg names the field and the rule.
const (
	CodeOK           = 0     // success; data.status says SUCCESS, PROCESSING or FAIL
	CodeBadJSON      = 40001 // the body is not a JSON object, or a member has the wrong JSON type
	CodeMissing      = 40002 // a required field is missing
	CodeInvalid      = 40003 // a field breaks its rule (errmsg names the field and the rule)
	CodePhoto        = 40004 // sourcePhotoStr could not be used: too large, URL refused or unreachable
	CodeUnauthorized = 40100 // Authorization missing or not a valid key
	CodeForbidden    = 40300 // the key may not call this endpoint
	CodeNotFound     = 40400 // unknown traceNo (or one belonging to another caller), or unknown route
	CodeThrottled    = 42900 // rate limited by the provider; retry later
	CodeInternal     = 50000 // internal error; details are logged, not shown
	CodeProvider     = 50001 // WeBank refused the call; errmsg carries its code and msg
	CodeUnavailable  = 50200 // WeBank (or the job store) could not be reached; faceAdv is not retried automatically
)

// ErrcodeInfo documents one errcode.
type ErrcodeInfo struct {
	Errcode int    `json:"errcode"`
	Meaning string `json:"meaning"`
}

// Errcodes lists every errcode, for the README and the served docs.
func Errcodes() []ErrcodeInfo {
	return []ErrcodeInfo{
		{CodeOK, "success: data.status is SUCCESS, PROCESSING (async job running) or FAIL (verification did not pass; see result.tencentCode)"},
		{CodeBadJSON, "the body is not a JSON object, or a member has the wrong JSON type"},
		{CodeMissing, "a required field is missing (errmsg names it)"},
		{CodeInvalid, "a field breaks its rule (errmsg names the field and the rule)"},
		{CodePhoto, "sourcePhotoStr could not be used: too large, URL refused (not http/https, or a loopback/private/link-local address), or not fetchable"},
		{CodeUnauthorized, "the Authorization header is missing or not a valid key"},
		{CodeForbidden, "the key may not call this endpoint"},
		{CodeNotFound, "unknown traceNo (or one created by another caller), or unknown route"},
		{CodeThrottled, "rate limited; retry later"},
		{CodeInternal, "internal error"},
		{CodeProvider, "WeBank refused the call; errmsg carries its code and message"},
		{CodeUnavailable, "WeBank or the job store could not be reached; a faceAdv is not retried automatically (it may have been billed)"},
	}
}

// fieldError is a validation failure: errcode, field, rule.
type fieldError struct {
	code  int
	field string
	rule  string
}

func (e *fieldError) Error() string { return e.field + " " + e.rule }

func missing(field string) error { return &fieldError{CodeMissing, field, "is required"} }

func invalid(field, rule string) error { return &fieldError{CodeInvalid, field, rule} }

// failure turns any error into the envelope.
func failure(traceNo string, err error) *Envelope {
	env := &Envelope{Data: &Data{Status: StatusFail, TraceNo: traceNo}}
	var fe *fieldError
	if errors.As(err, &fe) {
		env.Errcode, env.Errmsg = fe.code, fe.Error()
		return env
	}
	e := errs.As(err)
	switch e.Kind {
	case errs.Invalid:
		env.Errcode = CodeInvalid
	case errs.Unauthorized:
		env.Errcode = CodeUnauthorized
	case errs.Forbidden:
		env.Errcode = CodeForbidden
	case errs.NotFound:
		env.Errcode = CodeNotFound
	case errs.Throttled:
		env.Errcode = CodeThrottled
	case errs.Provider:
		env.Errcode = CodeProvider
	case errs.Unavailable:
		env.Errcode = CodeUnavailable
	default:
		env.Errcode = CodeInternal
	}
	env.Errmsg = e.PublicMessage()
	if env.Errmsg == "" {
		env.Errmsg = fmt.Sprintf("error %d", env.Errcode)
	}
	return env
}

// asError turns a failure envelope back into an *errs.Error, for the
// direct-invocation surface where workflows match error types.
func asError(env *Envelope) error {
	kind := errs.Internal
	switch env.Errcode {
	case CodeBadJSON, CodeMissing, CodeInvalid, CodePhoto:
		kind = errs.Invalid
	case CodeUnauthorized:
		kind = errs.Unauthorized
	case CodeForbidden:
		kind = errs.Forbidden
	case CodeNotFound:
		kind = errs.NotFound
	case CodeThrottled:
		kind = errs.Throttled
	case CodeProvider:
		kind = errs.Provider
	case CodeUnavailable:
		kind = errs.Unavailable
	}
	return errs.E(kind, fmt.Sprintf("FaceAdv.%d", env.Errcode), "%s", env.Errmsg)
}
