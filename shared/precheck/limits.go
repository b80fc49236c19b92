package precheck

import (
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// Limits on the shape of a request body. No FaceID request comes near them:
// the deepest (DetectAuth's IntentionQuestions[].Answers[]) nests 3 levels
// and the largest has a few dozen values. They exist so that a hostile body
// is refused after a cheap streaming pass, before a full decode allocates a
// model for it.
const (
	MaxDepth  = 20   // nested objects and arrays
	MaxValues = 1000 // objects, arrays, strings, numbers, booleans and nulls
)

// fieldsMargin is the room left for a request's non-media fields. It is also
// the whole cap of an action without media: its largest request (DetectAuth
// with every option) is under 8 KiB.
const fieldsMargin = 64 << 10

// RequestSizeLimitExceeded is Tencent's code for a request body over its limit.
const RequestSizeLimitExceeded = "RequestSizeLimitExceeded"

// MaxBody is the largest request body, in bytes, action accepts: the sum of
// its media fields' limits, plus 1/32 of that because JSON encoders such as
// PHP's escape every '/' of the base64 as "\/" (1/64 of the characters on
// average), plus 64 KiB for the other fields. An unknown action gets the
// cap of an action without media. A gateway may refuse a larger body before
// reading all of it; Check refuses it in any case.
func MaxBody(action string) int64 {
	a, ok := faceid.Lookup(action)
	if !ok {
		return fieldsMargin
	}
	return maxBody(a)
}

func maxBody(a *faceid.Action) int64 {
	media := mediaBytes(a)
	return media + media/32 + fieldsMargin
}

func mediaBytes(a *faceid.Action) int64 {
	var n int64
	for _, m := range a.Media {
		n += int64(max(m.MaxBytes, 0))
	}
	return n
}

// checkSize refuses a body over the action's cap, saying where the cap comes
// from so the caller knows which field to shrink.
func checkSize(a *faceid.Action, params []byte) error {
	limit := maxBody(a)
	if int64(len(params)) <= limit {
		return nil
	}
	why := "the request has no media fields"
	if len(a.Media) > 0 {
		parts := make([]string, len(a.Media))
		for i, m := range a.Media {
			parts[i] = fmt.Sprintf("%s up to %s of base64", m.Field, size(int64(m.MaxBytes)))
		}
		why = strings.Join(parts, ", ") + ", plus room for escaping and the other fields"
	}
	got, most := size(int64(len(params))), size(limit)
	if got == most {
		got, most = fmt.Sprintf("%d bytes", len(params)), fmt.Sprintf("%d bytes", limit)
	}
	return errs.E(errs.Invalid, RequestSizeLimitExceeded, "request body is %s; %s accepts at most %s (%s)",
		got, a.Name, most, why)
}

// size prints a byte count the way Tencent states its limits (7M = 7 MiB).
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
