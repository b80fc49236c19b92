package sandboxh5

import (
	"strconv"

	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// Outcome is one choice a page offers. The numbered ones are the
// sandbox's documented result codes, each the outcome the magic value NN
// = Value reaches in the scenario tables (a test checks they agree).
type Outcome struct {
	Value       string // the form value: "0".."NN", GiveUp or Leave
	Code        string // the provider's result code ("" for GiveUp and Leave)
	Description string
	Category    string
}

// The two choices that are not results.
const (
	// GiveUp: the user quits; the browser returns to the caller's URL
	// and the flow has no result (DetectAuth pending, eID "doing" until
	// its 600 s lapse, Baidu failedUrl).
	GiveUp = "giveup"
	// Leave: the user closes the page; nothing returns and the flow stays
	// in progress until it expires (for rehearsing expiry).
	Leave = "leave"
)

// Categories, in the order the page shows them.
var categories = []struct{ key, title string }{
	{"passes", "Passes"},
	{"liveness", "Liveness fails"},
	{"mismatch", "The face does not match"},
	{"identity", "The ID is invalid"},
	{"other", "Other documented results"},
	{"giveup", "Gives up"},
	{"leave", "Leaves without finishing"},
}

// baiduCategory groups Baidu's H5 result codes (faceprint.Failures).
// Baidu documents no code of its own for "the face does not match" in
// the solution's results; the face match V4 scores show it instead.
var baiduCategory = map[int]string{
	222351: "identity", // 证件号与姓名不匹配
	223120: "liveness", // 活体检测未通过
	223131: "liveness", // 合成图检测未通过
	223051: "liveness", // 唇语验证未通过
	216509: "liveness", // 视频中的声音无法识别
	800002: "liveness", // 炫瞳检测失败
	800001: "other",    // 采集超时
}

// Outcomes lists the page's choices for a flow kind (sandboxflow.Kind*).
func Outcomes(kind string) []Outcome {
	var out []Outcome
	switch kind {
	case sandboxflow.KindDetect, sandboxflow.KindEid:
		action := "DetectAuth"
		if kind == sandboxflow.KindEid {
			action = "GetEidToken"
		}
		for _, o := range sandbox.PageOutcomes(action) {
			out = append(out, Outcome{Value: strconv.Itoa(o.Index), Code: o.Code, Description: o.Description, Category: o.Category})
		}
	case sandboxflow.KindFaceprint:
		out = append(out, Outcome{Value: "0", Code: "0", Description: "核验成功", Category: "passes"})
		for i, f := range faceprint.Failures {
			cat := baiduCategory[f.Code]
			if cat == "" {
				cat = "other"
			}
			out = append(out, Outcome{Value: strconv.Itoa(i + 1), Code: strconv.Itoa(f.Code), Description: f.Message, Category: cat})
		}
	default:
		return nil
	}
	return append(out,
		Outcome{Value: GiveUp, Description: "The user gives up: back to the caller's page with no result", Category: "giveup"},
		Outcome{Value: Leave, Description: "The user closes the page: the flow stays in progress until it expires", Category: "leave"})
}

func find(kind, value string) (Outcome, bool) {
	for _, o := range Outcomes(kind) {
		if o.Value == value {
			return o, true
		}
	}
	return Outcome{}, false
}
