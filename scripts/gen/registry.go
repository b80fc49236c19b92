package main

import (
	"fmt"
	"sort"
	"strings"
)

// genRegistry writes the action table the gateway, validation, sandbox and
// deploy files are driven by.
func genRegistry(s *spec) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("package faceid\n\n")
	b.WriteString("var actions = []*Action{\n")
	for _, a := range s.Actions {
		fmt.Fprintf(&b, "\t{\n\t\tName: %q, Function: %q, QPS: %d,\n", a.Action, kebab(a.Action), a.Gateway.QPS)
		if a.Deprecated {
			fmt.Fprintf(&b, "\t\tDeprecated: true, Deprecation: %q,\n", a.Deprecation)
		}
		var req, unless []string
		for _, f := range a.Request {
			if f.Required {
				req = append(req, fmt.Sprintf("%q", f.Name))
			}
			if f.RequiredUnless != "" {
				unless = append(unless, fmt.Sprintf("%q: %q", f.Name, f.RequiredUnless))
			}
		}
		if len(req) > 0 {
			fmt.Fprintf(&b, "\t\tRequired: []string{%s},\n", strings.Join(req, ", "))
		}
		if len(unless) > 0 {
			fmt.Fprintf(&b, "\t\tRequiredUnless: map[string]string{%s},\n", strings.Join(unless, ", "))
		}
		var media []string
		for _, l := range a.Gateway.SizeLimits {
			if n, ok := mediaLimit(l); ok {
				media = append(media, fmt.Sprintf("{Field: %q, MaxBytes: %d << 20}", l.Field, n>>20))
			}
		}
		if len(media) > 0 {
			fmt.Fprintf(&b, "\t\tMedia: []MediaLimit{%s},\n", strings.Join(media, ", "))
		}
		for _, f := range a.Response {
			if f.Name == "Result" || f.Name == "ResultCode" {
				fmt.Fprintf(&b, "\t\tResultField: %q,\n", f.Name)
			}
		}
		if bl := a.Gateway.Billing; bl != nil {
			b.WriteString("\t\tResults: []ResultCode{\n")
			for _, c := range bl.Charged {
				fmt.Fprintf(&b, "\t\t\t{Code: %q, Description: %q, Charged: true},\n", c.Code, c.Desc)
			}
			for _, c := range bl.Free {
				fmt.Fprintf(&b, "\t\t\t{Code: %q, Description: %q},\n", c.Code, c.Desc)
			}
			b.WriteString("\t\t},\n")
		}
		if len(a.Gateway.ErrorCodes) > 0 {
			codes := append([]string(nil), a.Gateway.ErrorCodes...)
			sort.Strings(codes)
			for i := range codes {
				codes[i] = fmt.Sprintf("%q", codes[i])
			}
			fmt.Fprintf(&b, "\t\tErrorCodes: []string{%s},\n", strings.Join(codes, ", "))
		}
		fmt.Fprintf(&b, "\t\tnewRequest:  func() any { return new(%sRequest) },\n", a.Action)
		fmt.Fprintf(&b, "\t\tnewResponse: func() any { return new(%sResponse) },\n", a.Action)
		b.WriteString("\t},\n")
	}
	b.WriteString("}\n\n")
	codes := make([]string, 0, len(s.ErrorDescriptions))
	for c := range s.ErrorDescriptions {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	// A function, not a map variable: a map literal is built at init, on
	// every cold start, and only error answers read it (registry.go keeps
	// it once built).
	b.WriteString("func errorDescriptionTable() map[string]string {\n\treturn map[string]string{\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "\t\t%q: %q,\n", c, s.ErrorDescriptions[c])
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}
