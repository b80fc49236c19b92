package sandbox

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Markdown renders scenarios as a Markdown document: the happy-path
// values, then one table per action.
func Markdown(scenarios []Scenario) string {
	var b strings.Builder
	b.WriteString("# Sandbox scenarios\n\n")
	b.WriteString("The sandbox answers every FaceID action without calling Tencent. Every RequestId starts with `sandbox-`.\n\n")
	b.WriteString("Happy path (passes every check): Name `" + HappyName + "`, IdCard `" + HappyIDCard + "`, Mobile/Phone `" + HappyMobile +
		"`, BankCard `" + HappyBankCard + "`. Any other valid input succeeds too, unless it is a magic value below.\n\n")
	b.WriteString("Magic values: IdCard `" + magicIDPrefix + "NN` + check digit; mobile `" + magicMobilePrefix + "NN`; bank card `" +
		magicCardPrefix + "NN` + Luhn digit; media: base64 of `" + magicMediaPrefix + "NN`; NFC token or ReqId `" + magicTokenPrefix + "NN`.\n")
	var action string
	for _, s := range scenarios {
		if s.Action != action {
			action = s.Action
			fmt.Fprintf(&b, "\n## %s\n\n| Input | Outcome | Description | Charged | Reached by | Notes |\n|---|---|---|---|---|---|\n", action)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(s.input()), cell(s.outcome()), cell(s.Description),
			map[bool]string{true: "yes", false: "no"}[s.Charged], cell(s.ReachedBy), cell(s.Notes))
	}
	return b.String()
}

func (s Scenario) input() string {
	var parts []string
	if s.Start != nil {
		first := "`" + s.Start.Action + "`"
		if s.Field != "" {
			first += " with `" + s.Field + "` = `" + s.Value + "`"
		}
		parts = append(parts, first+", then its `"+s.Start.TokenField+"` as `"+s.Start.Into+"`")
		if s.After != "" {
			parts = append(parts, s.After+" later")
		}
	} else if s.Field != "" {
		parts = append(parts, "`"+s.Field+"` = `"+s.Value+"`")
	} else {
		parts = append(parts, "the example request")
	}
	return strings.Join(parts, ", ")
}

func (s Scenario) outcome() string {
	var parts []string
	switch {
	case s.ErrorCode != "":
		parts = append(parts, "error `"+s.ErrorCode+"`")
	case s.ResultField != "":
		parts = append(parts, "`"+s.ResultField+"` = `"+s.Result+"`")
	case s.Result != "":
		parts = append(parts, "result `"+s.Result+"`")
	default:
		parts = append(parts, "success")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Expect)) {
		parts = append(parts, "`"+k+"` = `"+s.Expect[k]+"`")
	}
	return strings.Join(parts, ", ")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
