package sandbox

import (
	"strconv"

	"github.com/idverify/idverify/shared/faceid"
)

// The SDK face flow: GetFaceIdToken issues a FaceIdToken for the mobile
// SDK, the user verifies in the app, GetFaceIdResult pulls the result, and
// GetFaceIdRiskInfo the device risk, both for three days. Tencent gives the
// user 10 minutes and one attempt; the sandbox plays the user and finishes
// at once with the outcome that the GetFaceIdToken IdCard (or MagicMedia
// ImageBase64) chose. GetFaceidRiskInfoToken issues a token for the risk
// check alone.
//
// GetFaceIdResult's Result uses the same numeric codes as the H5 flow
// (0 成功, 1002, 2006, 2016, ...; doc 1007/47912); the registry does not
// list them, so the sandbox uses its flow table (saas.go).
//
// Error codes: a token the sandbox did not issue is
// InvalidParameterValue.BizTokenIllegal; one older than three days is
// InvalidParameterValue.BizTokenExpired (both documented for the two
// result actions).

func getFaceIdToken(p *Provider, c *call, r *faceid.GetFaceIdTokenRequest) (any, error) {
	tok := c.issue(kindFaceID, max(c.index, 0), noIntention, 0)
	p.remember(tok, &flowRecord{issued: c.now, extra: r.Extra, person: typedPerson(r, r.Name, r.IdCard)})
	return &faceid.GetFaceIdTokenResponse{FaceIdToken: str(tok), ClientConfig: str(`{"sandbox":true}`)}, nil
}

func getFaceidRiskInfoToken(p *Provider, c *call, r *faceid.GetFaceidRiskInfoTokenRequest) (any, error) {
	tok := c.issue(kindRisk, 0, noIntention, 0)
	p.remember(tok, &flowRecord{issued: c.now, extra: r.Extra})
	return &faceid.GetFaceidRiskInfoTokenResponse{FaceIdToken: str(tok)}, nil
}

func (c *call) redeemFaceID(s *string, kinds ...string) (token, error) {
	return c.redeem(deref(s), resultTTL, "InvalidParameterValue.BizTokenIllegal", "InvalidParameterValue.BizTokenExpired", kinds...)
}

// getFaceIdResult leaves the device and risk tags null, which Tencent
// documents as "no risk"; Encryption and EncryptedBody stay null because the
// sandbox does not encrypt responses.
func getFaceIdResult(p *Provider, c *call, r *faceid.GetFaceIdResultRequest) (any, error) {
	tok, err := c.redeemFaceID(r.FaceIdToken, kindFaceID)
	if err != nil {
		return nil, err
	}
	f := p.redeemFlow(tok, deref(r.FaceIdToken), "GetFaceIdToken")
	fc := f.code
	sim, _ := strconv.ParseFloat(fc.sim(), 64)
	resp := &faceid.GetFaceIdResultResponse{
		IdCard: str(f.who.IDCard), Name: str(f.who.Name), Result: str(strconv.Itoa(fc.code)), Description: str(fc.msg),
		Similarity: f64(sim), Extra: str(deref(f.rec.extra)), DeviceInfoLevel: str("1"), IdCardFrontBase64: str(jpegBase64),
	}
	if fc.stage != stageNone {
		if isTrue(r.IsNeedVideo) {
			resp.VideoBase64 = str(videoBase64)
		}
		if isTrue(r.IsNeedBestFrame) {
			resp.BestFrameBase64 = str(jpegBase64)
		}
	}
	if tags := fc.livenessTags(); len(tags) > 0 {
		resp.LivenessInfoTag = str(tags[0])
	}
	return resp, nil
}

func getFaceIdRiskInfo(p *Provider, c *call, r *faceid.GetFaceIdRiskInfoRequest) (any, error) {
	tok, err := c.redeemFaceID(r.FaceIdToken, kindRisk, kindFaceID)
	if err != nil {
		return nil, err
	}
	rec := p.recall(deref(r.FaceIdToken))
	return &faceid.GetFaceIdRiskInfoResponse{
		DeviceInfoTag: str(""), DeviceInfoLevel: i64(1), OpenId: str("sandbox-device-" + strconv.FormatUint(tok.seq, 10)),
		CameraInfoLevel: i64(1), CameraInfoTag: str(""), Extra: str(deref(rec.extra)),
	}, nil
}
