package precheck

import (
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// TestDetectAIFakeFacesRequired: seed 000 has FaceInput and FaceInputType
// required; the supplement's override keeps them so, unless the body is
// encrypted (EncryptedBody carries them).
func TestDetectAIFakeFacesRequired(t *testing.T) {
	a := mustAction(t, "DetectAIFakeFaces")
	img := `"/9j/4AAQSkZJRgABAQAAAQABAAD/"`
	for _, tc := range []struct{ body, code, field string }{
		{`{}`, "MissingParameter", "FaceInput"},
		{`{"FaceInput":` + img + `}`, "MissingParameter", "FaceInputType"},
		{`{"FaceInputType":1}`, "MissingParameter", "FaceInput"},
		{`{"FaceInput":"","FaceInputType":1}`, "InvalidParameterValue", "FaceInput"},
		{`{"FaceInput":` + img + `,"FaceInputType":1}`, "", ""},
	} {
		_, _, err := Check(a, []byte(tc.body))
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		e := errs.As(err)
		if err == nil || e.Code != tc.code || !strings.Contains(e.Message, tc.field) {
			t.Errorf("%s: %v, want %s naming %s", tc.body, err, tc.code, tc.field)
		}
	}
	if got := a.RequiredUnless["FaceInput"]; got != "EncryptedBody" {
		t.Errorf("RequiredUnless = %v", a.RequiredUnless)
	}
}
