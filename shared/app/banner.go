package app

import (
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/faceid"
)

// banner is what the local server prints at start: what runs, where, how to
// try it, and who may call it.
func banner(mode, providerName string, actions []string, port string, getenv func(string) string) string {
	var b strings.Builder
	what := fmt.Sprintf("%d FaceID actions", len(actions))
	if len(actions) == 1 {
		what = "FaceID action " + actions[0]
	}
	fmt.Fprintf(&b, "idverify: serving %s\n", what)
	switch mode {
	case ModeSandbox:
		fmt.Fprintf(&b, "  mode:     sandbox (emulated answers, no outbound call, nothing is billed)\n")
	default:
		fmt.Fprintf(&b, "  mode:     live (provider %s: every call may be billed)\n", providerName)
	}
	fmt.Fprintf(&b, "  url:      http://localhost:%s/v1/faceid/<Action>  and the Tencent API form at http://localhost:%s/\n", port, port)
	callerLine, authFlag := callersBanner(getenv)
	fmt.Fprintf(&b, "  callers:  %s\n", callerLine)
	example := exampleAction(actions)
	fmt.Fprintf(&b, "  try:      curl -s localhost:%s/v1/faceid/%s%s -d '%s'\n", port, example, authFlag, exampleBody(example))
	if mode == ModeSandbox {
		fmt.Fprintf(&b, "  sandbox:  curl -s localhost:%s/v1/sandbox/scenarios%s   (magic values for every result code)\n", port, authFlag)
	}
	return b.String()
}

// callersBanner says who may call, and the curl flag the example needs.
func callersBanner(getenv func(string) string) (line, curlFlag string) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if raw := strings.TrimSpace(getenv("IDV_CALLERS")); raw != "" {
		what := "configured in IDV_CALLERS"
		if set, err := callers.Parse([]byte(raw)); err == nil {
			ids := set.IDs()
			what = fmt.Sprintf("%d configured in IDV_CALLERS (%s)", len(ids), strings.Join(ids, ", "))
		}
		return what + ": every request needs Authorization: Bearer <key> or a TC3 signature, this machine's too",
			" -H 'Authorization: Bearer <key>'"
	}
	if v := strings.ToLower(strings.TrimSpace(getenv("IDV_SANDBOX_OPEN"))); v == "true" || v == "1" {
		return "none configured and IDV_SANDBOX_OPEN=true, so anyone may call this sandbox", ""
	}
	return "none configured, so only requests from this machine are accepted (go run ./scripts/idvcaller to create one)", ""
}

func exampleAction(actions []string) string {
	for _, a := range actions {
		if a == "IdCardVerification" {
			return a
		}
	}
	return actions[0]
}

// exampleBody is a request that passes precheck: the sandbox happy path for
// identity fields, placeholders for the rest.
func exampleBody(action string) string {
	a, ok := faceid.Lookup(action)
	if !ok {
		return "{}"
	}
	happy := map[string]string{
		"IdCard": "110101199003074477", "Name": "张三", "Phone": "13800138000",
		"Mobile": "13800138000", "BankCard": "6222020000000000000",
	}
	parts := make([]string, 0, len(a.Required))
	for _, f := range a.Required {
		v, ok := happy[f]
		if !ok {
			v = "..."
		}
		parts = append(parts, fmt.Sprintf("%q:%q", f, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
