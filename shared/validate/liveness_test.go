package validate

import "testing"

func TestLivenessType(t *testing.T) {
	for _, ok := range []string{"LIP", "ACTION", "SILENT"} {
		if err := LivenessType(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "lip", "Silent", " LIP", "LIP ", "REFLECT", "LIP,ACTION"} {
		if err := LivenessType(bad); err == nil || err.Error() != "must be LIP, ACTION or SILENT" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestValidateData(t *testing.T) {
	cases := []struct {
		typ, data string
		rule      string // "" when valid
	}{
		{"LIP", "1234", ""},
		{"LIP", "0007", ""},
		{"LIP", "", "is required when LivenessType is LIP (the 4-digit code from GetLiveCode)"},
		{"LIP", "123", "must be the 4-digit code from GetLiveCode when LivenessType is LIP"},
		{"LIP", "12345", "must be the 4-digit code from GetLiveCode when LivenessType is LIP"},
		{"LIP", "12a4", "must be the 4-digit code from GetLiveCode when LivenessType is LIP"},
		{"LIP", "１２３４", "must be the 4-digit code from GetLiveCode when LivenessType is LIP"},
		{"ACTION", "1,2", ""},
		{"ACTION", "2,1", ""},
		{"ACTION", "1", ""},
		{"ACTION", "1,2,1,2,1,2,1,2,1,2", ""},
		{"ACTION", "", "is required when LivenessType is ACTION (the action order from GetActionSequence)"},
		{"ACTION", "1,2,", "must be the action order"},
		{"ACTION", "12", "must be the action order"},
		{"ACTION", "1,3", "must be the action order"},
		{"ACTION", "1, 2", "must be the action order"},
		{"ACTION", "1,2,1,2,1,2,1,2,1,2,1", "must be the action order"},
		{"SILENT", "", ""},
		{"SILENT", "anything: not used in this mode", ""},
		{"lip", "", ""}, // LivenessType's error, reported by LivenessType
	}
	for _, c := range cases {
		err := ValidateData(c.typ, c.data)
		switch {
		case c.rule == "" && err != nil:
			t.Errorf("%s %q: %v", c.typ, c.data, err)
		case c.rule != "" && (err == nil || len(err.Error()) < len(c.rule) || err.Error()[:len(c.rule)] != c.rule):
			t.Errorf("%s %q: %v, want %q...", c.typ, c.data, err, c.rule)
		}
	}
}
