package precheck

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/validate"
)

// class groups fields whose failure Tencent reports with one result code.
type class int

const (
	classNone class = iota
	classID
	className
	classMobile
	classBankCard
	classValidity
	classParam // a malformed parameter the action reports as a generic "参数错误"
)

type rule struct {
	check func(string) error
	class class
}

// fieldRules apply to a field of that name in any action: FaceID uses the
// same names for the same things everywhere.
var fieldRules = map[string]rule{
	"IdCard":        {validate.IDNumber, classID},
	"Name":          {validate.Name, className},
	"Phone":         {validate.Mobile, classMobile},
	"Mobile":        {validate.Mobile, classMobile},
	"BankCard":      {validate.BankCard, classBankCard},
	"ValidityBegin": {validate.Date8, classValidity},
	"ValidityEnd":   {validate.ValidityEnd, classValidity},
	"ImageUrl":      {urlRule, classNone},
	"VideoUrl":      {urlRule, classNone},
	"RedirectUrl":   {urlRule, classNone},
}

func urlRule(s string) error { return validate.HTTPURL(s, 2048) }

// classWords recognise, in an action's documented free result codes, the one
// Tencent answers for a malformed value of that class. Deriving the mapping
// from the registry keeps "adding an action" a spec change; a test pins the
// derived table for every element-check action.
var classWords = map[class]struct{ subject, anyOf []string }{
	classID:       {[]string{"身份证号"}, []string{"非法", "有误"}},
	className:     {[]string{"姓名"}, []string{"非法", "校验不通过"}},
	classMobile:   {[]string{"手机号"}, []string{"不合法", "格式不正确"}},
	classBankCard: {[]string{"银行卡号格式"}, nil},
	classValidity: {[]string{"非法有效期"}, nil},
	classParam:    {[]string{"参数错误"}, nil},
}

// faceCodes are the free codes face-comparison actions (whose Result holds
// "Success" or a FailedOperation code) give for a malformed identity.
var faceCodes = map[class]string{
	classID:   "FailedOperation.IdFormatError",
	className: "FailedOperation.NameFormatError",
}

func localCode(a *faceid.Action, c class) (faceid.ResultCode, bool) {
	if code, ok := faceCodes[c]; ok && a.ResultField == "Result" && hasErrorCode(a, code) {
		desc, _ := faceid.ErrorDescription(code)
		return faceid.ResultCode{Code: code, Description: desc}, true
	}
	w, ok := classWords[c]
	if !ok {
		return faceid.ResultCode{}, false
	}
	for _, r := range a.Results {
		if r.Charged || !containsAll(r.Description, w.subject) {
			continue
		}
		if len(w.anyOf) == 0 || containsAny(r.Description, w.anyOf) {
			return r, true
		}
	}
	return faceid.ResultCode{}, false
}

func hasErrorCode(a *faceid.Action, code string) bool {
	for _, c := range a.ErrorCodes {
		if c == code {
			return true
		}
	}
	return false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// hashLen is the hex length of each EncryptedPhoneVerification mode.
var hashLen = map[string]int{"1": 32, "2": 64, "3": 64}

// checkSpecial holds the few rules that involve more than one field
// (EncryptedPhoneVerification's hashes; the liveness actions' LivenessType
// and the ValidateData that goes with it). A
// failure is answered with the action's generic "参数错误" code where it has
// one, else as InvalidParameterValue.
func checkSpecial(a *faceid.Action, v reflect.Value) (*Local, error) {
	fail := func(field, rule string) (*Local, error) {
		if code, ok := localCode(a, classParam); ok {
			return &Local{Code: code, Field: field, Rule: rule, ResultField: a.ResultField}, nil
		}
		return nil, errs.E(errs.Invalid, "InvalidParameterValue", "field %s %s", field, rule)
	}
	if lt, ok := stringField(v.FieldByName("LivenessType")); ok {
		// The liveness actions: the mode, then the data that goes with it.
		if err := validate.LivenessType(lt); err != nil {
			return fail("LivenessType", ruleText(err))
		}
		vd, _ := stringField(v.FieldByName("ValidateData"))
		if err := validate.ValidateData(lt, vd); err != nil {
			return fail("ValidateData", ruleText(err))
		}
	}
	mode, ok := stringField(v.FieldByName("EncryptionMode"))
	if !ok || mode == "0" {
		return nil, nil
	}
	n, known := hashLen[mode]
	if !known {
		return fail("EncryptionMode", "must be 0 (plain), 1 (MD5), 2 (SHA256) or 3 (SM3)")
	}
	for _, f := range []string{"IdCard", "Name", "Phone"} {
		s, _ := stringField(v.FieldByName(f))
		if _, err := hex.DecodeString(s); err != nil || len(s) != n {
			return fail(f, fmt.Sprintf("must be a %d-character hex digest for EncryptionMode %s", n, mode))
		}
	}
	return nil, nil
}
