// Package personlimit limits how often one person (an ID number, a phone
// or bank card number, a flow token) may be checked, per action, per
// minute and per day, before any paid call: a gateway.Interceptor, so every
// provider contract gets it without knowing. Identities are never stored:
// counters are keyed by an HMAC of the identity under a key from
// configuration. Past a limit the answer is the provider's own rate-limit
// code in its own envelope, with Retry-After, and nothing is sent.
package personlimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/quota"
)

// Limiter is the interceptor.
type Limiter struct {
	store  quota.Store
	key    []byte
	limits map[string]Limit
	log    *slog.Logger
	now    func() time.Time
}

// Options configure New.
type Options struct {
	Store quota.Store
	// Key keys the identity hash (at least 16 bytes).
	Key    []byte
	Limits map[string]Limit
	Logger *slog.Logger
	Now    func() time.Time
}

// New makes the interceptor.
func New(o Options) (*Limiter, error) {
	if o.Store == nil || len(o.Key) < 16 {
		return nil, errs.E(errs.Internal, "", "personlimit: a store and a key of at least 16 bytes are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{store: o.Store, key: o.Key, limits: o.Limits, log: o.Logger, now: o.Now}, nil
}

// Intercept implements gateway.Interceptor.
func (l *Limiter) Intercept(ctx context.Context, c gateway.Contract, call *gateway.Call, next gateway.CallFunc) (*gateway.Answer, error) {
	lim, ok := l.limits[call.Op.Action]
	if !ok || call.Op.Control || lim.off() {
		return next(ctx, call)
	}
	id, ok := IdentityOf(call.Op.Action, call.Body)
	if !ok {
		return next(ctx, call)
	}
	now := l.now()
	counters, windows := l.counters(call.Op.Action, id, lim, now)
	res, err := l.store.Take(ctx, counters)
	if err != nil {
		// Refusing verification because a counter is down is worse than
		// letting a few repeats through; the provider still has its own.
		l.log.Warn("per-person limit store unavailable", slog.String("action", call.Op.Action), slog.String("error_class", errs.KindOf(err).String()))
		return next(ctx, call)
	}
	if !res.OK {
		w := windows[res.Over]
		return nil, l.refusal(c.Name(), call.Op.Action, id.Kind, w, counters[res.Over].Limit)
	}
	ans, err := next(ctx, call)
	if !billing.Sent(ans, err) {
		// Answered locally or refused before sending: Tencent never saw
		// it, so it does not count.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if gerr := l.store.Give(gctx, counters); gerr != nil {
			l.log.Warn("per-person limit store unavailable", slog.String("action", call.Op.Action), slog.String("error_class", errs.KindOf(gerr).String()))
		}
	}
	return ans, err
}

// window is one of the two counting periods.
type window struct {
	name string        // "minute", "day"
	ends time.Duration // from now until it ends
}

func (l *Limiter) counters(action string, id Identity, lim Limit, now time.Time) ([]quota.Counter, []window) {
	// One hash tag for both windows: a Redis Cluster keeps them in one
	// slot, as the script taking them together needs.
	h := "{" + l.hash(action, id) + "}"
	var cs []quota.Counter
	var ws []window
	if lim.PerMinute > 0 {
		m := now.Unix() / 60
		cs = append(cs, quota.Counter{Key: "p:" + h + ":m:" + strconv.FormatInt(m, 10), Limit: lim.PerMinute, TTL: 2 * time.Minute})
		ws = append(ws, window{"minute", time.Unix((m+1)*60, 0).Sub(now)})
	}
	if lim.PerDay > 0 {
		start := billing.DayStart(now)
		cs = append(cs, quota.Counter{Key: "p:" + h + ":d:" + start.Format("20060102"), Limit: lim.PerDay, TTL: 25 * time.Hour})
		ws = append(ws, window{"day", start.AddDate(0, 0, 1).Sub(now)})
	}
	return cs, ws
}

// hash is the identity's counter name: an HMAC over the action, kind and
// value, so the store holds nothing that leads back to the person without
// the key.
func (l *Limiter) hash(action string, id Identity) string {
	m := hmac.New(sha256.New, l.key)
	fmt.Fprintf(m, "%s\x00%s\x00%s", action, id.Kind, id.Value)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// kindNames name identities in messages (never their values).
var kindNames = map[string]string{KindIDNumber: "ID number", KindPhone: "phone number", KindBankCard: "bank card number", KindToken: "flow token"}

// refusal is the provider's own rate-limit code for this contract: FaceID's
// per-identity FailedOperation.IdentityAuthLimitExceeded, Baidu's 18 (QPS)
// for a minute and 17 (daily limit) for a day; faceAdv renders any
// Throttled error as its 42900.
func (l *Limiter) refusal(contract, action, kind string, w window, limit int64) error {
	code := "LimitExceeded"
	switch contract {
	case billing.FaceID:
		code = "FailedOperation.IdentityAuthLimitExceeded"
	case billing.Faceprint:
		code = "18"
		if w.name == "day" {
			code = "17"
		}
	}
	after := (w.ends + time.Second - 1).Truncate(time.Second) // whole seconds, rounded up
	if after < time.Second {
		after = time.Second
	}
	l.log.Info("per-person limit reached", slog.String("action", action), slog.String("identity_kind", kind), slog.String("window", w.name))
	return errs.Wrap(gateway.After(after), errs.Throttled, code,
		"this %s has had %d checks this %s on %s, the most allowed (%s); retry after %d s",
		kindNames[kind], limit, w.name, action, Var, int64(after/time.Second))
}
