package billing

import (
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

func TestClassify(t *testing.T) {
	ok := func(code string) *gateway.Answer {
		return &gateway.Answer{Code: code, Header: map[string]string{"X-Idv-Source": "provider"}}
	}
	pre := &gateway.Answer{Code: "-2", Header: map[string]string{"X-Idv-Source": "precheck"}}
	cases := []struct {
		name, contract, action string
		ans                    *gateway.Answer
		err                    error
		want                   Class
	}{
		{"charged 0", FaceID, "IdCardVerification", ok("0"), nil, Charged},
		{"charged -1", FaceID, "IdCardVerification", ok("-1"), nil, Charged},
		{"free -2", FaceID, "IdCardVerification", ok("-2"), nil, Free},
		{"free -7 (daily limit)", FaceID, "IdCardVerification", ok("-7"), nil, Free},
		{"unknown code counts", FaceID, "IdCardVerification", ok("-99"), nil, Charged},
		{"precheck is local", FaceID, "IdCardVerification", pre, nil, Free},
		{"no result table", FaceID, "DetectAuth", ok(""), nil, Free},
		{"charged error code", FaceID, "ImageRecognitionV2", nil, errs.E(errs.Provider, "FailedOperation.IdNameMisMatch", "x"), Charged},
		{"free error code", FaceID, "ImageRecognitionV2", nil, errs.E(errs.Provider, "FailedOperation.LifePhotoDetectFake", "x"), Free},
		{"timeout", FaceID, "IdCardVerification", nil, errs.E(errs.Unavailable, "InternalError.UpstreamTimeout", "x"), Uncertain},
		{"never sent", FaceID, "IdCardVerification", nil, errs.E(errs.Unavailable, "InternalError.UpstreamConnection", "x"), Free},
		{"throttled", FaceID, "IdCardVerification", nil, errs.E(errs.Throttled, "RequestLimitExceeded", "x"), Free},
		{"faceAdv opened", FaceAdv, "faceAdv", &gateway.Answer{Code: "SUCCESS"}, nil, Charged},
		{"faceAdv unreachable", FaceAdv, "faceAdv", nil, errs.E(errs.Unavailable, "FaceAdv.50200", "x"), Uncertain},
		{"faceAdv refused", FaceAdv, "faceAdv", nil, errs.E(errs.Provider, "FaceAdv.50001", "x"), Free},
		{"faceAdvResult", FaceAdv, "faceAdvResult", &gateway.Answer{Code: "SUCCESS"}, nil, Free},
		{"baidu", Faceprint, "faceprint/verifyToken/generate", &gateway.Answer{}, nil, Free},
	}
	for _, c := range cases {
		if got, _ := Classify(c.contract, c.action, c.ans, c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if _, code := Classify(FaceID, "IdCardVerification", nil, errs.E(errs.Throttled, "RequestLimitExceeded", "x")); code != "RequestLimitExceeded" {
		t.Errorf("code of an error: %q", code)
	}
}

func TestChargeable(t *testing.T) {
	for a, want := range map[string]bool{"IdCardVerification": true, "GetDetectInfo": false, "DetectAuth": false, "Nope": false} {
		if Chargeable(FaceID, a) != want {
			t.Errorf("%s: %v", a, !want)
		}
	}
	if !Chargeable(FaceAdv, "faceAdv") || Chargeable(FaceAdv, "faceAdvResult") || Chargeable(Faceprint, "faceprint/idcard/submit") {
		t.Error("faceAdv / faceprint chargeability")
	}
}
