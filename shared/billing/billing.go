// Package billing says what one answer cost: charged, free, or uncertain
// (the call failed after it may have reached the provider). It is the one
// table budgets and usage accounting read, per contract:
//
//   - FaceID ("faceid"): the registry's result codes (shared/faceid,
//     "收费结果码 / 不收费结果码"). A result code the registry does not know
//     counts as charged, so a surprise shows up as a cost, not as nothing.
//     Actions without a result table (DetectAuth, GetDetectInfo, the token
//     and query actions) are not billed per call: Tencent bills the flow
//     when the user completes it (GetWeChatBillDetails lists those).
//     An error answer is free unless the registry lists its code as a
//     charged result (FailedOperation.IdNameMisMatch...).
//   - WeBank faceAdv ("faceAdv"): a faceAdv that succeeded counts as one
//     charged verification; faceAdvResult is a free query. UNCONFIRMED:
//     WeBank's price list was not available; this is the cautious reading
//     (a session the user may complete is counted when it is opened).
//   - Baidu faceprint ("faceprint"): none of the eight endpoints is billed
//     per call (seed 004): Baidu bills the checks the H5 page runs and
//     reports them in result/getall's is_charged, so every call is free here.
//
// Whatever the contract, an answer made locally (X-Idv-Source: precheck, or
// an error that provably never reached the provider) is free.
package billing

import (
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/gateway"
)

// Class is what an answer cost.
type Class uint8

const (
	Free Class = iota
	Charged
	// Uncertain: the call failed after it may have been processed
	// upstream (a timeout, a reset, a malformed answer). Budgets count it;
	// the usage report shows it on its own.
	Uncertain
)

func (c Class) String() string {
	switch c {
	case Charged:
		return "charged"
	case Uncertain:
		return "uncertain"
	}
	return "free"
}

// Contract names, as the contracts name themselves.
const (
	FaceID    = "faceid"
	FaceAdv   = "faceAdv"
	Faceprint = "faceprint"
)

// Chargeable reports whether a call of action on contract can ever be
// billed. A budget reserves only for these; the others are never refused
// for budget.
func Chargeable(contract, action string) bool {
	switch contract {
	case FaceID:
		a, ok := faceid.Lookup(action)
		if !ok {
			return false
		}
		for _, r := range a.Results {
			if r.Charged {
				return true
			}
		}
		return false
	case FaceAdv:
		return action == "faceAdv"
	}
	return false
}

// Sent reports whether the call that produced ans and err may have reached
// the provider. A local answer (precheck) or a refusal before sending did
// not, so whatever was counted for it can be given back.
func Sent(ans *gateway.Answer, err error) bool {
	if err != nil {
		return gateway.MayHaveReachedProvider(err)
	}
	return ans == nil || ans.Header["X-Idv-Source"] != "precheck"
}

// Classify is what the answer to a call of action on contract cost, and
// the result code it is counted under (the answer's business code, the
// error's code, or "" when there is neither).
func Classify(contract, action string, ans *gateway.Answer, err error) (Class, string) {
	code := ""
	if err != nil {
		code = errs.As(err).Code
	} else if ans != nil {
		code = ans.Code
	}
	if !Sent(ans, err) || !Chargeable(contract, action) {
		return Free, code
	}
	switch contract {
	case FaceID:
		a, _ := faceid.Lookup(action)
		r, known := a.Result(code)
		if err != nil {
			if known && r.Charged {
				return Charged, code
			}
			if errs.KindOf(err) == errs.Provider || errs.KindOf(err) == errs.Invalid {
				return Free, code // Tencent answered with an error: not billed
			}
			return Uncertain, code
		}
		if known && !r.Charged {
			return Free, code
		}
		return Charged, code
	case FaceAdv:
		if err != nil {
			if errs.KindOf(err) == errs.Unavailable || errs.KindOf(err) == errs.Internal {
				return Uncertain, code
			}
			return Free, code
		}
		return Charged, code
	}
	return Free, code
}
