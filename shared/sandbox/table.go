package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/faceid"
)

// How a scenario is reached (Scenario.ReachedBy).
const (
	// ReachedByMagic: a magic value in one request field.
	ReachedByMagic = "magic value"
	// ReachedByAnyValid: any valid request; no particular value is needed.
	ReachedByAnyValid = "any valid input"
	// ReachedByInvalid: malformed input, answered by our precheck before
	// any provider call (and by the sandbox the same way).
	ReachedByInvalid = "invalid input"
	// ReachedByFlow: a token from an earlier call (Scenario.Start),
	// possibly after some time (Scenario.After).
	ReachedByFlow = "flow"
	// ReachedByNotEmulated: documented, but a matter of the Tencent account
	// (arrears, service not activated), which the sandbox does not have.
	ReachedByNotEmulated = "not emulated"
)

// Scenario is one row of the sandbox's table: a request and what the
// sandbox answers to it, which is what Tencent documents for that case.
type Scenario struct {
	Action string `json:"action"`
	// Field and Value are the input that selects the outcome, in Request
	// or, for flows, in Start.Request.
	Field string `json:"field,omitempty"`
	Value string `json:"value,omitempty"`
	// Request is a complete request of Action. For flows its token field
	// holds a placeholder, to be replaced by the token Start returned.
	Request json.RawMessage `json:"request"`
	// Start is the earlier call of a flow scenario.
	Start *Step `json:"start,omitempty"`
	// After is how long to wait after Start (a Go duration, e.g. "72h0m0s"),
	// for expiry scenarios.
	After string `json:"after,omitempty"`
	// ResultField is where the outcome shows in the response ("Result",
	// "ResultCode", "Status", "Text.ErrCode", "DetectInfo.Text.ErrCode";
	// DetectInfo is a JSON string and the path goes into it), and Result the
	// value there ("null" for JSON null). An action without a result field
	// (DetectAIFakeFaces) has Result and no ResultField.
	ResultField string `json:"resultField,omitempty"`
	Result      string `json:"result,omitempty"`
	// ErrorCode is set when the answer is an API error (Response.Error).
	ErrorCode string `json:"errorCode,omitempty"`
	// Expect lists further response fields and their values.
	Expect map[string]string `json:"expect,omitempty"`
	// Description is Tencent's description of the outcome. The response
	// carries it at DescriptionField, an error in its message.
	Description      string `json:"description"`
	DescriptionField string `json:"descriptionField,omitempty"`
	// Charged is whether Tencent bills this outcome.
	Charged   bool   `json:"charged"`
	ReachedBy string `json:"reachedBy"`
	Notes     string `json:"notes,omitempty"`
}

// Step is the earlier call of a flow: call Action with Request, take the
// token at TokenField of its response and put it in field Into of the
// scenario's request.
type Step struct {
	Action     string          `json:"action"`
	Request    json.RawMessage `json:"request"`
	TokenField string          `json:"tokenField"`
	Into       string          `json:"into"`
}

// billDatePlaceholder stands for "two days ago" in GetWeChatBillDetails
// requests; Scenarios fills it in, so the example never falls outside the
// 365 days Tencent keeps bills for.
const billDatePlaceholder = "2006-01-02 (two days ago)"

// table is built once from the registry and the plans.
var table = sync.OnceValue(buildTable)

// Scenarios returns the scenario table as of now: every documented result
// code of every action, how to reach it, and the flows. The caller owns the
// returned slice.
func Scenarios() []Scenario { return scenariosAt(time.Now()) }

func scenariosAt(now time.Time) []Scenario {
	date, _ := json.Marshal(now.In(chinaTime).AddDate(0, 0, -2).Format("2006-01-02"))
	placeholder, _ := json.Marshal(billDatePlaceholder)
	out := make([]Scenario, len(table()))
	for i, s := range table() {
		s.Request = bytes.ReplaceAll(s.Request, placeholder, date)
		if s.Start != nil {
			st := *s.Start
			st.Request = bytes.Clone(st.Request)
			s.Start = &st
		}
		s.Expect = maps.Clone(s.Expect)
		out[i] = s
	}
	return out
}

func buildTable() []Scenario {
	var out []Scenario
	for _, a := range faceid.All() {
		out = append(out, actionScenarios(a)...)
	}
	return out
}

func actionScenarios(a *faceid.Action) []Scenario {
	switch a.Name {
	case "DetectAuth":
		return []Scenario{starter(a, "返回 BizToken 和 Url", "Starts a flow; the IdCard chooses its outcome, see GetDetectInfo and GetDetectInfoEnhanced.")}
	case "GetEidToken":
		s := starter(a, "返回 EidToken 和 Url", "Starts an eID flow; the IdCard chooses its outcome, see CheckEidTokenStatus and GetEidResult.")
		return append([]Scenario{s}, planScenarios(a, plans()[a.Name], func(o outcome) bool { return o.Error })...)
	case "GetFaceIdToken":
		return []Scenario{starter(a, "返回 FaceIdToken", "Starts an SDK flow; the IdCard (or a MagicMedia ImageBase64) chooses its outcome, see GetFaceIdResult.")}
	case "GetFaceidRiskInfoToken":
		return []Scenario{starter(a, "返回 FaceIdToken", "For GetFaceIdRiskInfo.")}
	case "GetNFCToken":
		return []Scenario{starter(a, "返回 NFCToken", "For GetWxNFCResult, valid 10 minutes.")}
	case "GetDetectInfo", "GetDetectInfoEnhanced":
		return detectScenarios(a)
	case "CheckEidTokenStatus", "GetEidResult":
		return eidScenarios(a)
	case "GetFaceIdResult", "GetFaceIdRiskInfo":
		return faceIDScenarios(a)
	case "GetWxNFCResult":
		return nfcScenarios(a)
	case "GetWeChatBillDetails":
		return billScenarios(a)
	case "GetLiveCode":
		return []Scenario{plain(a, "返回四位数字验证码", "Differs from call to call.")}
	case "GetActionSequence":
		return []Scenario{plain(a, "返回动作顺序（1 张嘴，2 闭眼）", `Alternates "1,2" and "2,1".`)}
	}
	if pl := plans()[a.Name]; pl != nil {
		return planScenarios(a, pl, nil)
	}
	return nil
}

func reqJSON(req any) json.RawMessage {
	b, err := json.Marshal(req)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func plain(a *faceid.Action, desc, notes string) Scenario {
	return Scenario{Action: a.Name, Request: reqJSON(happyRequest(a.Name)), Description: desc, ReachedBy: ReachedByAnyValid, Notes: notes}
}

func starter(a *faceid.Action, desc, notes string) Scenario {
	s := plain(a, desc, notes)
	s.ReachedBy = ReachedByFlow
	if v, ok := getString(happyRequest(a.Name), "IdCard"); ok {
		s.Field, s.Value, s.ReachedBy = "IdCard", v, ReachedByMagic
	}
	return s
}

// descriptionField is where an action's response carries the description
// of its result code.
func descriptionField(a *faceid.Action) string {
	switch {
	case a.ResultField == "":
		return ""
	case hasField(a.NewResponse(), "Description"):
		return "Description"
	case hasField(a.NewResponse(), "ResultDescription"):
		return "ResultDescription"
	}
	return ""
}

// withOutcome fills in how outcome o shows in a response of a.
func (s Scenario) withOutcome(a *faceid.Action, o outcome) Scenario {
	s.Description, s.Charged = o.Description, o.Charged
	if o.Error {
		s.ErrorCode = o.Code
		return s
	}
	// An action without a result field (DetectAIFakeFaces) still has a
	// documented result code; Result names it and ResultField stays empty.
	s.Result = o.Code
	if a.ResultField != "" {
		s.ResultField, s.DescriptionField = a.ResultField, descriptionField(a)
	}
	if vs, ok := variantSets[a.Name]; ok {
		if v := variant(a.Name, o); v != "" {
			s.Expect = map[string]string{vs.field: v}
		}
	}
	if o.VariantNote != "" {
		s.Notes = o.VariantField + " " + o.Variant + ": " + o.VariantNote
	}
	return s
}

// planScenarios lists an action's outcomes (those keep accepts, or all),
// then its local codes and the codes it cannot emulate.
func planScenarios(a *faceid.Action, pl *plan, keep func(outcome) bool) []Scenario {
	var out []Scenario
	for i, o := range pl.outcomes {
		if keep != nil && !keep(o) {
			continue
		}
		req := happyRequest(a.Name)
		s := Scenario{Action: a.Name, ReachedBy: ReachedByMagic}
		var note string
		switch {
		case i > 0:
			s.Field, s.Value = pl.magicValue(i)
			setValue(req, s.Field, s.Value)
			if pl.kind == magicMedia {
				note = fmt.Sprintf("base64 of %q", fmt.Sprintf("%s%02d", magicMediaPrefix, i))
			}
		case pl.kind == magicMedia || pl.kind == magicToken:
			s.ReachedBy, note = ReachedByAnyValid, "Any value that is not a magic value."
		default:
			s.Field, _ = pl.magicValue(0)
			s.Value, _ = getString(req, s.Field)
		}
		if a.Name == "PhoneVerification" && o.Code == "-4" {
			// ResultDetail comes only with the detailed mode.
			setValue(req, "VerifyMode", "1")
			note = joinNotes(note, `With VerifyMode "1" (详版).`)
		}
		s.Request = reqJSON(req)
		s = s.withOutcome(a, o)
		s.Notes = joinNotes(note, s.Notes)
		out = append(out, s)
	}
	if keep != nil {
		return out
	}
	for _, lc := range pl.local {
		req := happyRequest(a.Name)
		setValue(req, lc.field, lc.example)
		s := Scenario{Action: a.Name, Field: lc.field, Value: lc.example, Request: reqJSON(req), ReachedBy: ReachedByInvalid,
			Notes: "Invalid input: the gateway's precheck answers it before any provider call; the sandbox answers it the same way."}
		out = append(out, s.withOutcome(a, outcome{Code: lc.code, Description: lc.description, Error: lc.asError}))
	}
	for _, r := range pl.notEmulated {
		out = append(out, Scenario{Action: a.Name, Request: reqJSON(happyRequest(a.Name)), ErrorCode: r.Code,
			Description: errorDescription(r.Code), ReachedBy: ReachedByNotEmulated,
			Notes: "Depends on the Tencent account (billing, activation), which the sandbox does not have."})
	}
	return out
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// flowScenario is a scenario of action redeeming a token from issuer.
func flowScenario(a *faceid.Action, issuer, tokenField, into string, magic int) Scenario {
	start := happyRequest(issuer)
	s := Scenario{Action: a.Name, Request: reqJSON(happyRequest(a.Name)), ReachedBy: ReachedByFlow}
	if pl := plans()[issuer]; pl != nil {
		s.Field, _ = pl.magicValue(magic)
		if magic > 0 {
			_, s.Value = pl.magicValue(magic)
			setValue(start, s.Field, s.Value)
		} else {
			s.Value, _ = getString(start, s.Field)
		}
	}
	s.Start = &Step{Action: issuer, Request: reqJSON(start), TokenField: tokenField, Into: into}
	return s
}

// unknownToken is a request with a token the sandbox never issued: the
// documentation's example BizToken, to show that real tokens are not known.
func unknownToken(a *faceid.Action, into, code string) Scenario {
	req := happyRequest(a.Name)
	setValue(req, into, "CE661F1A-0F1E-45BD-BE13-34C05CEA7681")
	return Scenario{Action: a.Name, Field: into, Value: "CE661F1A-0F1E-45BD-BE13-34C05CEA7681", Request: reqJSON(req),
		ErrorCode: code, Description: errorDescription(code), ReachedBy: ReachedByFlow,
		Notes: "A token the sandbox did not issue (here the documentation's example) or mistyped."}
}

func expired(s Scenario, after time.Duration, code, notes string) Scenario {
	s.After, s.ErrorCode, s.Description, s.Notes = after.String(), code, errorDescription(code), notes
	return s
}

func detectScenarios(a *faceid.Action) []Scenario {
	path := "Text."
	if a.Name == "GetDetectInfo" {
		path = "DetectInfo.Text."
	}
	var out []Scenario
	for i, o := range plans()["DetectAuth"].outcomes {
		s := flowScenario(a, "DetectAuth", "BizToken", "BizToken", i)
		s.ResultField, s.Description, s.Charged = path+"ErrCode", o.Description, o.Charged
		if o.Status == statusPending {
			s.Result, s.Notes = "null", "The user has not finished: every result is null, as in the documentation's example."
		} else {
			s.Result, s.DescriptionField = o.Code, path+"ErrMsg"
		}
		out = append(out, s)
	}
	const code = "InvalidParameterValue.BizTokenExpired"
	valid := flowScenario(a, "DetectAuth", "BizToken", "BizToken", 0)
	valid.After, valid.ResultField, valid.Result = (resultTTL - time.Second).String(), path+"ErrCode", "0"
	valid.Description, valid.DescriptionField, valid.Charged = flowSuccess.msg, path+"ErrMsg", true
	valid.Notes = "Results can be pulled for three days (3*24*3,600 s)."
	out = append(out, valid,
		expired(flowScenario(a, "DetectAuth", "BizToken", "BizToken", 0), resultTTL, code, "Three days after DetectAuth."),
		unknownToken(a, "BizToken", code))
	out[len(out)-1].Notes += " The action documents no separate code for an unknown token."
	mismatch := flowScenario(a, "DetectAuth", "BizToken", "BizToken", 0)
	req := happyRequest(a.Name)
	setValue(req, "RuleId", "1")
	mismatch.Request, mismatch.ErrorCode = reqJSON(req), "InvalidParameterValue.RuleIdNotExist"
	mismatch.Description = errorDescription(mismatch.ErrorCode)
	mismatch.Notes = "RuleId differs from the one given to DetectAuth (\"0\")."
	return append(out, mismatch)
}

func eidScenarios(a *faceid.Action) []Scenario {
	pl := plans()["GetEidToken"]
	var out []Scenario
	for i, o := range pl.outcomes {
		if o.Error {
			continue
		}
		s := flowScenario(a, "GetEidToken", "EidToken", "EidToken", i)
		s.Description = o.Description
		if a.Name == "CheckEidTokenStatus" {
			s.ResultField, s.Result = "Status", o.Status
			if o.Status == "" {
				if o.Code != "0" {
					continue // any finished flow says "finished"; one row is enough
				}
				s.Result, s.Description = eidFinished, "EidToken验证完成"
			}
			out = append(out, s)
			if o.Status == eidInit || o.Status == eidDoing {
				late := flowScenario(a, "GetEidToken", "EidToken", "EidToken", i)
				late.ResultField, late.Result, late.Description = "Status", eidTimeout, "EidToken已超时"
				late.After, late.Notes = eidVerifyTTL.String(), "The EidToken is valid for 600 s; an unfinished flow then times out."
				out = append(out, late)
			}
			continue
		}
		s.ResultField, s.Charged = "Text.ErrCode", o.Charged
		if o.Status != "" {
			s.Result, s.Notes = "null", "The flow did not finish ("+o.Status+"): every result is null."
		} else {
			s.Result, s.DescriptionField = o.Code, "Text.ErrMsg"
		}
		out = append(out, s)
	}
	out = append(out,
		expired(flowScenario(a, "GetEidToken", "EidToken", "EidToken", 0), resultTTL, "InvalidParameterValue.BizTokenExpired", "Results can be pulled for three days."),
		unknownToken(a, "EidToken", "InvalidParameterValue.BizTokenIllegal"))
	return out
}

func faceIDScenarios(a *faceid.Action) []Scenario {
	var out []Scenario
	if a.Name == "GetFaceIdResult" {
		for i, o := range plans()["GetFaceIdToken"].outcomes {
			s := flowScenario(a, "GetFaceIdToken", "FaceIdToken", "FaceIdToken", i)
			s.ResultField, s.Result, s.DescriptionField = "Result", o.Code, "Description"
			s.Description, s.Charged = o.Description, o.Charged
			out = append(out, s)
		}
		out = append(out, expired(flowScenario(a, "GetFaceIdToken", "FaceIdToken", "FaceIdToken", 0), resultTTL,
			"InvalidParameterValue.BizTokenExpired", "Results can be pulled for three days."))
	} else {
		s := flowScenario(a, "GetFaceidRiskInfoToken", "FaceIdToken", "FaceIdToken", 0)
		s.Description, s.Expect = "返回设备风险信息", map[string]string{"DeviceInfoLevel": "1"}
		sdk := flowScenario(a, "GetFaceIdToken", "FaceIdToken", "FaceIdToken", 0)
		sdk.Description, sdk.Expect = s.Description, s.Expect
		sdk.Notes = "A GetFaceIdToken token is accepted too."
		out = append(out, s, sdk, expired(flowScenario(a, "GetFaceidRiskInfoToken", "FaceIdToken", "FaceIdToken", 0), resultTTL,
			"InvalidParameterValue.BizTokenExpired", "Results can be pulled for three days."))
	}
	return append(out, unknownToken(a, "FaceIdToken", "InvalidParameterValue.BizTokenIllegal"))
}

func nfcScenarios(a *faceid.Action) []Scenario {
	pl := plans()[a.Name]
	ok := flowScenario(a, "GetNFCToken", "Token", "NFCToken", 0)
	ok = ok.withOutcome(a, pl.outcomes[0])
	out := []Scenario{ok}
	out = append(out, planScenarios(a, pl, func(o outcome) bool { return o.Code != "0" })...)
	const code = "FailedOperation.InvalidTokenParameter"
	return append(out,
		expired(flowScenario(a, "GetNFCToken", "Token", "NFCToken", 0), nfcTTL, code, "The NFCToken is valid for ten minutes."),
		unknownToken(a, "NFCToken", code))
}

func billScenarios(a *faceid.Action) []Scenario {
	var out []Scenario
	for page, cursor := range []int{0, billPage, 2 * billPage} {
		req := happyRequest(a.Name)
		setValue(req, "Cursor", fmt.Sprint(cursor))
		next := min(cursor+billPage, billsPerDay)
		out = append(out, Scenario{Action: a.Name, Field: "Cursor", Value: fmt.Sprint(cursor), Request: reqJSON(req),
			Expect:      map[string]string{"HasNextPage": fmt.Sprint(next < billsPerDay), "NextCursor": fmt.Sprint(next)},
			Description: fmt.Sprintf("账单明细第 %d 页", page+1), ReachedBy: ReachedByAnyValid,
			Notes: fmt.Sprintf("Any date in the last 365 days has %d made-up records, %d per page.", billsPerDay, billPage)})
	}
	req := happyRequest(a.Name)
	setValue(req, "Date", "2024/01/02")
	return append(out, Scenario{Action: a.Name, Field: "Date", Value: "2024/01/02", Request: reqJSON(req),
		ErrorCode: "InvalidParameter", Description: errorDescription("InvalidParameter"), ReachedBy: ReachedByInvalid,
		Notes: "Date must be YYYY-MM-DD, within the last 365 days."})
}
