package sandbox

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
)

func TestDetectFlowEndToEnd(t *testing.T) {
	p, _ := newTestProvider()
	auth := &faceid.DetectAuthRequest{RuleId: str("7"), IdCard: str(HappyIDCard), Name: str("李四"), Extra: str("ticket-42"),
		IntentionQuestions: []*faceid.IntentionQuestion{{Question: str("是否本人办理？"), Answers: strs("是的", "是")}}}
	out := mustCall(t, p, "DetectAuth", auth)
	tok, _ := at(out, "BizToken")
	if u, _ := at(out, "Url"); !strings.HasPrefix(u, DefaultURLBase+"/") || !strings.Contains(u, tok) {
		t.Errorf("Url %q", u)
	}
	req := &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str("7")}
	first := mustCall(t, p, "GetDetectInfoEnhanced", req)
	for path, want := range map[string]string{
		"Text.ErrCode": "0", "Text.Name": "李四", "Text.IdCard": HappyIDCard, "Text.Extra": "ticket-42",
		"Text.IdInfoFrom": "其他", "Text.OcrName": "null", "IsVerifyIntention": "true", "IntentionVerifyType": "0",
		"IdCardData.OcrFront": "null", "Text.LiveStatus": "0", "Text.Comparestatus": "0", "Text.Sim": "95.50",
	} {
		if got, _ := at(first, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	var resp faceid.GetDetectInfoEnhancedResponse
	json.Unmarshal(first, &resp)
	if q := resp.IntentionQuestionResult; q == nil || len(q.AsrResult) != 1 || *q.AsrResult[0] != "是的" {
		t.Errorf("IntentionQuestionResult %+v", q)
	}
	// Results can be pulled again, unchanged but for the RequestId.
	again := mustCall(t, p, "GetDetectInfoEnhanced", req)
	if strings.Replace(string(again), requestIDOf(again), "", 1) != strings.Replace(string(first), requestIDOf(first), "", 1) {
		t.Error("a second pull differs from the first")
	}
	// InfoType 12: text and ID card parts only, as in seed 003's example 2.
	info := mustCall(t, p, "GetDetectInfo", &faceid.GetDetectInfoRequest{BizToken: str(tok), RuleId: str("7"), InfoType: str("12")})
	raw, _ := at(info, "DetectInfo")
	var parts map[string]json.RawMessage
	json.Unmarshal([]byte(raw), &parts)
	if len(parts) != 2 || parts["Text"] == nil || parts["IdCardData"] == nil {
		t.Errorf("InfoType 12 gave parts %v", keys(parts))
	}
	// InfoType 3 of the enhanced action: best frames only, with the count asked.
	bf := mustCall(t, p, "GetDetectInfoEnhanced", &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str("7"), InfoType: str("3"), BestFramesCount: i64(4)})
	json.Unmarshal(bf, &resp)
	if resp.Text != nil || resp.BestFrame == nil || len(resp.BestFrame.BestFrames) != 4 {
		t.Errorf("InfoType 3: %s", bf)
	}
}

func requestIDOf(out json.RawMessage) string {
	rid, _ := at(out, "RequestId")
	return rid
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDetectOCRFlow: with no identity in DetectAuth, the user scans the ID
// card, and the result carries what OCR read.
func TestDetectOCRFlow(t *testing.T) {
	p, _ := newTestProvider()
	tok, _ := at(mustCall(t, p, "DetectAuth", &faceid.DetectAuthRequest{RuleId: str("0")}), "BizToken")
	out := mustCall(t, p, "GetDetectInfoEnhanced", &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str("0"), IsNeedIdCardAvatar: boolp(true)})
	for path, want := range map[string]string{
		"Text.IdInfoFrom": "OCR", "Text.OcrName": HappyName, "Text.OcrIdCard": HappyIDCard, "Text.OcrGender": "男",
		"Text.OcrBirth": "1990/3/7", "Text.OcrValidDate": "2015.03.07-2035.03.07", "IsVerifyIntention": "false",
		"IntentionVerifyType": "null", "IntentionVerifyData": "null",
	} {
		if got, _ := at(out, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if got, _ := at(out, "IdCardData.Avatar"); got != jpegBase64 {
		t.Errorf("Avatar not returned")
	}
	if got, _ := at(out, "IdCardData.ProcessedFrontImage"); got != "null" {
		t.Errorf("ProcessedFrontImage returned without IsCutIdCardImage")
	}
}

// TestDetectFailureStages: liveness failures leave the comparison null;
// comparison failures report liveness passed.
func TestDetectFailureStages(t *testing.T) {
	cases := map[int]map[string]string{
		1: {"Text.LiveStatus": "1001", "Text.Comparestatus": "null", "Text.Sim": "null"},
		2: {"Text.LiveStatus": "1002", "Text.LivenessInfoTag": `["03"]`},
		6: {"Text.LiveStatus": "0", "Text.Comparestatus": "2016", "Text.Sim": "45.20"},
		7: {"Text.LiveStatus": "null", "Text.Comparestatus": "null", "BestFrame.BestFrame": "null"},
	}
	for i, want := range cases {
		p, _ := newTestProvider()
		auth := happyRequest("DetectAuth").(*faceid.DetectAuthRequest)
		auth.IdCard = str(MagicIDCard(i))
		tok, _ := at(mustCall(t, p, "DetectAuth", auth), "BizToken")
		out := mustCall(t, p, "GetDetectInfoEnhanced", &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str(sampleRuleID)})
		for path, w := range want {
			if got, _ := at(out, path); got != w {
				t.Errorf("outcome %d: %s = %s, want %s", i, path, got, w)
			}
		}
		if got, _ := at(out, "IntentionVerifyData"); got != "null" {
			t.Errorf("outcome %d: a failed flow reports intention results", i)
		}
	}
}

func TestEidFlow(t *testing.T) {
	p, _ := newTestProvider()
	tok, _ := at(mustCall(t, p, "GetEidToken", happyRequest("GetEidToken")), "EidToken")
	if s, _ := at(mustCall(t, p, "CheckEidTokenStatus", &faceid.CheckEidTokenStatusRequest{EidToken: str(tok)}), "Status"); s != "finished" {
		t.Errorf("Status %q", s)
	}
	out := mustCall(t, p, "GetEidResult", &faceid.GetEidResultRequest{EidToken: str(tok)})
	for path, want := range map[string]string{
		"Text.ErrCode": "0", "Text.Name": "", "Text.IdCard": "", "Text.Extra": sampleExtra,
		"IsVerifyIntention": "true", "IntentionVerifyType": "2", "IntentionVerifyData.AsrResult": sampleReadText,
	} {
		if got, _ := at(out, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if strings.Contains(string(out), HappyIDCard) {
		t.Error("GetEidResult leaks the ID number outside EidInfo")
	}
	if got, _ := at(out, "EidInfo.EidCode"); !strings.HasPrefix(got, "sandbox-") {
		t.Errorf("EidCode %q", got)
	}
}

func TestFaceIDFlow(t *testing.T) {
	p, _ := newTestProvider()
	tok, _ := at(mustCall(t, p, "GetFaceIdToken", &faceid.GetFaceIdTokenRequest{CompareLib: str("BUSINESS"), IdCard: str(HappyIDCard), Name: str("王五"), Extra: str("x1")}), "FaceIdToken")
	out := mustCall(t, p, "GetFaceIdResult", &faceid.GetFaceIdResultRequest{FaceIdToken: str(tok)})
	for path, want := range map[string]string{"Result": "0", "Description": "成功", "Name": "王五", "Extra": "x1", "VideoBase64": "null", "Similarity": "95.5"} {
		if got, _ := at(out, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if got, _ := at(mustCall(t, p, "GetFaceIdRiskInfo", &faceid.GetFaceIdRiskInfoRequest{FaceIdToken: str(tok)}), "Extra"); got != "x1" {
		t.Errorf("risk info Extra %q", got)
	}
	risk, _ := at(mustCall(t, p, "GetFaceidRiskInfoToken", &faceid.GetFaceidRiskInfoTokenRequest{}), "FaceIdToken")
	if e := callErr(t, p, "GetFaceIdResult", &faceid.GetFaceIdResultRequest{FaceIdToken: str(risk)}); e.Code != "InvalidParameterValue.BizTokenIllegal" {
		t.Errorf("a risk token redeemed for a face result: %v", e)
	}
}

func TestNFCFlow(t *testing.T) {
	p, _ := newTestProvider()
	tok, _ := at(mustCall(t, p, "GetNFCToken", &faceid.GetNFCTokenRequest{}), "Token")
	for range 2 { // pulling twice is allowed (and billed once, per Tencent)
		out := mustCall(t, p, "GetWxNFCResult", &faceid.GetWxNFCResultRequest{NFCToken: str(tok)})
		if got, _ := at(out, "IdNum"); got != HappyIDCard {
			t.Errorf("IdNum %q", got)
		}
		if got, _ := at(out, "BirthDate"); got != "19900307" {
			t.Errorf("BirthDate %q", got)
		}
	}
}

// TestCrossInstanceTokens: a token issued by one instance is redeemed by
// another, as when DetectAuth and GetDetectInfo are separate functions.
// The outcome survives; the caller's Extra does not travel.
func TestCrossInstanceTokens(t *testing.T) {
	clock := newClock()
	a, b := New(Options{Now: clock.Now}), New(Options{Now: clock.Now})
	auth := happyRequest("DetectAuth").(*faceid.DetectAuthRequest)
	auth.IdCard = str(MagicIDCard(4))
	tok, _ := at(mustCall(t, a, "DetectAuth", auth), "BizToken")
	out := mustCall(t, b, "GetDetectInfoEnhanced", &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str(sampleRuleID)})
	for path, want := range map[string]string{"Text.ErrCode": "2006", "Text.IdCard": MagicIDCard(4), "Text.Extra": "", "IntentionVerifyType": "2"} {
		if got, _ := at(out, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	eid, _ := at(mustCall(t, a, "GetEidToken", &faceid.GetEidTokenRequest{MerchantId: str("m"), IdCard: str(MagicIDCard(2)), Name: str(HappyName)}), "EidToken")
	if s, _ := at(mustCall(t, b, "CheckEidTokenStatus", &faceid.CheckEidTokenStatusRequest{EidToken: str(eid)}), "Status"); s != "doing" {
		t.Errorf("Status %q on another instance", s)
	}
}

func TestTokensCarryNoPersonalData(t *testing.T) {
	p, _ := newTestProvider()
	for _, s := range scenariosAt(t0) {
		if s.Start == nil {
			continue
		}
		out := mustCall(t, p, s.Start.Action, s.Start.Request)
		tok, _ := at(out, s.Start.TokenField)
		for _, secret := range []string{HappyIDCard, HappyName, sampleExtra, s.Value} {
			if secret != "" && strings.Contains(tok, secret) {
				t.Errorf("%s token %s contains %q", s.Start.Action, tok, secret)
			}
		}
	}
}

func TestTokenTampering(t *testing.T) {
	p, _ := newTestProvider()
	tok, _ := at(mustCall(t, p, "DetectAuth", happyRequest("DetectAuth")), "BizToken")
	// Change the outcome number: the checksum no longer matches.
	forged := strings.Replace(tok, "-00-", "-04-", 1)
	if forged == tok {
		t.Fatalf("token %s has no outcome field", tok)
	}
	for _, bad := range []string{forged, tok + "0", strings.ToUpper(tok), "", "sandbox-"} {
		e := callErr(t, p, "GetDetectInfo", &faceid.GetDetectInfoRequest{BizToken: str(bad), RuleId: str(sampleRuleID)})
		if e.Code != "InvalidParameterValue.BizTokenExpired" {
			t.Errorf("token %q: %v", bad, e)
		}
	}
	// A token of another flow is unknown here.
	eid, _ := at(mustCall(t, p, "GetEidToken", happyRequest("GetEidToken")), "EidToken")
	if e := callErr(t, p, "GetDetectInfo", &faceid.GetDetectInfoRequest{BizToken: str(eid), RuleId: str(sampleRuleID)}); e.Code != "InvalidParameterValue.BizTokenExpired" {
		t.Errorf("EidToken as BizToken: %v", e)
	}
	if e := callErr(t, p, "GetEidResult", &faceid.GetEidResultRequest{EidToken: str(tok)}); e.Code != "InvalidParameterValue.BizTokenIllegal" {
		t.Errorf("BizToken as EidToken: %v", e)
	}
}

// TestAlternativeMagicFields: an outcome can be chosen through any field
// that carries a magic value, not only the one the table shows.
func TestAlternativeMagicFields(t *testing.T) {
	p, _ := newTestProvider()
	img := happyRequest("ImageRecognitionV2").(*faceid.ImageRecognitionV2Request)
	img.ImageBase64 = str(MagicMedia(2))
	if got, _ := at(mustCall(t, p, "ImageRecognitionV2", img), "Result"); got != "FailedOperation.CompareLowSimilarity" {
		t.Errorf("media magic in ImageRecognitionV2: %s", got)
	}
	minor := &faceid.MinorsVerificationRequest{Type: str("0"), Mobile: str(MagicMobile(1))}
	if got, _ := at(mustCall(t, p, "MinorsVerification", minor), "Result"); got != "-1" {
		t.Errorf("mobile magic in MinorsVerification: %s", got)
	}
	ocr := &faceid.IdCardOCRVerificationRequest{IdCard: str(MagicIDCard(1)), Name: str(HappyName)}
	out := mustCall(t, p, "IdCardOCRVerification", ocr)
	if got, _ := at(out, "Result"); got != "-1" {
		t.Errorf("typed IdCard magic in IdCardOCRVerification: %s", got)
	}
	if got, _ := at(out, "Portrait"); got != "null" {
		t.Errorf("typed identity returned a portrait")
	}
	card := happyRequest("BankCard4EVerification").(*faceid.BankCard4EVerificationRequest)
	card.BankCard = str(MagicBankCard(1))
	if got, _ := at(mustCall(t, p, "BankCard4EVerification", card), "Result"); got != "-1" {
		t.Errorf("card magic in BankCard4EVerification: %s", got)
	}
	// Out of range: success.
	over := &faceid.IdCardVerificationRequest{IdCard: str(MagicIDCard(99)), Name: str(HappyName)}
	if got, _ := at(mustCall(t, p, "IdCardVerification", over), "Result"); got != "0" {
		t.Errorf("magic number beyond the outcomes: %s", got)
	}
}

// TestEncryptedInput: ciphertext that does not decrypt with the sandbox's
// key is refused as Tencent refuses it (crypt_test.go covers what does),
// and the hashed modes of EncryptedPhoneVerification still take magic IDs.
func TestEncryptedInput(t *testing.T) {
	p, _ := newTestProvider()
	enc := &faceid.IdCardVerificationRequest{IdCard: str("q83vEjRWeJq83vEjRWeJ=="), Name: str("ciphertext=="),
		Encryption: &faceid.Encryption{EncryptList: strs("IdCard", "Name"), CiphertextBlob: str("blob"), Iv: str("0123456789abcdef")}}
	if e := callErr(t, p, "IdCardVerification", enc); e.Code != "FailedOperation.DecryptSystemError" {
		t.Errorf("undecryptable identity: %v", e)
	}
	m5 := md5.Sum([]byte(MagicIDCard(1)))
	s2 := sha256.Sum256([]byte(MagicIDCard(1)))
	for mode, digest := range map[string]string{"1": strings.ToUpper(hex.EncodeToString(m5[:])), "2": hex.EncodeToString(s2[:])} {
		req := &faceid.EncryptedPhoneVerificationRequest{IdCard: str(digest), Name: str("digest"), Phone: str("digest"), EncryptionMode: str(mode)}
		out := mustCall(t, p, "EncryptedPhoneVerification", req)
		if got, _ := at(out, "Result"); got != "-4" {
			t.Errorf("mode %s: Result %s", mode, got)
		}
		if got, _ := at(out, "ISP"); got != "" {
			t.Errorf("mode %s: ISP %q from a hashed number", mode, got)
		}
	}
	legacy := &faceid.PhoneVerificationRequest{IdCard: str("cipher"), Name: str(HappyName), Phone: str(HappyMobile), EncryptList: strs("IdCard")}
	if got, _ := at(mustCall(t, p, "PhoneVerification", legacy), "Result"); got != "0" {
		t.Errorf("legacy EncryptList: Result %s", got)
	}
}

func TestCarrierAndBank(t *testing.T) {
	p, _ := newTestProvider()
	for action, want := range map[string]string{"PhoneVerification": "移动", "PhoneVerificationCMCC": "移动", "PhoneVerificationCTCC": "电信", "PhoneVerificationCUCC": "联通"} {
		if got, _ := at(mustCall(t, p, action, happyRequest(action)), "Isp"); got != want {
			t.Errorf("%s Isp %q, want %q", action, got, want)
		}
	}
	unicom := &faceid.PhoneVerificationRequest{IdCard: str(HappyIDCard), Name: str(HappyName), Phone: str("18600000000")}
	if got, _ := at(mustCall(t, p, "PhoneVerification", unicom), "Isp"); got != "联通" {
		t.Errorf("186 is 联通, got %q", got)
	}
	out := mustCall(t, p, "CheckBankCardInformation", happyRequest("CheckBankCardInformation"))
	if got, _ := at(out, "AccountBank"); got != "中国工商银行" {
		t.Errorf("AccountBank %q", got)
	}
}

// TestDeterministic: two providers with the same clock answer the same
// sequence of calls byte for byte.
func TestDeterministic(t *testing.T) {
	run := func() []string {
		p, _ := newTestProvider()
		var outs []string
		for _, s := range scenariosAt(t0) {
			if s.Start != nil {
				out, _ := p.Call(t.Context(), s.Start.Action, s.Start.Request)
				outs = append(outs, string(out))
			}
			out, err := p.Call(t.Context(), s.Action, s.Request)
			outs = append(outs, string(out), errString(err))
		}
		return outs
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d differs:\n%s\n%s", i, a[i], b[i])
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestBillPaging(t *testing.T) {
	p, clock := newTestProvider()
	date := clock.Now().AddDate(0, 0, -3).Format("2006-01-02")
	var all []*faceid.WeChatBillDetail
	cursor := int64(0)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		out := mustCall(t, p, "GetWeChatBillDetails", &faceid.GetWeChatBillDetailsRequest{Date: str(date), Cursor: i64(cursor)})
		var resp faceid.GetWeChatBillDetailsResponse
		json.Unmarshal(out, &resp)
		all = append(all, resp.WeChatBillDetails...)
		if !*resp.HasNextPage {
			break
		}
		cursor = *resp.NextCursor
	}
	if len(all) != billsPerDay {
		t.Fatalf("%d records, want %d", len(all), billsPerDay)
	}
	seen := map[string]bool{}
	for _, r := range all {
		if seen[*r.BizToken] {
			t.Errorf("record %s twice", *r.BizToken)
		}
		seen[*r.BizToken] = true
		if *r.ChargeCount != int64(len(r.ChargeDetails)) {
			t.Errorf("ChargeCount %d for %d details", *r.ChargeCount, len(r.ChargeDetails))
		}
		if strings.Contains(*r.ChargeDetails[0].IdCard, HappyIDCard[6:14]) {
			t.Errorf("bill shows an unmasked ID number %s", *r.ChargeDetails[0].IdCard)
		}
	}
	// Today's bill is not ready, and yesterday's only from 06:00.
	for _, d := range []string{clock.Now().Format("2006-01-02")} {
		out := mustCall(t, p, "GetWeChatBillDetails", &faceid.GetWeChatBillDetailsRequest{Date: str(d), Cursor: i64(0)})
		if got, _ := at(out, "WeChatBillDetails"); got != "[]" {
			t.Errorf("bill for %s: %s", d, got)
		}
	}
	if e := callErr(t, p, "GetWeChatBillDetails", &faceid.GetWeChatBillDetailsRequest{Date: str(clock.Now().AddDate(-2, 0, 0).Format("2006-01-02")), Cursor: i64(0)}); e.Code != "InvalidParameter" {
		t.Errorf("two-year-old bill: %v", e)
	}
}
