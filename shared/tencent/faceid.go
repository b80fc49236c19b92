// Package tencent is the live FaceID provider: it sends FaceID 2018-03-01
// actions to Tencent Cloud through the tencentcloud-sdk-go common client
// (which signs with TC3-HMAC-SHA256) and returns the answers untouched.
package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/provider"
)

const (
	service = "faceid"
	version = "2018-03-01"
)

var _ provider.FaceID = (*FaceID)(nil)

// FaceID implements provider.FaceID against Tencent Cloud. Build it once per
// process and share it: the SDK client and its connection pool are reused by
// every call, and Call is safe for concurrent use.
type FaceID struct {
	client  *common.Client
	cred    credential
	timeout time.Duration
	margin  time.Duration
	log     *slog.Logger
	// sleep waits d or until ctx is done, reporting whether d passed; a
	// field so in-package tests can act between attempts.
	sleep func(ctx context.Context, d time.Duration) bool
}

// New builds the provider. It fails when credentials are missing or the
// endpoint is malformed; it does not contact Tencent.
func New(cfg Config) (*FaceID, error) {
	if cfg.envErr != nil {
		return nil, errs.Wrap(cfg.envErr, errs.Internal, "", "tencent: %v", cfg.envErr)
	}
	get := cfg.Credentials
	if get == nil {
		id, key, token := cfg.SecretID, cfg.SecretKey, cfg.SessionToken
		get = func() (string, string, string) { return id, key, token }
	}
	if id, key, _ := get(); id == "" || key == "" {
		return nil, errs.E(errs.Internal, "", "tencent: missing credentials: %s", credentialHint)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DeadlineMargin == 0 {
		cfg.DeadlineMargin = DefaultDeadlineMargin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	scheme, host, err := endpoint(cfg.Endpoint)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "tencent: IDV_TENCENT_ENDPOINT: %v", err)
	}

	cp := profile.NewClientProfile()
	cp.HttpProfile.Scheme = scheme
	cp.HttpProfile.Endpoint = host
	cp.HttpProfile.ReqMethod = http.MethodPost
	// The SDK's own timeout is whole seconds; the per-call context is the
	// real limit, this is only a backstop.
	cp.HttpProfile.ReqTimeout = int(math.Ceil(cfg.Timeout.Seconds()))
	cp.SignMethod = "TC3-HMAC-SHA256"
	// Retries are decided in Call, with billing in mind: the SDK's would
	// repeat a call after a timeout, when it may already have been billed.
	cp.NetworkFailureMaxRetries = 0
	cp.RateLimitExceededMaxRetries = 0
	cp.UnsafeRetryOnConnectionFailure = false
	// The region breaker would silently switch to a backup endpoint.
	cp.DisableRegionBreaker = true
	// Debug dumps whole requests and responses (personal data) to stderr.
	cp.Debug = false

	cred := credential{get: get}
	client := common.NewCommonClient(cred, cfg.Region, cp).WithRequestClient("idverify")
	client.WithHttpTransport(statusTransport{newTransport()})

	return &FaceID{
		client: client, cred: cred, timeout: cfg.Timeout, margin: max(cfg.DeadlineMargin, 0),
		log: cfg.Logger, sleep: sleepCtx,
	}, nil
}

const credentialHint = "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or give the function a role"

// Name is the provider's name in logs and banners.
func (*FaceID) Name() string { return "tencent" }

// Call sends action with params (a JSON object, sent as is) and returns the
// inner Response object exactly as FaceID sent it, unknown fields included.
// An upstream Response.Error becomes an *errs.Error with FaceID's Code,
// Message and RequestId; transport failures are kind Unavailable, with a
// message that says whether the call may have been billed.
//
// A call is repeated (up to MaxAttempts in all, see retry.go) only when the
// earlier attempt cannot have been billed.
func (f *FaceID) Call(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	if !validAction(action) {
		return nil, errs.E(errs.Invalid, "InvalidAction", "invalid action name")
	}
	params = bytes.TrimSpace(params)
	if len(params) == 0 {
		params = json.RawMessage(`{}`)
	}
	if params[0] != '{' || !json.Valid(params) {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "request parameters must be a JSON object")
	}
	// Role credentials can vanish under a running instance; signing with
	// an empty key would only earn an AuthFailure.
	if id, key, _ := f.cred.GetCredential(); id == "" || key == "" {
		return nil, errs.E(errs.Unavailable, CodeProviderAuthFailure,
			"no FaceID credentials are available (%s); nothing was sent", credentialHint)
	}

	ctx, cancel := f.callContext(ctx)
	defer cancel()
	return f.withRetries(ctx, action, params)
}

// callContext bounds a call by the provider's timeout and by the caller's
// deadline less the margin, whichever comes first.
func (f *FaceID) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(f.timeout)
	if dl, ok := ctx.Deadline(); ok {
		margin := min(f.margin, time.Until(dl)/10)
		if d := dl.Add(-max(margin, 0)); d.Before(deadline) {
			deadline = d
		}
	}
	return context.WithDeadline(ctx, deadline)
}

// attempt sends the action once. sent reports whether any byte of the
// request may have reached FaceID.
func (f *FaceID) attempt(ctx context.Context, action string, params json.RawMessage) (_ json.RawMessage, _ *errs.Error, sent bool) {
	var status int
	trace := &sendTrace{}
	req := newRawRequest(action, params)
	// The SDK hands this context to http.NewRequest, so its deadline aborts
	// the dial, the write and the read of the answer.
	actx := httptrace.WithClientTrace(context.WithValue(ctx, statusKey{}, &status), trace.clientTrace())
	req.SetContext(actx)
	resp := &rawResponse{}
	if err := f.client.Send(req, resp); err != nil {
		wrote := trace.sent()
		return nil, mapError(ctx, err, status, wrote), wrote
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.body, &env); err != nil || len(env.Response) == 0 || env.Response[0] != '{' {
		return nil, errs.Wrap(errors.New("response has no Response object"), errs.Unavailable,
			CodeUpstreamBadResponse, "FaceID sent an answer without a Response object; %s", mayBeBilled), true
	}
	return env.Response, nil, true
}

// validAction accepts FaceID action names ([A-Za-z0-9]+); anything else
// would end up in a header.
func validAction(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
