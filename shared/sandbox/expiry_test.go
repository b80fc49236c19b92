package sandbox

import (
	"testing"
	"time"

	"github.com/idverify/idverify/shared/faceid"
)

// TestBizTokenLifetime: DetectAuth results can be pulled for three days
// (seed 003: 3*24*3,600 s), then the BizToken is expired.
func TestBizTokenLifetime(t *testing.T) {
	p, clock := newTestProvider()
	tok, _ := at(mustCall(t, p, "DetectAuth", happyRequest("DetectAuth")), "BizToken")
	enh := &faceid.GetDetectInfoEnhancedRequest{BizToken: str(tok), RuleId: str(sampleRuleID)}
	old := &faceid.GetDetectInfoRequest{BizToken: str(tok), RuleId: str(sampleRuleID)}
	clock.Advance(72*time.Hour - time.Second)
	if got, _ := at(mustCall(t, p, "GetDetectInfoEnhanced", enh), "Text.ErrCode"); got != "0" {
		t.Errorf("just before three days: ErrCode %s", got)
	}
	mustCall(t, p, "GetDetectInfo", old)
	clock.Advance(time.Second)
	for action, req := range map[string]any{"GetDetectInfoEnhanced": enh, "GetDetectInfo": old} {
		if e := callErr(t, p, action, req); e.Code != "InvalidParameterValue.BizTokenExpired" {
			t.Errorf("%s after three days: %v", action, e)
		}
	}
}

// TestEidTokenLifetime: an unfinished eID flow times out after 600 s; a
// finished one stays finished; both can be read for three days.
func TestEidTokenLifetime(t *testing.T) {
	p, clock := newTestProvider()
	issue := func(i int) string {
		req := happyRequest("GetEidToken").(*faceid.GetEidTokenRequest)
		if i > 0 {
			req.IdCard = str(MagicIDCard(i))
		}
		tok, _ := at(mustCall(t, p, "GetEidToken", req), "EidToken")
		return tok
	}
	finished, initTok, doing := issue(0), issue(1), issue(2)
	status := func(tok string) string {
		s, _ := at(mustCall(t, p, "CheckEidTokenStatus", &faceid.CheckEidTokenStatusRequest{EidToken: str(tok)}), "Status")
		return s
	}
	steps := []struct {
		after                 time.Duration
		finished, init, doing string
	}{
		{0, "finished", "init", "doing"},
		{599 * time.Second, "finished", "init", "doing"},
		{time.Second, "finished", "timeout", "timeout"}, // 600 s
		{72*time.Hour - 601*time.Second, "finished", "timeout", "timeout"},
	}
	for _, st := range steps {
		clock.Advance(st.after)
		if got := [3]string{status(finished), status(initTok), status(doing)}; got != [3]string{st.finished, st.init, st.doing} {
			t.Errorf("at %v: statuses %v, want %v", clock.Now().Sub(t0), got, [3]string{st.finished, st.init, st.doing})
		}
	}
	if got, _ := at(mustCall(t, p, "GetEidResult", &faceid.GetEidResultRequest{EidToken: str(initTok)}), "Text.ErrCode"); got != "null" {
		t.Errorf("timed-out flow result: ErrCode %s", got)
	}
	clock.Advance(time.Second) // three days
	for _, tok := range []string{finished, initTok} {
		if e := callErr(t, p, "CheckEidTokenStatus", &faceid.CheckEidTokenStatusRequest{EidToken: str(tok)}); e.Code != "InvalidParameterValue.BizTokenExpired" {
			t.Errorf("status after three days: %v", e)
		}
		if e := callErr(t, p, "GetEidResult", &faceid.GetEidResultRequest{EidToken: str(tok)}); e.Code != "InvalidParameterValue.BizTokenExpired" {
			t.Errorf("result after three days: %v", e)
		}
	}
}

func TestFaceIdTokenLifetime(t *testing.T) {
	p, clock := newTestProvider()
	tok, _ := at(mustCall(t, p, "GetFaceIdToken", happyRequest("GetFaceIdToken")), "FaceIdToken")
	risk, _ := at(mustCall(t, p, "GetFaceidRiskInfoToken", happyRequest("GetFaceidRiskInfoToken")), "FaceIdToken")
	clock.Advance(72*time.Hour - time.Second)
	mustCall(t, p, "GetFaceIdResult", &faceid.GetFaceIdResultRequest{FaceIdToken: str(tok)})
	mustCall(t, p, "GetFaceIdRiskInfo", &faceid.GetFaceIdRiskInfoRequest{FaceIdToken: str(risk)})
	clock.Advance(time.Second)
	if e := callErr(t, p, "GetFaceIdResult", &faceid.GetFaceIdResultRequest{FaceIdToken: str(tok)}); e.Code != "InvalidParameterValue.BizTokenExpired" {
		t.Errorf("GetFaceIdResult after three days: %v", e)
	}
	if e := callErr(t, p, "GetFaceIdRiskInfo", &faceid.GetFaceIdRiskInfoRequest{FaceIdToken: str(risk)}); e.Code != "InvalidParameterValue.BizTokenExpired" {
		t.Errorf("GetFaceIdRiskInfo after three days: %v", e)
	}
}

func TestNFCTokenLifetime(t *testing.T) {
	p, clock := newTestProvider()
	tok, _ := at(mustCall(t, p, "GetNFCToken", &faceid.GetNFCTokenRequest{}), "Token")
	req := &faceid.GetWxNFCResultRequest{NFCToken: str(tok)}
	clock.Advance(10*time.Minute - time.Second)
	mustCall(t, p, "GetWxNFCResult", req)
	clock.Advance(time.Second)
	if e := callErr(t, p, "GetWxNFCResult", req); e.Code != "FailedOperation.InvalidTokenParameter" {
		t.Errorf("after ten minutes: %v", e)
	}
}

// TestBillReadyAtSix: yesterday's bill can be pulled from 06:00 China time.
func TestBillReadyAtSix(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 2, 5, 59, 59, 0, chinaTime)}
	p := New(Options{Now: clock.Now})
	req := &faceid.GetWeChatBillDetailsRequest{Date: str("2026-03-01"), Cursor: i64(0)}
	if got, _ := at(mustCall(t, p, "GetWeChatBillDetails", req), "HasNextPage"); got != "false" {
		t.Errorf("05:59:59: HasNextPage %s", got)
	}
	clock.Advance(time.Second)
	if got, _ := at(mustCall(t, p, "GetWeChatBillDetails", req), "HasNextPage"); got != "true" {
		t.Errorf("06:00: HasNextPage %s", got)
	}
}

// TestFlowMemoryIsPruned: a long-running instance forgets flows whose
// results can no longer be pulled.
func TestFlowMemoryIsPruned(t *testing.T) {
	p, clock := newTestProvider()
	for range pruneEvery {
		mustCall(t, p, "GetFaceidRiskInfoToken", &faceid.GetFaceidRiskInfoTokenRequest{})
	}
	clock.Advance(resultTTL + 2*time.Hour)
	for range pruneEvery {
		mustCall(t, p, "GetFaceidRiskInfoToken", &faceid.GetFaceidRiskInfoTokenRequest{})
	}
	p.mu.Lock()
	n := len(p.flows)
	p.mu.Unlock()
	if n != pruneEvery {
		t.Errorf("%d flows remembered, want %d", n, pruneEvery)
	}
	for range maxFlows + pruneEvery {
		mustCall(t, p, "GetFaceidRiskInfoToken", &faceid.GetFaceidRiskInfoTokenRequest{})
	}
	p.mu.Lock()
	n = len(p.flows)
	p.mu.Unlock()
	if n > maxFlows+pruneEvery {
		t.Errorf("%d flows remembered, cap %d", n, maxFlows)
	}
}
