package app

import (
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/faceid"
)

// banner is what the local server prints at start: what runs, where, how to
// try it, and who may call it.
func banner(mode, providerName string, actions []string, port string) string {
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
	fmt.Fprintf(&b, "  callers:  none configured, so only requests from this machine are accepted\n")
	example := exampleAction(actions)
	fmt.Fprintf(&b, "  try:      curl -s localhost:%s/v1/faceid/%s -d '%s'\n", port, example, exampleBody(example))
	if mode == ModeSandbox {
		fmt.Fprintf(&b, "  sandbox:  curl -s localhost:%s/v1/sandbox/scenarios   (magic values for every result code)\n", port)
	}
	return b.String()
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
