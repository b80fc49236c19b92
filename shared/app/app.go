// Package app wires one function: configuration from the environment (secret
// references resolved), the provider (live or sandbox), caller auth, and the
// runtime found at start. Every main in functions/ is one call to Main or
// Serve.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
	"github.com/idverify/idverify/shared/tencent"
)

// Main runs a function serving FaceID actions (all of them when none are
// named).
func Main(actions ...string) { Serve(FaceID(actions...)) }

// FaceID builds the FaceID gateway for actions (all when none are named).
func FaceID(actions ...string) Builder {
	return func(ctx context.Context, env *Env) (*Built, error) {
		g, mode, err := Build(env, actions)
		if err != nil {
			return nil, err
		}
		port := os.Getenv("PORT")
		if port == "" {
			port = "8080"
		}
		return &Built{Handler: g, Banner: banner(mode, g.ProviderName(), g.Actions(), port, env.Getenv)}, nil
	}
}

const tencentHint = "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or run with an SCF role)"

// Build makes the FaceID gateway a function serves. It is exported for
// tests and tools that need the same wiring without a runtime.
func Build(env *Env, actions []string) (*gateway.Gateway, string, error) {
	tcfg := tencent.ConfigFromEnv(env.Getenv)
	mode, err := ChooseMode(env, tcfg.SecretID != "" && tcfg.SecretKey != "", tencentHint)
	if err != nil {
		return nil, "", errs.Wrap(err, errs.Internal, "InvalidConfiguration", "%s", err.Error())
	}
	var p provider.FaceID
	sb := sandbox.New(sandbox.Options{})
	if mode == ModeSandbox {
		p = sb
	} else {
		if p, err = tencent.New(tcfg.WithLogger(env.Log)); err != nil {
			return nil, "", fmt.Errorf("tencent provider: %w", err)
		}
	}
	auth, err := Authenticator(env, mode)
	if err != nil {
		return nil, "", errs.Wrap(err, errs.Internal, "InvalidConfiguration", "%s", err.Error())
	}
	idem, err := env.Idempotency()
	if err != nil {
		return nil, "", err
	}
	svc := &service.Service{Provider: p}
	if mode == ModeLive {
		limits, err := parseProviderLimits(env.Getenv("IDV_PROVIDER_QPS"))
		if err != nil {
			return nil, "", errs.Wrap(err, errs.Internal, "InvalidConfiguration", "%s", err.Error())
		}
		svc.Admit = providerAdmit(env.Limiter(), limits)
	}
	g, err := gateway.New(gateway.Options{
		Service:     svc,
		Sandbox:     &service.Service{Provider: sb},
		Auth:        auth,
		Actions:     actions,
		Mode:        mode,
		Scenarios:   func() any { return sb.Scenarios() },
		Logger:      env.Log,
		Limiter:     gatewayLimiter{env.Limiter()},
		Idempotency: idem,
	})
	if err != nil {
		return nil, "", err
	}
	env.Log.Info("start", slog.String("mode", mode), slog.String("provider", p.Name()), slog.Int("actions", len(g.Actions())))
	return g, mode, nil
}
