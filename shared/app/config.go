package app

import (
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/gateway"
)

// Modes a function can run in.
const (
	ModeSandbox = "sandbox"
	ModeLive    = "live"
)

// ChooseMode decides between a live provider and the sandbox for env.
// hint names the credentials the live provider needs, for the error.
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
			return "", fmt.Errorf("IDV_MODE=live but no provider credentials are configured: %s", hint)
		}
		return ModeLive, nil
	case "":
		if haveCredentials {
			return ModeLive, nil
		}
		if production {
			return "", fmt.Errorf("IDV_ENV=production and no provider credentials are configured: refusing to fall back to the sandbox (set IDV_MODE=sandbox to run the sandbox on purpose)")
		}
		return ModeSandbox, nil
	default:
		return "", fmt.Errorf("IDV_MODE=%q is not a mode: use sandbox or live", mode)
	}
}

// Authenticator picks the caller policy of a function running in mode.
func Authenticator(env *Env, mode string) (gateway.Authenticator, error) {
	return authenticator(env.Getenv, mode)
}

// authenticator picks the caller policy. Without configured callers only
// loopback is served; IDV_SANDBOX_OPEN=true opens a sandbox deployment to
// anyone (nothing real is verified or billed there) and is refused elsewhere.
func authenticator(getenv func(string) string, mode string) (gateway.Authenticator, error) {
	open := strings.TrimSpace(getenv("IDV_SANDBOX_OPEN"))
	switch strings.ToLower(open) {
	case "", "false", "0":
		return gateway.LoopbackOnly{}, nil
	case "true", "1":
	default:
		return nil, fmt.Errorf("IDV_SANDBOX_OPEN=%q: use true or false", open)
	}
	if mode != ModeSandbox {
		return nil, fmt.Errorf("IDV_SANDBOX_OPEN=true is only allowed in sandbox mode: it would let anyone call the paid provider")
	}
	if strings.EqualFold(getenv("IDV_ENV"), "production") {
		return nil, fmt.Errorf("IDV_SANDBOX_OPEN=true is refused with IDV_ENV=production")
	}
	return gateway.SandboxOpen{}, nil
}
