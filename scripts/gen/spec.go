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

// spec mirrors the parts of shared/faceid/spec/faceid-2018-03-01.json (and
// of its supplement, which has the same shape) the generator reads. Unknown
// keys are ignored so the spec can carry more facts.
type spec struct {
	Service           string             `json:"service"`
	Version           string             `json:"version"`
	Actions           []specAction       `json:"actions"`
	Structs           map[string]sstruct `json:"structs"`
	ErrorDescriptions map[string]string  `json:"error_code_descriptions"`
	// RequiredOverrides (supplement only) make fields required that the
	// main spec, refreshed from Tencent's node SDK, marks optional.
	RequiredOverrides []requiredOverride `json:"required_overrides"`
}

// requiredOverride makes Fields of Action required, unless the request
// carries Unless (a field whose presence waives them: DetectAIFakeFaces'
// EncryptedBody, which holds them encrypted).
type requiredOverride struct {
	Action string   `json:"action"`
	Fields []string `json:"fields"`
	Unless string   `json:"unless"`
	Source string   `json:"source"`
}

type specAction struct {
	Action         string      `json:"action"`
	RequestStruct  string      `json:"request_struct"`
	RequestIsEmpty bool        `json:"request_is_empty"`
	Request        []specField `json:"request"`
	Response       []specField `json:"response"`
	NestedTypes    []string    `json:"nested_types"`
	Gateway        gateway     `json:"gateway"`
	// Deprecated marks an action Tencent no longer onboards new users to
	// (it still serves existing ones); Deprecation says so in words.
	Deprecated  bool   `json:"deprecated"`
	Deprecation string `json:"deprecation"`
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
	// RequiredUnless names the field that waives Required (set by a
	// supplement override, not read from the spec).
	RequiredUnless string `json:"-"`
}

// loadSpec reads the spec at path and, when it exists, its supplement
// (supplementPath(path)): the actions Tencent still serves but its node SDK,
// which scripts/refresh-spec reads, no longer declares. The two must not
// overlap: an action, struct or error code defined in both is an error, so
// that a refresh that brings an action back is noticed and the supplement's
// copy removed.
func loadSpec(path string) (*spec, error) {
	s, err := readSpec(path)
	if err != nil {
		return nil, err
	}
	if len(s.Actions) == 0 {
		return nil, fmt.Errorf("%s: no actions", path)
	}
	sup := supplementPath(path)
	if _, err := os.Stat(sup); err == nil {
		extra, err := readSpec(sup)
		if err != nil {
			return nil, err
		}
		if err := mergeSpec(s, extra); err != nil {
			return nil, fmt.Errorf("%s: %w", sup, err)
		}
	}
	sort.Slice(s.Actions, func(i, j int) bool { return s.Actions[i].Action < s.Actions[j].Action })
	return s, nil
}

// supplementPath is foo.json's supplement, foo.supplement.json.
func supplementPath(path string) string {
	return strings.TrimSuffix(path, ".json") + ".supplement.json"
}

func readSpec(path string) (*spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func mergeSpec(s, extra *spec) error {
	if extra.Service != s.Service || extra.Version != s.Version {
		return fmt.Errorf("is for %s %s, not %s %s", extra.Service, extra.Version, s.Service, s.Version)
	}
	have := map[string]bool{}
	for _, a := range s.Actions {
		have[a.Action] = true
	}
	for _, a := range extra.Actions {
		if have[a.Action] {
			return fmt.Errorf("action %s is also in the main spec: delete it from the supplement", a.Action)
		}
		have[a.Action] = true
		s.Actions = append(s.Actions, a)
	}
	for n, st := range extra.Structs {
		if _, dup := s.Structs[n]; dup {
			return fmt.Errorf("struct %s is also in the main spec: delete it from the supplement", n)
		}
		if s.Structs == nil {
			s.Structs = map[string]sstruct{}
		}
		s.Structs[n] = st
	}
	if err := applyOverrides(s, extra.RequiredOverrides); err != nil {
		return err
	}
	for c, d := range extra.ErrorDescriptions {
		if _, dup := s.ErrorDescriptions[c]; dup {
			return fmt.Errorf("error code %s is also in the main spec: delete it from the supplement", c)
		}
		if s.ErrorDescriptions == nil {
			s.ErrorDescriptions = map[string]string{}
		}
		s.ErrorDescriptions[c] = d
	}
	return nil
}

// applyOverrides marks the overridden fields required. A field the spec
// already marks required, or that does not exist, is an error: the
// override is then stale and must go.
func applyOverrides(s *spec, overrides []requiredOverride) error {
	for _, o := range overrides {
		if o.Source == "" {
			return fmt.Errorf("required override of %s names no source", o.Action)
		}
		i := -1
		for j := range s.Actions {
			if s.Actions[j].Action == o.Action {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("required override: no action %s", o.Action)
		}
		a := &s.Actions[i]
		for _, name := range append(append([]string(nil), o.Fields...), o.Unless) {
			if name == "" {
				continue
			}
			found := false
			for k := range a.Request {
				if a.Request[k].Name == name {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("required override: %s has no request field %s", o.Action, name)
			}
		}
		for _, name := range o.Fields {
			for k := range a.Request {
				f := &a.Request[k]
				if f.Name != name {
					continue
				}
				if f.Required {
					return fmt.Errorf("required override: %s.%s is required in the main spec already: delete the override", o.Action, name)
				}
				f.Required, f.RequiredUnless = true, o.Unless
			}
		}
	}
	return nil
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
