package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// plan is what serverless.yml deploys, as the framework will read it.
type plan struct {
	file      string
	Region    string
	Runtime   string
	Dist      string // the directory the CLI uploads (inputs.src.dist)
	Hook      string
	Functions []function
	Triggers  map[string][]trigger // function key -> its triggers, in file order
	// Vars are the ${env:X} names, each with the functions whose settings
	// use it (sorted).
	Vars map[string][]string
}

type function struct {
	Key, Name, Handler string
	Memory, Timeout    int
	Env                []envSetting // in file order
}

type envSetting struct {
	Key   string // the function's variable
	Value string // as written, ${env:X} included
}

// envRef is the framework resolver's pattern for ${env:X}
// (@serverless/components src/cli/utils.js resolveVariables).
var envRef = regexp.MustCompile(`\$\{env:([\w.-]+)\}`)

type ymlDoc struct {
	Component string `yaml:"component"`
	Inputs    struct {
		Src struct {
			Src  string `yaml:"src"`
			Hook string `yaml:"hook"`
			Dist string `yaml:"dist"`
		} `yaml:"src"`
		Region       string    `yaml:"region"`
		Runtime      string    `yaml:"runtime"`
		MemorySize   int       `yaml:"memorySize"`
		Timeout      int       `yaml:"timeout"`
		Environments []ymlEnv  `yaml:"environments"`
		Functions    yaml.Node `yaml:"functions"`
		Triggers     []ymlTrig `yaml:"triggers"`
	} `yaml:"inputs"`
}

type ymlEnv struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

type ymlFunc struct {
	Name         string   `yaml:"name"`
	Src          string   `yaml:"src"`
	Handler      string   `yaml:"handler"`
	MemorySize   int      `yaml:"memorySize"`
	Timeout      int      `yaml:"timeout"`
	Environments []ymlEnv `yaml:"environments"`
}

type ymlTrig struct {
	Type       string `yaml:"type"`
	Function   string `yaml:"function"`
	Parameters struct {
		Cron     string `yaml:"cronExpression"`
		Enable   bool   `yaml:"enable"`
		Argument string `yaml:"argument"`
	} `yaml:"parameters"`
}

// trigger is one trigger as the dry run shows it.
type trigger struct {
	Type string
	// Timers only: when, whether the toolkit creates it open, and the
	// argument the function is invoked with (the event's Message).
	Cron, Argument string
	Enable         bool
}

func (t trigger) String() string {
	if t.Type != "timer" {
		return t.Type
	}
	s := fmt.Sprintf("timer %q", t.Cron)
	if !t.Enable {
		s += " (CLOSED: enable is not true)"
	}
	return s + " with " + t.Argument
}

// loadPlan reads serverless.yml the way the multi-scf component merges it:
// a function's own settings replace the inputs' (Object.assign), so a
// function with its own environments has only those.
func loadPlan(path string) (*plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc ymlDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	in := doc.Inputs
	if doc.Component != "multi-scf" {
		return nil, fmt.Errorf("%s: component is %q, this tool deploys multi-scf", path, doc.Component)
	}
	p := &plan{file: path, Region: in.Region, Runtime: in.Runtime, Dist: in.Src.Dist, Hook: in.Src.Hook,
		Triggers: map[string][]trigger{}, Vars: map[string][]string{}}
	if in.Functions.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: inputs.functions is not a mapping", path)
	}
	for i := 0; i+1 < len(in.Functions.Content); i += 2 {
		key := in.Functions.Content[i].Value
		var f ymlFunc
		if err := in.Functions.Content[i+1].Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: function %s: %v", path, key, err)
		}
		if f.Src != "" {
			// The component unzips a function's own src with adm-zip's
			// extractEntryTo, which drops the executable bit.
			return nil, fmt.Errorf("%s: function %s has its own src: its bootstrap would lose its executable bit; use the shared package", path, key)
		}
		fn := function{Key: key, Name: f.Name, Handler: f.Handler, Memory: f.MemorySize, Timeout: f.Timeout}
		if fn.Memory == 0 {
			fn.Memory = in.MemorySize
		}
		if fn.Timeout == 0 {
			fn.Timeout = in.Timeout
		}
		envs := in.Environments
		if f.Environments != nil {
			envs = f.Environments
		}
		for _, e := range envs {
			fn.Env = append(fn.Env, envSetting(e))
			for _, m := range envRef.FindAllStringSubmatch(e.Value, -1) {
				p.Vars[m[1]] = append(p.Vars[m[1]], key)
			}
		}
		p.Functions = append(p.Functions, fn)
	}
	for _, t := range in.Triggers {
		p.Triggers[t.Function] = append(p.Triggers[t.Function], trigger{Type: t.Type,
			Cron: t.Parameters.Cron, Enable: t.Parameters.Enable, Argument: t.Parameters.Argument})
	}
	for v, fns := range p.Vars {
		sort.Strings(fns)
		p.Vars[v] = compact(fns)
	}
	return p, nil
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// varNames are the plan's ${env:X} names, sorted.
func (p *plan) varNames() []string {
	out := make([]string, 0, len(p.Vars))
	for v := range p.Vars {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// usedBy says which functions use a variable, briefly.
func (p *plan) usedBy(v string) string {
	fns := p.Vars[v]
	if len(fns) == len(p.Functions) {
		return "every function"
	}
	if len(fns) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(fns[:3], ", "), len(fns)-3)
	}
	return strings.Join(fns, ", ")
}
