package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// spec mirrors the parts of shared/faceid/spec/faceid-2018-03-01.json the
// generator reads. Unknown keys are ignored so the spec can carry more facts.
type spec struct {
	Service           string             `json:"service"`
	Version           string             `json:"version"`
	Actions           []specAction       `json:"actions"`
	Structs           map[string]sstruct `json:"structs"`
	ErrorDescriptions map[string]string  `json:"error_code_descriptions"`
}

type specAction struct {
	Action         string      `json:"action"`
	RequestStruct  string      `json:"request_struct"`
	RequestIsEmpty bool        `json:"request_is_empty"`
	Request        []specField `json:"request"`
	Response       []specField `json:"response"`
	NestedTypes    []string    `json:"nested_types"`
	Gateway        gateway     `json:"gateway"`
}

type gateway struct {
	QPS        int         `json:"default_rate_limit_qps"`
	Billing    *billing    `json:"billing"`
	SizeLimits []sizeLimit `json:"size_limits"`
	ErrorCodes []string    `json:"possible_error_codes"`
}

type billing struct {
	Field   string     `json:"field"`
	Charged []codeDesc `json:"charged"`
	Free    []codeDesc `json:"free"`
}

type codeDesc struct {
	Code string `json:"code"`
	Desc string `json:"desc"`
}

type sizeLimit struct {
	Field string `json:"field"`
	Text  string `json:"text"`
}

type sstruct struct {
	Fields []specField `json:"fields"`
}

type specField struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Required   bool   `json:"required"`
	Nullable   bool   `json:"nullable"`
	Deprecated bool   `json:"deprecated"`
}

func loadSpec(path string) (*spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Actions) == 0 {
		return nil, fmt.Errorf("%s: no actions", path)
	}
	sort.Slice(s.Actions, func(i, j int) bool { return s.Actions[i].Action < s.Actions[j].Action })
	return &s, nil
}

// floatFields are the numeric fields that carry fractions (scores and
// similarities); every other "number" in the spec is an integer.
var floatFields = map[string]bool{"Sim": true, "Similarity": true, "Quality": true, "SimilarityScore": true}

// goType maps a spec type to the Go type of a model field. Pointers keep
// "absent" apart from "zero", which required-field checks and exact
// pass-through both need.
func goType(field specField) string {
	t := strings.TrimSpace(field.Type)
	if strings.HasPrefix(t, "Array<") && strings.HasSuffix(t, ">") {
		inner := specField{Name: field.Name, Type: t[len("Array<") : len(t)-1]}
		return "[]" + goType(inner)
	}
	switch t {
	case "string":
		return "*string"
	case "boolean":
		return "*bool"
	case "number", "number | bigint":
		if floatFields[field.Name] {
			return "*float64"
		}
		return "*int64"
	default:
		return "*" + t
	}
}

// kebab turns an action name into its function folder name:
// IdCardVerification -> id-card-verification, GetNFCToken -> get-nfc-token,
// BankCard2EVerification -> bank-card-2e-verification.
func kebab(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 {
			prev := r[i-1]
			var next rune
			if i+1 < len(r) {
				next = r[i+1]
			}
			switch {
			case unicode.IsUpper(c) && unicode.IsLower(prev):
				b.WriteByte('-')
			case unicode.IsUpper(c) && unicode.IsUpper(prev) && unicode.IsLower(next):
				b.WriteByte('-')
			case unicode.IsDigit(c) && unicode.IsLetter(prev) && !(prev == 'V' && i == len(r)-1):
				b.WriteByte('-')
			case unicode.IsUpper(c) && unicode.IsDigit(prev) && unicode.IsLower(next):
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

var sizeRe = regexp.MustCompile(`(?:不超过|最大不可超过|最大)\s*(\d+)\s*M`)

// mediaLimit reads the largest "不超过 N M" figure from a size-limit text.
// Only base64 fields are capped by us; URL fields are fetched by Tencent.
func mediaLimit(l sizeLimit) (int, bool) {
	if !strings.Contains(l.Field, "Base64") && l.Field != "FaceInput" {
		return 0, false
	}
	best := 0
	for _, m := range sizeRe.FindAllStringSubmatch(l.Text, -1) {
		n, err := strconv.Atoi(m[1])
		if err == nil && n > best {
			best = n
		}
	}
	return best << 20, best > 0
}
