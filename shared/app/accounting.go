package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/budget"
	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/personlimit"
	"github.com/idverify/idverify/shared/quota"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/seal"
	"github.com/idverify/idverify/shared/usage"
)

// The settings of per-person limits, budgets and usage accounting.
const (
	PersonKeyVar      = "IDV_PERSON_KEY"
	usageRetentionVar = "IDV_USAGE_RETENTION"
	usageMetricsVar   = "IDV_USAGE_METRICS"
)

func init() { SecretVars = append(SecretVars, PersonKeyVar) }

// accounting is the process's per-person limiter, budget guard and usage
// recorder, built once: every part of a function shares one of each.
type accounting struct {
	once     sync.Once
	icpt     []gateway.Interceptor
	contract gateway.Contract
	err      error
}

// accounting builds, once, the function-wide policy interceptors that
// e.interceptors returns, outermost first (usage counts every answer,
// refusals included; then the per-person limit; then the budget,
// innermost, so a unit is reserved only for a call about to be sent), and
// returns the /v1/usage contract.
func (e *Env) accounting(auth gateway.Authenticator, mode string) (gateway.Contract, error) {
	a := &e.shared.acct
	a.once.Do(func() { a.icpt, a.contract, a.err = e.buildAccounting(auth, mode) })
	return a.contract, a.err
}

func (e *Env) buildAccounting(auth gateway.Authenticator, mode string) ([]gateway.Interceptor, gateway.Contract, error) {
	var ids []string
	if set, ok := auth.(*callers.Set); ok {
		ids = set.IDs()
	}
	cfg, err := accountingFromEnv(e.Getenv, ids)
	if err != nil {
		return nil, nil, err
	}
	var q quota.Store = quota.NewMemory(nil)
	if e.Redis != nil {
		q = quota.NewRedis(e.Redis, "idv:q:")
	}
	var store usage.Store = usage.NewMemory(cfg.retention)
	if e.Redis != nil {
		store = usage.NewRedis(e.Redis, "idv:usage:", cfg.retention)
	}
	metrics := e.usageMetrics(cfg.metrics)
	icpt := []gateway.Interceptor{usage.NewRecorder(store, metrics, e.Log)}

	if limits := cfg.limits; len(limits) > 0 {
		key, shared, err := e.personKey()
		if err != nil {
			return nil, nil, err
		}
		pq := q
		if !shared && e.Redis != nil {
			// A key of this process alone hashes the same person
			// differently on every instance: count in memory instead.
			e.Log.Warn("per-person limits are per instance: set " + PersonKeyVar + " or " + StoreKeyVar + " to share them through Redis")
			pq = quota.NewMemory(nil)
		}
		pl, err := personlimit.New(personlimit.Options{Store: pq, Key: key, Limits: limits, Logger: e.Log})
		if err != nil {
			return nil, nil, err
		}
		icpt = append(icpt, pl)
	}

	if len(cfg.budgets) > 0 {
		icpt = append(icpt, budget.New(q, cfg.budgets, e.Log, nil))
	}
	return icpt, usage.NewContract(store, cfg.prices, mode), nil
}

// accountingConfig is what the accounting settings say.
type accountingConfig struct {
	retention time.Duration
	metrics   string // emf, log or off
	prices    usage.Prices
	limits    map[string]personlimit.Limit
	budgets   budget.Budgets
}

// accountingFromEnv reads the accounting settings, for a function's start
// and for the deploy preflights (CheckSettings): one parser, so a value a
// preflight passes is one the function accepts. callerIDs are the
// configured callers a budget may name (nil: any id, when the callers are
// not known, as in a preflight where IDV_CALLERS is a reference).
func accountingFromEnv(getenv func(string) string, callerIDs []string) (*accountingConfig, error) {
	cfg := &accountingConfig{retention: usage.DefaultRetention}
	if v := strings.TrimSpace(getenv(usageRetentionVar)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 24*time.Hour || d > 3*366*24*time.Hour {
			return nil, errs.Configf(usageRetentionVar, "%s: want a duration from 24h to 26352h (3 years), such as 9600h", usageRetentionVar)
		}
		cfg.retention = d
	}
	var err error
	if cfg.metrics, err = usageMetricsSetting(getenv); err != nil {
		return nil, err
	}
	if cfg.prices, err = usage.ParsePrices(getenv(usage.PricesVar), providerAction); err != nil {
		return nil, errs.Configf(usage.PricesVar, "%s", err.Error())
	}
	if cfg.limits, err = personlimit.Parse(getenv(personlimit.Var)); err != nil {
		return nil, errs.Configf(personlimit.Var, "%s", err.Error())
	}
	billable := func(a string) bool {
		return billing.Chargeable(billing.FaceID, a) || billing.Chargeable(billing.FaceAdv, a)
	}
	if cfg.budgets, err = budget.Parse(getenv(budget.Var), billable, callerIDs); err != nil {
		return nil, errs.Configf(budget.Var, "%s", err.Error())
	}
	return cfg, nil
}

// providerAction says whether name is a provider action (not "*", not a
// permission such as "usage").
func providerAction(name string) bool {
	if name == callers.AllActions {
		return false
	}
	for _, p := range callers.Permissions {
		if name == p {
			return false
		}
	}
	return callers.KnownAction(name)
}

// personKey is the key of the identity hash: IDV_PERSON_KEY, else one
// derived from IDV_STORE_KEY, else a random key of this process (shared
// is then false).
func (e *Env) personKey() (key []byte, shared bool, err error) {
	if k, err := personKeyFromEnv(e.Getenv); err != nil || k != nil {
		return k, k != nil, err
	}
	sk, err := e.storeKey()
	if err != nil {
		return nil, false, err
	}
	if sk != nil {
		m := hmac.New(sha256.New, sk)
		m.Write([]byte("idverify/personlimit/v1"))
		return m.Sum(nil), true, nil
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k, false, nil
}

// personKeyFromEnv is IDV_PERSON_KEY, nil when it is not set.
func personKeyFromEnv(getenv func(string) string) ([]byte, error) {
	raw := strings.TrimSpace(getenv(PersonKeyVar))
	if raw == "" {
		return nil, nil
	}
	k, err := seal.ParseKey(raw)
	if err != nil {
		return nil, errs.Configf(PersonKeyVar, "%s: %s", PersonKeyVar, errs.As(err).Message)
	}
	return k, nil
}

// usageMetricsSetting is IDV_USAGE_METRICS as it applies: emf (CloudWatch
// Embedded Metric Format on stdout; the default on Lambda), log (JSON log
// fields; the default on SCF) or off (the default for a local server).
func usageMetricsSetting(getenv func(string) string) (string, error) {
	v := strings.ToLower(strings.TrimSpace(getenv(usageMetricsVar)))
	if v == "" {
		switch rt, _ := runtime.Detect(getenv); rt {
		case runtime.ModeLambda:
			v = "emf"
		case runtime.ModeLocal:
			v = "off"
		default:
			v = "log"
		}
	}
	switch v {
	case "emf", "log", "off":
		return v, nil
	}
	return "", errs.Configf(usageMetricsVar, "%s: use emf, log or off (or leave it unset)", usageMetricsVar)
}

// usageMetrics are where counts go besides the store, by the setting.
func (e *Env) usageMetrics(setting string) usage.Metrics {
	switch setting {
	case "emf":
		return usage.EMF(os.Stdout, "idverify")
	case "log":
		return usage.LogFields(e.Log.With(slog.String("metric", "usage")))
	}
	return nil
}
