package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// TestLivenessAnswers: the deprecated Liveness judges the video alone. A
// video that passes has best frames (BestFrameNum 1-10, 1 allowed here
// unlike LivenessRecognition's 2-10) and no Sim; a rejected one has none;
// a mode without its code is refused as Tencent's InvalidParameterValue.
func TestLivenessAnswers(t *testing.T) {
	p, _ := newTestProvider()
	req := happyRequest("Liveness").(*faceid.LivenessRequest)
	req.Optional = str(`{"BestFrameNum":1}`)
	out := mustCall(t, p, "Liveness", req)
	var ok faceid.LivenessResponse
	if err := json.Unmarshal(out, &ok); err != nil {
		t.Fatal(err)
	}
	if deref(ok.Result) != "Success" || deref(ok.BestFrameBase64) != jpegBase64 || len(ok.BestFrameList) != 1 {
		t.Errorf("success: %s", out)
	}
	if _, has := at(out, "Sim"); has {
		t.Errorf("Liveness answered a Sim: %s", out)
	}

	fake := happyRequest("Liveness").(*faceid.LivenessRequest)
	pl := plans()["Liveness"]
	i := indexOf(t, pl, "FailedOperation.LivessDetectFake")
	fake.VideoBase64 = str(MagicMedia(i))
	out = mustCall(t, p, "Liveness", fake)
	if got, _ := at(out, "Result"); got != "FailedOperation.LivessDetectFake" {
		t.Errorf("magic %d: Result %s", i, got)
	}
	if got, _ := at(out, "BestFrameBase64"); got != "null" {
		t.Errorf("a rejected video has a best frame: %s", got)
	}

	for _, bad := range []*faceid.LivenessRequest{
		{VideoBase64: str(videoBase64), LivenessType: str("lip")},
		{VideoBase64: str(videoBase64), LivenessType: str("LIP")},
		{VideoBase64: str(videoBase64), LivenessType: str("ACTION"), ValidateData: str("1234")},
	} {
		if e := callErr(t, p, "Liveness", bad); e.Code != "InvalidParameterValue" || e.Kind != errs.Invalid {
			t.Errorf("%s: %v (%v)", reqJSON(bad), e, e.Kind)
		}
	}
	for _, good := range []*faceid.LivenessRequest{
		{VideoBase64: str(videoBase64), LivenessType: str("LIP"), ValidateData: str("1234")},
		{VideoBase64: str(videoBase64), LivenessType: str("ACTION"), ValidateData: str("2,1")},
	} {
		if got, _ := at(mustCall(t, p, "Liveness", good), "Result"); got != "Success" {
			t.Errorf("%s: %s", reqJSON(good), got)
		}
	}
}

// TestImageRecognitionAnswers: the deprecated ImageRecognition answers as
// ImageRecognitionV2 does, without Extra. The billed codes take the same
// magic IDs in both; the free ones are numbered from each action's own
// error list, which differ.
func TestImageRecognitionAnswers(t *testing.T) {
	p, _ := newTestProvider()
	for _, code := range []string{"Success", "FailedOperation.IdNameMisMatch", "FailedOperation.CompareLowSimilarity", "FailedOperation.LifePhotoDetectFake"} {
		req := happyRequest("ImageRecognition").(*faceid.ImageRecognitionRequest)
		if code != "Success" {
			req.IdCard = str(MagicIDCard(indexOf(t, plans()["ImageRecognition"], code)))
		}
		out := mustCall(t, p, "ImageRecognition", req)
		v2 := happyRequest("ImageRecognitionV2").(*faceid.ImageRecognitionV2Request)
		v2.IdCard = req.IdCard
		out2 := mustCall(t, p, "ImageRecognitionV2", v2)
		for _, f := range []string{"Result", "Description", "Sim"} {
			if r, _ := faceid.Lookup("ImageRecognition"); !chargedIn(r, code) {
				break
			}
			a, _ := at(out, f)
			b, _ := at(out2, f)
			if a != b {
				t.Errorf("%s: %s %s, V2 says %s", code, f, a, b)
			}
		}
		if got, _ := at(out, "Result"); got != code {
			t.Errorf("want %s, got %s", code, out)
		}
		if _, has := at(out, "Extra"); has {
			t.Errorf("ImageRecognition has no Extra: %s", out)
		}
	}
	bad := happyRequest("ImageRecognition").(*faceid.ImageRecognitionRequest)
	bad.Name = str("张3")
	if got, _ := at(mustCall(t, p, "ImageRecognition", bad), "Result"); got != "FailedOperation.NameFormatError" {
		t.Errorf("bad name: %s", got)
	}
}

func chargedIn(a *faceid.Action, code string) bool {
	r, ok := a.Result(code)
	return ok && r.Charged
}

func indexOf(t *testing.T, pl *plan, code string) int {
	t.Helper()
	for i, o := range pl.outcomes {
		if o.Code == code && o.Variant == "" {
			return i
		}
	}
	t.Fatalf("no outcome %s", code)
	return 0
}
