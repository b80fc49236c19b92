package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// RateLimiter takes one token from the bucket named key. Implementations
// live in shared/ratelimit; app adapts them, so the pipeline depends on no
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
	// Sending is called right before the contract may call the provider:
	// until then the claim provably never reached it, and a claim whose
	// holder failed before this point frees itself. An error means the
	// call must not be made.
	Sending(ctx context.Context) error
	// Complete stores the answer so retries replay it.
	Complete(ctx context.Context, answer []byte) error
	// Release forgets the key: the attempt failed before reaching the
	// provider, so a retry may call it.
	Release(ctx context.Context) error
}

// RetryAfterError is implemented by errors (anywhere in an *errs.Error's
// cause chain) that know when a retry may succeed; the pipeline sends it as
// Retry-After.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// After is a cause that carries a retry delay.
type After time.Duration

func (a After) Error() string             { return "retry after " + time.Duration(a).String() }
func (a After) RetryAfter() time.Duration { return time.Duration(a) }

// retryAfter is when a retry of a request that failed with e makes sense:
// what the error knows, or one second for a throttle or a key in progress.
func retryAfter(e *errs.Error) time.Duration {
	if e == nil {
		return 0
	}
	var ra RetryAfterError
	if errors.As(e, &ra) && ra.RetryAfter() > 0 {
		return ra.RetryAfter()
	}
	if e.Kind == errs.Throttled || e.Code == "IdempotencyInProgress" {
		return time.Second
	}
	return 0
}

// outcome is what execute produced.
type outcome struct {
	ans       *Answer
	replayed  bool // replayed from the idempotency store
	notStored bool // the provider answered but the answer could not be kept
}

// execute runs a call through the caller's rate limit, the token owner
// check and idempotency, in that order, then the contract.
func (p *Pipeline) execute(ctx context.Context, c Contract, call *Call, idemKey string) (outcome, error) {
	if err := p.limitCaller(ctx, call.Caller); err != nil {
		return outcome{}, err
	}
	if !call.Op.Control {
		if err := p.checkOwner(ctx, c, call); err != nil {
			return outcome{}, err
		}
	}
	var o outcome
	var err error
	// A public route has no caller to scope a key to, and makes no paid
	// call: its answers are never kept (or replayed) by key.
	if idemKey == "" || p.opts.Idempotency == nil || call.Op.Control || call.Op.Public {
		o.ans, err = p.call(ctx, c, call)
	} else {
		o, err = p.idempotent(ctx, c, call, idemKey)
	}
	if err == nil && o.ans == nil {
		// A contract bug; the pipeline still answers.
		return o, errs.E(errs.Internal, "", "contract %s returned no answer", c.Name())
	}
	if err == nil && !o.replayed {
		p.bindTokens(ctx, c, call, o.ans)
	}
	return o, err
}

// call runs the contract inside the interceptors, the first outermost.
func (p *Pipeline) call(ctx context.Context, c Contract, call *Call) (*Answer, error) {
	next := CallFunc(func(ctx context.Context, call *Call) (*Answer, error) { return c.Call(ctx, call) })
	for i := len(p.opts.Interceptors) - 1; i >= 0; i-- {
		in, rest := p.opts.Interceptors[i], next
		next = func(ctx context.Context, call *Call) (*Answer, error) { return in.Intercept(ctx, c, call, rest) }
	}
	return next(ctx, call)
}

// limitCaller applies the caller's own rate. A store failure lets the
// request through: the limiter falls back to per-instance buckets itself,
// and refusing paid-for verification because a counter is down is worse.
func (p *Pipeline) limitCaller(ctx context.Context, c *Caller) error {
	if p.opts.Limiter == nil || c == nil || c.Rate <= 0 {
		return nil
	}
	burst := c.Burst
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(c.Rate)))
	}
	ok, after, err := p.opts.Limiter.Allow(ctx, "caller:"+c.ID, c.Rate, burst)
	if err != nil {
		p.opts.Logger.Warn("rate limiter unavailable", slog.String("caller", c.ID), slog.String("error_class", errs.KindOf(err).String()))
		return nil
	}
	if !ok {
		return errs.Wrap(After(roundUp(after)), errs.Throttled, "RequestLimitExceeded",
			"caller %s is limited to %g requests per second (burst %d); retry after %s", c.ID, c.Rate, burst, roundUp(after))
	}
	return nil
}

func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// stored is an answer as the idempotency store keeps it.
type stored struct {
	Body    []byte            `json:"body,omitempty"` // bytes, not RawMessage: Marshal would compact it
	Header  map[string]string `json:"header,omitempty"`
	Code    string            `json:"code,omitempty"`
	Sandbox bool              `json:"sandbox,omitempty"`
	Err     *storedErr        `json:"error,omitempty"`
}

type storedErr struct {
	Kind      errs.Kind `json:"kind"`
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	RequestID string    `json:"requestId,omitempty"`
}

// idempotent runs a call at most once per (caller, action, key): a retry
// gets the first answer without a second upstream call.
func (p *Pipeline) idempotent(ctx context.Context, c Contract, call *Call, key string) (outcome, error) {
	callerID := ""
	if call.Caller != nil {
		callerID = call.Caller.ID
	}
	// Scoped by caller and action, so one caller never sees another's
	// answer, and by the request's content, so a reused key is caught.
	scope := callerID + "/" + call.Op.Action
	h := sha256.New()
	h.Write([]byte(call.Op.Action + "\n"))
	h.Write(call.Body)
	claim, prev, err := p.opts.Idempotency.Begin(ctx, scope, key, hex.EncodeToString(h.Sum(nil)))
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
			return outcome{replayed: true, ans: &Answer{Sandbox: st.Sandbox}}, e
		}
		return outcome{ans: &Answer{Body: st.Body, Header: st.Header, Code: st.Code, Sandbox: st.Sandbox}, replayed: true}, nil
	}
	// The answer is stored even if the caller has gone: use a context that
	// outlives the request's cancellation, but not forever.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := claim.Sending(ctx); err != nil {
		// Nothing was sent; the claim frees itself.
		return outcome{}, err
	}
	ans, err := p.call(ctx, c, call)
	if err == nil && ans == nil {
		err = errs.E(errs.Internal, "", "contract %s returned no answer", c.Name())
	}
	if err != nil && !mayHaveReachedProvider(err) {
		if rerr := claim.Release(sctx); rerr != nil {
			p.opts.Logger.Warn("idempotency release failed", slog.String("error_class", errs.KindOf(rerr).String()))
		}
		return outcome{}, err
	}
	var st stored
	if err != nil {
		e := errs.As(err)
		st.Err = &storedErr{Kind: e.Kind, Code: e.Code, Message: e.PublicMessage(), RequestID: e.RequestID}
	} else {
		st = stored{Body: ans.Body, Header: ans.Header, Code: ans.Code, Sandbox: ans.Sandbox}
	}
	b, merr := json.Marshal(st)
	if merr == nil {
		merr = claim.Complete(sctx, b)
	}
	o := outcome{ans: ans}
	if merr != nil {
		// The provider answered but the answer could not be kept: say so
		// rather than pretend the key protects a retry.
		o.notStored = true
		p.opts.Logger.Error("idempotency store failed after the provider answered", slog.String("error_class", errs.KindOf(merr).String()))
	}
	return o, err
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

// MayHaveReachedProvider says whether a call that failed with err could
// have been processed (and billed) upstream: the rule idempotency keeps
// failures by, for policy that must give back what a refused call took
// (per-person limits, budgets).
func MayHaveReachedProvider(err error) bool { return mayHaveReachedProvider(err) }
