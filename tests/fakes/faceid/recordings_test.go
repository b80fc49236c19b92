package faceid

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// specPaths are the FaceID spec and its supplement (the actions Tencent's
// node SDK no longer declares), which scripts/gen merges.
var specPaths = []string{
	"../../../shared/faceid/spec/faceid-2018-03-01.json",
	"../../../shared/faceid/spec/faceid-2018-03-01.supplement.json",
}

type specField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type specFile struct {
	Actions []struct {
		Action   string      `json:"action"`
		Response []specField `json:"response"`
	} `json:"actions"`
	Structs map[string]struct {
		Fields []specField `json:"fields"`
	} `json:"structs"`
}

func loadSpec(t *testing.T) specFile {
	t.Helper()
	var s specFile
	for _, p := range specPaths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var part specFile
		if err := json.Unmarshal(raw, &part); err != nil {
			t.Fatal(err)
		}
		s.Actions = append(s.Actions, part.Actions...)
		if s.Structs == nil {
			s.Structs = part.Structs
			continue
		}
		for n, st := range part.Structs {
			s.Structs[n] = st
		}
	}
	return s
}

// TestRecordingsCoverSpec is what keeps hand-edited or regenerated
// recordings honest: one file per spec action, every spec response field
// present with its JSON type (recursively), plus the unknown FutureField.
func TestRecordingsCoverSpec(t *testing.T) {
	s := loadSpec(t)
	var want []string
	for _, a := range s.Actions {
		want = append(want, a.Action)
	}
	slices.Sort(want)
	if got := Actions(); !slices.Equal(got, want) {
		t.Fatalf("recorded actions %v\nwant spec actions %v", got, want)
	}
	if len(want) != 39 {
		t.Fatalf("spec files have %d actions, want 39 (37 in Tencent's spec, 2 deprecated in the supplement)", len(want))
	}

	for _, a := range s.Actions {
		t.Run(a.Action, func(t *testing.T) {
			b, _ := Recording(a.Action)
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			var env struct{ Response map[string]any }
			if err := d.Decode(&env); err != nil {
				t.Fatal(err)
			}
			checkObject(t, &s, a.Action, env.Response, a.Response)
			ff, ok := env.Response["FutureField"].(map[string]any)
			if !ok {
				t.Fatal("FutureField missing")
			}
			if ff["BigNumber"] != json.Number("9007199254740993") {
				t.Fatalf("FutureField.BigNumber = %v", ff["BigNumber"])
			}
			if len(env.Response) != len(a.Response)+1 {
				t.Fatalf("%d fields, want the %d of the spec plus FutureField", len(env.Response), len(a.Response))
			}
		})
	}
}

func checkObject(t *testing.T, s *specFile, path string, obj map[string]any, fields []specField) {
	t.Helper()
	for _, f := range fields {
		v, ok := obj[f.Name]
		if !ok {
			t.Errorf("%s.%s missing", path, f.Name)
			continue
		}
		checkValue(t, s, path+"."+f.Name, v, f.Type)
	}
}

func checkValue(t *testing.T, s *specFile, path string, v any, typ string) {
	t.Helper()
	if elem, ok := strings.CutPrefix(typ, "Array<"); ok {
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			t.Errorf("%s: want a non-empty array, got %v", path, v)
			return
		}
		for _, e := range arr {
			checkValue(t, s, path+"[]", e, strings.TrimSuffix(elem, ">"))
		}
		return
	}
	var ok bool
	switch typ {
	case "string":
		var str string
		str, ok = v.(string)
		ok = ok && str != ""
	case "number", "number | bigint":
		_, ok = v.(json.Number)
	case "boolean":
		_, ok = v.(bool)
	default:
		st, known := s.Structs[typ]
		if !known {
			t.Errorf("%s: spec type %q unknown", path, typ)
			return
		}
		var obj map[string]any
		if obj, ok = v.(map[string]any); ok {
			checkObject(t, s, path, obj, st.Fields)
		}
	}
	if !ok {
		t.Errorf("%s: %v is not a populated %s", path, v, typ)
	}
}

func TestRecordedIsInnerObject(t *testing.T) {
	inner, ok := Recorded("IdCardVerification")
	if !ok {
		t.Fatal("no recording")
	}
	var m map[string]any
	if err := json.Unmarshal(inner, &m); err != nil || m["RequestId"] == nil || m["Result"] == nil {
		t.Fatalf("Recorded = %s", inner)
	}
	for _, bad := range []string{"", "../x", "Nope"} {
		if _, ok := Recorded(bad); ok {
			t.Fatalf("Recorded(%q) found something", bad)
		}
	}
}
