package sandbox

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// The H5/WeChat face flow: DetectAuth issues a BizToken, the user verifies
// in the browser, and GetDetectInfo / GetDetectInfoEnhanced pull the
// result. The sandbox plays the user: the flow is over the moment the token
// is issued, with the outcome the DetectAuth request chose (a MagicIDCard,
// or MagicMedia as ImageBase64), and its result can be pulled for three
// days.

// Intention-verification (意愿核身) modes, as IntentionVerifyType reports
// them; noIntention when the flow has none.
const (
	intentQuestions byte = '0' // 问答模式
	intentNod       byte = '1' // 点头确认模式
	intentRead      byte = '2' // 朗读模式
	noIntention     byte = 'n'
)

func detectAuth(p *Provider, c *call, r *faceid.DetectAuthRequest) (any, error) {
	mode := noIntention
	switch {
	case r.Config != nil && r.Config.IntentionType != nil && *r.Config.IntentionType == 1 && len(r.IntentionActions) > 0:
		mode = intentNod
	case len(r.IntentionQuestions) > 0:
		mode = intentQuestions
	case len(r.IntentionActions) > 0:
		mode = intentNod
	case deref(r.IntentionVerifyText) != "":
		mode = intentRead
	}
	tok := c.issue(kindBiz, max(c.index, 0), mode, ruleHash(deref(r.RuleId)))
	rec := &flowRecord{issued: c.now, extra: r.Extra, readText: deref(r.IntentionVerifyText), actions: len(r.IntentionActions)}
	rec.person = typedPerson(r, r.Name, r.IdCard)
	for _, q := range r.IntentionQuestions {
		if q != nil {
			qa := &questionAnswer{question: deref(q.Question)}
			if len(q.Answers) > 0 {
				qa.answer = deref(q.Answers[0])
			}
			rec.questions = append(rec.questions, qa)
		}
	}
	p.remember(tok, rec)
	if err := p.recordFlow(c, tok, sandboxflow.KindDetect, r.RedirectUrl, rec.person); err != nil {
		return nil, err
	}
	return &faceid.DetectAuthResponse{Url: str(p.urlBase + "/detect?token=" + url.QueryEscape(tok)), BizToken: str(tok)}, nil
}

// typedPerson is the identity a flow request named, nil when it named
// none (the user will be asked to scan the ID card) or sent it encrypted.
func typedPerson(req any, name, id *string) *person {
	if name == nil || id == nil || encrypted(req, "IdCard") || encrypted(req, "Name") {
		return nil
	}
	return &person{Name: *name, IDCard: *id}
}

// flow is a redeemed flow token with everything a result needs.
type flow struct {
	tok  token
	rec  *flowRecord
	o    outcome
	code flowCode
	who  person
	ocr  bool // the identity came from scanning the ID card
}

func (f *flow) done() bool { return f.o.Status == "" }

// redeemFlow loads the flow behind a token issued by the action issuer.
func (p *Provider) redeemFlow(tok token, s, issuer string) *flow {
	pl := plans()[issuer]
	f := &flow{tok: tok, rec: p.recall(s), o: pl.outcomes[0]}
	if tok.outcome > 0 && tok.outcome < len(pl.outcomes) {
		f.o = pl.outcomes[tok.outcome]
	}
	f.code = flowCodeOf(f.o)
	switch {
	case f.rec.person != nil:
		f.who = *f.rec.person
	case tok.outcome > 0 && f.rec.issued.IsZero():
		// Another instance issued the token: the magic ID it was given
		// is the one its outcome number stands for.
		f.who = person{Name: HappyName, IDCard: MagicIDCard(tok.outcome)}
	default:
		f.who, f.ocr = happyPerson, true
	}
	return f
}

func (p *Provider) detectFlow(c *call, bizToken, ruleID *string) (*flow, error) {
	const code = "InvalidParameterValue.BizTokenExpired" // the only token error both actions document
	tok, err := c.redeem(deref(bizToken), resultTTL, code, code, kindBiz)
	if err != nil {
		return nil, err
	}
	if tok.rule != ruleHash(deref(ruleID)) {
		return nil, c.failCode("InvalidParameterValue.RuleIdNotExist", "the RuleId differs from the one given to DetectAuth")
	}
	f := p.redeemFlow(tok, deref(bizToken), "DetectAuth")
	// A tester on the sandbox H5 page decides how the flow ended; one who
	// left it unfinished leaves it pending, as Tencent reports a flow the
	// user has not completed (every result null).
	pending, err := p.pageChoice(c, deref(bizToken), "DetectAuth", f)
	if err != nil {
		return nil, err
	}
	if pending {
		f.o = outcome{Status: statusPending}
	}
	return f, nil
}

// infoTypes parses InfoType ("0" or "" for everything, "13" for parts 1
// and 3) into the set of parts asked for.
func infoTypes(s *string, known string) func(byte) bool {
	v := deref(s)
	var want []byte
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(known, v[i]) >= 0 {
			want = append(want, v[i])
		}
	}
	return func(part byte) bool { return len(want) == 0 || strings.IndexByte(string(want), part) >= 0 }
}

// The DetectInfo JSON string of GetDetectInfo, laid out as the action's
// documentation (seed 003) shows it: four parts, each present only when
// InfoType asks for it, unknown values as null.
type detectInfo struct {
	Text       *detectInfoText `json:"Text,omitempty"`
	IdCardData *struct {
		OcrFront *string
		OcrBack  *string
	} `json:"IdCardData,omitempty"`
	BestFrame *struct{ BestFrame *string }     `json:"BestFrame,omitempty"`
	VideoData *struct{ LivenessVideo *string } `json:"VideoData,omitempty"`
}

type detectInfoText struct {
	ErrCode       *int64
	ErrMsg        *string
	IdCard        string
	Name          string
	OcrNation     *string
	OcrAddress    *string
	OcrBirth      *string
	OcrAuthority  *string
	OcrValidDate  *string
	OcrName       *string
	OcrIdCard     *string
	OcrGender     *string
	LiveStatus    *int64
	LiveMsg       *string
	Comparestatus *int64
	Comparemsg    *string
	Sim           *string
	Location      *string
	Extra         string
	Detail        struct {
		LivenessData []livenessData
	}
}

type livenessData struct {
	ErrCode *int64
	ErrMsg  *string
	ReqTime *string
	IdCard  *string
	Name    *string
}

func getDetectInfo(p *Provider, c *call, r *faceid.GetDetectInfoRequest) (any, error) {
	f, err := p.detectFlow(c, r.BizToken, r.RuleId)
	if err != nil {
		return nil, err
	}
	want := infoTypes(r.InfoType, "1234")
	var info detectInfo
	t := f.enhancedText() // the same facts, in the older layout
	if want('1') {
		info.Text = &detectInfoText{
			ErrCode: t.ErrCode, ErrMsg: t.ErrMsg, IdCard: deref(t.IdCard), Name: deref(t.Name),
			OcrNation: t.OcrNation, OcrAddress: t.OcrAddress, OcrBirth: t.OcrBirth, OcrAuthority: t.OcrAuthority,
			OcrValidDate: t.OcrValidDate, OcrName: t.OcrName, OcrIdCard: t.OcrIdCard, OcrGender: t.OcrGender,
			LiveStatus: t.LiveStatus, LiveMsg: t.LiveMsg, Comparestatus: t.Comparestatus, Comparemsg: t.Comparemsg,
			Sim: t.Sim, Location: t.Location, Extra: deref(t.Extra),
		}
		info.Text.Detail.LivenessData = []livenessData{}
		for _, d := range t.LivenessDetail {
			info.Text.Detail.LivenessData = append(info.Text.Detail.LivenessData, livenessData{
				ErrCode: d.Errcode, ErrMsg: d.Errmsg, ReqTime: d.ReqTime, IdCard: d.Idcard, Name: d.Name})
		}
	}
	if want('2') {
		info.IdCardData = &struct{ OcrFront, OcrBack *string }{}
		if f.done() && f.ocr {
			info.IdCardData.OcrFront, info.IdCardData.OcrBack = str(jpegBase64), str(jpegBase64)
		}
	}
	if want('3') {
		info.BestFrame = &struct{ BestFrame *string }{}
		if f.livenessRan() {
			info.BestFrame.BestFrame = str(jpegBase64)
		}
	}
	if want('4') {
		info.VideoData = &struct{ LivenessVideo *string }{}
		if f.livenessRan() {
			info.VideoData.LivenessVideo = str(videoBase64)
		}
	}
	s, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return &faceid.GetDetectInfoResponse{DetectInfo: str(string(s))}, nil
}

func (f *flow) livenessRan() bool { return f.done() && f.code.stage != stageNone }

// enhancedText is DetectInfoText for a flow. A flow the user has not
// finished looks like the documentation's example: every result null, the
// identity and Extra empty.
func (f *flow) enhancedText() *faceid.DetectInfoText {
	t := &faceid.DetectInfoText{IdCard: str(""), Name: str(""), Extra: str(deref(f.rec.extra)), LivenessDetail: []*faceid.DetectDetail{}}
	if !f.done() {
		return t
	}
	fc := f.code
	t.ErrCode, t.ErrMsg = i64(int64(fc.code)), str(fc.msg)
	t.IdCard, t.Name, t.UseIDType = str(f.who.IDCard), str(f.who.Name), i64(0)
	t.IdInfoFrom = str("其他") // the caller passed the identity to DetectAuth
	if f.ocr {
		t.IdInfoFrom = str("OCR")
		t.OcrNation, t.OcrAddress, t.OcrBirth = str(fixtureNation), str(fixtureAddress), str(birth(f.who.IDCard))
		t.OcrAuthority, t.OcrValidDate = str(fixtureAuthority), str(validDate())
		t.OcrName, t.OcrIdCard, t.OcrGender = str(f.who.Name), str(f.who.IDCard), str(sex(f.who.IDCard))
	}
	t.LiveStatus, t.LiveMsg = fc.live()
	t.Comparestatus, t.Comparemsg = fc.compare()
	t.LivenessInfoTag = strs(fc.livenessTags()...)
	t.NFCRequestIds, t.NFCBillingCounts = []*string{}, i64(0)
	if fc.stage == stageNone {
		return t
	}
	t.LivenessMode, t.LivenessActionSequence = i64(3), str("5") // 静默活体
	if fc.stage == stageCompare {
		t.Sim, t.CompareLibType = str(fc.sim()), str("权威库")
	}
	t.LivenessDetail = []*faceid.DetectDetail{{
		ReqTime: str(strconv.FormatInt(f.tok.issued.UnixMilli(), 10)), Seq: str(seqOf(f.tok)),
		Idcard: str(f.who.IDCard), Name: str(f.who.Name), Sim: str(fc.sim()), IsNeedCharge: boolp(fc.charged),
		Errcode: t.ErrCode, Errmsg: t.ErrMsg, Livestatus: t.LiveStatus, Livemsg: t.LiveMsg,
		Comparestatus: t.Comparestatus, Comparemsg: t.Comparemsg, CompareLibType: str("权威库"), LivenessMode: i64(3),
	}}
	return t
}

// validDate is the fixture card's validity as OCR prints it.
func validDate() string {
	return fixtureValidFrom[:4] + "." + fixtureValidFrom[4:6] + "." + fixtureValidFrom[6:] + "-" +
		fixtureValidTo[:4] + "." + fixtureValidTo[4:6] + "." + fixtureValidTo[6:]
}

// seqOf is a per-attempt id in the style of Tencent's Seq values.
func seqOf(t token) string {
	return "sandbox-seq-" + t.kind + "-" + strconv.FormatUint(t.seq, 10)
}

func getDetectInfoEnhanced(p *Provider, c *call, r *faceid.GetDetectInfoEnhancedRequest) (any, error) {
	f, err := p.detectFlow(c, r.BizToken, r.RuleId)
	if err != nil {
		return nil, err
	}
	want := infoTypes(r.InfoType, "123456")
	resp := &faceid.GetDetectInfoEnhancedResponse{IsVerifyIntention: boolp(f.tok.mode != noIntention)}
	if f.tok.mode != noIntention {
		resp.IntentionVerifyType = str(string(f.tok.mode))
	}
	if want('1') {
		resp.Text = f.enhancedText()
	}
	if want('2') {
		resp.IdCardData = f.idCardData(isTrue(r.IsCutIdCardImage), isTrue(r.IsNeedIdCardAvatar))
	}
	if want('3') {
		resp.BestFrame = &faceid.DetectInfoBestFrame{}
		if f.livenessRan() {
			resp.BestFrame.BestFrame = str(jpegBase64)
			resp.BestFrame.BestFrames = frames(min(int(max(deref64(r.BestFramesCount), 0)), 10))
		}
	}
	if want('4') {
		resp.VideoData = &faceid.DetectInfoVideoData{}
		if f.livenessRan() {
			resp.VideoData.LivenessVideo = str(videoBase64)
			if isTrue(r.IsReturnAllVideo) {
				resp.VideoData.LivenessVideos = []*faceid.VideoDetailData{{Seq: str(seqOf(f.tok)), Video: str(p.urlBase + "/cos/" + seqOf(f.tok) + ".mp4")}}
			}
		}
	}
	v, q, a := f.intention(want)
	resp.IntentionVerifyData, resp.IntentionQuestionResult, resp.IntentionActionResult = v, q, a
	return resp, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func deref64(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// idCardData holds the ID card photos, which exist only when the user
// scanned the card (no identity given to the issuing call).
func (f *flow) idCardData(cut, avatar bool) *faceid.DetectInfoIdCardData {
	d := &faceid.DetectInfoIdCardData{}
	if !f.done() || !f.ocr {
		return d
	}
	d.OcrFront, d.OcrBack = str(jpegBase64), str(jpegBase64)
	d.WarnInfos, d.BackWarnInfos = []*int64{}, []*int64{}
	if cut {
		d.ProcessedFrontImage, d.ProcessedBackImage = str(jpegBase64), str(jpegBase64)
	}
	if avatar {
		d.Avatar = str(jpegBase64)
	}
	return d
}

// intention fills the intention-verification results of a flow that
// configured any mode and passed; Tencent says they may be ignored when
// unused, so the sandbox fills all three rather than guess which a caller
// reads. Parts 5 and 6 of InfoType select them.
func (f *flow) intention(want func(byte) bool) (*faceid.IntentionVerifyData, *faceid.IntentionQuestionResult, *faceid.IntentionActionResult) {
	if f.tok.mode == noIntention || !f.done() || f.code.code != 0 {
		return nil, nil, nil
	}
	var v *faceid.IntentionVerifyData
	var q *faceid.IntentionQuestionResult
	var a *faceid.IntentionActionResult
	if want('5') {
		text := f.rec.readText
		if text == "" {
			text = "本人自愿办理此业务"
		}
		v = &faceid.IntentionVerifyData{IntentionVerifyVideo: str(videoBase64), AsrResult: str(text), ErrorCode: i64(0),
			ErrorMessage: str("成功"), IntentionVerifyBestFrame: str(jpegBase64), AsrResultSimilarity: str("100.00"), IntentionVerifyAudio: str(audioBase64)}
	}
	if want('6') {
		qs := f.rec.questions
		if len(qs) == 0 {
			qs = []*questionAnswer{{question: "您是否本人自愿办理此业务？", answer: "是"}}
		}
		q = &faceid.IntentionQuestionResult{FinalResultDetailCode: i64(0), FinalResultMessage: str("成功"), Video: str(videoBase64),
			ScreenShot: frames(1), FinalResultCode: str("0")}
		for _, qa := range qs {
			q.ResultCode = append(q.ResultCode, str("0"))
			q.AsrResult = append(q.AsrResult, str(qa.answer))
			q.Audios = append(q.Audios, str(audioBase64))
		}
		a = &faceid.IntentionActionResult{FinalResultDetailCode: i64(0), FinalResultMessage: str("成功")}
		for range max(f.rec.actions, 1) {
			a.Details = append(a.Details, &faceid.IntentionActionResultDetail{Video: str(videoBase64), ScreenShot: frames(1)})
		}
	}
	return v, q, a
}
