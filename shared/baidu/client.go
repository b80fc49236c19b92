// Package baidu calls Baidu AI's H5 face real-name solution (faceprint)
// with the access token handled server-side: fetched from the API key and
// secret key, cached and shared through Redis (in memory without it),
// refreshed ahead of its 30-day expiry, and renewed once when Baidu says it
// is invalid or expired (codes 100, 110, 111). Transient refusals (2, 4,
// 18) are retried with backoff; permission and quota refusals (6, 17, 19)
// and every other answer are returned at once.
//
// Billing: the eight faceprint endpoints are not billed per call; Baidu
// bills the face real-name V4 and face match V4 checks the H5 page runs
// (result/getall reports them). An error answer is a refusal before any
// work, so none of these retries can bill twice. A transport failure after
// the request was sent is not retried: whether Baidu acted is unknown.
package baidu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
)

// DefaultBaseURL is Baidu AI's API host.
const DefaultBaseURL = "https://aip.baidubce.com"

// FaceprintPath is the path prefix of the faceprint endpoints.
const FaceprintPath = "/rpc/2.0/brain/solution/faceprint/"

// Config configures a Client.
type Config struct {
	APIKey, SecretKey string
	// BaseURL is DefaultBaseURL when empty; tests point it at a fake.
	BaseURL string
	// RequireHTTPS refuses a plain http BaseURL (production: the secret
	// key travels in the token request's query string).
	RequireHTTPS bool
	HTTPClient   *http.Client
	// Redis shares the access token between instances; nil keeps it in
	// memory.
	Redis  *resp.Client
	Logger *slog.Logger
	Now    func() time.Time
	// Attempts bounds the calls for one request under 2/4/18 refusals
	// (first call included); 0 means 3.
	Attempts int
	// Backoff is the wait before retry n (1, 2...) after a 2/4/18 refusal;
	// nil is exponential from 200ms with jitter, at most 2s.
	Backoff func(n int) time.Duration
}

// Client calls the faceprint endpoints. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   string
	log    *slog.Logger
	tokens *tokens
}

// New checks cfg and builds a Client. It makes no call: the first token is
// fetched by the first request.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" || strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, errs.E(errs.Internal, "InvalidConfiguration", "BAIDU_API_KEY and BAIDU_SECRET_KEY are both required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, errs.E(errs.Internal, "InvalidConfiguration", "BAIDU_BASE_URL must be an http(s) URL with a host and no query, like %s", DefaultBaseURL)
	}
	if cfg.RequireHTTPS && u.Scheme != "https" {
		return nil, errs.E(errs.Internal, "InvalidConfiguration", "BAIDU_BASE_URL must be https in production: the secret key is sent to it")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	c := &Client{cfg: cfg, base: base, log: cfg.Logger}
	c.tokens = newTokens(c)
	return c, nil
}

func (c *Client) now() time.Time { return c.cfg.Now() }

// Name names the provider.
func (c *Client) Name() string { return "baidu" }

func defaultBackoff(n int) time.Duration {
	d := 200 * time.Millisecond << min(n-1, 4)
	d = min(d, 2*time.Second)
	// Full jitter on half the wait keeps instances that were refused
	// together from coming back together.
	return d/2 + rand.N(d/2+1)
}

// Faceprint posts body to the faceprint endpoint (the path after
// FaceprintPath, e.g. "verifyToken/generate") and returns Baidu's answer.
// An error answer comes back as an *errs.Error wrapping an *APIError (its
// errs code is the Baidu code); transport failures are errs.Unavailable
// with code "2"; a token Baidu keeps refusing is errs.Internal, code "13".
//
// A verification outcome on a result query (success false with a code,
// e.g. 222351 证件号与姓名不匹配) is an answer, not an error.
func (c *Client) Faceprint(ctx context.Context, endpoint string, body []byte) ([]byte, error) {
	tok, err := c.tokens.get(ctx)
	if err != nil {
		return nil, err
	}
	renewed := false
	for attempt := 1; ; attempt++ {
		out, apiErr, err := c.post(ctx, endpoint, tok, body)
		if err != nil {
			return nil, err
		}
		if apiErr == nil {
			return out, nil
		}
		switch {
		case tokenRejected(apiErr.Code) && !renewed:
			// One renewal per request: a key whose fresh tokens are refused
			// too is misconfigured, and looping would only hide that.
			renewed = true
			c.log.Warn("baidu refused the access token; renewing", slog.Int("error_code", apiErr.Code))
			if tok, err = c.tokens.renew(ctx, tok); err != nil {
				return nil, err
			}
			attempt--
			continue
		case tokenRejected(apiErr.Code):
			e := errs.Wrap(apiErr, errs.Internal, "13", "Baidu refused a freshly fetched access token (error_code %d)", apiErr.Code)
			e.RequestID = apiErr.LogID
			return nil, e
		case backoffRetryable(apiErr.Code) && attempt < c.cfg.Attempts:
			wait := c.cfg.Backoff(attempt)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return nil, asErr(apiErr)
			}
			c.log.Info("baidu flow control; retrying", slog.Int("error_code", apiErr.Code), slog.Int("attempt", attempt), slog.Duration("wait", wait))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, asErr(apiErr)
			}
			continue
		default:
			return nil, asErr(apiErr)
		}
	}
}

// answer is the part of any Baidu answer that says whether it failed.
// Flow-control and token errors use error_code/error_msg; the faceprint
// solution's own errors use success false with code/message.
type answer struct {
	Success   *bool           `json:"success"`
	ErrorCode json.Number     `json:"error_code"`
	ErrorMsg  string          `json:"error_msg"`
	Code      json.Number     `json:"code"`
	Message   string          `json:"message"`
	LogID     json.RawMessage `json:"log_id"`
}

const maxAnswer = 32 << 20 // result/detail may carry two ID card images in base64

func (c *Client) post(ctx context.Context, endpoint, tok string, body []byte) ([]byte, *APIError, error) {
	u := c.base + FaceprintPath + endpoint + "?access_token=" + url.QueryEscape(tok)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, errs.E(errs.Internal, "", "cannot build the Baidu request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, errs.Wrap(stripURL(err), errs.Unavailable, "2", "Baidu unreachable: %s", transportClass(err))
	}
	defer resp.Body.Close()
	out, err := readLimited(resp.Body, maxAnswer)
	if err != nil {
		return nil, nil, errs.Wrap(stripURL(err), errs.Unavailable, "2", "Baidu answer unreadable: %s", transportClass(err))
	}
	var a answer
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return nil, nil, errs.E(errs.Unavailable, "2", "Baidu answered HTTP %d without JSON", resp.StatusCode)
	}
	logID := strings.Trim(string(a.LogID), `"`)
	if code, _ := a.ErrorCode.Int64(); code != 0 {
		return nil, &APIError{Code: int(code), Msg: a.ErrorMsg, LogID: logID, Body: out}, nil
	}
	if a.Success != nil && !*a.Success && !strings.HasPrefix(endpoint, "result/") {
		code, _ := a.Code.Int64()
		if code == 0 {
			code = CodeUnknown
		}
		return nil, &APIError{Code: int(code), Msg: a.Message, LogID: logID, Body: out}, nil
	}
	if resp.StatusCode >= 500 {
		return nil, nil, errs.E(errs.Unavailable, "2", "Baidu answered HTTP %d", resp.StatusCode)
	}
	return out, nil, nil
}

func readLimited(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > n {
		return nil, fmt.Errorf("answer larger than %d bytes", n)
	}
	return b, nil
}

// stripURL drops the URL from a *url.Error: it holds the access token, or
// for the token request the secret key.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// transportClass names a transport failure without quoting it.
func transportClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	default:
		var oe *net.OpError
		if errors.As(err, &oe) {
			return "connection failed (" + oe.Op + ")"
		}
		return "connection failed"
	}
}
