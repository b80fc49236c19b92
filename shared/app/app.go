// Package app wires one function: configuration from the environment (secret
// references resolved), each provider's contract (live or sandbox), and the
// one request pipeline (shared/gateway) around them with the process's
// caller policy, rate limits, idempotency store and flow-token owners, on
// the runtime found at start. Every main in functions/ is one call to Main,
// Serve or ServeAll.
package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceidapi"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
	"github.com/idverify/idverify/shared/tencent"
)

// Main runs a function serving FaceID actions (all of them when none are
// named), with the sandbox of every action.
func Main(actions ...string) { Serve(faceID(actions, allSandbox, false)) }

// Action runs a function serving the one FaceID action name, whose sandbox
// is sb (sandbox.IdCardVerification and so on). The generated mains of
// functions/ call it: the binary links that action's emulation only, not
// every action's (about 0.2 MB of each function).
func Action(name string, sb func() sandbox.Action) {
	Serve(faceID([]string{name}, func(o sandbox.Options) *sandbox.Provider { return sandbox.NewFor(o, sb()) }, false))
}

// FaceID builds the FaceID contract for actions (all when none are named)
// of a function that also serves the sandbox pages (functions/all).
func FaceID(actions ...string) Builder { return faceID(actions, allSandbox, true) }

func allSandbox(o sandbox.Options) *sandbox.Provider { return sandbox.New(o) }

func faceID(actions []string, newSandbox func(sandbox.Options) *sandbox.Provider, pagesHere bool) Builder {
	return func(ctx context.Context, env *Env) (*Built, error) {
		c, err := faceIDContract(env, actions, newSandbox, pagesHere)
		if err != nil {
			return nil, err
		}
		b := &Built{Contract: c}
		if !runtime.LambdaOnly && env.printsBanner() { // (a constant: the banner is not linked on Lambda)
			b.Banner = banner(c.Mode(), c.ProviderName(), c.Actions(), env.Port(), env.Getenv)
		}
		return b, nil
	}
}

const tencentHint = "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or run with an SCF role)"

// FaceIDContract makes the FaceID contract a function serves. It is
// exported for tests and tools that need the same wiring without a runtime.
func FaceIDContract(env *Env, actions []string) (*faceidapi.Contract, error) {
	return faceIDContract(env, actions, allSandbox, false)
}

func faceIDContract(env *Env, actions []string, newSandbox func(sandbox.Options) *sandbox.Provider, pagesHere bool) (*faceidapi.Contract, error) {
	tcfg := tencent.ConfigFromEnv(env.Getenv)
	mode, err := ChooseMode(env, tcfg.SecretID != "" && tcfg.SecretKey != "", tencentHint)
	if err != nil {
		return nil, err
	}
	crypt, err := faceIDCryptoFromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	var p provider.FaceID
	// The sandbox's flow links point at this function's own sandbox H5
	// pages when it knows its public address (IDV_PUBLIC_URL, or the
	// local server's), and the pages and the sandbox share one store.
	so := env.sandboxOptions(pagesHere)
	so.EidPublicKey = crypt.sandboxOptions().EidPublicKey
	sb := newSandbox(so)
	sbp := crypt.wrap(sb, true, env)
	if mode == ModeSandbox {
		p = sbp
	} else if p, err = tencent.New(tcfg.WithLogger(env.Log)); err != nil {
		return nil, errs.Configure(err, "")
	} else {
		p = crypt.wrap(p, false, env)
	}
	svc := &service.Service{Provider: p}
	if mode == ModeLive {
		limits, err := parseProviderLimits(env.Getenv("IDV_PROVIDER_QPS"))
		if err != nil {
			return nil, errs.Configure(err, "IDV_PROVIDER_QPS")
		}
		svc.Admit = providerAdmit(env.Limiter(), limits)
	}
	c, err := faceidapi.NewContract(faceidapi.Options{
		Service:   svc,
		Sandbox:   &service.Service{Provider: sbp},
		Actions:   actions,
		Mode:      mode,
		Scenarios: func() any { return sb.Scenarios() },
	})
	if err != nil {
		return nil, err
	}
	env.Log.Info("start", slog.String("mode", mode), slog.String("provider", p.Name()), slog.Int("actions", len(c.Actions())),
		slog.String("encrypt", crypt.setting()), slog.Bool("eid_identity", crypt.eid != nil))
	return c, nil
}

// printsBanner says whether this process may print a banner: only the
// local server does. Elsewhere (Lambda, SCF) building one would only cost
// the cold start: it parses IDV_CALLERS a second time, and formats lines
// nobody reads.
func (e *Env) printsBanner() bool {
	m, err := runtime.Detect(e.Getenv)
	return err == nil && m == runtime.ModeLocal
}

// Port is the local server's port.
func (e *Env) Port() string {
	if p := e.Getenv("PORT"); p != "" {
		return p
	}
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}
