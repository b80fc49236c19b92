// Package webank is the provider behind the enhanced face pair (faceAdv,
// faceAdvResult): WeBank's face-verification server API (kyc1.qcloud.com).
// It holds the access_token and SIGN ticket, shared by every instance
// through Redis with a single writer (see tokens.go), fetches a fresh
// single-use NONCE ticket for every SDK launch, and signs each call with
// the SHA-1 scheme of provider-apis.md §5.2.
package webank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
)

// DefaultBaseURL is WeBank's current host for the face server API.
const DefaultBaseURL = "https://kyc1.qcloud.com"

// Defaults applied by New.
const (
	DefaultTimeout = 20 * time.Second
	// DefaultRefreshAfter is the documented refresh period of the
	// access_token and SIGN ticket: every 20 minutes, long before their
	// 7200 s / 3600 s lifetimes end.
	DefaultRefreshAfter = 20 * time.Minute
	// maxResponse bounds a response: queryfacerecord may carry a video.
	maxResponse = 48 << 20
)

// CodeIllegalRequest is the one documented code for a rejected signature,
// token or ticket ("不合法请求"). Only after it is a call repeated (with
// fresh credentials), because WeBank refused it before doing any work.
const CodeIllegalRequest = "400101"

// Config configures a Client.
type Config struct {
	AppID  string // the WBappid
	Secret string // the 64-character app secret
	// BaseURL overrides DefaultBaseURL (tests, the mini-program host).
	BaseURL    string
	HTTPClient *http.Client
	// Redis shares the token among instances; nil keeps it in memory.
	Redis *resp.Client
	// Now replaces the clock (tests).
	Now func() time.Time
	// RefreshAfter is the token's age at which a new one is fetched.
	RefreshAfter time.Duration
}

// ConfigFromEnv reads IDV_WEBANK_APP_ID, IDV_WEBANK_SECRET and
// IDV_WEBANK_BASE_URL.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		AppID:   strings.TrimSpace(getenv("IDV_WEBANK_APP_ID")),
		Secret:  strings.TrimSpace(getenv("IDV_WEBANK_SECRET")),
		BaseURL: strings.TrimSpace(getenv("IDV_WEBANK_BASE_URL")),
	}
}

// HasCredentials reports whether the live provider can be used.
func (c Config) HasCredentials() bool { return c.AppID != "" && c.Secret != "" }

// String never shows the secret.
func (c Config) String() string {
	return fmt.Sprintf("webank.Config{AppID:%q Secret:[redacted] BaseURL:%q}", c.AppID, c.BaseURL)
}

// GoString is String, so %#v cannot leak the secret either.
func (c Config) GoString() string { return c.String() }

// Client calls WeBank. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   *url.URL
	http   *http.Client
	tokens *tokenCache
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	if !cfg.HasCredentials() {
		return nil, errs.E(errs.Internal, "InvalidConfiguration", "webank: IDV_WEBANK_APP_ID and IDV_WEBANK_SECRET are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errs.E(errs.Internal, "InvalidConfiguration", "webank: IDV_WEBANK_BASE_URL must be an http(s) URL")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshAfter <= 0 {
		cfg.RefreshAfter = DefaultRefreshAfter
	}
	c := &Client{cfg: cfg, base: u, http: cfg.HTTPClient}
	c.tokens = newTokenCache(c, cfg.Redis)
	return c, nil
}

// AppID is the WBappid the client SDK needs.
func (c *Client) AppID() string { return c.cfg.AppID }

// AdvFaceIDInput is the identity uploaded before the SDK launch.
type AdvFaceIDInput struct {
	OrderNo string
	UserID  string
	// Name and IDNo select 权威源比对 (comparison with the authority
	// photo); SourcePhoto (base64) selects 自带源比对.
	Name, IDNo      string
	SourcePhoto     string
	SourcePhotoType string // "1" 水纹正脸照, "2" 高清正脸照
}

// AdvFaceID is getAdvFaceId's result.
type AdvFaceID struct {
	BizSeqNo        string `json:"bizSeqNo"`
	TransactionTime string `json:"transactionTime"`
	OrderNo         string `json:"orderNo"`
	FaceID          string `json:"faceId"`
	OptimalDomain   string `json:"optimalDomain"`
}

// GetAdvFaceID uploads the identity and returns the faceId the SDK needs.
// It is a charged call: it is repeated only after CodeIllegalRequest, which
// WeBank answers before doing any work.
func (c *Client) GetAdvFaceID(ctx context.Context, in AdvFaceIDInput) (*AdvFaceID, error) {
	var out struct {
		envelope
		Result *AdvFaceID `json:"result"`
	}
	err := c.signedPost(ctx, "/api/server/getAdvFaceId", in.OrderNo, func(cr *Credentials, nonce string) any {
		body := map[string]string{
			"appId": c.cfg.AppID, "orderNo": in.OrderNo, "userId": in.UserID,
			"version": Version, "nonce": nonce,
			"sign": Sign(c.cfg.AppID, in.UserID, nonce, Version, cr.SignTicket),
		}
		if in.Name != "" {
			body["name"], body["idNo"] = in.Name, in.IDNo
		}
		if in.SourcePhoto != "" {
			body["sourcePhotoStr"] = in.SourcePhoto
			body["sourcePhotoType"] = in.SourcePhotoType
			if body["sourcePhotoType"] == "" {
				body["sourcePhotoType"] = "2"
			}
		}
		return body
	}, &out, &out.envelope)
	if err != nil {
		return nil, err
	}
	if out.Code != "0" {
		return nil, businessError("getAdvFaceId", out.envelope)
	}
	if out.Result == nil || out.Result.FaceID == "" {
		return nil, errs.E(errs.Unavailable, "", "webank getAdvFaceId answered success without a faceId")
	}
	if out.Result.BizSeqNo == "" {
		out.Result.BizSeqNo = out.BizSeqNo
	}
	return out.Result, nil
}

// LaunchSign is what the client SDK needs to start a face session.
type LaunchSign struct {
	AppID, UserID, Nonce, Sign, Version string
}

// NewLaunchSign fetches a fresh single-use NONCE ticket for userID and signs
// the SDK launch with it: appId, userId, version, NONCE ticket, nonce.
func (c *Client) NewLaunchSign(ctx context.Context, userID string) (*LaunchSign, error) {
	var ticket string
	for attempt := 0; ; attempt++ {
		cr, err := c.tokens.get(ctx, "")
		if err != nil {
			return nil, err
		}
		ticket, err = c.ticket(ctx, cr.AccessToken, "NONCE", userID)
		if err == nil {
			break
		}
		if attempt == 0 && isIllegal(err) {
			// The token was refused: another instance may have replaced it
			// more than the grace minute ago. Fetching a ticket is free,
			// so one more try with a new token is safe.
			if _, err := c.tokens.get(ctx, cr.AccessToken); err != nil {
				return nil, err
			}
			continue
		}
		return nil, err
	}
	nonce := Nonce()
	return &LaunchSign{AppID: c.cfg.AppID, UserID: userID, Nonce: nonce, Version: Version,
		Sign: Sign(c.cfg.AppID, userID, Version, ticket, nonce)}, nil
}

// FaceRecord is queryfacerecord's answer. Code "0" means the person was
// verified live and matched; any other code is a business failure whose
// Code and Msg the caller sees.
type FaceRecord struct {
	Code, Msg, BizSeqNo, TransactionTime string
	OrderNo, LiveRate, Similarity        string
	OccurredTime, AppID, Photo, Video    string
	SdkVersion, TrtcFlag                 string
}

// QueryFaceRecord fetches the result of orderNo. getFile is "1" (video and
// photo), "2" (photo), "3" (video), or "" (neither).
func (c *Client) QueryFaceRecord(ctx context.Context, orderNo, getFile string) (*FaceRecord, error) {
	var out struct {
		envelope
		Result *struct {
			BizSeqNo        flexString `json:"bizSeqNo"`
			TransactionTime flexString `json:"transactionTime"`
			OrderNo         flexString `json:"orderNo"`
			LiveRate        flexString `json:"liveRate"`
			Similarity      flexString `json:"similarity"`
			OccurredTime    flexString `json:"occurredTime"`
			AppID           flexString `json:"appId"`
			Photo           flexString `json:"photo"`
			Video           flexString `json:"video"`
			SdkVersion      flexString `json:"sdkVersion"`
			TrtcFlag        flexString `json:"trtcFlag"`
		} `json:"result"`
	}
	err := c.signedPost(ctx, "/api/v2/base/queryfacerecord", orderNo, func(cr *Credentials, nonce string) any {
		return map[string]string{
			"appId": c.cfg.AppID, "version": Version, "nonce": nonce, "orderNo": orderNo,
			"sign":    Sign(c.cfg.AppID, orderNo, Version, cr.SignTicket, nonce),
			"getFile": getFile, "queryVersion": "1.0",
		}
	}, &out, &out.envelope)
	if err != nil {
		return nil, err
	}
	rec := &FaceRecord{Code: out.Code, Msg: out.Msg, BizSeqNo: out.BizSeqNo, TransactionTime: out.TransactionTime, OrderNo: orderNo}
	if r := out.Result; r != nil {
		rec.OrderNo = firstNonEmpty(string(r.OrderNo), orderNo)
		rec.BizSeqNo = firstNonEmpty(string(r.BizSeqNo), rec.BizSeqNo)
		rec.TransactionTime = firstNonEmpty(string(r.TransactionTime), rec.TransactionTime)
		rec.LiveRate, rec.Similarity, rec.OccurredTime = string(r.LiveRate), string(r.Similarity), string(r.OccurredTime)
		rec.AppID, rec.Photo, rec.Video = string(r.AppID), string(r.Photo), string(r.Video)
		rec.SdkVersion, rec.TrtcFlag = string(r.SdkVersion), string(r.TrtcFlag)
	}
	return rec, nil
}

// envelope is the part every WeBank answer shares.
type envelope struct {
	Code            string `json:"code"`
	Msg             string `json:"msg"`
	BizSeqNo        string `json:"bizSeqNo"`
	TransactionTime string `json:"transactionTime"`
}

// signedPost posts the body build makes with the current credentials and
// a fresh nonce. When WeBank refuses the credentials, they are replaced
// (once, by a single writer) and the call is made again: a refused call did
// no work and cannot have been billed.
func (c *Client) signedPost(ctx context.Context, path, orderNo string, build func(*Credentials, string) any, out any, env *envelope) error {
	for attempt := 0; ; attempt++ {
		cr, err := c.tokens.get(ctx, "")
		if err != nil {
			return err
		}
		q := url.Values{"orderNo": {orderNo}}
		if err := c.do(ctx, http.MethodPost, path, q, build(cr, Nonce()), out); err != nil {
			return err
		}
		if env.Code == CodeIllegalRequest && attempt == 0 {
			if _, err := c.tokens.get(ctx, cr.AccessToken); err != nil {
				return err
			}
			*env = envelope{}
			continue
		}
		return nil
	}
}

// do performs one call and decodes the JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return errs.Wrap(err, errs.Internal, "", "encode webank request")
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return errs.Wrap(err, errs.Internal, "", "build webank request")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The error quotes the URL, which may carry the secret: keep only
		// the class.
		return errs.E(errs.Unavailable, "", "webank %s: the provider could not be reached (%s)", path, netClass(ctx, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return errs.E(errs.Unavailable, "", "webank %s: reading the answer failed", path)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return errs.E(errs.Throttled, "", "webank %s: rate limited", path)
	}
	if resp.StatusCode != http.StatusOK {
		return errs.E(errs.Unavailable, "", "webank %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errs.E(errs.Unavailable, "", "webank %s: the answer is not the expected JSON", path)
	}
	return nil
}

// ticket fetches one SIGN or NONCE ticket.
func (c *Client) ticket(ctx context.Context, accessToken, typ, userID string) (string, error) {
	q := url.Values{"appId": {c.cfg.AppID}, "access_token": {accessToken}, "type": {typ}, "version": {Version}}
	if userID != "" {
		q.Set("user_id", userID)
	}
	var out struct {
		envelope
		Tickets []struct {
			Value    string     `json:"value"`
			ExpireIn flexString `json:"expire_in"`
		} `json:"tickets"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/oauth2/api_ticket", q, nil, &out); err != nil {
		return "", err
	}
	if out.Code != "0" {
		return "", businessError("api_ticket "+typ, out.envelope)
	}
	if len(out.Tickets) == 0 || out.Tickets[0].Value == "" {
		return "", errs.E(errs.Unavailable, "", "webank api_ticket %s answered no ticket", typ)
	}
	return out.Tickets[0].Value, nil
}

// businessError reports a non-"0" code. The message passes WeBank's code
// and msg through; they describe the call, never the person.
func businessError(call string, e envelope) *errs.Error {
	err := errs.E(errs.Provider, "FailedOperation", "webank %s: code %s: %s", call, e.Code, truncate(e.Msg, 200))
	err.RequestID = e.BizSeqNo
	err.Err = &CodeError{Code: e.Code, Msg: e.Msg}
	return err
}

// CodeError carries WeBank's code for errors.As.
type CodeError struct{ Code, Msg string }

func (e *CodeError) Error() string { return "webank code " + e.Code + ": " + e.Msg }

func isIllegal(err error) bool {
	var ce *CodeError
	e := errs.As(err)
	if e.Err != nil {
		if x, ok := e.Err.(*CodeError); ok {
			ce = x
		}
	}
	return ce != nil && ce.Code == CodeIllegalRequest
}

// FlexString accepts a JSON string or number (WeBank's examples show
// expire_in, liveRate and similarity both ways; seed-002 callers send
// getFile as "2" or 2). A value of another type is a *json.UnmarshalTypeError,
// which encoding/json completes with the member's name.
type FlexString string

// flexString is the package's short name for it.
type flexString = FlexString

func (f *FlexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string"}
	}
	*f = flexString(n.String())
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func netClass(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "deadline exceeded"
	}
	if ue, ok := err.(*url.Error); ok && ue.Timeout() {
		return "timed out"
	}
	return "network error"
}
