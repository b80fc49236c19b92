package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// TestDetectAIFakeFacesNeedsItsInput: called directly (no precheck), the
// sandbox refuses a request without FaceInput or FaceInputType as Tencent
// does, instead of answering Low risk for a face nobody sent.
func TestDetectAIFakeFacesNeedsItsInput(t *testing.T) {
	p, _ := newTestProvider()
	for _, body := range []string{`{}`, `{"FaceInput":"` + MagicMedia(1) + `"}`, `{"FaceInputType":1}`} {
		_, err := p.Call(context.Background(), "DetectAIFakeFaces", []byte(body))
		if e := errs.As(err); err == nil || e.Code != "MissingParameter" {
			t.Errorf("%s: %v", body, err)
		}
	}
	out, err := p.Call(context.Background(), "DetectAIFakeFaces", []byte(`{"FaceInput":"`+jpegBase64+`","FaceInputType":1}`))
	if err != nil || !strings.Contains(string(out), `"AttackRiskLevel":"Low"`) {
		t.Errorf("a face: %s %v", out, err)
	}
}
