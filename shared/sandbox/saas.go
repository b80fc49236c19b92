package sandbox

import "strconv"

// The H5/WeChat (DetectAuth), eID and SDK (GetFaceIdToken) flows report
// their result as a numeric code of the "Plus 版人脸核身服务错误码" table
// (https://cloud.tencent.com/document/product/1007/31082), not as an element
// check's Result. The registry does not carry that table, so the sandbox
// names the codes it emulates here: the success code, one liveness-stage
// engine error, the billed failures (1002, 2006, 2016, per the billing notes
// in reference/provider-apis.md §2.3), two free comparison failures and the
// per-identity daily limit (§2.1). A few codes are enough to exercise a
// caller's handling of "passed", "failed and billed", "failed and free" and
// "try tomorrow"; the full table is Tencent's to document.
const (
	stageNone    = iota // stopped before liveness (limits)
	stageLive           // failed in liveness detection
	stageCompare        // passed liveness, failed in the 1:1 comparison
)

type flowCode struct {
	code    int
	msg     string
	charged bool
	stage   int
}

var flowSuccess = flowCode{code: 0, msg: "成功", charged: true, stage: stageCompare}

var flowFailures = []flowCode{
	{1001, "调用活体引擎接口出错", false, stageLive},
	{1002, "疑似非真人录制", true, stageLive},
	{2005, "库中无此号，请到户籍所在地进行核实", false, stageCompare},
	{2006, "姓名和身份证号不一致，请核实后重试", true, stageCompare},
	{2015, "比对失败", false, stageCompare},
	{2016, "比对相似度未达到通过标准", true, stageCompare},
	{2018, "操作过于频繁，请第二天0点后重试", false, stageNone},
}

// flowOutcome turns a flow code into the outcome a plan holds.
func flowOutcome(f flowCode) outcome {
	return outcome{Code: strconv.Itoa(f.code), Description: f.msg, Charged: f.charged}
}

// flowCodeOf finds the flow code an outcome stands for.
func flowCodeOf(o outcome) flowCode {
	if o.Code == "0" {
		return flowSuccess
	}
	for _, f := range flowFailures {
		if strconv.Itoa(f.code) == o.Code {
			return f
		}
	}
	return flowSuccess
}

// sim is the comparison score a flow or face check reports: high on
// success, low when the faces differ, zero when no comparison ran.
func (f flowCode) sim() string {
	switch {
	case f.code == 0:
		return "95.50"
	case f.code == 2016:
		return "45.20"
	default:
		return "0.00"
	}
}

// live and compare are the per-stage status/message pairs of DetectInfo
// Text: a stage that never ran is null, a stage that passed is 0 "成功".
func (f flowCode) live() (*int64, *string) {
	switch f.stage {
	case stageNone:
		return nil, nil
	case stageLive:
		return i64(int64(f.code)), str(f.msg)
	default:
		return i64(0), str("成功")
	}
}

func (f flowCode) compare() (*int64, *string) {
	if f.stage != stageCompare {
		return nil, nil
	}
	return i64(int64(f.code)), str(f.msg)
}

// livenessTags are LivenessInfoTag values (PLUS version): 03 is 疑似翻拍攻击,
// the usual reason behind 1002.
func (f flowCode) livenessTags() []string {
	if f.code == 1002 {
		return []string{"03"}
	}
	return []string{}
}
