package flows

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/tencent"
)

// Settings.
const (
	EnvWebhooks    = "IDV_WEBHOOKS"
	EnvTTL         = "IDV_FLOW_TTL"
	EnvPoll        = "IDV_FLOW_POLL"
	EnvBackoff     = "IDV_WEBHOOK_BACKOFF"
	EnvMaxAttempts = "IDV_WEBHOOK_MAX_ATTEMPTS"
	EnvSweep       = "IDV_FLOW_SWEEP"
	EnvTimeout     = "IDV_WEBHOOK_TIMEOUT"
)

// Part is the flows part of a function serving several providers.
func Part() app.Part {
	return app.Part{Name: "flows", Build: Build, Prefixes: []string{Prefix}}
}

// Build wires the flows of a function: its contract (the return, result
// and webhook routes), the interceptor that starts flows, and on a
// long-lived server the sweep.
func Build(ctx context.Context, env *app.Env) (*app.Built, error) {
	o := Options{Logger: env.Log, InlineDelivery: 2 * time.Second}
	var err error
	if o.PublicURL, err = env.PublicURL(); err != nil {
		return nil, err
	}
	if o.Endpoints, err = parseEndpoints(env.Getenv(EnvWebhooks), env.Production); err != nil {
		return nil, errs.Configf(EnvWebhooks, "%s%s", EnvWebhooks, err.Error())
	}
	if o.Secret, err = endpointSecrets(ctx, env, o.Endpoints); err != nil {
		return nil, err
	}
	if o.Keys, err = env.StoreKeys(); err != nil {
		return nil, err
	}
	if env.Redis != nil {
		o.store = redisKV{c: env.Redis, prefix: "idv:flows:"}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{{EnvTTL, &o.TTL, time.Second}, {EnvPoll, &o.Poll, 100 * time.Millisecond}, {EnvBackoff, &o.Backoff, 100 * time.Millisecond}, {EnvTimeout, &o.DeliveryTimeout, 100 * time.Millisecond}} {
		if *d.dst, err = duration(env.Getenv(d.name), d.name, d.min); err != nil {
			return nil, err
		}
	}
	if s := strings.TrimSpace(env.Getenv(EnvMaxAttempts)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			return nil, errs.Configf(EnvMaxAttempts, "%s: want a whole number from 1 to 50", EnvMaxAttempts)
		}
		o.MaxAttempts = n
	}
	sweep, err := duration(env.Getenv(EnvSweep), EnvSweep, 100*time.Millisecond)
	if err != nil {
		return nil, err
	}
	svc := NewService(o)
	rt, _ := runtime.Detect(env.Getenv)
	if rt == runtime.ModeLocal || rt == runtime.ModeSCFWeb {
		// A server that outlives its requests sweeps on a ticker; an
		// event platform is swept by its scheduled {"Action":"flows/sweep"}.
		if sweep == 0 {
			sweep = 5 * time.Second
		}
		go svc.Run(context.WithoutCancel(ctx), sweep)
	}
	if o.PublicURL == "" {
		env.Log.Info("flows: " + app.PublicURLVar + " is not set: callers' redirects are left alone and flows end by polling")
	}
	if env.Redis == nil && rt != runtime.ModeLocal {
		env.Log.Warn("flows: IDV_REDIS_URL is not set: flows and webhook deliveries live in this instance's memory only")
	}
	env.Log.Info("start", slog.String("part", "flows"), slog.Int("webhook_endpoints", len(o.Endpoints)),
		slog.Bool("return_routes", o.PublicURL != ""), slog.Bool("shared_store", env.Redis != nil))
	return &app.Built{
		Contract:     NewContract(svc, mode(env)),
		Interceptors: []gateway.Interceptor{svc},
		Ready:        svc.SetPipeline,
		Banner:       banner(o),
	}, nil
}

func banner(o Options) string {
	if o.PublicURL == "" {
		return ""
	}
	return fmt.Sprintf("idverify: flows: return routes at %s/v1/flows/<id>/return; results at GET %s/v1/flows/<id>; %d webhook endpoint(s)\n",
		o.PublicURL, o.PublicURL, len(o.Endpoints))
}

// mode marks the flows routes' answers like the FaceID part's.
func mode(env *app.Env) string {
	t := tencent.ConfigFromEnv(env.Getenv)
	m, err := app.ChooseMode(env, t.SecretID != "" && t.SecretKey != "", "")
	if err != nil {
		return app.ModeLive
	}
	return m
}

func duration(s, name string, least time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < least {
		return 0, errs.Configf(name, "%s: want a duration of at least %s, such as 30s or 10m", name, least)
	}
	return d, nil
}

// endpointSecrets resolves the endpoints' secrets: references through the
// secrets package (cached, refreshed after its TTL, never logged), values
// as they are outside production.
func endpointSecrets(ctx context.Context, env *app.Env, eps []Endpoint) (func(string) []byte, error) {
	plain := map[string][]byte{}
	vars := map[string]string{}
	var environ, names []string
	for i, e := range eps {
		key := e.Caller + " " + e.id
		if secrets.IsRef(e.Secret) {
			if _, err := secrets.ParseRef(e.Secret); err != nil {
				return nil, errs.Configf(EnvWebhooks, "%s[%d].secret: not a valid secret reference: %s", EnvWebhooks, i, err.Error())
			}
			name := fmt.Sprintf("IDV_WEBHOOKS_%d_SECRET", i)
			vars[key] = name
			environ = append(environ, name+"="+e.Secret)
			names = append(names, name)
			continue
		}
		if env.Production {
			return nil, errs.Configf(EnvWebhooks, "%s[%d].secret: a plain secret is refused in production: give a secret reference", EnvWebhooks, i)
		}
		if len(e.Secret) < minSecretLen {
			return nil, errs.Configf(EnvWebhooks, "%s[%d].secret: at least %d characters (openssl rand -hex 32 makes one)", EnvWebhooks, i, minSecretLen)
		}
		plain[key] = []byte(e.Secret)
	}
	var senv *secrets.Env
	if len(environ) > 0 {
		var err error
		senv, err = secrets.Load(ctx, secrets.Options{Environ: environ, Getenv: env.Getenv, Secret: names, Production: env.Production, Logger: env.Log})
		if err != nil {
			return nil, errs.Configf(EnvWebhooks, "%s: a webhook secret could not be resolved: %s", EnvWebhooks, err.Error())
		}
	}
	return func(key string) []byte {
		if v, ok := plain[key]; ok {
			return v
		}
		if name, ok := vars[key]; ok && senv != nil {
			return []byte(senv.Getenv(name))
		}
		return nil
	}, nil
}

// A binary that links flows serves it in every function: the mains of the
// actions that start flows import this package for that (and functions/all).
func init() { app.Extend(Part()) }
