package sandbox

import (
	"slices"
	"strings"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/validate"
)

// outcome is one answer an action can give.
type outcome struct {
	Code        string // result code, or the API error code when Error
	Description string // Tencent's description of Code
	Charged     bool   // whether Tencent bills it
	Error       bool   // answered as Response.Error instead of a result
	Local       bool   // invalid input, which our precheck answers first
	// Status is the state of a flow that has not produced a result:
	// statusPending for DetectAuth, init/doing/timeout for eID.
	Status string
	// Variant is a documented value of VariantField within Code, e.g.
	// StatusCode "1" (停机) within MobileStatus "0"; VariantNote explains it.
	Variant, VariantField, VariantNote string
}

const (
	statusPending = "pending"
	eidInit       = "init"
	eidDoing      = "doing"
	eidFinished   = "finished"
	eidTimeout    = "timeout"
)

// localCode is a result code Tencent gives for malformed input. Our precheck
// answers it before any provider call; the sandbox answers it too, so that
// it behaves the same when called directly (tests, tools) and so that the
// scenario table's "invalid input" rows can be checked against it.
type localCode struct {
	code, description string
	field, example    string         // the input to break and a value that breaks it
	bad               func(any) bool // true when the request is malformed that way
	asError           bool           // answered as an API error (DetectAIFakeFaces)
}

// Invalid example values, one per rule: each fails our validator.
const (
	badIDCard   = "110101199003074478" // check digit should be 7
	badName     = "张三3"                // digits are not part of a name
	badDate     = "20211301"           // there is no month 13
	badBankCard = "6222020000000000001"
	badMobile   = "12800138000" // no mobile range starts 12
	badMode     = "9"           // EncryptionMode is 0-3
)

// localRule recognises a local result code by its documented description,
// so the mapping survives renumbering (-2 is 非法身份证号 in one action and
// 姓名校验不通过 in another).
type localRule struct {
	phrase  string
	fields  []string // the first field the action has is the one checked
	example string
	check   func(string) error
}

var localRules = []localRule{
	{"非法身份证号", []string{"IdCard"}, badIDCard, validate.IDNumber},
	{"身份证号码有误", []string{"IdCard"}, badIDCard, validate.IDNumber},
	{"非法姓名", []string{"Name"}, badName, validate.Name},
	{"姓名校验不通过", []string{"Name"}, badName, validate.Name},
	{"非法有效期", []string{"ValidityEnd"}, badDate, validate.ValidityEnd},
	{"银行卡号格式有误", []string{"BankCard"}, badBankCard, validate.BankCard},
	{"手机号码不合法", []string{"Phone", "Mobile"}, badMobile, validate.Mobile},
	{"手机号格式不正确", []string{"Mobile", "Phone"}, badMobile, validate.Mobile},
	{"参数错误", []string{"EncryptionMode"}, badMode, checkEncryptionMode},
}

func checkEncryptionMode(s string) error {
	if s == "0" || s == "1" || s == "2" || s == "3" {
		return nil
	}
	return &validate.RuleError{Rule: "must be 0, 1, 2 or 3"}
}

// elementLocal reports whether a numeric result code is local. A billed
// code never is: Tencent only bills what reached the authority.
func elementLocal(a *faceid.Action, req any, r faceid.ResultCode) (localCode, bool) {
	if r.Charged {
		return localCode{}, false
	}
	for _, rule := range localRules {
		if !strings.Contains(r.Description, rule.phrase) {
			continue
		}
		for _, f := range rule.fields {
			if !hasField(req, f) {
				continue
			}
			lc := fieldRule(r.Code, r.Description, f, rule.example, rule.check)
			if f == "ValidityEnd" {
				// The code covers both dates; the table shows the end date.
				begin := fieldRule(r.Code, r.Description, "ValidityBegin", badDate, validate.Date8)
				end := lc.bad
				lc.bad = func(req any) bool { return begin.bad(req) || end(req) }
			}
			return lc, true
		}
	}
	return localCode{}, false
}

// faceLocal reports whether a face-class code is local: the format errors
// of the identity fields a caller typed (not ones OCR read from a photo),
// and DetectAIFakeFaces' documented parameter errors.
func faceLocal(a *faceid.Action, req any, code string) (localCode, bool) {
	desc := errorDescription(code)
	switch code {
	case "FailedOperation.IdFormatError":
		if hasField(req, "IdCard") {
			return fieldRule(code, desc, "IdCard", badIDCard, validate.IDNumber), true
		}
	case "FailedOperation.NameFormatError":
		if hasField(req, "Name") {
			return fieldRule(code, desc, "Name", badName, validate.Name), true
		}
	case "InvalidParameter":
		if hasField(req, "FaceInputType") {
			// "其他：返回错误码InvalidParameter" (FaceInputType must be 1 or 2).
			return localCode{code: code, description: desc, field: "FaceInputType", example: "3", asError: true,
				bad: func(req any) bool {
					t := req.(*faceid.DetectAIFakeFacesRequest).FaceInputType
					return t != nil && *t != 1 && *t != 2
				}}, true
		}
	case "InvalidParameterValue":
		if hasField(req, "LivenessType") {
			// Liveness, LivenessRecognition, LivenessCompare: a mode other
			// than LIP/ACTION/SILENT, or LIP/ACTION without its code.
			return localCode{code: code, description: desc, field: "LivenessType", example: "lip", asError: true,
				bad: func(req any) bool {
					lt, ok := getString(req, "LivenessType")
					vd, _ := getString(req, "ValidateData")
					return ok && (validate.LivenessType(lt) != nil || validate.ValidateData(lt, vd) != nil)
				}}, true
		}
		if lim, ok := a.MediaLimit("FaceInput"); ok {
			lc := fieldRule(code, desc, "FaceInput", "not base64!", func(s string) error { return validate.Base64Media(s, lim) })
			lc.asError = true
			return lc, true
		}
	}
	return localCode{}, false
}

// fieldRule builds a local code that checks one string field, skipping it
// when the caller sent that field encrypted or hashed: ciphertext is not
// malformed input, and only Tencent can read it.
func fieldRule(code, desc, f, example string, check func(string) error) localCode {
	return localCode{code: code, description: desc, field: f, example: example,
		bad: func(req any) bool {
			v, ok := getString(req, f)
			return ok && !encrypted(req, f) && check(v) != nil
		}}
}

// encrypted reports whether field f of req is ciphertext or a digest:
// listed in Encryption.EncryptList (or PhoneVerification's legacy top-level
// EncryptList), or hashed by EncryptedPhoneVerification's EncryptionMode.
func encrypted(req any, f string) bool {
	if fv, ok := field(req, "Encryption"); ok && !fv.IsNil() {
		if e, ok := fv.Interface().(*faceid.Encryption); ok && listed(e.EncryptList, f) {
			return true
		}
	}
	if fv, ok := field(req, "EncryptList"); ok {
		if l, ok := fv.Interface().([]*string); ok && listed(l, f) {
			return true
		}
	}
	if f != "EncryptionMode" {
		if mode, ok := getString(req, "EncryptionMode"); ok && mode != "0" {
			return true
		}
	}
	return false
}

func listed(l []*string, f string) bool {
	return slices.ContainsFunc(l, func(s *string) bool { return s != nil && *s == f })
}
