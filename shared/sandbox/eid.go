package sandbox

import (
	"encoding/base64"
	"net/url"
	"strconv"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// The eID (E证通) flow: GetEidToken issues an EidToken, the user verifies
// within 600 s, CheckEidTokenStatus polls, GetEidResult pulls the result
// for three days. The sandbox plays the user and finishes at once, unless
// the GetEidToken IdCard was a magic value for a user who never starts
// (init), starts but does not finish (doing), or lets the token lapse
// (timeout). init and doing turn into timeout when the 600 s are over.
//
// Error codes: a token the sandbox did not issue is
// InvalidParameterValue.BizTokenIllegal; one older than three days is
// InvalidParameterValue.BizTokenExpired. Both are documented for
// CheckEidTokenStatus and GetEidResult.

// eidIntentionModes maps GetEidTokenConfig.IntentionMode (1 朗读, 2 问答,
// 3 点头) to the IntentionVerifyType GetEidResult reports.
var eidIntentionModes = map[string]byte{"1": intentRead, "2": intentQuestions, "3": intentNod}

func getEidToken(p *Provider, c *call, r *faceid.GetEidTokenRequest) (any, error) {
	if c.outcome.Error {
		return nil, c.failCode(c.outcome.Code, "")
	}
	mode := noIntention
	rec := &flowRecord{issued: c.now, extra: r.Extra, person: typedPerson(r, r.Name, r.IdCard)}
	if cfg := r.Config; cfg != nil && isTrue(cfg.UseIntentionVerify) {
		mode = intentRead // IntentionMode defaults to 1
		if m, ok := eidIntentionModes[deref(cfg.IntentionMode)]; ok {
			mode = m
		}
		rec.readText, rec.actions = deref(cfg.IntentionVerifyText), len(cfg.IntentionActions)
		for _, q := range cfg.IntentionQuestions {
			if q != nil {
				qa := &questionAnswer{question: deref(q.Question)}
				if len(q.Answers) > 0 {
					qa.answer = deref(q.Answers[0])
				}
				rec.questions = append(rec.questions, qa)
			}
		}
	}
	tok := c.issue(kindEid, max(c.index, 0), mode, 0)
	p.remember(tok, rec)
	if err := p.recordFlow(c, tok, sandboxflow.KindEid, r.RedirectUrl, rec.person); err != nil {
		return nil, err
	}
	return &faceid.GetEidTokenResponse{EidToken: str(tok), Url: str(p.urlBase + "/eid?token=" + url.QueryEscape(tok))}, nil
}

func (p *Provider) eidFlow(c *call, eidToken *string) (*flow, string, error) {
	tok, err := c.redeem(deref(eidToken), resultTTL, "InvalidParameterValue.BizTokenIllegal", "InvalidParameterValue.BizTokenExpired", kindEid)
	if err != nil {
		return nil, "", err
	}
	f := p.redeemFlow(tok, deref(eidToken), "GetEidToken")
	// A tester who opened the sandbox H5 page and did not finish leaves
	// the token "doing" until its 600 s are over.
	unfinished, err := p.pageChoice(c, deref(eidToken), "GetEidToken", f)
	if err != nil {
		return nil, "", err
	}
	if unfinished {
		f.o = outcome{Status: eidDoing}
	}
	status := eidFinished
	switch f.o.Status {
	case eidInit, eidDoing:
		status = f.o.Status
		if !c.now.Before(tok.issued.Add(eidVerifyTTL)) {
			status = eidTimeout
		}
	case eidTimeout:
		status = eidTimeout
	}
	return f, status, nil
}

func checkEidTokenStatus(p *Provider, c *call, r *faceid.CheckEidTokenStatusRequest) (any, error) {
	_, status, err := p.eidFlow(c, r.EidToken)
	if err != nil {
		return nil, err
	}
	return &faceid.CheckEidTokenStatusResponse{Status: str(status)}, nil
}

// getEidResult reports an unfinished flow as the documentation's empty
// Text (every result null). In a finished one, Text carries no name or ID
// number: eID returns them only encrypted, in EidInfo, to the merchant's
// SM2 key (crypt.go); EidSign is a placeholder.
func getEidResult(p *Provider, c *call, r *faceid.GetEidResultRequest) (any, error) {
	f, status, err := p.eidFlow(c, r.EidToken)
	if err != nil {
		return nil, err
	}
	if status != eidFinished {
		f.o = outcome{Status: status}
	}
	want := infoTypes(r.InfoType, "12356")
	resp := &faceid.GetEidResultResponse{IsVerifyIntention: boolp(f.tok.mode != noIntention)}
	if f.tok.mode != noIntention {
		resp.IntentionVerifyType = str(string(f.tok.mode))
	}
	if want('1') {
		resp.Text = f.enhancedText()
		resp.Text.IdCard, resp.Text.Name = str(""), str("")
		for _, d := range resp.Text.LivenessDetail {
			d.Idcard, d.Name = str(""), str("")
		}
		resp.Text.OcrIdCard, resp.Text.OcrName = nil, nil
	}
	if want('2') {
		resp.IdCardData = f.idCardData(isTrue(r.IsCutIdCardImage), isTrue(r.IsNeedIdCardAvatar))
	}
	if want('3') {
		resp.BestFrame = &faceid.DetectInfoBestFrame{}
		if f.livenessRan() {
			resp.BestFrame.BestFrame = str(jpegBase64)
			resp.BestFrame.BestFrames = frames(min(int(max(deref64(r.BestFramesCount), 0)), 3))
		}
	}
	if f.done() && f.code.code == 0 {
		placeholder := func(s string) *string { return str(base64.StdEncoding.EncodeToString([]byte("sandbox-" + s))) }
		resp.EidInfo = &faceid.EidInfo{EidCode: str("sandbox-eidcode-" + strconv.FormatUint(f.tok.seq, 10)),
			EidSign: placeholder("eid-sign")}
		resp.EidInfo.DesKey, resp.EidInfo.UserInfo = p.eidInfo(f.who) // crypt.go
	}
	v, q, a := f.intention(want)
	resp.IntentionVerifyData, resp.IntentionQuestionResult, resp.IntentionActionResult = v, q, a
	return resp, nil
}
