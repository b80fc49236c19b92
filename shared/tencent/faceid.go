// Package tencent is the live FaceID provider: it sends FaceID 2018-03-01
// actions to Tencent Cloud in the API 3.0 form, signed with
// TC3-HMAC-SHA256 (checked against tencentcloud-sdk-go's signer in the
// tests), and returns the answers untouched.
package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/provider"
)

const (
	service     = "faceid"
	version     = "2018-03-01"
	defaultHost = service + ".tencentcloudapi.com"
)

var _ provider.FaceID = (*FaceID)(nil)

// FaceID implements provider.FaceID against Tencent Cloud. Build it once per
// process and share it: the HTTP transport and its connection pool are
// reused by every call, and Call is safe for concurrent use.
type FaceID struct {
	rt      http.RoundTripper
	sign    *signer
	region  string
	cred    func() (id, key, token string)
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

	if host == "" {
		host = defaultHost
	}
	// As the SDK does: the Host header (signed) is the endpoint's host part,
	// the URL keeps its path.
	hostOnly, path := host, "/"
	if i := strings.IndexByte(host, '/'); i >= 0 {
		hostOnly, path = host[:i], host[i:]
	}
	sign := &signer{host: hostOnly, url: strings.ToLower(scheme) + "://" + hostOnly + path, now: time.Now}

	// Retries are decided in Call, with billing in mind. The transport is
	// used as is, not through an http.Client: it never repeats a POST by
	// itself nor follows a redirect (following a 307 would send a charged
	// action a second time, to a host we did not choose), and the call's
	// context (bounded by Timeout, see callContext) is the time limit.
	return &FaceID{
		rt: newTransport(), sign: sign, region: cfg.Region, cred: get,
		timeout: cfg.Timeout, margin: max(cfg.DeadlineMargin, 0), log: cfg.Logger, sleep: sleepCtx,
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
	if id, key, _ := f.cred(); id == "" || key == "" {
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
	trace := &sendTrace{}
	// The request carries this context, so its deadline aborts the dial,
	// the write and the read of the answer.
	req, err := f.newRequest(httptrace.WithClientTrace(ctx, trace.clientTrace()), action, params)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "tencent: building the request: %v", err), false
	}
	resp, err := f.rt.RoundTrip(req)
	if err != nil {
		wrote := trace.sent()
		return nil, mapError(ctx, err, 0, wrote), wrote
	}
	body, err := readAnswer(resp)
	if err == nil {
		var inner json.RawMessage
		if inner, err = parseAnswer(body, resp.StatusCode); err == nil {
			return inner, nil, true
		}
	}
	return nil, mapError(ctx, err, resp.StatusCode, true), true
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
