// Package tencent is the live FaceID provider: it sends FaceID 2018-03-01
// actions to Tencent Cloud through the tencentcloud-sdk-go common client
// (which signs with TC3-HMAC-SHA256) and returns the answers untouched.
package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
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
	timeout time.Duration
}

// New builds the provider. It fails when credentials are missing or the
// endpoint is malformed; it does not contact Tencent.
func New(cfg Config) (*FaceID, error) {
	if cfg.SecretID == "" || cfg.SecretKey == "" {
		return nil, errs.E(errs.Internal, "", "tencent: missing credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or give the function a role")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
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
	// Retries are decided above this package, with billing in mind: a
	// repeated charged action can be billed twice.
	cp.NetworkFailureMaxRetries = 0
	cp.RateLimitExceededMaxRetries = 0
	cp.UnsafeRetryOnConnectionFailure = false
	// The region breaker would silently switch to a backup endpoint.
	cp.DisableRegionBreaker = true
	// Debug dumps whole requests and responses (personal data) to stderr.
	cp.Debug = false

	cred := common.NewTokenCredential(cfg.SecretID, cfg.SecretKey, cfg.SessionToken)
	client := common.NewCommonClient(cred, cfg.Region, cp).WithRequestClient("idverify")
	// Our own transport rather than the SDK's clone of http.DefaultTransport
	// (2 idle connections per host): concurrent calls keep their connections.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	tr.IdleConnTimeout = 30 * time.Second
	client.WithHttpTransport(statusTransport{tr})

	return &FaceID{client: client, timeout: cfg.Timeout}, nil
}

// Name is the provider's name in logs and banners.
func (*FaceID) Name() string { return "tencent" }

// Call sends action with params (a JSON object, sent as is) and returns the
// inner Response object exactly as FaceID sent it, unknown fields included.
// An upstream Response.Error becomes an *errs.Error with FaceID's Code,
// Message and RequestId; transport failures are kind Unavailable.
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

	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var status int
	req := newRawRequest(action, params)
	// The SDK hands this context to http.NewRequest, so its deadline aborts
	// the dial, the write and the read of the answer.
	req.SetContext(context.WithValue(ctx, statusKey{}, &status))
	resp := &rawResponse{}
	if err := f.client.Send(req, resp); err != nil {
		return nil, mapError(ctx, err, status)
	}

	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.body, &env); err != nil || len(env.Response) == 0 || env.Response[0] != '{' {
		return nil, errs.Wrap(errors.New("response has no Response object"), errs.Unavailable,
			CodeUpstreamUnavailable, "FaceID sent an answer without a Response object")
	}
	return env.Response, nil
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
