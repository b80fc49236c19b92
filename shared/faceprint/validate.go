package faceprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/validate"
)

// members is a request body's top-level object.
type members map[string]json.RawMessage

// The top-level members each endpoint takes, from Baidu's documentation
// (seed 004's 请求参数 tables; redirect_config and the APP plans'
// match_source from the verifyToken/generate page, reference §6.2), plus
// access_token, which clients written for Baidu append and which is
// dropped. The members' types are checked by the endpoint's check, so
// every one is a json.RawMessage here; redirect_config's own members are
// not all documented and are left free (their duplicates are still
// refused).
type (
	generateBody struct {
		PlanID         json.RawMessage `json:"plan_id"`
		RedirectConfig json.RawMessage `json:"redirect_config"`
		MatchSource    json.RawMessage `json:"match_source"`
		AccessToken    json.RawMessage `json:"access_token"`
	}
	submitBody struct {
		VerifyToken     json.RawMessage `json:"verify_token"`
		IDName          json.RawMessage `json:"id_name"`
		IDNo            json.RawMessage `json:"id_no"`
		CertificateType json.RawMessage `json:"certificate_type"`
		AccessToken     json.RawMessage `json:"access_token"`
	}
	uploadBody struct {
		VerifyToken     json.RawMessage `json:"verify_token"`
		Image           json.RawMessage `json:"image"`
		QualityControl  json.RawMessage `json:"quality_control"`
		LivenessControl json.RawMessage `json:"liveness_control"`
		AccessToken     json.RawMessage `json:"access_token"`
	}
	// tokenBody is every result/* query: verify_token only.
	tokenBody struct {
		VerifyToken json.RawMessage `json:"verify_token"`
		AccessToken json.RawMessage `json:"access_token"`
	}
)

// bodyModels maps an endpoint's Path to its body's members.
var bodyModels = map[string]reflect.Type{
	"verifyToken/generate": reflect.TypeFor[generateBody](),
	"idcard/submit":        reflect.TypeFor[submitBody](),
	"uploadMatchImage":     reflect.TypeFor[uploadBody](),
	"result/simple":        reflect.TypeFor[tokenBody](),
	"result/detail":        reflect.TypeFor[tokenBody](),
	"result/stat":          reflect.TypeFor[tokenBody](),
	"result/media/query":   reflect.TypeFor[tokenBody](),
	"result/getall":        reflect.TypeFor[tokenBody](),
}

// decodeStrict reads ep's request body: one JSON object in UTF-8 holding
// only the members ep takes, each at most once (package jsonshape, one
// streaming pass before anything is decoded), without access_token. The
// body reaches Baidu re-encoded, so a member Baidu would not read, or read
// differently (the first of two where encoding/json keeps the last, a
// case variant it ignores), is refused rather than passed on:
//   - a member ep does not take: 216100 invalid param naming it (and the
//     member it differs from only in case);
//   - everything that makes the body other than one well-formed JSON
//     object (a member twice in one object, at any level; invalid UTF-8;
//     bad syntax; data after it; nesting deeper than 20 or more than 1000
//     values): 283513 请求参数错误, naming the member where there is one.
//
// The members' values are checked by ep.check.
func decodeStrict(ep Endpoint, body []byte) (members, error) {
	if err := jsonshape.Check(bodyModels[ep.Path], body); err != nil {
		return nil, shapeError(ep, err)
	}
	var m members
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, badBody("the body must be a JSON object")
	}
	delete(m, "access_token")
	return m, nil
}

// badBody is Baidu's 283513 请求参数错误 with a reason.
func badBody(reason string) error {
	return errs.E(errs.Invalid, strconv.Itoa(baidu.CodeBadRequestBody), "%s: %s", baidu.Message(baidu.CodeBadRequestBody), reason)
}

func shapeError(ep Endpoint, err error) error {
	var e *jsonshape.Error
	if !errors.As(err, &e) {
		return badBody("the body must be a JSON object")
	}
	switch e.Kind {
	case jsonshape.UnknownField:
		if e.Suggest != "" {
			return invalid(jsonshape.QuotePath(e.Path), "is not a parameter: names are case-sensitive, did you mean "+jsonshape.QuotePath(e.Suggest)+"?")
		}
		return invalid(jsonshape.QuotePath(e.Path), "is not a parameter of "+ep.Path+" (it takes "+takes(ep)+")")
	case jsonshape.DuplicateKey:
		return badBody(jsonshape.QuotePath(e.Path) + " appears more than once")
	case jsonshape.InvalidUTF8:
		return badBody(fmt.Sprintf("the body must be UTF-8 (invalid byte at offset %d)", e.Offset-1))
	case jsonshape.Syntax:
		return badBody(fmt.Sprintf("the body must be a JSON object (invalid JSON at byte %d)", e.Offset))
	case jsonshape.Truncated:
		return badBody("the body must be a JSON object (the JSON is truncated)")
	case jsonshape.TrailingData:
		return badBody("the body must be a single JSON object (data follows it)")
	case jsonshape.TooDeep:
		return badBody(fmt.Sprintf("the body must not nest objects and arrays more than %d levels deep (at %s)", e.Limit, jsonshape.QuotePath(e.Path)))
	case jsonshape.TooManyValues:
		return badBody(fmt.Sprintf("the body must hold at most %d JSON values", e.Limit))
	}
	return badBody("the body must be a JSON object")
}

// takes lists ep's documented members, access_token aside.
func takes(ep Endpoint) string {
	t := bodyModels[ep.Path]
	var names []string
	for i := 0; t != nil && i < t.NumField(); i++ {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "access_token" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// MaxImageBase64 is Baidu's limit for uploadMatchImage's image: 10M of
// base64 ("编码后的图片大小不超过10M").
const MaxImageBase64 = 10 << 20

// maxTokenLen bounds verify_token and plan_id. Baidu's verify_tokens are 24
// characters; the bound only stops junk, the provider decides the rest.
const maxTokenLen = 64

// invalid is a validation failure in Baidu's shape: code 216100 "invalid
// param", with a message naming the field and the rule (never the value).
func invalid(field, rule string) error {
	return errs.E(errs.Invalid, strconv.Itoa(baidu.CodeInvalidParam), "invalid param: %s %s", field, rule)
}

func ruleErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return invalid(field, err.Error())
}

// str reads a string member. A JSON null counts as absent.
func (m members) str(field string, required bool) (string, bool, error) {
	raw, ok := m[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			return "", false, invalid(field, "is required")
		}
		return "", false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false, invalid(field, "must be a string")
	}
	return s, true, nil
}

// integer reads an integer member (a JSON number without a fraction).
func (m members) integer(field string) (int64, bool, error) {
	raw, ok := m[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return 0, false, nil
	}
	var n json.Number
	// json.Number also takes a quoted number; Baidu's int fields do not.
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, false, invalid(field, "must be an integer")
	}
	v, err := n.Int64()
	if err != nil {
		return 0, false, invalid(field, "must be an integer")
	}
	return v, true, nil
}

// token checks an identifier made of letters, digits, '-' and '_'.
func token(field, s string) error {
	if s == "" {
		return invalid(field, "must not be empty")
	}
	if len(s) > maxTokenLen {
		return invalid(field, "must be at most "+strconv.Itoa(maxTokenLen)+" characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid(field, "must contain only letters, digits, - and _")
		}
	}
	return nil
}

func checkVerifyToken(m members) error {
	vt, _, err := m.str("verify_token", true)
	if err != nil {
		return err
	}
	return token("verify_token", vt)
}

func checkTokenOnly(m members) error { return checkVerifyToken(m) }

// checkGenerate: plan_id is documented as a string but Baidu's own example
// sends the number 1, so both are accepted and forwarded as sent.
func checkGenerate(m members) error {
	raw, ok := m["plan_id"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return invalid("plan_id", "is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if err := token("plan_id", s); err != nil {
			return err
		}
	} else if n, _, err := m.integer("plan_id"); err != nil || n < 0 {
		return invalid("plan_id", "must be a string or a non-negative integer")
	}
	if raw, ok := m["redirect_config"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		var rc members
		if json.Unmarshal(raw, &rc) != nil || rc == nil {
			return invalid("redirect_config", "must be an object")
		}
		for _, f := range []string{"success_url", "failed_url"} {
			u, present, err := rc.str(f, false)
			if err != nil {
				return invalid("redirect_config."+f, "must be a string")
			}
			if present {
				if err := ruleErr("redirect_config."+f, validate.HTTPURL(u, 1024)); err != nil {
					return err
				}
			}
		}
	}
	// match_source is the APP plans' comparison source: 0 authority
	// database, 1 uploaded photo, 2 liveness only.
	if v, present, err := m.integer("match_source"); err != nil {
		return err
	} else if present && (v < 0 || v > 2) {
		return invalid("match_source", "must be 0, 1 or 2")
	}
	return nil
}

// Certificate types of idcard/submit.
const (
	CertMainlandID          = 0 // 大陆居民二代身份证
	CertHKMOTWPass          = 1 // 港澳台居民来往内地通行证
	CertForeignPermanent    = 2 // 外国人永久居留证
	CertOverseasPassport    = 3 // 定居国外的中国公民护照
	CertHKMOTWResidence     = 4 // 港澳台居民居住证
	CertHKMOForeignNational = 5 // 港澳居民来往内地通行证(非中国籍)
)

func checkSubmit(m members) error {
	if err := checkVerifyToken(m); err != nil {
		return err
	}
	name, _, err := m.str("id_name", true)
	if err != nil {
		return err
	}
	if err := ruleErr("id_name", validate.Name(name)); err != nil {
		return err
	}
	ct, _, err := m.integer("certificate_type")
	if err != nil {
		return invalid("certificate_type", "must be an integer 0 to 5")
	}
	if ct < 0 || ct > 5 {
		return invalid("certificate_type", "must be 0 to 5 (0 mainland ID card ... 5 non-Chinese HK/Macao permit)")
	}
	id, _, err := m.str("id_no", true)
	if err != nil {
		return err
	}
	return checkIDNo(int(ct), id)
}

// checkIDNo checks id_no for its certificate type. Where the number has a
// fixed public layout (resident ID cards and residence permits, GB 11643;
// the permits' letter-and-digits forms) it is checked exactly; passports
// only for their alphabet and length, since issuing series vary.
func checkIDNo(ct int, id string) error {
	const f = "id_no"
	switch ct {
	case CertMainlandID:
		return ruleErr(f, validate.IDNumber(id))
	case CertHKMOTWResidence:
		if err := validate.IDNumber(id); err != nil {
			return ruleErr(f, err)
		}
		if p := id[:2]; p != "81" && p != "82" && p != "83" {
			return invalid(f, "of a Hong Kong, Macao or Taiwan residence permit (certificate_type 4) must start with 81, 82 or 83")
		}
		return nil
	case CertHKMOTWPass, CertHKMOForeignNational:
		// H/M plus 8 digits (Hong Kong, Macao) or 8 digits (Taiwan), each
		// optionally followed by a 2-digit issue count.
		d := id
		if len(d) > 0 && (d[0] == 'H' || d[0] == 'M') {
			d = d[1:]
		} else if ct == CertHKMOForeignNational {
			return invalid(f, "of a Hong Kong or Macao permit must start with H or M")
		}
		if (len(d) != 8 && len(d) != 10) || !digits(d) {
			return invalid(f, "of a mainland travel permit must be H or M and 8 digits, or 8 digits (Taiwan), optionally plus a 2-digit issue count")
		}
		return nil
	case CertForeignPermanent:
		// 2004 card: 3 letters and 12 digits; 2017 and later: 18
		// characters starting with 9, GB 11643 layout.
		if len(id) == 15 && upper(id[:3]) && digits(id[3:]) {
			return nil
		}
		if len(id) == 18 && id[0] == '9' && digits(id[:17]) && (id[17] == 'X' || digits(id[17:])) {
			return nil
		}
		return invalid(f, "of a foreign permanent residence card must be 3 letters and 12 digits, or 18 characters starting with 9")
	case CertOverseasPassport:
		if len(id) < 5 || len(id) > 20 {
			return invalid(f, "of a passport must be 5 to 20 characters")
		}
		for i := 0; i < len(id); i++ {
			if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return invalid(f, "of a passport must contain only upper-case letters and digits")
			}
		}
		return nil
	}
	return invalid("certificate_type", "must be 0 to 5")
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func upper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

// Controls are the quality_control and liveness_control values.
var Controls = []string{"NONE", "LOW", "NORMAL", "HIGH"}

func checkUpload(m members) error {
	if err := checkVerifyToken(m); err != nil {
		return err
	}
	img, _, err := m.str("image", true)
	if err != nil {
		return err
	}
	if err := ruleErr("image", validate.Base64Media(img, MaxImageBase64)); err != nil {
		return err
	}
	for _, f := range []string{"quality_control", "liveness_control"} {
		v, present, err := m.str(f, false)
		if err != nil {
			return err
		}
		if present && !oneOf(v, Controls) {
			return invalid(f, "must be NONE, LOW, NORMAL or HIGH")
		}
	}
	return nil
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
