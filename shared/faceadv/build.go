package faceadv

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/catalog"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/webank"
)

// Configuration variables.
const (
	EnvAppID          = "IDV_WEBANK_APP_ID"
	EnvSecret         = "IDV_WEBANK_SECRET"
	EnvBaseURL        = "IDV_WEBANK_BASE_URL"
	EnvFDSBaseURL     = "IDV_FACEADV_FDS_BASE_URL"
	EnvCallbackURL    = "IDV_FACEADV_CALLBACK_URL"
	EnvCallbackSecret = "IDV_FACEADV_CALLBACK_SECRET"
	EnvJobLease       = "IDV_FACEADV_JOB_LEASE"
)

func init() {
	app.SecretVars = append(app.SecretVars, EnvSecret, EnvCallbackSecret)
}

var commonEnv = []catalog.EnvVar{
	{Name: EnvAppID, Example: "IDAXXXXX"},
	{Name: EnvSecret, Secret: true, Example: "tcssm:idverify-webank?version=v1#secret"},
	{Name: EnvBaseURL, Example: webank.DefaultBaseURL},
	{Name: "IDV_REDIS_URL", Secret: true, Example: "tcssm:idverify-redis?version=v1"},
}

// Functions describes both functions for the code generator.
var Functions = []catalog.Function{
	{
		Name: "face-adv", Action: ActionAdv, Import: "github.com/idverify/idverify/shared/faceadv", Call: `faceadv.Main("faceAdv")`,
		Path:        PathAdv,
		Description: "Enhanced face verification (seed 002): upload the identity to WeBank and return what the client SDK needs (faceId, orderNo, appId, nonce, sign)",
		Env: append(append([]catalog.EnvVar{}, commonEnv...),
			catalog.EnvVar{Name: EnvFDSBaseURL, Example: "http://fds.internal:7007/files"},
			catalog.EnvVar{Name: EnvCallbackURL, Example: "https://example.com/idv/callback"},
			catalog.EnvVar{Name: EnvCallbackSecret, Secret: true, Example: "tcssm:idverify-faceadv-callback?version=v1"},
			catalog.EnvVar{Name: EnvJobLease, Example: "90s"}),
		TimeoutSeconds: 29, // under the HTTP API integration's 30 s; async work gets the same
		Async:          true,
	},
	{
		Name: "face-adv-result", Import: "github.com/idverify/idverify/shared/faceadv", Call: `faceadv.Main("faceAdvResult")`,
		Path:        PathResult,
		Description: "Enhanced face verification (seed 002): the face verification result of an orderNo, or an async job's result by traceNo",
		Env: append(append([]catalog.EnvVar{}, commonEnv...),
			catalog.EnvVar{Name: EnvCallbackURL, Example: "https://example.com/idv/callback"},
			catalog.EnvVar{Name: EnvCallbackSecret, Secret: true, Example: "tcssm:idverify-faceadv-callback?version=v1"},
			catalog.EnvVar{Name: EnvJobLease, Example: "90s"}),
		TimeoutSeconds: 29, // under the HTTP API integration's 30 s; async work gets the same
		Async:          true,
	},
}

const webankHint = "set IDV_WEBANK_APP_ID and IDV_WEBANK_SECRET"

// Build wires the handler from env, serving the named endpoints (both
// when none are named).
func Build(ctx context.Context, env *app.Env, endpoints ...string) (*app.Built, error) {
	h, err := NewFromEnv(ctx, env, endpoints...)
	if err != nil {
		return nil, err
	}
	port := env.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	return &app.Built{Contract: h, Banner: h.banner(port)}, nil
}

// NewFromEnv is Build without the app.Built wrapper.
func NewFromEnv(ctx context.Context, env *app.Env, endpoints ...string) (*Handler, error) {
	cfg := webank.ConfigFromEnv(env.Getenv)
	cfg.Redis = env.Redis
	mode, err := app.ChooseMode(env, cfg.HasCredentials(), webankHint)
	if err != nil {
		return nil, err
	}
	storeKeys, err := env.StoreKeys()
	if err != nil {
		return nil, err
	}
	opts := Options{
		Endpoints: endpoints, Redis: env.Redis, StoreKeys: storeKeys, Logger: env.Log,
		FDSBaseURL:  env.Getenv(EnvFDSBaseURL),
		CallbackURL: strings.TrimSpace(env.Getenv(EnvCallbackURL)), CallbackSecret: env.Getenv(EnvCallbackSecret),
	}
	if mode == app.ModeLive {
		if opts.Live, err = webank.New(cfg); err != nil {
			return nil, err
		}
	}
	if s := strings.TrimSpace(env.Getenv(EnvJobLease)); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			return nil, errs.Configf(EnvJobLease, "%s: want a duration of at least 1s, such as 90s", EnvJobLease)
		}
		opts.Lease = d
	}
	rt, _ := runtime.Detect(env.Getenv)
	// Event-driven instances are frozen or recycled right after they
	// answer: a job must live in Redis there. A local or web server runs
	// jobs in goroutines and sweeps the ones whose runner died.
	longLived := rt == runtime.ModeLocal || rt == runtime.ModeSCFWeb
	opts.RequireStoreForAsync = !longLived
	h, err := New(opts)
	if err != nil {
		return nil, err
	}
	if rt == runtime.ModeLambda && env.Redis != nil {
		if inv := lambdaInvokerFromEnv(env.Getenv); inv != nil {
			h.opts.Background = inv.background(h)
		}
	}
	if longLived || env.Redis != nil {
		go h.Sweep(context.WithoutCancel(ctx), sweepEvery(h.lease))
	}
	env.Log.Info("start", slog.String("mode", h.Mode()), slog.String("provider", providerName(h)),
		slog.Any("endpoints", h.Endpoints()), slog.Bool("shared_jobs", env.Redis != nil))
	return h, nil
}

func sweepEvery(lease time.Duration) time.Duration {
	return max(lease/3, time.Second)
}

func providerName(h *Handler) string {
	if h.live == nil {
		return "sandbox"
	}
	return "webank"
}

// Main runs a function serving one endpoint (both when endpoint is "").
func Main(endpoint string) {
	app.Serve(func(ctx context.Context, env *app.Env) (*app.Built, error) {
		if endpoint == "" {
			return Build(ctx, env)
		}
		return Build(ctx, env, endpoint)
	})
}

func (h *Handler) banner(port string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "idverify: serving enhanced face verification (%s)\n", strings.Join(h.Endpoints(), ", "))
	if h.live == nil {
		fmt.Fprintf(&b, "  mode:     sandbox (emulated answers, no call to WeBank, nothing is billed)\n")
	} else {
		fmt.Fprintf(&b, "  mode:     live (WeBank: every faceAdv may be billed)\n")
	}
	for _, e := range h.Endpoints() {
		p := PathAdv
		if e == ActionResult {
			p = PathResult
		}
		fmt.Fprintf(&b, "  url:      POST http://localhost:%s%s\n", port, p)
	}
	if h.served[ActionAdv] {
		fmt.Fprintf(&b, "  try:      curl -s localhost:%s%s -d '{\"userId\":\"user123\",\"type\":\"authmatch\",\"name\":\"张三\",\"idNo\":\"110101199003074477\"}'\n", port, PathAdv)
	}
	if h.live == nil {
		fmt.Fprintf(&b, "  sandbox:  curl -s localhost:%s/v1/sandbox/faceadv/scenarios\n", port)
	}
	return b.String()
}
