package faceprint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/errs"
)

func init() {
	// In production both halves must be secret references (the deploy
	// files only offer references for them).
	app.SecretVars = append(app.SecretVars, EnvAPIKey, EnvSecretKey)
}

const baiduHint = "set BAIDU_API_KEY and BAIDU_SECRET_KEY (the Baidu AI app's API Key and Secret Key)"

// Main runs the function serving endpoint (a path such as
// "verifyToken/generate"). Every faceprint main is this one call.
func Main(endpoint string) {
	app.Serve(func(ctx context.Context, env *app.Env) (*app.Built, error) {
		return Build(ctx, env, endpoint)
	})
}

// Build wires the handler for endpoints (all eight when none are named):
// live against Baidu when BAIDU_API_KEY and BAIDU_SECRET_KEY are set, else
// the sandbox (never silently in production: app.ChooseMode decides).
func Build(ctx context.Context, env *app.Env, endpoints ...string) (*app.Built, error) {
	key, secret := strings.TrimSpace(env.Getenv(EnvAPIKey)), strings.TrimSpace(env.Getenv(EnvSecretKey))
	mode, err := app.ChooseMode(env, key != "" && secret != "", baiduHint)
	if err != nil {
		return nil, err
	}
	opts := Options{Mode: mode, Endpoints: endpoints, Logger: env.Log, Sandbox: NewSandbox(SandboxOptions{
		// The sandbox H5 page stands in for brain.baidu.com/face/print/;
		// the pages and this sandbox share the flow store.
		// All eight endpoints is functions/all, which serves the pages.
		URLBase: env.SandboxPagesBase(len(endpoints) == 0), Flows: env.SandboxFlows(),
	})}
	if mode == app.ModeLive {
		c, err := baidu.New(baidu.Config{
			APIKey: key, SecretKey: secret, BaseURL: env.Getenv(EnvBaseURL),
			RequireHTTPS: env.Production, Redis: env.Redis, Logger: env.Log,
		})
		if err != nil {
			return nil, errs.Configure(err, EnvBaseURL)
		}
		opts.Live = c
	}
	h, err := New(opts)
	if err != nil {
		return nil, err
	}
	port := env.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	env.Log.Info("start", slog.String("mode", mode), slog.String("provider", h.health()["provider"].(string)), slog.Int("endpoints", len(h.served)))
	return &app.Built{Contract: h, Banner: banner(mode, h.served, port)}, nil
}

func banner(mode string, served []Endpoint, port string) string {
	var b strings.Builder
	what := fmt.Sprintf("%d Baidu faceprint endpoints", len(served))
	if len(served) == 1 {
		what = "Baidu faceprint endpoint " + served[0].Path
	}
	fmt.Fprintf(&b, "idverify: serving %s\n", what)
	if mode == app.ModeSandbox {
		fmt.Fprintf(&b, "  mode:     sandbox (emulated answers, no outbound call, nothing is billed)\n")
	} else {
		fmt.Fprintf(&b, "  mode:     live (Baidu AI: the H5 flows started here may be billed)\n")
	}
	fmt.Fprintf(&b, "  url:      http://localhost:%s%s<endpoint>\n", port, Prefix)
	ex := served[0]
	body := `{"verify_token":"<verify_token>"}`
	if ex.Path == "verifyToken/generate" {
		body = `{"plan_id":"1"}`
	}
	fmt.Fprintf(&b, "  try:      curl -s localhost:%s%s -d '%s'\n", port, ex.Route(), body)
	if mode == app.ModeSandbox {
		fmt.Fprintf(&b, "  sandbox:  curl -s localhost:%s%s   (magic values for every outcome)\n", port, ScenariosPath)
	}
	return b.String()
}
