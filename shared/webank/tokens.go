package webank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
)

// WeBank's token rules (provider-apis.md §5.1): refresh every 20 minutes,
// never concurrently, use the new token at once; the old one stays valid for
// only one minute after a new one is issued. So:
//
//   - one writer: a Redis lock (SET NX PX) elects the instance that fetches;
//     the others keep using the current credentials, which are still valid
//     because the refresh happens long before they expire;
//   - every instance re-reads Redis at least every localTTL (30 s), well
//     inside the one-minute grace, so nobody keeps using a replaced token;
//   - a token WeBank refuses is replaced once (the writer checks first that
//     nobody replaced it already).
//
// Without Redis the same rules hold inside the process.
const (
	localTTL    = 30 * time.Second // < the 60 s grace of a replaced token
	lockTTL     = 15 * time.Second // > two fetches at DefaultTimeout/2
	waitForPeer = 10 * time.Second // how long to wait for another writer
	expiryGuard = 90 * time.Second // never use credentials this close to expiry
	pollEvery   = 50 * time.Millisecond
)

// Credentials are the shared access_token and SIGN ticket.
type Credentials struct {
	AccessToken string    `json:"accessToken"`
	SignTicket  string    `json:"signTicket"`
	FetchedAt   time.Time `json:"fetchedAt"`
	// Expires is the earlier of the token's and the ticket's expiry,
	// computed from expire_in (never expire_time, per WeBank).
	Expires time.Time `json:"expires"`
}

type tokenCache struct {
	c        *Client
	rdb      *resp.Client
	key      string
	lockKey  string
	mu       sync.Mutex
	memo     *Credentials
	memoRead time.Time

	fetches int // credential fetches made by this instance (tests)
}

func newTokenCache(c *Client, rdb *resp.Client) *tokenCache {
	base := "idv:webank:" + c.cfg.AppID
	return &tokenCache{c: c, rdb: rdb, key: base + ":credentials", lockKey: base + ":credentials:lock"}
}

func (tc *tokenCache) now() time.Time { return tc.c.cfg.Now() }

// fresh credentials need no refresh yet.
func (tc *tokenCache) fresh(cr *Credentials, rejected string) bool {
	return tc.usable(cr, rejected) && tc.now().Before(cr.FetchedAt.Add(tc.c.cfg.RefreshAfter))
}

// usable credentials may still be sent while someone refreshes them.
func (tc *tokenCache) usable(cr *Credentials, rejected string) bool {
	return cr != nil && cr.AccessToken != "" && (rejected == "" || cr.AccessToken != rejected) &&
		tc.now().Before(cr.Expires.Add(-expiryGuard))
}

// get returns credentials to sign with. rejected names an access token
// WeBank just refused: credentials carrying it are replaced.
func (tc *tokenCache) get(ctx context.Context, rejected string) (*Credentials, error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.fresh(tc.memo, rejected) && (tc.rdb == nil || tc.now().Before(tc.memoRead.Add(localTTL))) {
		return tc.memo, nil
	}
	if tc.rdb == nil {
		return tc.refreshLocal(ctx, rejected)
	}
	cur, err := tc.read(ctx)
	if err != nil {
		return tc.fallback(err, rejected)
	}
	if tc.fresh(cur, rejected) {
		tc.remember(cur)
		return cur, nil
	}
	owner, ok, err := tc.lock(ctx)
	if err != nil {
		return tc.fallback(err, rejected)
	}
	if !ok {
		// Another instance is fetching. The current credentials are still
		// valid (the refresh runs 20 minutes into a 60-minute life), so
		// use them; if there are none, wait for the writer.
		if tc.usable(cur, rejected) {
			tc.remember(cur)
			return cur, nil
		}
		return tc.waitForWriter(ctx, rejected)
	}
	defer tc.unlock(owner)
	// Double-check under the lock: the previous writer may have finished
	// between our read and our lock.
	if again, err := tc.read(ctx); err == nil && tc.fresh(again, rejected) {
		tc.remember(again)
		return again, nil
	}
	nc, err := tc.fetch(ctx)
	if err != nil {
		if tc.usable(cur, rejected) {
			// Keep serving with the old credentials; the next call retries.
			tc.remember(cur)
			return cur, nil
		}
		return nil, err
	}
	b, _ := json.Marshal(nc)
	// If the write fails, the new token has already replaced the old one
	// at WeBank: use it here anyway; other instances see the refusal and
	// refresh through the lock.
	_ = tc.rdb.Set(ctx, tc.key, b, nc.Expires.Sub(tc.now())).Err()
	tc.remember(nc)
	return nc, nil
}

func (tc *tokenCache) refreshLocal(ctx context.Context, rejected string) (*Credentials, error) {
	nc, err := tc.fetch(ctx)
	if err != nil {
		if tc.usable(tc.memo, rejected) {
			return tc.memo, nil
		}
		return nil, err
	}
	tc.remember(nc)
	return nc, nil
}

func (tc *tokenCache) remember(cr *Credentials) {
	tc.memo, tc.memoRead = cr, tc.now()
}

// fallback serves from memory when Redis fails, if it can.
func (tc *tokenCache) fallback(err error, rejected string) (*Credentials, error) {
	if tc.usable(tc.memo, rejected) {
		return tc.memo, nil
	}
	return nil, errs.Wrap(err, errs.Unavailable, "", "webank token store (Redis) unavailable")
}

func (tc *tokenCache) read(ctx context.Context) (*Credentials, error) {
	b, err := tc.rdb.Get(ctx, tc.key).Bytes()
	if errors.Is(err, resp.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cr Credentials
	if json.Unmarshal(b, &cr) != nil {
		return nil, nil // a corrupt entry is replaced
	}
	return &cr, nil
}

func (tc *tokenCache) lock(ctx context.Context) (string, bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	ok, err := tc.rdb.SetNX(ctx, tc.lockKey, owner, lockTTL).Bool()
	return owner, ok, err
}

// unlockScript deletes the lock only if we still own it: a lock that
// expired and was taken by another writer must not be released by us.
var unlockScript = resp.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

func (tc *tokenCache) unlock(owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = unlockScript.Run(ctx, tc.rdb, []string{tc.lockKey}, owner).Err()
}

func (tc *tokenCache) waitForWriter(ctx context.Context, rejected string) (*Credentials, error) {
	deadline := time.Now().Add(waitForPeer)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, errs.E(errs.Unavailable, "", "webank token: %s while another instance refreshed it", ctx.Err())
		case <-t.C:
		}
		cr, err := tc.read(ctx)
		if err == nil && tc.usable(cr, rejected) {
			tc.remember(cr)
			return cr, nil
		}
		// The writer may have died: take over once its lock lapses.
		if owner, ok, err := tc.lock(ctx); err == nil && ok {
			defer tc.unlock(owner)
			nc, err := tc.fetch(ctx)
			if err != nil {
				return nil, err
			}
			b, _ := json.Marshal(nc)
			_ = tc.rdb.Set(ctx, tc.key, b, nc.Expires.Sub(tc.now())).Err()
			tc.remember(nc)
			return nc, nil
		}
	}
	return nil, errs.E(errs.Unavailable, "", "webank token: another instance is refreshing it and has not finished")
}

// fetch gets a new access_token and its SIGN ticket.
func (tc *tokenCache) fetch(ctx context.Context) (*Credentials, error) {
	c := tc.c
	start := tc.now()
	q := url.Values{"appId": {c.cfg.AppID}, "secret": {c.cfg.Secret}, "grant_type": {"client_credential"}, "version": {Version}}
	var tok struct {
		envelope
		AccessToken string     `json:"access_token"`
		ExpireIn    flexString `json:"expire_in"`
	}
	if err := c.do(ctx, "GET", "/api/oauth2/access_token", q, nil, &tok); err != nil {
		return nil, err
	}
	if tok.Code != "0" || tok.AccessToken == "" {
		return nil, businessError("access_token", tok.envelope)
	}
	tc.fetches++
	tokenLife, err := seconds(tok.ExpireIn)
	if err != nil {
		return nil, errs.E(errs.Unavailable, "", "webank access_token: expire_in is not a number of seconds")
	}
	var tq struct {
		envelope
		Tickets []struct {
			Value    string     `json:"value"`
			ExpireIn flexString `json:"expire_in"`
		} `json:"tickets"`
	}
	q = url.Values{"appId": {c.cfg.AppID}, "access_token": {tok.AccessToken}, "type": {"SIGN"}, "version": {Version}}
	if err := c.do(ctx, "GET", "/api/oauth2/api_ticket", q, nil, &tq); err != nil {
		return nil, err
	}
	if tq.Code != "0" || len(tq.Tickets) == 0 || tq.Tickets[0].Value == "" {
		return nil, businessError("api_ticket SIGN", tq.envelope)
	}
	ticketLife, err := seconds(tq.Tickets[0].ExpireIn)
	if err != nil {
		return nil, errs.E(errs.Unavailable, "", "webank api_ticket: expire_in is not a number of seconds")
	}
	// Lifetimes count from before the request, so network time only
	// shortens them.
	life := min(tokenLife, ticketLife)
	return &Credentials{AccessToken: tok.AccessToken, SignTicket: tq.Tickets[0].Value, FetchedAt: start, Expires: start.Add(life)}, nil
}

func seconds(f flexString) (time.Duration, error) {
	n, err := strconv.Atoi(string(f))
	if err != nil || n <= 0 {
		return 0, errors.New("bad expire_in")
	}
	return time.Duration(n) * time.Second, nil
}

// Fetches is how many times this client fetched new credentials (for
// tests and metrics).
func (c *Client) Fetches() int {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	return c.tokens.fetches
}
