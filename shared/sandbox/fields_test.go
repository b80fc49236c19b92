package sandbox

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
)

// specFiles are the FaceID spec the registry is generated from (Tencent's
// file and the supplement with the actions its node SDK no longer
// declares); the test reads them directly so that it does not trust the
// generated models.
var specFiles = []string{"../faceid/spec/faceid-2018-03-01.json", "../faceid/spec/faceid-2018-03-01.supplement.json"}

type specField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type spec struct {
	Actions []struct {
		Action   string      `json:"action"`
		Response []specField `json:"response"`
	} `json:"actions"`
	Structs map[string]struct {
		Fields []specField `json:"fields"`
	} `json:"structs"`
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	var all spec
	for _, f := range specFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s spec
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		all.Actions = append(all.Actions, s.Actions...)
		if all.Structs == nil {
			all.Structs = s.Structs
		}
		for n, st := range s.Structs {
			all.Structs[n] = st
		}
	}
	if len(all.Actions) != len(faceid.All()) {
		t.Fatalf("spec files have %d actions, the registry %d", len(all.Actions), len(faceid.All()))
	}
	return &all
}

// mayBeNull lists the response fields a success answer leaves null, each
// for a reason Tencent documents. Everything else must be filled.
var mayBeNull = map[string]string{
	"Encryption":                      "the sandbox does not encrypt responses",
	"EncryptedBody":                   "the sandbox does not encrypt responses",
	"GetFaceIdResult.DeviceInfoTag":   "null-无设备风险",
	"GetFaceIdResult.RiskInfoTag":     "returned only with error 1007",
	"GetFaceIdResult.LivenessInfoTag": "null-无 (the liveness check rejected nothing)",
	"PhoneVerification.ResultDetail":  "returned only for -4 in the detailed mode",
}

// successScenario is the first row of an action that is answered normally
// (the table lists the success outcome first).
func successScenario(t *testing.T, action string) Scenario {
	t.Helper()
	for _, s := range scenariosAt(t0) {
		if s.Action == action && s.ErrorCode == "" && s.ReachedBy != ReachedByNotEmulated && s.Result != "null" {
			return s
		}
	}
	t.Fatalf("%s: no success scenario", action)
	return Scenario{}
}

// TestSuccessResponsesAreComplete: the happy answer of every action has
// every response field of the spec, filled, and every nested struct has
// all its fields (as Tencent sends them, null where there is no value).
func TestSuccessResponsesAreComplete(t *testing.T) {
	sp := loadSpec(t)
	for _, a := range sp.Actions {
		t.Run(a.Action, func(t *testing.T) {
			s := successScenario(t, a.Action)
			out, err := runScenario(t, s)
			if err != nil {
				t.Fatalf("success scenario failed: %v", err)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(out, &top); err != nil {
				t.Fatal(err)
			}
			if len(top) != len(a.Response) {
				t.Errorf("response has %d fields, spec %d: %s", len(top), len(a.Response), out)
			}
			for _, f := range a.Response {
				v, ok := top[f.Name]
				if !ok {
					t.Errorf("field %s missing", f.Name)
					continue
				}
				_, nullOK := mayBeNull[f.Name]
				if _, ok := mayBeNull[a.Action+"."+f.Name]; ok {
					nullOK = true
				}
				if string(v) == "null" && !nullOK {
					t.Errorf("field %s is null in the success answer", f.Name)
				}
				checkNested(t, sp, a.Action+"."+f.Name, f.Type, v)
			}
		})
	}
}

// checkNested asserts that a struct-typed value carries every field of
// its struct, recursively (arrays of structs included).
func checkNested(t *testing.T, sp *spec, path, typ string, v json.RawMessage) {
	t.Helper()
	if string(v) == "null" {
		return
	}
	if elem, ok := cutArray(typ); ok {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			t.Errorf("%s: not an array: %s", path, v)
			return
		}
		for _, it := range items {
			checkNested(t, sp, path+"[]", elem, it)
		}
		return
	}
	st, ok := sp.Structs[typ]
	if !ok {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		t.Errorf("%s: not an object: %s", path, v)
		return
	}
	for _, f := range st.Fields {
		fv, ok := m[f.Name]
		if !ok {
			t.Errorf("%s.%s missing", path, f.Name)
			continue
		}
		checkNested(t, sp, path+"."+f.Name, f.Type, fv)
	}
}

func cutArray(typ string) (string, bool) {
	const pre, suf = "Array<", ">"
	if len(typ) > len(pre)+len(suf) && typ[:len(pre)] == pre && typ[len(typ)-1:] == suf {
		return typ[len(pre) : len(typ)-1], true
	}
	return "", false
}

// TestDetectInfoLayout: GetDetectInfo's DetectInfo string has the layout
// the documentation (seed 003) shows, in full, for a finished flow.
func TestDetectInfoLayout(t *testing.T) {
	out, err := runScenario(t, successScenario(t, "GetDetectInfo"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := at(out, "DetectInfo")
	var info map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatalf("DetectInfo is not the documented JSON object: %v\n%s", err, raw)
	}
	want := map[string][]string{
		"Text": {"ErrCode", "ErrMsg", "IdCard", "Name", "OcrNation", "OcrAddress", "OcrBirth", "OcrAuthority", "OcrValidDate",
			"OcrName", "OcrIdCard", "OcrGender", "LiveStatus", "LiveMsg", "Comparestatus", "Comparemsg", "Sim", "Location", "Extra", "Detail"},
		"IdCardData": {"OcrFront", "OcrBack"},
		"BestFrame":  {"BestFrame"},
		"VideoData":  {"LivenessVideo"},
	}
	for part, fields := range want {
		got, ok := info[part]
		if !ok {
			t.Errorf("part %s missing", part)
			continue
		}
		if len(got) != len(fields) {
			t.Errorf("part %s has %d keys, want %d", part, len(got), len(fields))
		}
		for _, f := range fields {
			if _, ok := got[f]; !ok {
				t.Errorf("%s.%s missing", part, f)
			}
		}
	}
	var detail struct{ LivenessData []map[string]json.RawMessage }
	json.Unmarshal(info["Text"]["Detail"], &detail)
	if len(detail.LivenessData) != 1 {
		t.Fatalf("LivenessData: %v", detail.LivenessData)
	}
	for _, f := range []string{"ErrCode", "ErrMsg", "ReqTime", "IdCard", "Name"} {
		if v, ok := detail.LivenessData[0][f]; !ok || string(v) == "null" {
			t.Errorf("LivenessData[0].%s = %s", f, v)
		}
	}
	for _, path := range []string{"Text.ErrCode", "Text.LiveStatus", "Text.Comparestatus", "BestFrame.BestFrame", "VideoData.LivenessVideo"} {
		if v, _ := at(json.RawMessage(raw), path); v == "null" || v == "" {
			t.Errorf("%s = %q in a finished flow", path, v)
		}
	}
}
