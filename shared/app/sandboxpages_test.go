package app

import (
	"log/slog"
	"testing"
)

// TestSandboxPagesBase: functions/all points flows at its own pages (its
// local address when IDV_PUBLIC_URL is unset); a one-action function,
// which serves no page, only at an IDV_PUBLIC_URL it was given.
func TestSandboxPagesBase(t *testing.T) {
	env := func(vars map[string]string) *Env {
		return &Env{Getenv: func(k string) string { return vars[k] }, Log: slog.New(slog.DiscardHandler)}
	}
	local := env(map[string]string{"IDV_RUNTIME": "local", "PORT": "9090"})
	if got := local.SandboxPagesBase(true); got != "http://localhost:9090/sandbox/h5" {
		t.Errorf("functions/all, local: %q", got)
	}
	if got := local.SandboxPagesBase(false); got != "" {
		t.Errorf("one action, local, no IDV_PUBLIC_URL: %q", got)
	}
	pub := env(map[string]string{"IDV_PUBLIC_URL": "https://idv.example.com/", "IDV_RUNTIME": "lambda"})
	for _, served := range []bool{true, false} {
		if got := pub.SandboxPagesBase(served); got != "https://idv.example.com/sandbox/h5" {
			t.Errorf("IDV_PUBLIC_URL, served %v: %q", served, got)
		}
	}
	if got := env(map[string]string{"IDV_RUNTIME": "lambda"}).SandboxPagesBase(true); got != "" {
		t.Errorf("deployed without IDV_PUBLIC_URL: %q", got)
	}
	if env(nil).SandboxFlows() == nil {
		t.Errorf("no flow store")
	}
	e := env(nil)
	if e.SandboxFlows() != e.SandboxFlows() {
		t.Errorf("the flow store is not one per process")
	}
}
