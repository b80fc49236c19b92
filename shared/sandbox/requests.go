package sandbox

import (
	"reflect"
	"strconv"

	"github.com/idverify/idverify/shared/faceid"
)

// Placeholders in the scenario table for values only known at run time.
const (
	tokenPlaceholder = "<token from the first call>"
	sampleRuleID     = "0"
	sampleExtra      = "order-1001"
	sampleReadText   = "本人自愿办理此业务"
)

// happyRequest is a complete request of action that takes the success
// outcome, with the optional flags set that make Tencent return every
// response field (best frames, videos, cropped card images...). The
// scenario table derives every other request from it.
func happyRequest(action string) any {
	id, name, mobile, card := str(HappyIDCard), str(HappyName), str(HappyMobile), str(HappyBankCard)
	switch action {
	case "BankCard2EVerification":
		return &faceid.BankCard2EVerificationRequest{Name: name, BankCard: card}
	case "BankCard4EVerification":
		return &faceid.BankCard4EVerificationRequest{Name: name, BankCard: card, Phone: mobile, IdCard: id}
	case "BankCardVerification":
		return &faceid.BankCardVerificationRequest{IdCard: id, Name: name, BankCard: card}
	case "CheckBankCardInformation":
		return &faceid.CheckBankCardInformationRequest{BankCard: card}
	case "CheckEidTokenStatus":
		return &faceid.CheckEidTokenStatusRequest{EidToken: str(tokenPlaceholder)}
	case "CheckIdCardInformation":
		return &faceid.CheckIdCardInformationRequest{ImageBase64: str(jpegBase64)}
	case "CheckIdNameDate":
		return &faceid.CheckIdNameDateRequest{Name: name, IdCard: id, ValidityBegin: str(fixtureValidFrom), ValidityEnd: str(fixtureValidTo)}
	case "CheckPhoneAndName":
		return &faceid.CheckPhoneAndNameRequest{Mobile: mobile, Name: name}
	case "DetectAIFakeFaces":
		return &faceid.DetectAIFakeFacesRequest{FaceInput: str(jpegBase64), FaceInputType: i64(1)}
	case "DetectAuth":
		return &faceid.DetectAuthRequest{RuleId: str(sampleRuleID), IdCard: id, Name: name, RedirectUrl: str("https://example.com/verified"),
			Extra: str(sampleExtra), IntentionVerifyText: str(sampleReadText)}
	case "EncryptedPhoneVerification":
		return &faceid.EncryptedPhoneVerificationRequest{IdCard: id, Name: name, Phone: mobile, EncryptionMode: str("0")}
	case "GetActionSequence":
		return &faceid.GetActionSequenceRequest{}
	case "GetDetectInfo":
		return &faceid.GetDetectInfoRequest{BizToken: str(tokenPlaceholder), RuleId: str(sampleRuleID), InfoType: str("0")}
	case "GetDetectInfoEnhanced":
		return &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tokenPlaceholder), RuleId: str(sampleRuleID), InfoType: str("0"),
			BestFramesCount: i64(2), IsCutIdCardImage: boolp(true), IsNeedIdCardAvatar: boolp(true), IsReturnAllVideo: boolp(true)}
	case "GetEidResult":
		return &faceid.GetEidResultRequest{EidToken: str(tokenPlaceholder), InfoType: str("0"), BestFramesCount: i64(2),
			IsCutIdCardImage: boolp(true), IsNeedIdCardAvatar: boolp(true)}
	case "GetEidToken":
		return &faceid.GetEidTokenRequest{MerchantId: str("sandbox-merchant"), IdCard: id, Name: name, Extra: str(sampleExtra),
			Config: &faceid.GetEidTokenConfig{InputType: str("4"), UseIntentionVerify: boolp(true), IntentionMode: str("1"), IntentionVerifyText: str(sampleReadText)}}
	case "GetFaceIdResult":
		return &faceid.GetFaceIdResultRequest{FaceIdToken: str(tokenPlaceholder), IsNeedVideo: boolp(true), IsNeedBestFrame: boolp(true)}
	case "GetFaceIdRiskInfo":
		return &faceid.GetFaceIdRiskInfoRequest{FaceIdToken: str(tokenPlaceholder)}
	case "GetFaceIdToken":
		return &faceid.GetFaceIdTokenRequest{CompareLib: str("BUSINESS"), IdCard: id, Name: name, Extra: str(sampleExtra)}
	case "GetFaceidRiskInfoToken":
		return &faceid.GetFaceidRiskInfoTokenRequest{Extra: str(sampleExtra)}
	case "GetLiveCode":
		return &faceid.GetLiveCodeRequest{}
	case "GetNFCToken":
		return &faceid.GetNFCTokenRequest{}
	case "GetWeChatBillDetails":
		return &faceid.GetWeChatBillDetailsRequest{Date: str(billDatePlaceholder), Cursor: i64(0), RuleId: str(sampleRuleID)}
	case "GetWxNFCResult":
		return &faceid.GetWxNFCResultRequest{NFCToken: str(tokenPlaceholder)}
	case "IdCardOCRVerification":
		return &faceid.IdCardOCRVerificationRequest{ImageBase64: str(jpegBase64)}
	case "IdCardVerification":
		return &faceid.IdCardVerificationRequest{IdCard: id, Name: name}
	case "ImageRecognition":
		return &faceid.ImageRecognitionRequest{IdCard: id, Name: name, ImageBase64: str(jpegBase64)}
	case "ImageRecognitionV2":
		return &faceid.ImageRecognitionV2Request{IdCard: id, Name: name, ImageBase64: str(jpegBase64), Extra: str(sampleExtra)}
	case "Liveness":
		return &faceid.LivenessRequest{VideoBase64: str(videoBase64), LivenessType: str("SILENT"), Optional: str(`{"BestFrameNum":2}`)}
	case "LivenessCompare":
		return &faceid.LivenessCompareRequest{LivenessType: str("SILENT"), ImageBase64: str(jpegBase64), VideoBase64: str(videoBase64), Optional: str(`{"BestFrameNum":2}`)}
	case "LivenessRecognition":
		return &faceid.LivenessRecognitionRequest{IdCard: id, Name: name, LivenessType: str("SILENT"), VideoBase64: str(videoBase64), Optional: str(`{"BestFrameNum":2}`)}
	case "MinorsVerification":
		return &faceid.MinorsVerificationRequest{Type: str("1"), IdCard: id, Name: name}
	case "MobileNetworkTimeVerification":
		return &faceid.MobileNetworkTimeVerificationRequest{Mobile: mobile}
	case "MobileStatus":
		return &faceid.MobileStatusRequest{Mobile: mobile}
	case "ParseNfcData":
		return &faceid.ParseNfcDataRequest{ReqId: str("sandbox-reqid-0001")}
	case "PhoneVerification":
		return &faceid.PhoneVerificationRequest{IdCard: id, Name: name, Phone: mobile}
	case "PhoneVerificationCMCC":
		return &faceid.PhoneVerificationCMCCRequest{IdCard: id, Name: name, Phone: mobile}
	case "PhoneVerificationCTCC":
		return &faceid.PhoneVerificationCTCCRequest{IdCard: id, Name: name, Phone: mobile}
	case "PhoneVerificationCUCC":
		return &faceid.PhoneVerificationCUCCRequest{IdCard: id, Name: name, Phone: mobile}
	}
	return nil
}

// setValue sets the string, integer or boolean field name of *struct req
// from its text form, so the table can break any field with one helper.
func setValue(req any, name, value string) bool {
	f, ok := field(req, name)
	if !ok || f.Kind() != reflect.Pointer {
		return false
	}
	switch f.Type().Elem().Kind() {
	case reflect.String:
		f.Set(reflect.ValueOf(&value))
	case reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return false
		}
		f.Set(reflect.ValueOf(&n))
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return false
		}
		f.Set(reflect.ValueOf(&b))
	default:
		return false
	}
	return true
}
