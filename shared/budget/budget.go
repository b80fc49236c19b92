// Package budget caps each caller's billable calls per day and per month
// (and, optionally, per action): a gateway.Interceptor that reserves one
// unit of every cap before a call that could be billed is sent, refuses
// the call when any cap is full, and gives the unit back when the answer
// turned out free. Reservations are atomic across instances (shared/quota:
// one Lua script in Redis), so 64 concurrent calls against a cap of 10 send
// exactly 10. A refused call is never counted as billable.
package budget

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/quota"
)

// Guard is the interceptor.
type Guard struct {
	store   quota.Store
	budgets Budgets
	log     *slog.Logger
	now     func() time.Time
}

// New makes the interceptor; a nil logger discards, a nil clock is
// time.Now.
func New(store quota.Store, budgets Budgets, log *slog.Logger, now func() time.Time) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Guard{store: store, budgets: budgets, log: log, now: now}
}

// capped is one reserved counter and what it means.
type capped struct {
	window string // "day", "month"
	scope  string // "caller" or the action
	ends   time.Duration
}

// Intercept implements gateway.Interceptor.
func (g *Guard) Intercept(ctx context.Context, c gateway.Contract, call *gateway.Call, next gateway.CallFunc) (*gateway.Answer, error) {
	if call.Op.Control || call.Caller == nil || !billing.Chargeable(c.Name(), call.Op.Action) {
		return next(ctx, call)
	}
	b, ok := g.budgets.For(call.Caller.ID)
	if !ok {
		return next(ctx, call)
	}
	mode := "live"
	if c.Mode() == "sandbox" || call.Caller.Test {
		// The sandbox is counted apart, so a team rehearses its budget
		// without eating the live one.
		mode = "sandbox"
	}
	now := g.now()
	counters, caps := g.counters(mode, call.Caller.ID, call.Op.Action, b, now)
	if len(counters) == 0 {
		return next(ctx, call)
	}
	res, err := g.store.Take(ctx, counters)
	if err != nil {
		g.log.Warn("budget store unavailable; the call is not counted against its budget",
			slog.String("caller", call.Caller.ID), slog.String("action", call.Op.Action), slog.String("error_class", errs.KindOf(err).String()))
		return next(ctx, call)
	}
	if !res.OK {
		return nil, g.refusal(c.Name(), call, caps[res.Over], counters[res.Over].Limit)
	}
	g.warn(ctx, call, b.Warn, counters, caps, res.Counts)
	ans, err := next(ctx, call)
	if class, _ := billing.Classify(c.Name(), call.Op.Action, ans, err); class == billing.Free {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if gerr := g.store.Give(gctx, counters); gerr != nil {
			g.log.Warn("budget store unavailable; a free answer stays counted",
				slog.String("caller", call.Caller.ID), slog.String("action", call.Op.Action), slog.String("error_class", errs.KindOf(gerr).String()))
		}
	}
	return ans, err
}

// counters are the caps that apply to one call, with their windows.
func (g *Guard) counters(mode, caller, action string, b Budget, now time.Time) ([]quota.Counter, []capped) {
	dayStart := billing.DayStart(now)
	monthStart := dayStart.AddDate(0, 0, 1-dayStart.Day())
	day, month := dayStart.Format("20060102"), dayStart.Format("200601")
	dayEnds, monthEnds := dayStart.AddDate(0, 0, 1).Sub(now), monthStart.AddDate(0, 1, 0).Sub(now)
	// One hash tag for every cap of a caller: a Redis Cluster keeps them
	// in one slot, as the script taking them together needs.
	base := "b:{" + mode + ":" + caller + "}:"
	var cs []quota.Counter
	var caps []capped
	add := func(scope, key string, limit int64, window, period string, ends, ttl time.Duration) {
		if limit > 0 {
			cs = append(cs, quota.Counter{Key: base + key + ":" + period, Limit: limit, TTL: ttl})
			caps = append(caps, capped{window: window, scope: scope, ends: ends})
		}
	}
	add("caller", "d", b.Day, "day", day, dayEnds, 48*time.Hour)
	add("caller", "m", b.Month, "month", month, monthEnds, 32*24*time.Hour)
	if a, ok := b.Actions[action]; ok {
		add(action, "a:"+action+":d", a.Day, "day", day, dayEnds, 48*time.Hour)
		add(action, "a:"+action+":m", a.Month, "month", month, monthEnds, 32*24*time.Hour)
	}
	return cs, caps
}

// warn logs, once per cap and window across every instance, that a cap
// is nearly used up.
func (g *Guard) warn(ctx context.Context, call *gateway.Call, share float64, cs []quota.Counter, caps []capped, counts []int64) {
	for i, c := range cs {
		threshold := int64(math.Ceil(share * float64(c.Limit)))
		if counts[i] < threshold {
			continue
		}
		first, err := g.store.Once(ctx, "warn:"+c.Key, c.TTL)
		if err != nil || !first {
			continue
		}
		g.log.Warn("budget nearly used", slog.String("caller", call.Caller.ID), slog.String("scope", caps[i].scope),
			slog.String("window", caps[i].window), slog.Int64("used", counts[i]), slog.Int64("cap", c.Limit))
	}
}

// refusal is the over-budget answer in the contract's terms: Tencent's
// LimitExceeded (超过配额限制) for FaceID, Baidu's 17 (daily limit) or 19
// (total limit) for faceprint; faceAdv answers any Throttled error as 42900.
func (g *Guard) refusal(contract string, call *gateway.Call, cp capped, limit int64) error {
	code := "LimitExceeded"
	if contract == billing.Faceprint {
		code = map[string]string{"day": "17", "month": "19"}[cp.window]
	}
	after := (cp.ends + time.Second - 1).Truncate(time.Second)
	if after < time.Second {
		after = time.Second
	}
	g.log.Warn("budget exhausted", slog.String("caller", call.Caller.ID), slog.String("scope", cp.scope), slog.String("window", cp.window), slog.Int64("cap", limit))
	what := "billable calls"
	if cp.scope != "caller" {
		what = "billable " + cp.scope + " calls"
	}
	return errs.Wrap(gateway.After(after), errs.Throttled, code,
		"caller %s has used its budget of %d %s this %s (%s); the call was not sent", call.Caller.ID, limit, what, cp.window, Var)
}
