package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Modes a function can run in.
const (
	ModeSandbox = "sandbox"
	ModeLive    = "live"
)

// ErrNoCredentials is in the error ChooseMode returns when a live provider
// has no credentials (errors.Is finds it). A function serving several
// providers (functions/all) then leaves that provider out instead of
// failing or, worse, emulating it.
var ErrNoCredentials = errors.New("provider not configured")

// ChooseMode decides between a live provider and the sandbox for env.
// hint names the credentials the live provider needs, for the error. An
// error is an *errs.Error of kind errs.Config naming the variable in Field:
// return it as it is.
func ChooseMode(env *Env, haveCredentials bool, hint string) (string, error) {
	return chooseMode(env.Getenv("IDV_ENV"), env.Getenv("IDV_MODE"), haveCredentials, hint)
}

// chooseMode decides between the live provider and the sandbox. The sandbox
// is the default only where nothing says otherwise: with IDV_ENV=production it
// must be asked for by name, so a deployment whose credentials went missing
// fails at start instead of answering emulated results as if they were real.
func chooseMode(env, mode string, haveCredentials bool, hint string) (string, error) {
	production := strings.EqualFold(env, "production")
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case ModeSandbox:
		return ModeSandbox, nil
	case ModeLive:
		if !haveCredentials {
			return "", noCredentials("IDV_MODE", "IDV_MODE=live but no provider credentials are configured: %s", hint)
		}
		return ModeLive, nil
	case "":
		if haveCredentials {
			return ModeLive, nil
		}
		if production {
			return "", noCredentials("IDV_ENV", "IDV_ENV=production and no provider credentials are configured: "+
				"refusing to fall back to the sandbox (%s, or set IDV_MODE=sandbox to run the sandbox on purpose)", hint)
		}
		return ModeSandbox, nil
	default:
		// The value is not repeated: configuration errors name variables
		// and rules, never values.
		return "", errs.Configf("IDV_MODE", "IDV_MODE is not a mode: use sandbox or live (or leave it unset)")
	}
}

// noCredentials is the configuration error of a live provider without its
// keys; errors.Is(err, ErrNoCredentials) holds.
func noCredentials(field, format string, args ...any) *errs.Error {
	e := errs.Configf(field, format, args...)
	e.Err = ErrNoCredentials
	return e
}

// Authenticator picks the caller policy of a function running in mode.
// It is computed once per process: functions/all asks once per provider, and
// loading IDV_CALLERS resolves the callers' key references. An error is an
// *errs.Error naming the variable in Field, of kind errs.Config (or
// errs.Unavailable when a key reference could not be reached): return it
// as it is.
func Authenticator(env *Env, mode string) (gateway.Authenticator, error) {
	key := mode
	if strings.TrimSpace(env.Getenv("IDV_CALLERS")) != "" {
		key = "callers" // the caller list is the policy whatever the mode
	}
	sh := &env.shared
	sh.authMu.Lock()
	defer sh.authMu.Unlock()
	if c, ok := sh.auth[key]; ok {
		return c.auth, c.err
	}
	a, err := authenticator(env.Getenv, mode, env.Log)
	if sh.auth == nil {
		sh.auth = map[string]authResult{}
	}
	sh.auth[key] = authResult{a, err}
	return a, err
}

type authResult struct {
	auth gateway.Authenticator
	err  error
}

// createCaller is how to fix a missing IDV_CALLERS, for start errors.
const createCaller = "create a caller with `go run ./scripts/idvcaller new-key --id <name> --actions <Action,...>` " +
	"and set IDV_CALLERS to a JSON array of the printed entries (as a secret reference in production; see README \"Callers\")"

// authenticator picks the caller policy. With IDV_CALLERS every request must
// authenticate, loopback included. Without it only loopback is served, and
// production refuses to start (nobody could call it). IDV_SANDBOX_OPEN=true
// opens a sandbox deployment to anyone (nothing real is verified or billed
// there) and is refused elsewhere.
func authenticator(getenv func(string) string, mode string, log *slog.Logger) (gateway.Authenticator, error) {
	production := strings.EqualFold(getenv("IDV_ENV"), "production")
	open := strings.TrimSpace(getenv("IDV_SANDBOX_OPEN"))
	var isOpen bool
	switch strings.ToLower(open) {
	case "", "false", "0":
	case "true", "1":
		isOpen = true
	default:
		return nil, errs.Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN is not a boolean: use true or false (or leave it unset)")
	}
	if raw := strings.TrimSpace(getenv("IDV_CALLERS")); raw != "" {
		if isOpen {
			return nil, errs.Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN=true and IDV_CALLERS are both set: unset IDV_SANDBOX_OPEN to require the configured callers")
		}
		// Secret references inside (a caller's secretKey) resolve within
		// the secrets timeout; a bound on top keeps a hung backend from
		// stalling the start forever.
		ctx, cancel := context.WithTimeout(context.Background(), callersLoadTimeout)
		defer cancel()
		set, err := callers.Load(ctx, []byte(raw), callers.Options{Getenv: getenv, Logger: log})
		if err != nil {
			// callers' messages name entries, ids and rules, never a key;
			// a key reference that could not be reached is not a
			// configuration mistake.
			e := errs.Wrap(err, secretKind(err), "", "IDV_CALLERS: %s", err.Error())
			if len(secretErrors(err)) > 0 {
				e.Code = codeSecretUnresolved
			}
			e.Field = "IDV_CALLERS"
			return nil, e
		}
		return set, nil
	}
	if !isOpen {
		if production {
			return nil, errs.Configf("IDV_CALLERS", "IDV_ENV=production and IDV_CALLERS is not set, so nobody could call this function: %s", createCaller)
		}
		return gateway.LoopbackOnly{}, nil
	}
	if mode != ModeSandbox {
		return nil, errs.Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN=true is only allowed in sandbox mode: it would let anyone call the paid provider")
	}
	if production {
		return nil, errs.Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN=true is refused with IDV_ENV=production")
	}
	return gateway.SandboxOpen{}, nil
}

// callersLoadTimeout bounds resolving the callers' key references.
const callersLoadTimeout = 30 * time.Second
