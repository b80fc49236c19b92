package tencent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/errs"
)

// Codes of failures that never reached a FaceID answer. All are kind
// Unavailable; the message says whether the call may have been billed.
const (
	// CodeUpstreamUnavailable: the call was canceled by our caller.
	CodeUpstreamUnavailable = "InternalError.UpstreamUnavailable"
	// CodeUpstreamTimeout: no answer before the call's deadline.
	CodeUpstreamTimeout = "InternalError.UpstreamTimeout"
	// CodeUpstreamConnection: the connection failed (refused, reset,
	// closed) before an answer was read.
	CodeUpstreamConnection = "InternalError.UpstreamConnection"
	// CodeUpstreamBadResponse: FaceID (or something in front of it)
	// answered, but not with a readable FaceID answer: an HTTP error
	// status, a redirect, a malformed body.
	CodeUpstreamBadResponse = "InternalError.UpstreamBadResponse"
	// CodeProviderAuthFailure replaces an upstream AuthFailure.*: it is this
	// deployment's key that failed, and passing Tencent's code through would
	// make a caller using a Tencent SDK against us believe its own signature
	// was wrong.
	CodeProviderAuthFailure = "InternalError.ProviderAuthFailure"
)

// kindOf maps an upstream Response.Error.Code to a kind.
func kindOf(code string) errs.Kind {
	switch {
	case strings.HasPrefix(code, "RequestLimitExceeded"):
		return errs.Throttled
	case strings.HasPrefix(code, "AuthFailure"):
		return errs.Unavailable
	case strings.HasPrefix(code, "UnauthorizedOperation"):
		// The account is in arrears or the service is not activated: a
		// provider-side business state the operator must fix; the code is kept.
		return errs.Provider
	case strings.HasPrefix(code, "InvalidParameter"), code == "MissingParameter", code == "UnknownParameter":
		return errs.Invalid
	case strings.HasPrefix(code, "InternalError"),
		code == "FailedOperation.UnKnown", code == "FailedOperation.DetectEngineSystemError":
		return errs.Unavailable
	default:
		return errs.Provider
	}
}

// What a failure message says about billing. A request that may have been
// written can have been processed and billed even though no answer came.
const (
	notBilled   = "the request never reached the provider, so nothing was billed; it is safe to retry"
	mayBeBilled = "the provider may have processed and billed this call; do not retry blindly, use an Idempotency-Key"
)

// mapError turns what an attempt ended with into an *errs.Error: FaceID's
// own refusal (an *upstreamError) keeps its code, message and RequestId;
// anything else is kind Unavailable with a message that says whether the
// call may have been billed. status is the HTTP status of the answer (0
// when none came); sent says whether any byte of the request may have
// reached FaceID.
//
// Nothing of the answer's body is ever copied into a message or a cause:
// it may hold personal data.
func mapError(ctx context.Context, err error, status int, sent bool) *errs.Error {
	var ue *upstreamError
	if errors.As(err, &ue) {
		msg := ue.message
		if msg == "" {
			msg = ue.code
		}
		e := errs.E(kindOf(ue.code), ue.code, "%s", msg)
		if strings.HasPrefix(ue.code, "AuthFailure") {
			e = errs.E(errs.Unavailable, CodeProviderAuthFailure,
				"FaceID rejected this deployment's credentials (%s): check the configured key", ue.code)
		}
		e.RequestID = ue.requestID
		return e
	}

	cause := err
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(cause, ctxErr) {
		cause = errors.Join(ctxErr, cause) // so errors.Is(err, context.DeadlineExceeded) holds
	}
	billing := mayBeBilled
	if !sent {
		billing = notBilled
	}
	var readErr *errBodyRead
	// The context is checked first: a deadline that fires while the body is
	// read surfaces as a mere read error.
	var code, what string
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		code, what = CodeUpstreamTimeout, "FaceID did not answer in time"
		if !sent {
			what = "FaceID could not be reached in time"
		}
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		code, what = CodeUpstreamUnavailable, "the call to FaceID was canceled"
	case status != 0 && status != http.StatusOK:
		// A 5xx page, JSON or not: the status says what happened.
		code, what = CodeUpstreamBadResponse, fmt.Sprintf("FaceID answered HTTP %d", status)
	case errors.As(err, &readErr):
		code, what = CodeUpstreamConnection, "the connection to FaceID broke while its answer was read"
	case errors.Is(err, errNoResponse):
		code, what = CodeUpstreamBadResponse, "FaceID sent an answer without a Response object"
	case status == 0:
		// No answer at all: the request could not be sent or the
		// connection failed before an answer came.
		code, what = CodeUpstreamConnection, "the connection to FaceID failed"
		if !sent {
			what = "FaceID could not be reached"
		}
	default:
		code, what = CodeUpstreamBadResponse, "FaceID sent an unreadable answer"
	}
	return errs.Wrap(cause, errs.Unavailable, code, "%s; %s", what, billing)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
