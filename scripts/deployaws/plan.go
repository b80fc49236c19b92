package main

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// plan is what template.yaml deploys, read from the file itself so the
// deploy command never disagrees with the generator.
type plan struct {
	Template    string // path of template.yaml
	Description string
	Functions   []function
	Params      []param
}

// function is one AWS::Serverless::Function.
type function struct {
	ID      string // logical id
	CodeUri string // dist/lambda/arm64/<name>.zip
	Name    string // the folder under functions/ (the zip's base name)
	Route   string // "POST /v1/faceid/IdCardVerification"
	// URL is the auth type of the function's own Function URL ("" when
	// it has none); Schedules are its schedules ("rate(1 minute) with
	// {...}"). The flows function has both and no route.
	URL       string
	Schedules []string
	// Env are its environment variables, Globals' included: the parameter
	// each is {Ref: ...} of, "" for a value computed by CloudFormation.
	Env map[string]string
}

// param is one template parameter and the variable that sets it.
type param struct {
	Name        string
	Type        string // String or Number
	Default     string
	HasDefault  bool
	Secret      bool // NoEcho: a reference parameter
	Pattern     *regexp.Regexp
	Allowed     []string
	Min, Max    *float64
	Description string

	// Var is the environment variable the deploy reads: the function's own
	// variable name for a plain setting (IDV_MODE), <name>_REF for a secret
	// reference (TENCENTCLOUD_SECRET_KEY_REF, as serverless.yml names them),
	// and UPPER_SNAKE of the parameter name for a stack-only setting
	// (KMS_KEY_ARN).
	Var string
	// FnVar is the variable the functions see ("" for stack-only settings).
	FnVar string
}

// loadPlan reads template.yaml.
func loadPlan(file string) (*plan, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Description string               `yaml:"Description"`
		Parameters  yaml.Node            `yaml:"Parameters"`
		Globals     map[string]yaml.Node `yaml:"Globals"`
		Resources   yaml.Node            `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	p := &plan{Template: file, Description: doc.Description}

	// Which function variable each parameter feeds: {VAR: {Ref: Param}} in
	// Globals.Function and in each function's Environment.
	fnVar := map[string]string{}
	addEnv := func(n *yaml.Node, into map[string]string) error {
		var env struct {
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		}
		if err := n.Decode(&env); err != nil {
			return err
		}
		for v, val := range env.Environment.Variables {
			into[v] = ""
			// {Ref: Param} feeds a variable; anything else (a value, an
			// Fn::If over another resource's attribute) is not a setting.
			var ref map[string]any
			if val.Kind != yaml.MappingNode || val.Decode(&ref) != nil {
				continue
			}
			pn, _ := ref["Ref"].(string)
			if pn == "" {
				continue
			}
			into[v] = pn
			if prev, ok := fnVar[pn]; ok && prev != v {
				return fmt.Errorf("parameter %s feeds both %s and %s", pn, prev, v)
			}
			fnVar[pn] = v
		}
		return nil
	}
	globalEnv := map[string]string{}
	if g, ok := doc.Globals["Function"]; ok {
		if err := addEnv(&g, globalEnv); err != nil {
			return nil, fmt.Errorf("%s: Globals: %v", file, err)
		}
	}

	for i := 0; i+1 < len(doc.Resources.Content); i += 2 {
		id, node := doc.Resources.Content[i].Value, doc.Resources.Content[i+1]
		var r struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		}
		if err := node.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", file, id, err)
		}
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var props struct {
			CodeUri           string `yaml:"CodeUri"`
			FunctionUrlConfig struct {
				AuthType string `yaml:"AuthType"`
			} `yaml:"FunctionUrlConfig"`
			Events map[string]struct {
				Type       string `yaml:"Type"`
				Properties struct {
					Method   string `yaml:"Method"`
					Path     string `yaml:"Path"`
					Schedule string `yaml:"Schedule"`
					Input    string `yaml:"Input"`
				} `yaml:"Properties"`
			} `yaml:"Events"`
		}
		if err := r.Properties.Decode(&props); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", file, id, err)
		}
		env := maps.Clone(globalEnv)
		if err := addEnv(&r.Properties, env); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", file, id, err)
		}
		f := function{ID: id, CodeUri: props.CodeUri, Name: strings.TrimSuffix(path.Base(props.CodeUri), ".zip"), URL: props.FunctionUrlConfig.AuthType, Env: env}
		for _, ev := range props.Events {
			switch ev.Type {
			case "HttpApi":
				f.Route = strings.ToUpper(ev.Properties.Method) + " " + ev.Properties.Path
			case "Schedule":
				f.Schedules = append(f.Schedules, ev.Properties.Schedule+" with "+ev.Properties.Input)
			}
		}
		sort.Strings(f.Schedules)
		if f.CodeUri == "" || !strings.HasSuffix(f.CodeUri, ".zip") {
			return nil, fmt.Errorf("%s: %s: CodeUri %q is not a built zip", file, id, f.CodeUri)
		}
		p.Functions = append(p.Functions, f)
	}
	sort.Slice(p.Functions, func(i, j int) bool { return p.Functions[i].Name < p.Functions[j].Name })

	for i := 0; i+1 < len(doc.Parameters.Content); i += 2 {
		name := doc.Parameters.Content[i].Value
		var raw struct {
			Type           string    `yaml:"Type"`
			Default        yaml.Node `yaml:"Default"`
			NoEcho         bool      `yaml:"NoEcho"`
			AllowedPattern string    `yaml:"AllowedPattern"`
			AllowedValues  []string  `yaml:"AllowedValues"`
			MinValue       *float64  `yaml:"MinValue"`
			MaxValue       *float64  `yaml:"MaxValue"`
			Description    string    `yaml:"Description"`
		}
		if err := doc.Parameters.Content[i+1].Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %v", file, name, err)
		}
		pr := param{Name: name, Type: raw.Type, Secret: raw.NoEcho, Allowed: raw.AllowedValues,
			Min: raw.MinValue, Max: raw.MaxValue, Description: raw.Description,
			Default: raw.Default.Value, HasDefault: raw.Default.Kind != 0}
		if raw.AllowedPattern != "" {
			// CloudFormation matches the whole value (Java regex); the
			// template's patterns are anchored and RE2-compatible.
			re, err := regexp.Compile(raw.AllowedPattern)
			if err != nil {
				return nil, fmt.Errorf("%s: parameter %s: AllowedPattern: %v", file, name, err)
			}
			pr.Pattern = re
		}
		pr.FnVar = fnVar[name]
		switch {
		case pr.FnVar != "" && pr.Secret:
			pr.Var = pr.FnVar + "_REF"
		case pr.FnVar != "":
			pr.Var = pr.FnVar
		default:
			pr.Var = upperSnake(name)
		}
		p.Params = append(p.Params, pr)
	}
	if len(p.Functions) == 0 {
		return nil, fmt.Errorf("%s: no AWS::Serverless::Function", file)
	}
	return p, nil
}

// upperSnake: KmsKeyArn -> KMS_KEY_ARN, LogRetentionInDays -> LOG_RETENTION_IN_DAYS.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			prev := rune(s[i-1])
			if prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' {
				b.WriteByte('_')
			}
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// param returns the parameter named n.
func (p *plan) param(n string) *param {
	for i := range p.Params {
		if p.Params[i].Name == n {
			return &p.Params[i]
		}
	}
	return nil
}

// byVar returns the parameter the variable v sets.
func (p *plan) byVar(v string) *param {
	for i := range p.Params {
		if p.Params[i].Var == v {
			return &p.Params[i]
		}
	}
	return nil
}

// names are the functions' folder names, for scripts/build.sh: each once
// (two functions may deploy the same build), sorted.
func (p *plan) names() []string {
	var out []string
	for _, f := range p.Functions {
		if !contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// describe is how the dry run shows a function's way in: its route, or its
// own URL and schedules.
func (f function) describe() string {
	var parts []string
	if f.Route != "" {
		parts = append(parts, f.Route)
	}
	if f.URL != "" {
		parts = append(parts, "Function URL (auth "+f.URL+")")
	}
	for _, s := range f.Schedules {
		parts = append(parts, "schedule "+s)
	}
	return strings.Join(parts, "; ")
}

// zipPath is where a function's zip is, relative to the template.
func (p *plan) zipPath(f function) string {
	return filepath.Join(filepath.Dir(p.Template), filepath.FromSlash(f.CodeUri))
}

// validate checks a value against the parameter's own constraints, as
// CloudFormation will. It never repeats the value.
func (pr *param) validate(v string) string {
	if pr.Type == "Number" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "is not a number"
		}
		if pr.Min != nil && n < *pr.Min || pr.Max != nil && n > *pr.Max {
			return fmt.Sprintf("must be between %g and %g", deref(pr.Min), deref(pr.Max))
		}
	}
	if len(pr.Allowed) > 0 && !contains(pr.Allowed, v) {
		return "must be one of " + strings.Join(pr.Allowed, ", ")
	}
	if pr.Pattern != nil && !pr.Pattern.MatchString(v) {
		return "does not match the template's AllowedPattern " + pr.Pattern.String()
	}
	return ""
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
