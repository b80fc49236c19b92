package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Token lifetimes, from Tencent's documentation of each action.
const (
	// resultTTL: GetDetectInfo(Enhanced), GetEidResult, GetFaceIdResult and
	// GetFaceIdRiskInfo results "生成后三天内（3*24*3,600秒）可多次拉取".
	resultTTL = 3 * 24 * time.Hour
	// eidVerifyTTL: GetEidToken "有效时间为600秒". An eID flow not finished
	// by then reports "timeout".
	eidVerifyTTL = 600 * time.Second
	// nfcTTL: GetWxNFCResult takes a token "十分钟内有效".
	nfcTTL = 10 * time.Minute
)

// Token kinds, one per issuing action.
const (
	kindBiz    = "biz"    // DetectAuth BizToken
	kindEid    = "eid"    // GetEidToken EidToken
	kindFaceID = "faceid" // GetFaceIdToken FaceIdToken
	kindRisk   = "risk"   // GetFaceidRiskInfoToken FaceIdToken
	kindNFC    = "nfc"    // GetNFCToken Token
)

// token is everything the sandbox needs to answer for a token, encoded in
// the token itself. In the usual deployment every action is its own
// function, so the DetectAuth that issued a BizToken and the GetDetectInfo
// that redeems it run in different processes with no shared memory: a
// self-describing token is what lets the flow work there. The outcome
// number, the intention mode and a hash of the RuleId are not personal
// data; names, ID numbers and Extra are never put in a token (they appear in
// URLs and logs), so they come back only from the issuing instance's memory.
type token struct {
	kind    string
	seq     uint64    // the issuing call's number within its Provider
	outcome int       // index into the issuing action's plan
	mode    byte      // intention mode: intentQuestions, intentNod, intentRead or noIntention
	issued  time.Time // to the second
	rule    uint32    // FNV-1a of the RuleId, 0 when the flow has none
}

// String is "sandbox-<kind>-<seq>-<NN>-<mode>-<issued>-<rule>-<check>". The
// check is a truncated SHA-256 of the rest: not a secret (the sandbox
// protects nothing), only a guard that turns a mistyped or invented token
// into the documented "unknown token" error.
func (t token) String() string {
	body := fmt.Sprintf("%s-%d-%02d-%c-%x-%08x", t.kind, t.seq, t.outcome, t.mode, uint64(t.issued.Unix()), t.rule)
	return "sandbox-" + body + "-" + tokenCheck(body)
}

func tokenCheck(body string) string {
	sum := sha256.Sum256([]byte("idverify-sandbox-token\x00" + body))
	return hex.EncodeToString(sum[:4])
}

func parseToken(s string) (token, bool) {
	rest, ok := strings.CutPrefix(s, "sandbox-")
	if !ok || len(s) > 128 {
		return token{}, false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || tokenCheck(rest[:i]) != rest[i+1:] {
		return token{}, false
	}
	parts := strings.Split(rest[:i], "-")
	if len(parts) != 6 || len(parts[3]) != 1 {
		return token{}, false
	}
	seq, err1 := strconv.ParseUint(parts[1], 10, 64)
	nn, err2 := strconv.Atoi(parts[2])
	unix, err3 := strconv.ParseUint(parts[4], 16, 64)
	rule, err4 := strconv.ParseUint(parts[5], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return token{}, false
	}
	return token{kind: parts[0], seq: seq, outcome: nn, mode: parts[3][0],
		issued: time.Unix(int64(unix), 0), rule: uint32(rule)}, true
}

// ruleHash identifies a RuleId inside a token without carrying it.
func ruleHash(ruleID string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(ruleID))
	return h.Sum32() | 1 // never 0, which means "no RuleId"
}

// flowRecord is what only the issuing instance remembers about a flow: the
// identity and pass-through text the caller gave, to echo back.
type flowRecord struct {
	issued    time.Time
	person    *person // nil when the request named nobody (OCR flows)
	extra     *string
	readText  string            // IntentionVerifyText
	questions []*questionAnswer // IntentionQuestions
	actions   int               // number of IntentionActions
}

type questionAnswer struct{ question, answer string }

// pruneEvery bounds the cost of forgetting old flows: the map is swept once
// per that many new flows, dropping those whose results can no longer be
// pulled. maxFlows caps what is left, so a busy long-running server cannot
// grow without limit; a flow forgotten early still answers from its token,
// only without the caller's name and Extra.
const (
	pruneEvery = 256
	maxFlows   = 10000
)

func (p *Provider) remember(tok string, rec *flowRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flows[tok] = rec
	if p.added++; p.added < pruneEvery {
		return
	}
	p.added = 0
	cutoff := rec.issued.Add(-resultTTL - time.Hour)
	for k, r := range p.flows {
		if r.issued.Before(cutoff) || len(p.flows) > maxFlows {
			delete(p.flows, k)
		}
	}
}

// recall returns the issuing instance's record of a flow, or an empty one
// when another instance (or an earlier process) issued the token.
func (p *Provider) recall(tok string) *flowRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.flows[tok]; ok {
		return r
	}
	return &flowRecord{}
}

// issue mints a token for the current call.
func (c *call) issue(kind string, outcome int, mode byte, rule uint32) string {
	return token{kind: kind, seq: c.seq, outcome: outcome, mode: mode, issued: c.now.Truncate(time.Second), rule: rule}.String()
}

// redeem checks a token presented to an action: it must be a sandbox token
// of one of kinds, and younger than ttl. unknown and expired are the
// action's documented error codes for the two failures.
func (c *call) redeem(s string, ttl time.Duration, unknown, expired string, kinds ...string) (token, error) {
	t, ok := parseToken(s)
	if !ok || !slices.Contains(kinds, t.kind) {
		return token{}, c.failCode(unknown, "the token was not issued by the sandbox, or was mistyped")
	}
	if !c.now.Before(t.issued.Add(ttl)) {
		return token{}, c.failCode(expired, "the token is older than "+ttl.String())
	}
	return t, nil
}
