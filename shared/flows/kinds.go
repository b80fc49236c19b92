package flows

import (
	"encoding/json"
	"time"
)

// kind is what flows knows of one flow: the action that starts it, where
// the token is in its answer, where the caller's redirect is in its
// request, what to pull and how to read the answer. These are facts of the
// providers' flows, kept here so a provider contract needs to know nothing
// of flows.
type kind struct {
	name  string
	start string // the starting action (gateway Op.Action)
	token string // dotted path of the token in the start answer
	// redirect is the request member holding the URL the provider sends
	// the browser to at the end ("" when the caller builds the page URL
	// itself, as with Baidu: the return route is then offered in the
	// X-Idv-Return-Url answer header).
	redirect string
	// keep copies request members into Ref (RuleId for the pull).
	keep []string
	// extData is the request member kept as the flow's ExtData.
	extData string
	// ttl is how long the person has to finish, from the provider's docs.
	ttl time.Duration
	// pull is the action and body that fetch the result now.
	pull func(f *Flow) (action string, body []byte)
	// judge reads a pulled answer: the flow's state, and what it adds to
	// Ref (faceAdv's orderNo). A pending answer from an intermediate pull
	// with again=true is pulled once more at once.
	judge func(f *Flow, answer []byte) (state string, again bool)
}

// Token lifetimes (how long a person has to finish), from the providers'
// documentation: DetectAuth's BizToken and Baidu's verify_token 2 hours,
// GetEidToken 600 s, GetFaceIdToken 10 minutes (UNCONFIRMED: the SDK's
// token lifetime is not in our reference; 10 minutes is the eID/NFC
// figure), faceAdv 1 hour (UNCONFIRMED: WeBank's faceId lifetime).
var kinds = []*kind{
	{
		name: "detect", start: "DetectAuth", token: "BizToken", redirect: "RedirectUrl", keep: []string{"RuleId"},
		ttl: 2 * time.Hour,
		pull: func(f *Flow) (string, []byte) {
			return "GetDetectInfoEnhanced", mustJSON(map[string]string{"BizToken": f.Token, "RuleId": f.Ref["RuleId"], "InfoType": "1"})
		},
		judge: judgeText,
	},
	{
		name: "eid", start: "GetEidToken", token: "EidToken", redirect: "RedirectUrl",
		ttl: 600 * time.Second,
		pull: func(f *Flow) (string, []byte) {
			return "GetEidResult", mustJSON(map[string]string{"EidToken": f.Token, "InfoType": "1"})
		},
		judge: judgeText,
	},
	{
		name: "sdk", start: "GetFaceIdToken", token: "FaceIdToken",
		ttl: 10 * time.Minute,
		pull: func(f *Flow) (string, []byte) {
			return "GetFaceIdResult", mustJSON(map[string]string{"FaceIdToken": f.Token})
		},
		judge: func(_ *Flow, ans []byte) (string, bool) {
			var r struct{ Result *string }
			if json.Unmarshal(ans, &r) != nil || r.Result == nil || *r.Result == "" {
				return StatePending, false
			}
			if *r.Result == "0" {
				return StateSucceeded, false
			}
			return StateFailed, false
		},
	},
	{
		name: "faceadv", start: "faceAdv", token: "data.traceNo", extData: "extData",
		ttl: time.Hour,
		pull: func(f *Flow) (string, []byte) {
			if o := f.Ref["orderNo"]; o != "" {
				return "faceAdvResult", mustJSON(map[string]string{"orderNo": o})
			}
			// An async faceAdv: its job's answer brings the orderNo.
			return "faceAdvResult", mustJSON(map[string]string{"traceNo": f.Token})
		},
		judge: judgeFaceAdv,
	},
	{
		name: "faceprint", start: "faceprint/verifyToken/generate", token: "result.verify_token",
		ttl: 2 * time.Hour,
		pull: func(f *Flow) (string, []byte) {
			return "faceprint/result/getall", mustJSON(map[string]string{"verify_token": f.Token})
		},
		judge: judgeFaceprint,
	},
}

func kindFor(action string) *kind {
	for _, k := range kinds {
		if k.start == action {
			return k
		}
	}
	return nil
}

func kindNamed(name string) *kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// judgeText reads GetDetectInfoEnhanced and GetEidResult: Text.ErrCode 0
// passed, another code failed, none (null) not finished yet.
func judgeText(_ *Flow, ans []byte) (string, bool) {
	var r struct {
		Text *struct{ ErrCode *int64 }
	}
	if json.Unmarshal(ans, &r) != nil || r.Text == nil || r.Text.ErrCode == nil {
		return StatePending, false
	}
	if *r.Text.ErrCode == 0 {
		return StateSucceeded, false
	}
	return StateFailed, false
}

// faceAdv's envelope.
type advEnvelope struct {
	Errcode json.Number `json:"errcode"`
	Data    *struct {
		Status string `json:"status"`
		Result *struct {
			OrderNo     string `json:"orderNo"`
			TencentCode string `json:"tencentCode"`
		} `json:"result"`
	} `json:"data"`
}

// advNoRecord is the sandbox's (and WeBank's, UNCONFIRMED) answer for an
// orderNo with no face verification yet: the person has not finished.
const advNoRecord = "400604"

func judgeFaceAdv(f *Flow, ans []byte) (string, bool) {
	var e advEnvelope
	if json.Unmarshal(ans, &e) != nil || e.Data == nil {
		return StatePending, false
	}
	if f.Ref["orderNo"] == "" {
		// The async job's own answer: the upload to WeBank.
		switch e.Data.Status {
		case "SUCCESS":
			if e.Data.Result != nil && e.Data.Result.OrderNo != "" {
				setRef(f, "orderNo", e.Data.Result.OrderNo)
				return StatePending, true
			}
			return StatePending, false
		case "FAIL":
			return StateFailed, false
		}
		return StatePending, false
	}
	if e.Data.Result != nil && e.Data.Result.TencentCode == advNoRecord {
		return StatePending, false
	}
	switch e.Data.Status {
	case "SUCCESS":
		return StateSucceeded, false
	case "FAIL":
		return StateFailed, false
	}
	return StatePending, false
}

func setRef(f *Flow, k, v string) {
	if f.Ref == nil {
		f.Ref = map[string]string{}
	}
	f.Ref[k] = v
}

// judgeFaceprint reads result/getall: any attempt passed is success, only
// failed attempts a failure, none yet pending.
func judgeFaceprint(_ *Flow, ans []byte) (string, bool) {
	var r struct {
		Success bool `json:"success"`
		Result  *struct {
			VerifyResult []struct {
				IsVerifyPassed any `json:"is_verify_passed"`
			} `json:"verify_result"`
		} `json:"result"`
	}
	if json.Unmarshal(ans, &r) != nil || !r.Success || r.Result == nil || len(r.Result.VerifyResult) == 0 {
		return StatePending, false
	}
	for _, v := range r.Result.VerifyResult {
		switch p := v.IsVerifyPassed.(type) {
		case bool:
			if p {
				return StateSucceeded, false
			}
		case float64:
			if p == 1 {
				return StateSucceeded, false
			}
		case string:
			if p == "1" || p == "true" {
				return StateSucceeded, false
			}
		}
	}
	return StateFailed, false
}

// Starts says whether action starts a flow: its function links flows.
func Starts(action string) bool { return kindFor(action) != nil }
