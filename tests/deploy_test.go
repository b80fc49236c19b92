package tests

// Consistency of the deployment files with the action registry: every action
// has its function folder, a SAM function with its route, role and log group,
// an SCF function with a Function URL; no deploy file carries a plaintext
// secret; the workflows call existing functions and match only the error type
// names the runtime reports. And scripts/build.sh builds reproducibly into
// the paths the deploy files name.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/idverify/idverify/shared/catalog"
	"github.com/idverify/idverify/shared/faceadv"
	"github.com/idverify/idverify/shared/faceprint"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// deployRoot is the repository root, relative to this package's directory.
const deployRoot = ".."

type (
	ymap  = map[string]any
	ylist = []any
)

func loadDeployYAML(t *testing.T, name string) ymap {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc ymap
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid YAML: %v", name, err)
	}
	return doc
}

func loadDeployASW(t *testing.T) ymap {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployRoot, "serverless.asw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc ymap
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("serverless.asw.json is not valid JSON: %v", err)
	}
	return doc
}

// dig walks nested mappings: dig(doc, "Resources", "HttpApi", "Type").
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(ymap)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asStr(v any) string {
	s, _ := v.(string)
	return s
}

func asInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	return -1
}

// getAtt returns the resource of {"Fn::GetAtt": [resource, attr]}.
func getAttOf(v any, attr string) (string, bool) {
	l, ok := dig(v, "Fn::GetAtt").(ylist)
	if !ok || len(l) != 2 || asStr(l[1]) != attr {
		return "", false
	}
	return asStr(l[0]), asStr(l[0]) != ""
}

func refOf(v any) (string, bool) {
	s, ok := dig(v, "Ref").(string)
	return s, ok && s != ""
}

// samFunctions maps action name -> logical id of the SAM function serving
// POST /v1/faceid/<Action>.
func samFunctions(t *testing.T, sam ymap) map[string]string {
	t.Helper()
	out := map[string]string{}
	resources, _ := sam["Resources"].(ymap)
	for id, r := range resources {
		if asStr(dig(r, "Type")) != "AWS::Serverless::Function" || id == flowsSAMID {
			continue // the flows function has its own URL (deploy_flows_test.go)
		}
		routes := 0
		events, _ := dig(r, "Properties", "Events").(ymap)
		for _, ev := range events {
			if asStr(dig(ev, "Type")) != "HttpApi" {
				continue
			}
			p := asStr(dig(ev, "Properties", "Path"))
			action, ok := strings.CutPrefix(p, "/v1/faceid/")
			if f, isCatalog := catalogByPath()[p]; isCatalog {
				action, ok = f.Name, true // a non-FaceID function, keyed by its folder
			}
			if !ok || !strings.EqualFold(asStr(dig(ev, "Properties", "Method")), "POST") {
				t.Errorf("%s: route %s %s is not POST /v1/faceid/<Action>", id, asStr(dig(ev, "Properties", "Method")), p)
				continue
			}
			if prev, dup := out[action]; dup {
				t.Errorf("route for %s is served by both %s and %s", action, prev, id)
			}
			out[action] = id
			routes++
		}
		if routes != 1 {
			t.Errorf("%s: %d HttpApi routes, want 1", id, routes)
		}
	}
	return out
}

// catalogFunctions are the non-FaceID functions (seed 002's pair, Baidu's
// faceprint endpoints), from their packages' own lists.
func catalogFunctions() []catalog.Function {
	return append(append([]catalog.Function(nil), faceadv.Functions...), faceprint.Functions...)
}

// deployed is one function of the deploy files: a FaceID action (keyed by
// its name) or a catalog function (keyed by its folder).
type deployed struct{ Name, Function string }

func deployedFunctions() []deployed {
	var out []deployed
	for _, a := range faceid.All() {
		out = append(out, deployed{a.Name, a.Function})
	}
	for _, f := range catalogFunctions() {
		out = append(out, deployed{f.Name, f.Name})
	}
	return out
}

// asyncFunctions are the catalog functions that invoke themselves.
func asyncFunctions() map[string]bool {
	m := map[string]bool{}
	for _, f := range catalogFunctions() {
		m[f.Name] = f.Async
	}
	return m
}

func catalogByPath() map[string]catalog.Function {
	m := map[string]catalog.Function{}
	for _, f := range catalogFunctions() {
		m[f.Path] = f
	}
	return m
}

func TestDeployEveryActionHasAFunctionFolder(t *testing.T) {
	for _, a := range faceid.All() {
		b, err := os.ReadFile(filepath.Join(deployRoot, "functions", a.Function, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		if !bytes.Contains(b, []byte(fmt.Sprintf("%q", a.Name))) {
			t.Errorf("functions/%s/main.go does not name the action %q", a.Function, a.Name)
		}
	}
}

func TestDeploySAMTemplate(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	if asStr(sam["Transform"]) != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v, want AWS::Serverless-2016-10-31", sam["Transform"])
	}
	resources, _ := sam["Resources"].(ymap)
	globals := dig(sam, "Globals", "Function")
	fns := samFunctions(t, sam)
	actions := deployedFunctions()
	if len(fns) != len(actions) {
		t.Errorf("template.yaml has %d functions with a route, want %d (registry actions and catalog functions)", len(fns), len(actions))
	}
	prop := func(fn any, name string) any { // a function property, or its Globals default
		if v := dig(fn, "Properties", name); v != nil {
			return v
		}
		return dig(globals, name)
	}
	for _, a := range actions {
		id, ok := fns[a.Name]
		if !ok {
			t.Errorf("%s: no AWS::Serverless::Function with route POST /v1/faceid/%s", a.Name, a.Name)
			continue
		}
		fn := resources[id]
		if got, want := asStr(prop(fn, "CodeUri")), "dist/lambda/arm64/"+a.Function+".zip"; got != want {
			t.Errorf("%s: CodeUri %q, want %q (what scripts/build.sh writes)", id, got, want)
		}
		if asStr(prop(fn, "Runtime")) != "provided.al2023" || asStr(prop(fn, "Handler")) != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v, want provided.al2023 and bootstrap", id, prop(fn, "Runtime"), prop(fn, "Handler"))
		}
		if archs, _ := prop(fn, "Architectures").(ylist); len(archs) != 1 || asStr(archs[0]) != "arm64" {
			t.Errorf("%s: Architectures %v, want [arm64] (the zips under dist/lambda/arm64)", id, prop(fn, "Architectures"))
		}
		if m := asInt(prop(fn, "MemorySize")); m < 128 || m > 10240 {
			t.Errorf("%s: MemorySize %d", id, m)
		}
		if s := asInt(prop(fn, "Timeout")); s < 1 || s > 29 {
			t.Errorf("%s: Timeout %d, want 1-29 s (an HTTP API integration gives up at 30 s)", id, s)
		}
		events, _ := dig(fn, "Properties", "Events").(ymap)
		for _, ev := range events {
			if api, ok := refOf(dig(ev, "Properties", "ApiId")); !ok || asStr(dig(resources[api], "Type")) != "AWS::Serverless::HttpApi" {
				t.Errorf("%s: the route's ApiId is not an AWS::Serverless::HttpApi of the template", id)
			}
		}

		// Its own log group, with a retention.
		logs, ok := refOf(dig(fn, "Properties", "LoggingConfig", "LogGroup"))
		if !ok || asStr(dig(resources[logs], "Type")) != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup is not a log group of the template", id)
			continue
		}
		if dig(resources[logs], "Properties", "RetentionInDays") == nil {
			t.Errorf("%s: no RetentionInDays", logs)
		}

		// Its own role, which may write to that log group only.
		role, ok := getAttOf(dig(fn, "Properties", "Role"), "Arn")
		if !ok || asStr(dig(resources[role], "Type")) != "AWS::IAM::Role" {
			t.Errorf("%s: Role is not an AWS::IAM::Role of the template", id)
			continue
		}
		for _, st := range listOf(dig(resources[role], "Properties", "AssumeRolePolicyDocument", "Statement")) {
			if principal := asStr(dig(st, "Principal", "Service")); principal != "lambda.amazonaws.com" {
				t.Errorf("%s: assumed by %q, want lambda.amazonaws.com only", role, principal)
			}
		}
		policies, _ := dig(resources[role], "Properties", "Policies").(ylist)
		if len(policies) == 0 {
			t.Errorf("%s: no inline policy for its logs", role)
		}
		// Policies of their own attached to the role: only a function that
		// resumes its own async work has one, and it may invoke exactly
		// itself (by its ARN: the function is named by CloudFormation).
		selfInvoke := 0
		for pid, r := range resources {
			if asStr(dig(r, "Type")) != "AWS::IAM::Policy" {
				continue
			}
			attached := false
			for _, rr := range listOf(dig(r, "Properties", "Roles")) {
				if n, _ := refOf(rr); n == role {
					attached = true
				}
			}
			if !attached {
				continue
			}
			selfInvoke++
			for _, st := range listOf(dig(r, "Properties", "PolicyDocument", "Statement")) {
				target, _ := getAttOf(dig(st, "Resource"), "Arn")
				acts := listOf(dig(st, "Action"))
				if target != id || len(acts) != 1 || asStr(acts[0]) != "lambda:InvokeFunction" {
					t.Errorf("%s (on %s): statement %v on %v, want lambda:InvokeFunction on %s's own ARN", pid, role, acts, dig(st, "Resource"), id)
				}
			}
		}
		if want := asyncFunctions()[a.Name]; (selfInvoke == 1) != want || selfInvoke > 1 {
			t.Errorf("%s: %d self-invoke policies; it resumes async work: %v", id, selfInvoke, want)
		}
		for _, p := range policies {
			for _, st := range listOf(dig(p, "PolicyDocument", "Statement")) {
				if g, ok := getAttOf(dig(st, "Resource"), "Arn"); !ok || g != logs {
					t.Errorf("%s: statement on %v, want only its log group %s", role, dig(st, "Resource"), logs)
				}
				for _, act := range listOf(dig(st, "Action")) {
					if !strings.HasPrefix(asStr(act), "logs:") || strings.Contains(asStr(act), "*") {
						t.Errorf("%s: action %v in its logs policy", role, act)
					}
				}
			}
		}
		for _, fnID := range fns {
			if fnID != id {
				if other, _ := getAttOf(dig(resources[fnID], "Properties", "Role"), "Arn"); other == role {
					t.Errorf("%s and %s share the role %s", id, fnID, role)
				}
			}
		}
	}
	if v := dig(sam, "Outputs", "HttpApiUrl", "Value"); v == nil || !strings.Contains(fmt.Sprint(v), "${HttpApi}") {
		t.Errorf("Outputs.HttpApiUrl = %v, want the HTTP API URL", v)
	}
}

func TestDeployServerless(t *testing.T) {
	sls := loadDeployYAML(t, "serverless.yml")
	if c := asStr(sls["component"]); c != "multi-scf" {
		t.Fatalf("component %q, want multi-scf", c)
	}
	inputs, _ := sls["inputs"].(ymap)
	// One shared package, built by the src hook: a function with its own
	// src loses bootstrap's executable bit in the component (adm-zip's
	// extractEntryTo), see the file's header and tests/deploy_scf_test.go.
	if src, hook, dist := asStr(dig(inputs, "src", "src")), asStr(dig(inputs, "src", "hook")), asStr(dig(inputs, "src", "dist")); src != "./" || hook != "scripts/deploy-tencent --hook" || dist != "./dist/scf/serverless" {
		t.Errorf("inputs.src = {src: %q, hook: %q, dist: %q}, want the repository, the deploy hook and ./dist/scf/serverless", src, hook, dist)
	}
	if asStr(inputs["runtime"]) != "CustomRuntime" || asStr(inputs["type"]) != "event" {
		t.Errorf("runtime %v type %v, want CustomRuntime event functions", inputs["runtime"], inputs["type"])
	}
	if asStr(inputs["role"]) == "" {
		t.Error("no execution role: the function could not read its secrets")
	}
	functions, _ := inputs["functions"].(ymap)
	if len(functions) != len(faceid.All())+len(catalogFunctions())+1 {
		t.Errorf("serverless.yml has %d functions, the registry %d actions, the catalog %d functions, and flows", len(functions), len(faceid.All()), len(catalogFunctions()))
	}
	urls := map[string]ymap{}
	for _, tr := range inputs["triggers"].(ylist) {
		switch typ := asStr(dig(tr, "type")); {
		case typ == "http":
			urls[asStr(dig(tr, "function"))], _ = dig(tr, "parameters").(ymap)
		case typ == "timer" && asStr(dig(tr, "function")) == flowsSCFKey:
			// the sweep (deploy_flows_test.go)
		default:
			t.Errorf("trigger of type %v on %v: only Function URLs (http) and the flows timer are expected (the API Gateway trigger is retired)", typ, dig(tr, "function"))
		}
	}
	nameRe := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	for _, a := range deployedFunctions() {
		fn, ok := functions[a.Function].(ymap)
		if !ok {
			t.Errorf("%s: no function %s in serverless.yml", a.Name, a.Function)
			continue
		}
		if got, ok := fn["src"]; ok {
			t.Errorf("%s: src %v: a function's own package loses bootstrap's executable bit in the component", a.Function, got)
		}
		if asStr(fn["handler"]) != a.Function {
			t.Errorf("%s: handler %v, want %s (functions/all serves the function its handler names)", a.Function, fn["handler"], a.Function)
		}
		if name := asStr(fn["name"]); !nameRe.MatchString(name) {
			t.Errorf("%s: SCF function name %q (2-60 letters, digits, - and _, starting with a letter)", a.Function, name)
		}
		mem := asInt(inputs["memorySize"])
		if v, ok := fn["memorySize"]; ok {
			mem = asInt(v)
		}
		if mem != 64 && (mem < 128 || mem > 3072 || mem%128 != 0) {
			t.Errorf("%s: memorySize %d is not an SCF size", a.Function, mem)
		}
		timeout := asInt(inputs["timeout"])
		if v, ok := fn["timeout"]; ok {
			timeout = asInt(v)
		}
		if timeout < 1 || timeout > 900 {
			t.Errorf("%s: timeout %d", a.Function, timeout)
		}
		url, ok := urls[a.Function]
		if !ok {
			t.Errorf("%s: no Function URL (http trigger)", a.Function)
			continue
		}
		if asStr(url["authType"]) != "NONE" || asStr(url["qualifier"]) == "" {
			t.Errorf("%s: Function URL authType %v qualifier %v", a.Function, url["authType"], url["qualifier"])
		}
		net, _ := url["netConfig"].(ymap)
		if net["enableExtranet"] != true && net["enableIntranet"] != true {
			t.Errorf("%s: Function URL reachable from no network: %v", a.Function, net)
		}
	}
}

// sensitiveEnvName is an environment variable whose value must never be
// literal: keys, secrets, passwords, tokens, and the caller definitions
// (which carry the callers' keys).
var sensitiveEnvName = regexp.MustCompile(`(?i)SECRET|KEY|PASSWORD|TOKEN|CREDENTIAL|CALLERS`)

// publicKeyEnvName holds a public key (Tencent's, for FaceID encryption):
// published, not a secret, so a plain parameter.
var publicKeyEnvName = regexp.MustCompile(`(?i)PUBLIC_KEY$`)

// secretEnvName says whether a variable's value must never be literal.
func secretEnvName(name string) bool {
	return sensitiveEnvName.MatchString(name) && !publicKeyEnvName.MatchString(name)
}

var (
	awsRefRe = regexp.MustCompile(`^(awssm|awsssm|awskms):\S+$`)
	scfRefRe = regexp.MustCompile(`^(tckms|tcssm):\S+$`)
	// scfVariable is a Serverless Cloud Framework variable such as
	// ${env:NAME}: the value comes from the deployer's environment.
	scfVariableRe = regexp.MustCompile(`^\$\{[^{}]+\}$`)
)

func TestDeployNoPlaintextSecrets(t *testing.T) {
	// SAM: environment variables in Globals and in every function.
	sam := loadDeployYAML(t, "template.yaml")
	params, _ := sam["Parameters"].(ymap)
	envs := map[string]any{"Globals": dig(sam, "Globals", "Function", "Environment", "Variables")}
	for id, r := range sam["Resources"].(ymap) {
		if v := dig(r, "Properties", "Environment", "Variables"); v != nil {
			envs[id] = v
		}
	}
	checked := 0
	for where, vars := range envs {
		for name, v := range vars.(ymap) {
			if !secretEnvName(name) {
				continue
			}
			checked++
			if s, ok := v.(string); ok {
				if !awsRefRe.MatchString(s) {
					t.Errorf("template.yaml %s: %s has a literal value, not an awssm:/awsssm:/awskms: reference", where, name)
				}
				continue
			}
			p, ok := refOf(v)
			if !ok {
				t.Errorf("template.yaml %s: %s is neither a reference nor a parameter: %v", where, name, v)
				continue
			}
			param, ok := params[p].(ymap)
			if !ok {
				t.Errorf("template.yaml %s: %s refers to %s, which is not a parameter", where, name, p)
				continue
			}
			if param["NoEcho"] != true {
				t.Errorf("template.yaml: parameter %s (%s) is not NoEcho", p, name)
			}
			if d := asStr(param["Default"]); d != "" && !awsRefRe.MatchString(d) {
				t.Errorf("template.yaml: parameter %s has a literal default", p)
			}
			pattern, err := regexp.Compile(asStr(param["AllowedPattern"]))
			if err != nil || asStr(param["AllowedPattern"]) == "" {
				t.Errorf("template.yaml: parameter %s has no usable AllowedPattern to keep plaintext out: %v", p, err)
				continue
			}
			for _, ok := range []string{"awssm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/faceid-AbCdEf", "awsssm:/idverify/faceid/secret-id", "awskms:AQICAHh0ZXN0"} {
				if !pattern.MatchString(ok) {
					t.Errorf("template.yaml: parameter %s refuses the reference %q", p, ok)
				}
			}
			for _, bad := range []string{"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", `{"callers":[]}`} {
				if pattern.MatchString(bad) {
					t.Errorf("template.yaml: parameter %s accepts a plaintext value like %q", p, bad)
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("template.yaml: only %d sensitive variables found; expected TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and IDV_CALLERS", checked)
	}

	// serverless.yml: environments (top level and per function), as a list
	// of {key, value} or an environment.variables mapping.
	sls := loadDeployYAML(t, "serverless.yml")
	inputs := sls["inputs"].(ymap)
	scopes := map[string]ymap{"inputs": inputs}
	for name, fn := range inputs["functions"].(ymap) {
		scopes[name] = fn.(ymap)
	}
	checked = 0
	for where, scope := range scopes {
		vars := map[string]any{}
		if l, ok := scope["environments"].(ylist); ok {
			for _, e := range l {
				vars[asStr(dig(e, "key"))] = dig(e, "value")
			}
		}
		if m, ok := dig(scope, "environment", "variables").(ymap); ok {
			for k, v := range m {
				vars[k] = v
			}
		}
		for name, v := range vars {
			if !secretEnvName(name) {
				continue
			}
			checked++
			s := asStr(v)
			if !scfRefRe.MatchString(s) && !scfVariableRe.MatchString(s) {
				t.Errorf("serverless.yml %s: %s has a literal value, not a tckms:/tcssm: reference or a ${...} variable", where, name)
			}
		}
	}
	if checked < 3 {
		t.Errorf("serverless.yml: only %d sensitive variables found; expected TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and IDV_CALLERS", checked)
	}

	// Nothing anywhere in the files looks like a key.
	keyLike := regexp.MustCompile(`AKID[0-9A-Za-z]{32}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY`)
	for _, f := range []string{"template.yaml", "serverless.yml", "serverless.asw.json"} {
		b, err := os.ReadFile(filepath.Join(deployRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if m := keyLike.Find(b); m != nil {
			t.Errorf("%s contains something that looks like a credential: %.8s...", f, m)
		}
	}
}

// workflowErrors are the names a Retry or Catch may match: the error type
// names functions report (shared/errs), the States.* names, and the Lambda
// service errors Step Functions documents for the Lambda integration.
func workflowErrors() map[string]bool {
	ok := map[string]bool{
		"States.ALL": true, "States.Timeout": true, "States.TaskFailed": true, "States.HeartbeatTimeout": true,
		"Lambda.ServiceException": true, "Lambda.AWSLambdaException": true,
		"Lambda.SdkClientException": true, "Lambda.TooManyRequestsException": true,
	}
	for _, k := range errs.Kinds() {
		ok[k.String()] = true
	}
	return ok
}

// checkWorkflow validates a state machine and returns the functions its
// tasks call along the success path, resolved by taskFunction.
func checkWorkflow(t *testing.T, file string, def ymap, taskFunction func(task ymap) (string, error)) []string {
	t.Helper()
	states, _ := def["States"].(ymap)
	if _, ok := states[asStr(def["StartAt"])]; !ok {
		t.Fatalf("%s: StartAt %q is not a state", file, def["StartAt"])
	}
	known := workflowErrors()
	target := func(from, to string) {
		if _, ok := states[to]; !ok {
			t.Errorf("%s: %s goes to %q, which is not a state", file, from, to)
		}
	}
	for name, s := range states {
		st := s.(ymap)
		if n, ok := st["Next"]; ok {
			target(name, asStr(n))
		}
		if d, ok := st["Default"]; ok {
			target(name, asStr(d))
		}
		for _, c := range append(listOf(st["Choices"]), listOf(st["Catch"])...) {
			target(name, asStr(dig(c, "Next")))
		}
		if asStr(st["Type"]) != "Task" {
			continue
		}
		retried, caught := map[string]bool{}, map[string]bool{}
		for _, r := range listOf(st["Retry"]) {
			for _, e := range listOf(dig(r, "ErrorEquals")) {
				retried[asStr(e)] = true
			}
		}
		for _, c := range listOf(st["Catch"]) {
			for _, e := range listOf(dig(c, "ErrorEquals")) {
				caught[asStr(e)] = true
			}
		}
		for _, set := range []map[string]bool{retried, caught} {
			for e := range set {
				if !known[e] {
					t.Errorf("%s: %s matches the error %q, which no function reports (see shared/errs)", file, name, e)
				}
			}
		}
		if !retried["Throttled"] {
			t.Errorf("%s: %s does not retry Throttled", file, name)
		}
		// An UpstreamUnavailable call may have been billed: retrying it is
		// safe only with an idempotency key unique to the execution and
		// step (the function then replays the failure instead of calling
		// again), and required then (a call that never left is retried).
		key := asStr(dig(st, "Parameters", "Payload", "IdempotencyKey.$")) + asStr(dig(st, "Parameters", "IdempotencyKey.$"))
		keyed := strings.Contains(key, "$$.Execution.") && strings.Contains(key, name)
		if retried["UpstreamUnavailable"] != keyed {
			t.Errorf("%s: %s retries UpstreamUnavailable: %v, but sends a per-execution idempotency key: %v (%q)", file, name, retried["UpstreamUnavailable"], keyed, key)
		}
		for _, e := range []string{"InvalidInput", "ProviderError", "States.ALL"} {
			if !caught[e] {
				t.Errorf("%s: %s does not catch %s", file, name, e)
			}
		}
		// States.ALL alone in the last catcher: whatever name the engine
		// gives a function's error (ASW's mapping of an SCF errorType to
		// an error name is not documented), the flow ends in a state of
		// the definition, never in an unhandled failure.
		if cs := listOf(st["Catch"]); len(cs) > 0 {
			last := listOf(dig(cs[len(cs)-1], "ErrorEquals"))
			if len(last) != 1 || asStr(last[0]) != "States.ALL" {
				t.Errorf("%s: %s: the last catcher matches %v, want States.ALL alone", file, name, last)
			}
		}
	}

	// The success path: tasks in order, a Choice continues on Result "0".
	var calls []string
	for name, steps := asStr(def["StartAt"]), 0; name != "" && steps < len(states); steps++ {
		st, _ := states[name].(ymap)
		switch asStr(st["Type"]) {
		case "Task":
			fn, err := taskFunction(st)
			if err != nil {
				t.Errorf("%s: %s: %v", file, name, err)
			}
			calls = append(calls, fn)
		case "Choice":
			choices := listOf(st["Choices"])
			if len(choices) == 0 || asStr(dig(choices[0], "StringEquals")) != "0" {
				t.Errorf("%s: %s does not continue on Result \"0\"", file, name)
				return calls
			}
			name = asStr(dig(choices[0], "Next"))
			continue
		}
		if st["End"] == true {
			break
		}
		name = asStr(st["Next"])
	}
	return calls
}

func listOf(v any) ylist {
	a, _ := v.(ylist)
	return a
}

var kycSampleCalls = []string{"IdCardVerification", "PhoneVerification", "DetectAuth"}

func TestDeployStepFunctions(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	resources := sam["Resources"].(ymap)
	action := map[string]string{} // logical id -> action
	for a, id := range samFunctions(t, sam) {
		action[id] = a
	}
	machines := 0
	for id, r := range resources {
		if asStr(dig(r, "Type")) != "AWS::Serverless::StateMachine" {
			continue
		}
		machines++
		props := dig(r, "Properties").(ymap)
		subs, _ := props["DefinitionSubstitutions"].(ymap)
		var invoked []string
		calls := checkWorkflow(t, "template.yaml "+id, props["Definition"].(ymap), func(task ymap) (string, error) {
			// The partition comes from the stack (aws, aws-cn, aws-us-gov).
			if res := asStr(task["Resource"]); res != "arn:${Partition}:states:::lambda:invoke" {
				return "", fmt.Errorf("resource %q, want the Lambda integration arn:${Partition}:states:::lambda:invoke", res)
			}
			if p, _ := refOf(subs["Partition"]); p != "AWS::Partition" {
				return "", fmt.Errorf("substitution Partition is %v, want {Ref: AWS::Partition}", subs["Partition"])
			}
			ref := asStr(dig(task, "Parameters", "FunctionName"))
			key, ok := strings.CutPrefix(ref, "${")
			key, ok2 := strings.CutSuffix(key, "}")
			if !ok || !ok2 {
				return "", fmt.Errorf("FunctionName %q is not a ${substitution}", ref)
			}
			fnID, ok := getAttOf(subs[key], "Arn")
			if !ok {
				return "", fmt.Errorf("substitution %s is not the Arn of a resource", key)
			}
			a, ok := action[fnID]
			if !ok {
				return "", fmt.Errorf("%s is not a function of the template", fnID)
			}
			if dig(task, "Parameters", "Payload") == nil {
				return "", fmt.Errorf("no Payload: the function would be invoked with the Step Functions envelope")
			}
			invoked = append(invoked, fnID)
			return a, nil
		})
		if fmt.Sprint(calls) != fmt.Sprint(kycSampleCalls) {
			t.Errorf("%s calls %v, want %v", id, calls, kycSampleCalls)
		}
		// It may invoke exactly the functions it calls.
		var allowed []string
		for _, p := range listOf(props["Policies"]) {
			for _, st := range listOf(dig(p, "Statement")) {
				for _, res := range listOf(dig(st, "Resource")) {
					if fnID, ok := getAttOf(res, "Arn"); ok {
						allowed = append(allowed, fnID)
					}
				}
			}
		}
		if fmt.Sprint(allowed) != fmt.Sprint(invoked) {
			t.Errorf("%s may invoke %v, calls %v", id, allowed, invoked)
		}
	}
	if machines != 1 {
		t.Errorf("%d state machines, want the KYC sample", machines)
	}
}

func TestDeployASW(t *testing.T) {
	def := loadDeployASW(t)
	sls := loadDeployYAML(t, "serverless.yml")
	byName := map[string]string{} // SCF function name -> action
	for _, a := range faceid.All() {
		if fn, ok := dig(sls, "inputs", "functions", a.Function).(ymap); ok {
			byName[asStr(fn["name"])] = a.Name
		}
	}
	resource := regexp.MustCompile(`^qrn:qcs:asw:\$\{region\}:\$\{appid\}:sdk:json:qcloud:scf:Invoke/([A-Za-z0-9_-]+)$`)
	calls := checkWorkflow(t, "serverless.asw.json", def, func(task ymap) (string, error) {
		m := resource.FindStringSubmatch(asStr(task["Resource"]))
		if m == nil {
			return "", fmt.Errorf("resource %q is not qrn:qcs:asw:${region}:${appid}:sdk:json:qcloud:scf:Invoke/<function>", task["Resource"])
		}
		a, ok := byName[m[1]]
		if !ok {
			return "", fmt.Errorf("invokes %s, which is not a function of serverless.yml", m[1])
		}
		return a, nil
	})
	if fmt.Sprint(calls) != fmt.Sprint(kycSampleCalls) {
		t.Errorf("serverless.asw.json calls %v, want %v", calls, kycSampleCalls)
	}
}

// TestDeploySAMTemplateLints runs cfn-lint (which applies the SAM transform
// and checks the result, state machine definition included) when it is
// installed.
func TestDeploySAMTemplateLints(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed")
	}
	cmd := exec.Command(lint, "template.yaml")
	cmd.Dir = deployRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// TestDeployBuildReproducible runs scripts/build.sh --verify for one function:
// two builds into different directories must give identical binaries and
// zips, laid out where template.yaml and serverless.yml look for them.
func TestDeployBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries twice")
	}
	if runtime.GOOS == "windows" {
		t.Skip("scripts/build.sh is a bash script")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	const fn = "id-card-verification"
	dist := filepath.Join(t.TempDir(), "dist")
	cmd := exec.Command("bash", "scripts/build.sh", "--verify", fn)
	cmd.Dir = deployRoot
	// The shared build cache keeps this quick; `scripts/build.sh --verify`
	// run by hand rebuilds from an empty cache.
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERIFY_FRESH_CACHE=0", "JOBS=2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/build.sh --verify %s: %v\n%s", fn, err, out)
	}
	if !bytes.Contains(out, []byte("reproducible:")) {
		t.Fatalf("no verdict from scripts/build.sh --verify:\n%s", out)
	}

	// Where the deploy files look (both relative to the repository root,
	// with dist/ standing for $DIST).
	zipEntries := func(p string) map[string]*zip.File {
		t.Helper()
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		t.Cleanup(func() { zr.Close() })
		m := map[string]*zip.File{}
		for _, f := range zr.File {
			m[f.Name] = f
		}
		return m
	}
	lambda := zipEntries(filepath.Join(dist, "lambda", "arm64", fn+".zip")) // template.yaml CodeUri
	if f := lambda["bootstrap"]; f == nil || len(lambda) != 1 || f.Mode().Perm() != 0o755 {
		t.Errorf("Lambda zip: want exactly an executable bootstrap at the root, have %v", lambda)
	}
	info, err := os.Stat(filepath.Join(dist, "scf", "event", fn, "bootstrap")) // serverless.yml src
	if err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Errorf("SCF event function: bootstrap missing or not executable: %v", err)
	}
	event := zipEntries(filepath.Join(dist, "scf", "zip", "event", fn+".zip"))
	if f := event["bootstrap"]; f == nil || len(event) != 1 || f.Mode().Perm() != 0o755 {
		t.Errorf("SCF event zip: want exactly an executable bootstrap, have %v", event)
	}
	web := zipEntries(filepath.Join(dist, "scf", "zip", "web", fn+".zip"))
	boot, bin := web["scf_bootstrap"], web[fn]
	if boot == nil || bin == nil || len(web) != 2 || boot.Mode().Perm() != 0o755 || bin.Mode().Perm() != 0o755 {
		t.Fatalf("SCF web zip: want executable scf_bootstrap and %s, have %v", fn, web)
	}
	rc, err := boot.Open()
	if err != nil {
		t.Fatal(err)
	}
	script, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.HasPrefix(script, []byte("#!/bin/bash\n")) || bytes.Contains(script, []byte("\r")) ||
		!bytes.Contains(script, []byte("IDV_RUNTIME=scf-web")) || !bytes.Contains(script, []byte("exec ./"+fn)) {
		t.Errorf("scf_bootstrap must start with #!/bin/bash, use LF, set IDV_RUNTIME=scf-web and exec the binary:\n%s", script)
	}
}
