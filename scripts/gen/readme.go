package main

import (
	"fmt"
	"strings"
)

const (
	actionsBegin = "<!-- BEGIN generated actions table (scripts/generate.sh) -->\n"
	actionsEnd   = "<!-- END generated actions table -->\n"
)

// genReadme replaces the generated actions table inside README.md, leaving
// every other line as written.
func genReadme(s *spec, readme string) (string, error) {
	i := strings.Index(readme, actionsBegin)
	j := strings.Index(readme, actionsEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md lacks the markers %q and %q", strings.TrimSpace(actionsBegin), strings.TrimSpace(actionsEnd))
	}
	var b strings.Builder
	b.WriteString("| action | function folder | Tencent QPS | result codes (charged / free) |\n|---|---|---|---|\n")
	for _, a := range s.Actions {
		codes := "-"
		if bl := a.Gateway.Billing; bl != nil {
			codes = fmt.Sprintf("%d / %d", len(bl.Charged), len(bl.Free))
		}
		name := a.Action
		if a.Deprecated {
			name += " (deprecated: no new users)"
		}
		fmt.Fprintf(&b, "| %s | `functions/%s` | %d | %s |\n", name, kebab(a.Action), a.Gateway.QPS, codes)
	}
	return readme[:i+len(actionsBegin)] + b.String() + readme[j:], nil
}
