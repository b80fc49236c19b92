package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/service"
)

// RateLimiter takes one token from the bucket named key. Implementations
// live in shared/ratelimit; app adapts them, so the gateway depends on no
// store.
type RateLimiter interface {
	Allow(ctx context.Context, key string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// IdempotencyStore remembers answers by Idempotency-Key (shared/idempotency
// through an adapter in app). Begin either returns a claim on a key nobody
// holds, or the answer stored for it; a key in progress or reused for a
// different request is an *errs.Error (Conflict).
type IdempotencyStore interface {
	Begin(ctx context.Context, scope, key, fingerprint string) (IdempotencyClaim, []byte, error)
}

// IdempotencyClaim is held while the first attempt of a key runs.
type IdempotencyClaim interface {
	// Complete stores the answer so retries replay it.
	Complete(ctx context.Context, answer []byte) error
	// Release forgets the key: the attempt failed before reaching the
	// provider, so a retry may call it.
	Release(ctx context.Context) error
}

// call is one action request after the surface has decoded and
// authenticated it.
type call struct {
	caller    *Caller
	action    string
	params    []byte
	requestID string
	idemKey   string
}

// outcome is what execute produced.
type outcome struct {
	res      *service.Result
	sandbox  bool // answered by the sandbox (sandbox mode, or a test caller)
	replayed bool // replayed from the idempotency store
}

// execute runs a call through the caller's rate limit, the sandbox choice
// and idempotency, in that order, then the service.
func (g *Gateway) execute(ctx context.Context, c call) (outcome, error) {
	if err := g.resolve(c.action); err != nil {
		return outcome{}, err
	}
	if err := g.limitCaller(ctx, c.caller); err != nil {
		return outcome{}, err
	}
	svc, sandboxed := g.opts.Service, g.sandbox
	if c.caller != nil && c.caller.Test && !g.sandbox {
		// A test caller is like a test-mode key: never the paid provider.
		if g.opts.Sandbox == nil {
			return outcome{}, errs.E(errs.Internal, "", "test caller %s but this function has no sandbox", c.caller.ID)
		}
		svc, sandboxed = g.opts.Sandbox, true
	}
	localID := c.requestID
	if sandboxed {
		localID = "sandbox-" + c.requestID
	}
	if c.idemKey == "" || g.opts.Idempotency == nil {
		res, err := svc.Do(ctx, c.action, c.params, localID)
		return outcome{res: res, sandbox: sandboxed}, err
	}
	return g.idempotent(ctx, c, svc, sandboxed, localID)
}

// limitCaller applies the caller's own rate. A store failure lets the
// request through: the limiter falls back to per-instance buckets itself,
// and refusing paid-for verification because a counter is down is worse.
func (g *Gateway) limitCaller(ctx context.Context, c *Caller) error {
	if g.opts.Limiter == nil || c == nil || c.Rate <= 0 {
		return nil
	}
	burst := c.Burst
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(c.Rate)))
	}
	ok, after, err := g.opts.Limiter.Allow(ctx, "caller:"+c.ID, c.Rate, burst)
	if err != nil {
		g.opts.Logger.Warn("rate limiter unavailable", slog.String("caller", c.ID), slog.String("error_class", errs.KindOf(err).String()))
		return nil
	}
	if !ok {
		return errs.E(errs.Throttled, "RequestLimitExceeded",
			"caller %s is limited to %g requests per second (burst %d); retry after %s", c.ID, c.Rate, burst, roundUp(after))
	}
	return nil
}

func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return d.Round(time.Millisecond) + time.Millisecond
}

// stored is an answer as the idempotency store keeps it.
type stored struct {
	Body    []byte     `json:"body,omitempty"` // bytes, not RawMessage: Marshal would compact it
	Source  string     `json:"source,omitempty"`
	Code    string     `json:"code,omitempty"`
	Rule    string     `json:"rule,omitempty"`
	Sandbox bool       `json:"sandbox,omitempty"`
	Err     *storedErr `json:"error,omitempty"`
}

type storedErr struct {
	Kind      errs.Kind `json:"kind"`
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	RequestID string    `json:"requestId,omitempty"`
}

// idempotent runs a call at most once per (caller, action, key): a retry
// gets the first answer without a second upstream call.
func (g *Gateway) idempotent(ctx context.Context, c call, svc *service.Service, sandboxed bool, localID string) (outcome, error) {
	callerID := ""
	if c.caller != nil {
		callerID = c.caller.ID
	}
	// Scoped by caller and action, so one caller never sees another's
	// answer, and by the request's content, so a reused key is caught.
	scope := callerID + "/" + c.action
	sum := sha256.Sum256(append([]byte(c.action+"\n"), c.params...))
	claim, prev, err := g.opts.Idempotency.Begin(ctx, scope, c.idemKey, hex.EncodeToString(sum[:]))
	if err != nil {
		return outcome{}, err
	}
	if claim == nil {
		var st stored
		if err := json.Unmarshal(prev, &st); err != nil {
			return outcome{}, errs.Wrap(err, errs.Internal, "", "decode stored answer")
		}
		if st.Err != nil {
			e := errs.E(st.Err.Kind, st.Err.Code, "%s", st.Err.Message)
			e.RequestID = st.Err.RequestID
			return outcome{sandbox: st.Sandbox, replayed: true}, e
		}
		return outcome{res: &service.Result{Body: st.Body, Source: service.Source(st.Source), Code: st.Code, Rule: st.Rule},
			sandbox: st.Sandbox, replayed: true}, nil
	}
	res, err := svc.Do(ctx, c.action, c.params, localID)
	// The answer is stored even if the caller has gone: use a context that
	// outlives the request's cancellation, but not forever.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err != nil && !mayHaveReachedProvider(err) {
		if rerr := claim.Release(sctx); rerr != nil {
			g.opts.Logger.Warn("idempotency release failed", slog.String("error_class", errs.KindOf(rerr).String()))
		}
		return outcome{sandbox: sandboxed}, err
	}
	st := stored{Sandbox: sandboxed}
	if err != nil {
		e := errs.As(err)
		st.Err = &storedErr{Kind: e.Kind, Code: e.Code, Message: e.PublicMessage(), RequestID: e.RequestID}
	} else {
		st.Body, st.Source, st.Code, st.Rule = res.Body, string(res.Source), res.Code, res.Rule
	}
	b, merr := json.Marshal(st)
	if merr == nil {
		merr = claim.Complete(sctx, b)
	}
	if merr != nil {
		// The provider answered but the answer could not be kept: say so
		// rather than pretend the key protects a retry.
		g.opts.Logger.Error("idempotency store failed after the provider answered", slog.String("error_class", errs.KindOf(merr).String()))
	}
	return outcome{res: res, sandbox: sandboxed}, err
}

// mayHaveReachedProvider says whether a failed call could have been
// processed (and billed) upstream. Only then is the failure stored under
// the key; a failure before sending releases the key so it can be retried.
func mayHaveReachedProvider(err error) bool {
	e := errs.As(err)
	switch e.Kind {
	case errs.Invalid, errs.Unauthorized, errs.Forbidden, errs.NotFound, errs.Throttled, errs.Conflict:
		return false
	}
	return !notSent[e.Code]
}

// notSent are the Unavailable/Internal codes used when the request
// provably never reached processing upstream: it was never sent, or the
// provider refused our key before doing anything.
var notSent = map[string]bool{
	"InternalError.UpstreamConnection":  true,
	"InternalError.ProviderAuthFailure": true,
}
