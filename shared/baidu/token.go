package baidu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
)

// DefaultTokenLifetime is what Baidu documents for an access token (30
// days); it is used only when an answer leaves expires_in out.
const DefaultTokenLifetime = 30 * 24 * time.Hour

// token is one access token with its expiry, as cached in memory and Redis.
type token struct {
	Value   string    `json:"access_token"`
	Expires time.Time `json:"expires_at"`
	Issued  time.Time `json:"issued_at"`
}

// fresh reports whether t may still be used at now without a refresh: the
// last tenth of its life (three days of thirty) is spent fetching a new
// one, so no call ever goes out with a token about to lapse and a Baidu
// outage near the end still leaves days of margin.
func (t *token) fresh(now time.Time) bool {
	if t == nil || t.Value == "" {
		return false
	}
	ahead := t.Expires.Sub(t.Issued) / 10
	return now.Before(t.Expires.Add(-ahead))
}

// tokens hands out the access token of one API key. Instances share it
// through Redis; without Redis each instance keeps its own. Baidu lets
// several tokens of one key coexist, so two instances refreshing at once
// each get a working token and nothing needs a distributed lock.
type tokens struct {
	c   *Client
	key string        // Redis key; derived from a hash of the API key
	sem chan struct{} // one fetch at a time per instance; waiters honour ctx
	cur *token        // guarded by sem
}

func newTokens(c *Client) *tokens {
	sum := sha256.Sum256([]byte(c.cfg.APIKey))
	return &tokens{c: c, key: "idv:baidu:token:" + hex.EncodeToString(sum[:8]), sem: make(chan struct{}, 1)}
}

func (s *tokens) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errs.Wrap(ctx.Err(), errs.Unavailable, "2", "timed out waiting for the Baidu access token")
	}
}

func (s *tokens) unlock() { <-s.sem }

// get returns a token to use now.
func (s *tokens) get(ctx context.Context) (string, error) {
	return s.obtain(ctx, "")
}

// renew returns a token other than bad, which Baidu just refused. Another
// instance may have replaced it in Redis already; that one is used if fresh.
func (s *tokens) renew(ctx context.Context, bad string) (string, error) {
	return s.obtain(ctx, bad)
}

func (s *tokens) obtain(ctx context.Context, bad string) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.unlock()
	now := s.c.now()
	if s.cur.fresh(now) && s.cur.Value != bad {
		return s.cur.Value, nil
	}
	if t := s.load(ctx); t.fresh(now) && t.Value != bad {
		s.cur = t
		return t.Value, nil
	}
	t, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.cur = t
	s.store(ctx, t)
	return t.Value, nil
}

// load reads the shared token; a Redis failure is logged and treated as a
// miss, so a store outage costs a token fetch, not the request.
func (s *tokens) load(ctx context.Context) *token {
	if s.c.cfg.Redis == nil {
		return nil
	}
	b, err := s.c.cfg.Redis.Get(ctx, s.key).Bytes()
	if err != nil {
		if !errors.Is(err, resp.Nil) {
			s.c.log.Warn("baidu token cache read failed", slog.String("error_class", "redis"))
		}
		return nil
	}
	var t token
	if json.Unmarshal(b, &t) != nil {
		return nil
	}
	return &t
}

func (s *tokens) store(ctx context.Context, t *token) {
	if s.c.cfg.Redis == nil {
		return
	}
	ttl := t.Expires.Sub(s.c.now())
	if ttl <= 0 {
		return
	}
	b, _ := json.Marshal(t)
	if err := s.c.cfg.Redis.Set(ctx, s.key, b, ttl).Err(); err != nil {
		s.c.log.Warn("baidu token cache write failed", slog.String("error_class", "redis"))
	}
}

// tokenAnswer is Baidu's /oauth/2.0/token answer, success or error.
type tokenAnswer struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// fetch asks Baidu for a new token. The API and secret keys travel in the
// query string, as Baidu documents, so neither the URL nor an error that
// quotes it (url.Error does) may reach a log or a caller.
func (s *tokens) fetch(ctx context.Context) (*token, error) {
	q := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.c.cfg.APIKey},
		"client_secret": {s.c.cfg.SecretKey},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.base+"/oauth/2.0/token?"+q.Encode(), nil)
	if err != nil {
		return nil, errs.E(errs.Internal, "13", "cannot build the Baidu token request")
	}
	issued := s.c.now()
	resp, err := s.c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, errs.Wrap(stripURL(err), errs.Unavailable, "2", "Baidu token endpoint unreachable: %s", transportClass(err))
	}
	defer resp.Body.Close()
	var a tokenAnswer
	body, rerr := readLimited(resp.Body, 1<<16)
	if rerr != nil || json.Unmarshal(body, &a) != nil {
		return nil, errs.E(errs.Unavailable, "2", "Baidu token endpoint answered HTTP %d without JSON", resp.StatusCode)
	}
	if a.Error != "" || a.AccessToken == "" {
		// invalid_client / "unknown client id" is a wrong API key,
		// "Client authentication failed" a wrong secret key: the operator's
		// problem, never the caller's.
		return nil, errs.E(errs.Internal, "13", "Baidu refused this deployment's API key or secret key (%s: %s)",
			safeText(a.Error), safeText(a.ErrorDescription))
	}
	life := time.Duration(a.ExpiresIn) * time.Second
	if a.ExpiresIn <= 0 {
		life = DefaultTokenLifetime
	}
	s.c.log.Info("baidu access token fetched", slog.Float64("lifetime_h", life.Hours()))
	return &token{Value: a.AccessToken, Issued: issued, Expires: issued.Add(life)}, nil
}

// safeText keeps a short printable ASCII rendering of an error text Baidu
// sent, which never contains the keys.
func safeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 80 {
			break
		}
		if r >= ' ' && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}
