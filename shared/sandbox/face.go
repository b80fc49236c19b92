package sandbox

import (
	"encoding/json"
	"fmt"
	"github.com/idverify/idverify/shared/errs"

	"github.com/idverify/idverify/shared/faceid"
)

// Face-class actions: a photo or a video against the authority's photo or
// the caller's. They answer "Success" or a FailedOperation code in Result.

// faceScore is the similarity a face check reports: high on success, low
// for CompareLowSimilarity, 0 when no comparison was made.
func faceScore(o outcome) float64 {
	switch o.Code {
	case "Success":
		return 95.5
	case "FailedOperation.CompareLowSimilarity":
		return 45.2
	default:
		return 0
	}
}

// livenessPassed reports whether a liveness video got as far as the
// comparison, which is when Tencent returns a best frame.
func livenessPassed(o outcome) bool {
	switch o.Code {
	case "Success", "FailedOperation.CompareLowSimilarity", "FailedOperation.IdNameMisMatch", "FailedOperation.CompareFail":
		return true
	}
	return false
}

// bestFrameNum reads {"BestFrameNum": n} from Optional (2-10 frames; 1-10
// for Liveness).
func bestFrameNum(optional *string) int {
	var o struct{ BestFrameNum int }
	if optional == nil || json.Unmarshal([]byte(*optional), &o) != nil {
		return 0
	}
	return min(max(o.BestFrameNum, 0), 10)
}

// imageRecognition is the deprecated first version of ImageRecognitionV2:
// the same check, without Extra.
func imageRecognition(p *Provider, c *call, r *faceid.ImageRecognitionRequest) (any, error) {
	o := c.outcome
	return &faceid.ImageRecognitionResponse{Sim: f64(faceScore(o)), Result: str(o.Code), Description: str(o.Description)}, nil
}

// liveness (deprecated) only judges whether the video shows a live person;
// there is no comparison, so no Sim. A video that passes has a best frame.
func liveness(p *Provider, c *call, r *faceid.LivenessRequest) (any, error) {
	o := c.outcome
	resp := &faceid.LivenessResponse{Result: str(o.Code), Description: str(o.Description)}
	if o.Code == "Success" {
		resp.BestFrameBase64 = str(jpegBase64)
		if n := bestFrameNum(r.Optional); n > 0 {
			resp.BestFrameList = frames(n)
		}
	}
	return resp, nil
}

func imageRecognitionV2(p *Provider, c *call, r *faceid.ImageRecognitionV2Request) (any, error) {
	o := c.outcome
	return &faceid.ImageRecognitionV2Response{Sim: f64(faceScore(o)), Result: str(o.Code), Description: str(o.Description), Extra: str(deref(r.Extra))}, nil
}

func livenessRecognition(p *Provider, c *call, r *faceid.LivenessRecognitionRequest) (any, error) {
	o := c.outcome
	resp := &faceid.LivenessRecognitionResponse{Sim: f64(faceScore(o)), Result: str(o.Code), Description: str(o.Description)}
	if livenessPassed(o) {
		resp.BestFrameBase64 = str(jpegBase64)
		if n := bestFrameNum(r.Optional); n > 0 {
			resp.BestFrameList = frames(n)
		}
	}
	return resp, nil
}

func livenessCompare(p *Provider, c *call, r *faceid.LivenessCompareRequest) (any, error) {
	o := c.outcome
	resp := &faceid.LivenessCompareResponse{Sim: f64(faceScore(o)), Result: str(o.Code), Description: str(o.Description)}
	if livenessPassed(o) {
		resp.BestFrameBase64 = str(jpegBase64)
		if n := bestFrameNum(r.Optional); n > 0 {
			resp.BestFrameList = frames(n)
		}
	}
	return resp, nil
}

// ocrFailures are the CheckIdCardInformation outcomes in which no text
// could be read off the photo, so the identity fields stay null.
var ocrFailures = map[string]bool{
	"FailedOperation.DownLoadError": true, "FailedOperation.EmptyImageError": true,
	"FailedOperation.ImageBlur": true, "FailedOperation.ImageDecodeFailed": true,
	"FailedOperation.ImageNoIdCard": true, "FailedOperation.ImageSizeTooLarge": true,
	"FailedOperation.OcrFailed": true,
}

// checkIdCardInformation reads the fixture card from any photo. Response
// encryption (IsEncrypt, Encryption, IsEncryptResponse) is not emulated: the
// sandbox answers in plaintext and leaves Encryption and EncryptedBody null.
func checkIdCardInformation(p *Provider, c *call, r *faceid.CheckIdCardInformationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.CheckIdCardInformationResponse{Sim: f64(faceScore(o)), Result: str(o.Code), Description: str(o.Description), Warnings: str("")}
	if !ocrFailures[o.Code] {
		who := happyPerson
		resp.Name, resp.Sex, resp.Nation = str(who.Name), str(sex(who.IDCard)), str(fixtureNation)
		resp.Birth, resp.Address, resp.IdNum = str(birth(who.IDCard)), str(fixtureAddress), str(who.IDCard)
		resp.Portrait, resp.Quality = str(jpegBase64), f64(92)
	}
	return resp, nil
}

// detectAIFakeFaces answers a clean face with AttackRiskLevel Low and an
// empty trace list; the Mid and High variants add the traces Tencent
// documents. Its failures are API errors, since the action has no Result.
func detectAIFakeFaces(p *Provider, c *call, r *faceid.DetectAIFakeFacesRequest) (any, error) {
	// FaceInput and FaceInputType are required (seed 000) unless the body
	// is encrypted: the sandbox refuses their absence as Tencent and our
	// precheck do, instead of judging a face nobody sent.
	if r.EncryptedBody == nil {
		if r.FaceInput == nil || *r.FaceInput == "" {
			return nil, c.fail(errs.Invalid, "MissingParameter", "missing required field FaceInput")
		}
		if r.FaceInputType == nil {
			return nil, c.fail(errs.Invalid, "MissingParameter", "missing required field FaceInputType")
		}
	}
	o := c.outcome
	if o.Error {
		return nil, c.failCode(o.Code, "")
	}
	level := variant(c.action, o)
	resp := &faceid.DetectAIFakeFacesResponse{
		AttackRiskLevel:      str(level),
		AttackRiskDetailList: []*faceid.AttackRiskDetail{},
		ExtraInfo:            &faceid.ExtraInfo{RetrievalLivenessExtraInfo: []*faceid.RetrievalLivenessExtraInfo{}},
	}
	switch level {
	case "Mid":
		resp.AttackRiskDetailList = []*faceid.AttackRiskDetail{{Type: str("SuspectedSynthesisImage")}}
	case "High":
		resp.AttackRiskDetailList = []*faceid.AttackRiskDetail{{Type: str("SuspectedSpoofingAttack")}, {Type: str("SuspectedBlackIndustry")}}
		resp.ExtraInfo.RetrievalLivenessExtraInfo = []*faceid.RetrievalLivenessExtraInfo{
			{HitGroup: str("Common"), SimilarityScore: f64(0.35), HitTemplate: str("sandbox-template-0001")},
		}
	}
	return resp, nil
}

// getLiveCode returns a four-digit code that differs from call to call
// but is the same for the same call number, so tests can predict it.
func getLiveCode(p *Provider, c *call, r *faceid.GetLiveCodeRequest) (any, error) {
	return &faceid.GetLiveCodeResponse{LiveCode: str(fmt.Sprintf("%04d", (c.seq*7919+1234)%10000))}, nil
}

// getActionSequence alternates the two documented orders (1 张嘴, 2 闭眼).
func getActionSequence(p *Provider, c *call, r *faceid.GetActionSequenceRequest) (any, error) {
	seqs := [2]string{"1,2", "2,1"}
	return &faceid.GetActionSequenceResponse{ActionSequence: str(seqs[c.seq%2])}, nil
}
