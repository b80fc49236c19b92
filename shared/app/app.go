// Package app wires one function: configuration from the environment, the
// provider (live or sandbox), the gateway, and the runtime found at start.
// Every main in functions/ is one call to Main.
package app

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/logging"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
	"github.com/idverify/idverify/shared/tencent"
)

// Main runs a function serving actions (all FaceID actions when none are
// named) and exits non-zero with a clear message when it cannot start.
func Main(actions ...string) {
	log := logging.New(os.Stderr, logging.ParseLevel(os.Getenv("IDV_LOG_LEVEL")))
	opts := runtime.Options{Logger: log}
	g, mode, err := Build(os.Getenv, actions, log)
	if err != nil {
		// Fail closed, and tell the platform: on Lambda this is an init
		// error, on SCF a failed start.
		fmt.Fprintln(os.Stderr, "idverify: cannot start:", err)
		runtime.Fail(err, opts)
		return
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	opts.Banner = banner(mode, g.ProviderName(), g.Actions(), port)
	// runtime.Main exits the process: 0 after a clean shutdown.
	runtime.Main(g, opts)
}

// Build makes the gateway a function serves, from configuration read
// through getenv. It is exported for tests and tools that need the same
// wiring without a runtime.
func Build(getenv func(string) string, actions []string, log *slog.Logger) (*gateway.Gateway, string, error) {
	tcfg := tencent.ConfigFromEnv(getenv)
	mode, err := chooseMode(getenv("IDV_ENV"), getenv("IDV_MODE"), tcfg.SecretID != "" && tcfg.SecretKey != "")
	if err != nil {
		return nil, "", err
	}
	var p provider.FaceID
	sb := sandbox.New(sandbox.Options{})
	if mode == ModeSandbox {
		p = sb
	} else {
		if p, err = tencent.New(tcfg); err != nil {
			return nil, "", fmt.Errorf("tencent provider: %w", err)
		}
	}
	auth, err := authenticator(getenv, mode)
	if err != nil {
		return nil, "", err
	}
	g, err := gateway.New(gateway.Options{
		Service:   &service.Service{Provider: p},
		Auth:      auth,
		Actions:   actions,
		Mode:      mode,
		Scenarios: func() any { return sb.Scenarios() },
		Logger:    log,
	})
	if err != nil {
		return nil, "", err
	}
	log.Info("start", slog.String("mode", mode), slog.String("provider", p.Name()), slog.Int("actions", len(g.Actions())))
	return g, mode, nil
}
