package precheck

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// TestLivenessChecks: the liveness actions (the deprecated Liveness, and
// LivenessRecognition and LivenessCompare, which share the fields) refuse
// a LivenessType other than LIP/ACTION/SILENT and a LIP or ACTION request
// without the code or order it must carry, naming the field and the rule,
// before any provider call. SILENT takes no ValidateData and ignores one.
func TestLivenessChecks(t *testing.T) {
	video := base64.StdEncoding.EncodeToString([]byte("mp4 bytes"))
	img := base64.StdEncoding.EncodeToString([]byte("jpeg bytes"))
	bodies := map[string]string{
		"Liveness":            `{"VideoBase64":"` + video + `",`,
		"LivenessRecognition": `{"IdCard":"` + goodID + `","Name":"张三","VideoBase64":"` + video + `",`,
		"LivenessCompare":     `{"ImageBase64":"` + img + `","VideoBase64":"` + video + `",`,
	}
	cases := []struct {
		name, fields string
		field, rule  string // "" when the request passes
	}{
		{"silent", `"LivenessType":"SILENT"}`, "", ""},
		{"silent ignores data", `"LivenessType":"SILENT","ValidateData":"x"}`, "", ""},
		{"lip", `"LivenessType":"LIP","ValidateData":"0427"}`, "", ""},
		{"action", `"LivenessType":"ACTION","ValidateData":"2,1"}`, "", ""},
		{"lower case", `"LivenessType":"silent"}`, "LivenessType", "must be LIP, ACTION or SILENT"},
		{"unknown mode", `"LivenessType":"REFLECT"}`, "LivenessType", "must be LIP, ACTION or SILENT"},
		{"lip without code", `"LivenessType":"LIP"}`, "ValidateData", "is required when LivenessType is LIP"},
		{"lip with order", `"LivenessType":"LIP","ValidateData":"1,2"}`, "ValidateData", "must be the 4-digit code from GetLiveCode"},
		{"action without order", `"LivenessType":"ACTION","ValidateData":""}`, "ValidateData", "is required when LivenessType is ACTION"},
		{"action with code", `"LivenessType":"ACTION","ValidateData":"1234"}`, "ValidateData", "must be the action order from GetActionSequence"},
	}
	for action, head := range bodies {
		a := mustAction(t, action)
		for _, c := range cases {
			t.Run(action+"/"+c.name, func(t *testing.T) {
				req, local, err := Check(a, []byte(head+c.fields))
				if c.field == "" {
					if err != nil || local != nil || req == nil {
						t.Fatalf("want pass, got local=%+v err=%v", local, err)
					}
					return
				}
				e := errs.As(err)
				if err == nil || local != nil || e.Code != "InvalidParameterValue" || e.Kind != errs.Invalid {
					t.Fatalf("want InvalidParameterValue, got local=%+v err=%v", local, err)
				}
				if want := "field " + c.field + " " + c.rule; !strings.HasPrefix(e.Message, want) {
					t.Errorf("message %q, want it to start %q", e.Message, want)
				}
			})
		}
	}
}

// TestDeprecatedActionsChecks: the deprecated actions get the same rules
// as the current ones: required fields, media limits, identity formats.
func TestDeprecatedActionsChecks(t *testing.T) {
	img := base64.StdEncoding.EncodeToString([]byte("jpeg bytes"))
	big := base64.StdEncoding.EncodeToString(make([]byte, (3<<20)/4*3+3)) // 4 characters over 3M
	cases := []struct {
		name, action, body string
		local, code, msg   string
	}{
		{"image ok", "ImageRecognition", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"` + img + `"}`, "", "", ""},
		{"image missing photo", "ImageRecognition", `{"IdCard":"` + goodID + `","Name":"张三"}`, "", "MissingParameter", "ImageBase64"},
		{"image too large", "ImageRecognition", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"` + big + `"}`, "", "InvalidParameterValue", "ImageBase64"},
		{"image bad id", "ImageRecognition", `{"IdCard":"` + badCheck + `","Name":"张三","ImageBase64":"` + img + `"}`, "FailedOperation.IdFormatError", "", ""},
		{"image bad name", "ImageRecognition", `{"IdCard":"` + goodID + `","Name":"张3","ImageBase64":"` + img + `"}`, "FailedOperation.NameFormatError", "", ""},
		{"image extra is unknown", "ImageRecognition", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"` + img + `","Extra":"x"}`, "", "UnknownParameter", `"Extra"`},
		{"liveness missing video", "Liveness", `{"LivenessType":"SILENT"}`, "", "MissingParameter", "VideoBase64"},
		{"liveness missing type", "Liveness", `{"VideoBase64":"` + img + `"}`, "", "MissingParameter", "LivenessType"},
		{"liveness video not base64", "Liveness", `{"VideoBase64":"not base64!","LivenessType":"SILENT"}`, "", "InvalidParameterValue", "VideoBase64"},
		{"liveness has no identity", "Liveness", `{"VideoBase64":"` + img + `","LivenessType":"SILENT","IdCard":"` + goodID + `"}`, "", "UnknownParameter", `"IdCard"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, local, err := Check(mustAction(t, c.action), []byte(c.body))
			switch {
			case c.local != "":
				if err != nil || local == nil || local.Code.Code != c.local || local.Code.Charged {
					t.Fatalf("want free local %s, got local=%+v err=%v", c.local, local, err)
				}
			case c.code != "":
				e := errs.As(err)
				if err == nil || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
					t.Fatalf("want %s about %s, got %v (local %+v)", c.code, c.msg, err, local)
				}
			default:
				if err != nil || local != nil || req == nil {
					t.Fatalf("want pass, got local=%+v err=%v", local, err)
				}
			}
		})
	}
	if MaxBody("Liveness") <= 8<<20 || MaxBody("ImageRecognition") <= 3<<20 {
		t.Errorf("body caps %d / %d do not leave room for the media limits", MaxBody("Liveness"), MaxBody("ImageRecognition"))
	}
}
