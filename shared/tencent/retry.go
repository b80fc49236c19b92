package tencent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/jsonshape"
)

// Retry policy. Only three outcomes are repeated, because only they are
// known not to have been billed:
//
//   - RequestLimitExceeded*: Tencent refuses the call before processing it;
//   - a connection failure before any byte of the request was written
//     (refused dial, DNS, TLS handshake): FaceID never saw the call;
//   - a business result the registry documents as free and as the service
//     being busy (验证中心服务繁忙, 证件库服务异常...), see busyCodes.
//
// Everything else, above all a timeout, reset, 5xx or malformed answer after
// the request was written, is returned at once: FaceID may have processed
// and billed it, and a second call could bill again.
const (
	MaxAttempts = 3
	backoffBase = 100 * time.Millisecond
	backoffCap  = 1 * time.Second
	// minAttempt is the least time worth starting an attempt with: one
	// doomed to time out would only turn a clean refusal into an ambiguous
	// failure.
	minAttempt = 50 * time.Millisecond
)

// Retry classes, logged with each retry.
const (
	classThrottled = "throttled"
	classNotSent   = "connection_not_sent"
	classBusy      = "busy_result"
)

// withRetries runs attempts until one may not be repeated, MaxAttempts are
// spent, or the next wait would run past ctx's deadline.
func (f *FaceID) withRetries(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	for attempt := 1; ; attempt++ {
		body, e, sent := f.attempt(ctx, action, params)
		class, code := retryClass(ctx, action, body, e, sent)
		if class == "" || attempt == MaxAttempts {
			return finish(body, e, class, attempt)
		}
		wait := backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+minAttempt {
			return finish(body, e, class, attempt)
		}
		f.log.Warn("faceid retry", slog.String("action", action), slog.Int("attempt", attempt),
			slog.String("class", class), slog.String("code", code), slog.Int64("backoff_ms", wait.Milliseconds()))
		if !f.sleep(ctx, wait) {
			return finish(body, e, class, attempt)
		}
	}
}

// retryClass says whether an attempt's outcome may be repeated, and why.
func retryClass(ctx context.Context, action string, body json.RawMessage, e *errs.Error, sent bool) (class, code string) {
	if ctx.Err() != nil {
		return "", ""
	}
	if e == nil {
		if code, ok := busyResult(action, body); ok {
			return classBusy, code
		}
		return "", ""
	}
	switch {
	case strings.HasPrefix(e.Code, "RequestLimitExceeded"):
		return classThrottled, e.Code
	case e.Code == CodeUpstreamConnection && !sent:
		return classNotSent, e.Code
	}
	return "", ""
}

// finish is the answer after the last attempt. A busy result is FaceID's
// own (free) answer and is returned as such; errors say how many attempts
// were made when there was more than one.
func finish(body json.RawMessage, e *errs.Error, class string, attempts int) (json.RawMessage, error) {
	if e == nil {
		return body, nil
	}
	if attempts > 1 {
		switch class {
		case classThrottled:
			e.Message = fmt.Sprintf("%s (rate limited on %d attempts; refused calls are not billed, retry later)", e.Message, attempts)
		default:
			e.Message = fmt.Sprintf("%s (%d attempts)", e.Message, attempts)
		}
	}
	return nil, e
}

// backoff is "full jitter": uniform in [0, min(cap, base·2^(attempt-1))), so
// instances throttled together do not come back together.
func backoff(attempt int) time.Duration {
	ceiling := min(backoffCap, backoffBase<<(attempt-1))
	return rand.N(ceiling)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// busyCodes are the result codes of action the registry documents as not
// charged and as the verification service being busy or failing inside
// (繁忙 "busy", 服务异常 "service error"): a repeat is free and may succeed.
// Codes that are free for other reasons (bad input, no record, daily limit
// reached, system upgrade) are left alone: repeating them cannot help.
// Each action's set is built on its first answer and kept: a function
// serves one or a few actions, and scanning every action's results at init
// cost each cold start.
func busyCodes(action string) map[string]bool {
	if v, ok := busyCache.Load(action); ok {
		return v.(map[string]bool)
	}
	a, ok := faceid.Lookup(action)
	if !ok {
		return nil
	}
	var m map[string]bool
	if a.ResultField != "" {
		for _, r := range a.Results {
			if r.Charged || !isBusy(r.Description) {
				continue
			}
			if m == nil {
				m = map[string]bool{}
			}
			m[r.Code] = true
		}
	}
	busyCache.Store(action, m)
	return m
}

// busyCache holds busyCodes' sets by action name (registry names only).
var busyCache sync.Map

func isBusy(description string) bool {
	return strings.Contains(description, "繁忙") || strings.Contains(description, "服务异常")
}

// BusyCodes lists the free "service busy" result codes of action that Call
// retries, for documentation and tests.
func BusyCodes(action string) []string {
	var out []string
	a, ok := faceid.Lookup(action)
	if !ok {
		return nil
	}
	for _, r := range a.Results {
		if busyCodes(action)[r.Code] {
			out = append(out, r.Code)
		}
	}
	return out
}

// busyResult reports whether body carries one of action's busy codes.
func busyResult(action string, body json.RawMessage) (string, bool) {
	codes := busyCodes(action)
	if codes == nil {
		return "", false
	}
	a, _ := faceid.Lookup(action)
	raw, ok := jsonshape.Member(body, a.ResultField)
	if !ok {
		return "", false
	}
	var code string
	if json.Unmarshal(raw, &code) != nil {
		code = string(raw) // a number
	}
	return code, codes[code]
}
