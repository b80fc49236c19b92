package sandbox

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/validate"
)

// Magic value prefixes. Each leaves two digits for the outcome number NN
// (01-99) and, for IDs and cards, a final check digit, so that every magic
// value passes our validation and reaches the provider.
const (
	magicIDPrefix     = "110101199003079" // + NN + GB 11643 check character
	magicMobilePrefix = "139000009"       // + NN
	magicCardPrefix   = "62220200000009"  // + NN + Luhn digit
	magicMediaPrefix  = "sandbox-outcome-"
	magicTokenPrefix  = "sandbox-nfc-outcome-" // + NN, for the NFC actions
	maxOutcome        = 99
)

// MagicIDCard is the ID number that selects outcome i (1-99) of an action
// whose magic field is IdCard. It is a valid GB 11643 number.
func MagicIDCard(i int) string {
	first17 := fmt.Sprintf("%s%02d", magicIDPrefix, i%100)
	c, _ := validate.IDCheckDigit(first17)
	return first17 + string(c)
}

// MagicMobile is the mobile number that selects outcome i of a mobile-only
// action (MobileStatus, MobileNetworkTimeVerification, CheckPhoneAndName).
func MagicMobile(i int) string { return fmt.Sprintf("%s%02d", magicMobilePrefix, i%100) }

// MagicBankCard is the card number that selects outcome i of a card action
// without an IdCard field (CheckBankCardInformation, BankCard2EVerification).
// It passes the Luhn check.
func MagicBankCard(i int) string {
	prefix := fmt.Sprintf("%s%02d", magicCardPrefix, i%100)
	c, _ := validate.LuhnDigit(prefix)
	return prefix + string(c)
}

// MagicMedia is the base64 media value that selects outcome i: the
// encoding of the ASCII text "sandbox-outcome-NN". Any base64 media field of
// an action accepts it; any other media takes the success outcome.
func MagicMedia(i int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s%02d", magicMediaPrefix, i%100))
}

// MagicNFCToken is the NFCToken (GetWxNFCResult) or ReqId (ParseNfcData)
// that selects outcome i. The NFC SDK, not an API call, produces those
// values, so the sandbox cannot steer them through an earlier request.
func MagicNFCToken(i int) string { return fmt.Sprintf("%s%02d", magicTokenPrefix, i%100) }

// idIndex, mobileIndex, cardIndex, mediaIndex and tokenIndex read NN out
// of a magic value; 0 means "not a magic value".
func idIndex(s string) int {
	if len(s) != 18 || !strings.HasPrefix(s, magicIDPrefix) {
		return 0
	}
	if MagicIDCard(twoDigits(s[15:17])) != s {
		return 0
	}
	return twoDigits(s[15:17])
}

func mobileIndex(s string) int {
	if len(s) != 11 || !strings.HasPrefix(s, magicMobilePrefix) {
		return 0
	}
	return twoDigits(s[9:])
}

func cardIndex(s string) int {
	if len(s) != 17 || !strings.HasPrefix(s, magicCardPrefix) {
		return 0
	}
	if MagicBankCard(twoDigits(s[14:16])) != s {
		return 0
	}
	return twoDigits(s[14:16])
}

func mediaIndex(s string) int {
	// Only the exact length of an encoded magic text is decoded, so a
	// multi-megabyte photo costs nothing here.
	if len(s) != len(MagicMedia(1)) {
		return 0
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), magicMediaPrefix) {
		return 0
	}
	return twoDigits(string(b[len(magicMediaPrefix):]))
}

func tokenIndex(s string) int {
	if len(s) != len(magicTokenPrefix)+2 || !strings.HasPrefix(s, magicTokenPrefix) {
		return 0
	}
	return twoDigits(s[len(magicTokenPrefix):])
}

// twoDigits parses exactly two ASCII digits, 0 otherwise.
func twoDigits(s string) int {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// hashedMagic maps the MD5 and SHA-256 hex digests of every magic ID to its
// NN, for EncryptedPhoneVerification, whose callers may send the ID hashed
// (EncryptionMode 1 and 2). SM3 (mode 3) is not in the standard library, so
// SM3-hashed input always takes the success outcome.
var hashedMagic = sync.OnceValue(func() map[string]int {
	m := map[string]int{}
	for i := 1; i <= maxOutcome; i++ {
		id := MagicIDCard(i)
		m5 := md5.Sum([]byte(id))
		s2 := sha256.Sum256([]byte(id))
		m[hex.EncodeToString(m5[:])] = i
		m[hex.EncodeToString(s2[:])] = i
	}
	return m
})

// magicKind names the kind of input that carries an action's magic value.
type magicKind string

const (
	magicID     magicKind = "IdCard"
	magicMobile magicKind = "Mobile"
	magicCard   magicKind = "BankCard"
	magicMedia  magicKind = "media"
	magicToken  magicKind = "token"
)

// plan is what the sandbox knows about one action's outcomes: which input
// selects them and what each one is. outcomes[0] is the success outcome;
// outcomes[i] is selected by magic value NN = i.
type plan struct {
	kind        magicKind
	field       string   // the request field of the magic value
	media       []string // base64 fields that also accept MagicMedia
	outcomes    []outcome
	local       []localCode         // answered for invalid input, first match wins
	notEmulated []faceid.ResultCode // documented, but about the account, not the input
}

// pick chooses the outcome for a decoded request: invalid input first (as
// our precheck would answer it), then a magic value, else success.
// The index is that of the outcome in pl.outcomes, -1 for invalid input.
func (pl *plan) pick(req any) (int, outcome) {
	for _, lc := range pl.local {
		if lc.bad(req) {
			return -1, outcome{Code: lc.code, Description: lc.description, Error: lc.asError, Local: true}
		}
	}
	if i := pl.index(req); i > 0 && i < len(pl.outcomes) {
		return i, pl.outcomes[i]
	}
	return 0, pl.outcomes[0]
}

// index finds the magic value in a request: first in the plan's own magic
// field, then in any other field that can carry one (an IdCard, a Mobile, a
// BankCard, a base64 media field), so that a caller may steer an action
// through whichever input is handy. The table shows only the first.
func (pl *plan) index(req any) int {
	v, _ := getString(req, pl.field)
	if i := magicIn(pl.kind, v, req); i > 0 {
		return i
	}
	for _, alt := range []struct {
		kind  magicKind
		field string
	}{{magicID, "IdCard"}, {magicMobile, "Mobile"}, {magicCard, "BankCard"}} {
		if v, ok := getString(req, alt.field); ok {
			if i := magicIn(alt.kind, v, req); i > 0 {
				return i
			}
		}
	}
	for _, f := range pl.media {
		m, _ := getString(req, f)
		if i := mediaIndex(m); i > 0 {
			return i
		}
	}
	return 0
}

func magicIn(kind magicKind, v string, req any) int {
	switch kind {
	case magicID:
		if i := idIndex(v); i > 0 {
			return i
		}
		// EncryptedPhoneVerification: the ID may arrive hashed.
		if mode, ok := getString(req, "EncryptionMode"); ok && (mode == "1" || mode == "2") {
			return hashedMagic()[strings.ToLower(v)]
		}
	case magicMobile:
		return mobileIndex(v)
	case magicCard:
		return cardIndex(v)
	case magicToken:
		return tokenIndex(v)
	case magicMedia:
		return mediaIndex(v)
	}
	return 0
}

// magicValue is the value of the plan's magic field that selects outcome i.
func (pl *plan) magicValue(i int) (fieldName, value string) {
	switch pl.kind {
	case magicID:
		return pl.field, MagicIDCard(i)
	case magicMobile:
		return pl.field, MagicMobile(i)
	case magicCard:
		return pl.field, MagicBankCard(i)
	case magicToken:
		return pl.field, MagicNFCToken(i)
	default:
		return pl.field, MagicMedia(i)
	}
}

// plans holds the plan of every action that has outcomes to choose from,
// built once from the registry so that a refreshed spec changes the table
// and the emulator together.
// plans, table and hashedMagic are built on first use, not at package
// init: a live function links the sandbox (for test callers) but should not
// pay for its tables in every cold start.
var plans = sync.OnceValue(buildPlans)

func buildPlans() map[string]*plan {
	m := map[string]*plan{}
	for _, a := range faceid.All() {
		if pl := planFor(a); pl != nil {
			m[a.Name] = pl
		}
	}
	return m
}

func planFor(a *faceid.Action) *plan {
	req := a.NewRequest()
	pl := &plan{}
	for _, m := range a.Media {
		pl.media = append(pl.media, m.Field)
	}
	switch {
	case a.Name == "GetWxNFCResult":
		pl.kind, pl.field = magicToken, "NFCToken"
	case a.Name == "ParseNfcData":
		pl.kind, pl.field = magicToken, "ReqId"
	case a.Name == "IdCardOCRVerification":
		// Its own feature is reading the card photo; a typed IdCard
		// still takes a magic ID (see index).
		pl.kind, pl.field = magicMedia, "ImageBase64"
	case hasField(req, "IdCard"):
		pl.kind, pl.field = magicID, "IdCard"
	case hasField(req, "BankCard"):
		pl.kind, pl.field = magicCard, "BankCard"
	case hasField(req, "Mobile"):
		pl.kind, pl.field = magicMobile, "Mobile"
	case hasField(req, "Phone"):
		pl.kind, pl.field = magicMobile, "Phone"
	case len(pl.media) > 0:
		pl.kind, pl.field = magicMedia, pl.media[0]
	default:
		return nil
	}

	switch a.Name {
	case "DetectAuth":
		pl.outcomes = append([]outcome{flowOutcome(flowSuccess)}, flowOutcomes()...)
		pl.outcomes = append(pl.outcomes, outcome{Status: statusPending, Description: "用户尚未完成核身"})
		return pl
	case "GetEidToken":
		pl.outcomes = []outcome{flowOutcome(flowSuccess),
			{Status: eidInit, Description: "EidToken未验证"},
			{Status: eidDoing, Description: "EidToken验证中"},
			{Status: eidTimeout, Description: "EidToken已超时"},
			{Code: "FailedOperation.UnregisteredEid", Description: errorDescription("FailedOperation.UnregisteredEid"), Error: true},
		}
		pl.outcomes = append(pl.outcomes, flowOutcomes()...)
		return pl
	case "GetFaceIdToken":
		pl.outcomes = append([]outcome{flowOutcome(flowSuccess)}, flowOutcomes()...)
		return pl
	case "ParseNfcData":
		pl.outcomes = []outcome{{Code: "0", Description: "首次查询成功", Charged: true}, {Code: "-1", Description: "查询失败"}}
		return pl
	}
	if len(a.Results) == 0 {
		return nil
	}
	if isFaceClass(a) {
		faceOutcomes(a, req, pl)
	} else {
		elementOutcomes(a, req, pl)
	}
	pl.outcomes = append(pl.outcomes, variantsOf(a.Name, pl.outcomes)...)
	return pl
}

func flowOutcomes() []outcome {
	out := make([]outcome, len(flowFailures))
	for i, f := range flowFailures {
		out[i] = flowOutcome(f)
	}
	return out
}

// isFaceClass reports whether the action answers with Tencent's "Success"
// / "FailedOperation.X" strings instead of numeric codes.
func isFaceClass(a *faceid.Action) bool {
	_, ok := a.Result("Success")
	return ok
}

// faceOutcomes lists, after Success, the documented non-success results and
// then every other FailedOperation.* error code of the action: for these
// actions Tencent reports a failed comparison or liveness check as a
// FailedOperation code. InvalidParameter* and UnauthorizedOperation* codes
// are about the request or the account, not the person, so they are not
// outcomes; the ones the registry lists as results are still put in the
// table (as invalid input or as not emulated).
func faceOutcomes(a *faceid.Action, req any, pl *plan) {
	asError := a.ResultField == "" // DetectAIFakeFaces has no Result field
	succ, _ := a.Result("Success")
	pl.outcomes = []outcome{{Code: "Success", Description: succ.Description, Charged: succ.Charged}}
	seen := map[string]bool{"Success": true}
	add := func(code string) {
		if seen[code] {
			return
		}
		seen[code] = true
		if lc, ok := faceLocal(a, req, code); ok {
			pl.local = append(pl.local, lc)
			return
		}
		switch {
		case strings.HasPrefix(code, "UnauthorizedOperation"), strings.HasPrefix(code, "AuthFailure"):
			if r, ok := a.Result(code); ok {
				pl.notEmulated = append(pl.notEmulated, r)
			}
			return
		case !strings.HasPrefix(code, "FailedOperation."):
			return
		}
		r, _ := a.Result(code)
		desc := errorDescription(code)
		if desc == "" {
			desc = r.Description
		}
		pl.outcomes = append(pl.outcomes, outcome{Code: code, Description: desc, Charged: r.Charged, Error: asError})
	}
	for _, r := range a.Results {
		add(r.Code)
	}
	for _, code := range a.ErrorCodes {
		add(code)
	}
}

// elementOutcomes lists the documented non-success result codes in registry
// order, setting aside the ones our precheck answers for invalid input.
func elementOutcomes(a *faceid.Action, req any, pl *plan) {
	for _, r := range a.Results {
		o := outcome{Code: r.Code, Description: r.Description, Charged: r.Charged}
		if r.Code == "0" {
			pl.outcomes = append([]outcome{o}, pl.outcomes...)
			continue
		}
		if lc, ok := elementLocal(a, req, r); ok {
			pl.local = append(pl.local, lc)
			continue
		}
		pl.outcomes = append(pl.outcomes, o)
	}
}

func errorDescription(code string) string {
	d, _ := faceid.ErrorDescription(code)
	return d
}

// Variants are documented values of a response field within one result
// code (MobileStatus answers "0" for a phone that is switched off, with
// StatusCode 1). Each gets its own magic value after the result codes.
type variantSet struct {
	code   string // the result code the variants belong to
	field  string // the response field that shows them
	values [][2]string
}

var variantSets = map[string]variantSet{
	"MobileStatus": {"0", "StatusCode", [][2]string{
		{"1", "停机"}, {"2", "销号"}, {"4", "不在网"}, {"5", "在网但不可用"}, {"99", "未知状态"}}},
	"MobileNetworkTimeVerification": {"0", "Range", [][2]string{
		{"[0,3)", "在网3个月以下"}, {"[3,6)", "在网3-6个月"}, {"[6,12)", "在网6-12个月"}, {"[12,24)", "在网12-24个月"}}},
	"MinorsVerification": {"-1", "AgeRange", [][2]string{
		{"[0,8)", "小于8周岁"}, {"[8,16)", "8-16周岁"}}},
	"DetectAIFakeFaces": {"Success", "AttackRiskLevel", [][2]string{
		{"Mid", "中度疑似攻击"}, {"High", "高度疑似攻击（建议拦截）"}}},
	"PhoneVerification": {"-4", "ResultDetail", [][2]string{
		{"PhoneIdCardMismatch", "手机号码与姓名一致，与身份证号不一致（详版，VerifyMode 1）"},
		{"PhoneNameMismatch", "手机号码身份证号一致，与姓名不一致（详版，VerifyMode 1）"},
		{"NameIdCardMismatch", "姓名和身份证号不一致（详版，VerifyMode 1）"}}},
}

// defaultVariant is the field value of an outcome that names no variant.
var defaultVariant = map[string]map[string]string{
	"MobileStatus":                  {"0": "0"},
	"MobileNetworkTimeVerification": {"0": "[24,+)"},
	"MinorsVerification":            {"0": "[18,+)", "-1": "[16,18)"},
	"DetectAIFakeFaces":             {"Success": "Low"},
	"PhoneVerification":             {"-4": "PhoneNameIdCardMismatch"},
}

func variantsOf(action string, base []outcome) []outcome {
	vs, ok := variantSets[action]
	if !ok {
		return nil
	}
	i := slices.IndexFunc(base, func(o outcome) bool { return o.Code == vs.code })
	if i < 0 {
		return nil
	}
	var out []outcome
	for _, v := range vs.values {
		o := base[i]
		o.Variant, o.VariantField, o.VariantNote = v[0], vs.field, v[1]
		out = append(out, o)
	}
	return out
}

// variant is the value of the variant field for outcome o of action.
func variant(action string, o outcome) string {
	if o.Variant != "" {
		return o.Variant
	}
	return defaultVariant[action][o.Code]
}
