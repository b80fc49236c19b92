package faceadv

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/webank"
)

// The sandbox emulates both actions without any outbound call to WeBank
// (photo links are still fetched, through the same checks as live mode).
// The outcome of faceAdvResult is chosen by the end of the orderNo; faceAdv
// without an orderNo makes one that ends like the userId, so a whole flow
// is steered by one value:
//
//	| scenario        | orderNo (or userId) ends with | faceAdvResult answer                                                |
//	|-----------------|-------------------------------|---------------------------------------------------------------------|
//	| pass            | anything else                 | status SUCCESS, tencentCode "0", liveRate "99", similarity "97.0"   |
//	| low similarity  | lowsim                        | status FAIL, tencentCode "400701", liveRate "99", similarity "42.0" |
//	| liveness failed | liveness                      | status FAIL, tencentCode "400702", liveRate "12"                    |
//	| not found       | notfound                      | status FAIL, tencentCode "400604" (no result for the orderNo)       |
//
// The sandbox codes 400701/400702/400604 are this project's: WeBank's code
// table was not available (provider-apis.md §5.5).
const (
	SandboxAppID   = "IDASANDBOX"
	sandboxTicket  = "sandbox-nonce-ticket"
	codeNoRecord   = "400604"
	codeLowSim     = "400701"
	codeLiveFailed = "400702"
)

// Scenario is one row of the sandbox table.
type Scenario struct {
	Name        string `json:"name"`
	Endpoint    string `json:"endpoint"`
	Field       string `json:"field"`
	EndsWith    string `json:"endsWith"`
	Status      string `json:"status"`
	TencentCode string `json:"tencentCode"`
	Description string `json:"description"`
}

// Scenarios is the sandbox table, for serving and for tests.
func Scenarios() []Scenario {
	return []Scenario{
		{"pass", "faceAdvResult", "orderNo", "", StatusSuccess, "0", "any other orderNo: verified live and matched (liveRate 99, similarity 97.0)"},
		{"low similarity", "faceAdvResult", "orderNo", "lowsim", StatusFail, codeLowSim, "live, but the face does not match (similarity 42.0)"},
		{"liveness failed", "faceAdvResult", "orderNo", "liveness", StatusFail, codeLiveFailed, "the liveness check failed (liveRate 12)"},
		{"not found", "faceAdvResult", "orderNo", "notfound", StatusFail, codeNoRecord, "no result for this orderNo (the user never finished)"},
		{"steer from faceAdv", "faceAdv", "userId", "lowsim | liveness | notfound", StatusSuccess, "", "faceAdv without orderNo makes one ending like the userId, so faceAdvResult answers that scenario"},
	}
}

var magic = []string{"lowsim", "liveness", "notfound"}

type sandbox struct{ now func() time.Time }

func digest(parts ...string) string {
	s := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(s[:])
}

// sandboxOrderNo makes an orderNo for a faceAdv that sent none.
func sandboxOrderNo(userID, traceNo string) string {
	suffix := ""
	for _, m := range magic {
		if strings.HasSuffix(strings.ToLower(userID), m) {
			suffix = m
		}
	}
	base := "SBX" + digest(userID, traceNo)[:12]
	return base + suffix
}

func (s sandbox) start(_ context.Context, in startInput) (*AdvResult, error) {
	nonce := strings.ToUpper(digest("nonce", in.OrderNo))[:32]
	return &AdvResult{
		BizSeqNo: "SBX" + digest("biz", in.OrderNo)[:24],
		OrderNo:  in.OrderNo,
		FaceID:   digest("face", in.OrderNo, in.UserID)[:32],
		Nonce:    nonce,
		Sign:     webank.Sign(SandboxAppID, in.UserID, webank.Version, sandboxTicket, nonce),
		AppID:    SandboxAppID,
		Version:  webank.Version,
	}, nil
}

func (s sandbox) record(_ context.Context, orderNo, getFile string) (*RecordResult, error) {
	r := &RecordResult{
		BizSeqNo: "SBX" + digest("biz", orderNo)[:24], OrderNo: orderNo,
		TransactionTime: s.now().Format("20060102150405"), AppID: SandboxAppID,
	}
	lower := strings.ToLower(orderNo)
	switch {
	case strings.HasSuffix(lower, "notfound"):
		r.TencentCode, r.TencentMsg = codeNoRecord, "sandbox: no face verification result for this orderNo"
		return r, nil
	case strings.HasSuffix(lower, "lowsim"):
		r.TencentCode, r.TencentMsg, r.LiveRate, r.Similarity = codeLowSim, "sandbox: the face does not match the source photo", "99", "42.0"
	case strings.HasSuffix(lower, "liveness"):
		r.TencentCode, r.TencentMsg, r.LiveRate = codeLiveFailed, "sandbox: the liveness check failed", "12"
	default:
		r.TencentCode, r.TencentMsg, r.LiveRate, r.Similarity = "0", "请求成功", "99", "97.0"
	}
	r.OccurredTime = s.now().Add(-time.Minute).Format("20060102150405")
	r.SdkVersion, r.TrtcFlag = "sandbox", "N"
	// A 1x1 JPEG and a placeholder: recognisable, tiny, never a real face.
	const photo = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
	const video = "c2FuZGJveCB2aWRlbw=="
	switch getFile {
	case "1":
		r.Photo, r.Video = photo, video
	case "2":
		r.Photo = photo
	case "3":
		r.Video = video
	}
	return r, nil
}
