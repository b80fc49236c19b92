package tests

// The flows function in both deploy files (issue 14): functions/all with
// its own URL (the return route is public) and a schedule every minute whose
// payload is exactly {"Action":"flows/sweep"}; the functions that start
// flows know where browsers come back to (IDV_PUBLIC_URL) and where
// webhooks go (IDV_WEBHOOKS); no other function carries either.

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/flows"
)

// The flows function's names in the deploy files.
const (
	flowsSAMID     = "FlowsFunction"
	flowsSCFKey    = "flows"
	flowsSweepJSON = `{"Action":"flows/sweep"}`
)

// flowStarters are the deployed functions (folder names) whose action
// starts a flow.
func flowStarters(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, a := range faceid.All() {
		if flows.Starts(a.Name) {
			out = append(out, a.Function)
		}
	}
	for _, f := range catalogFunctions() {
		if flows.Starts(f.Action) {
			out = append(out, f.Name)
		}
	}
	if len(out) != 5 {
		t.Fatalf("%d functions start flows (%v), want DetectAuth, GetEidToken, GetFaceIdToken, faceAdv and verifyToken/generate", len(out), out)
	}
	return out
}

// catalogEnvNames are the catalog functions' own settings: the flows
// function serves their pull actions, so it needs them all.
func catalogEnvNames() []string {
	var out []string
	for _, f := range catalogFunctions() {
		for _, e := range f.Env {
			if e.Name != "IDV_REDIS_URL" && e.Name != "IDV_STORE_KEY" && !slices.Contains(out, e.Name) {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

func TestDeployFlowsSAM(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	resources := sam["Resources"].(ymap)
	fn, ok := resources[flowsSAMID].(ymap)
	if !ok || asStr(fn["Type"]) != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no %s function", flowsSAMID)
	}
	props := fn["Properties"].(ymap)
	if got := asStr(props["CodeUri"]); got != "dist/lambda/arm64/all.zip" {
		t.Errorf("%s: CodeUri %q, want functions/all's Lambda zip (it serves every pull action)", flowsSAMID, got)
	}
	if got := asStr(dig(props, "FunctionUrlConfig", "AuthType")); got != "NONE" {
		t.Errorf("%s: FunctionUrlConfig.AuthType %q, want NONE (the browser comes back to the return route unauthenticated)", flowsSAMID, got)
	}
	if s := asInt(props["Timeout"]); s < 30 || s > 900 {
		t.Errorf("%s: Timeout %d, want room for a sweep (30-900 s)", flowsSAMID, s)
	}
	events, _ := props["Events"].(ymap)
	if len(events) != 1 {
		t.Fatalf("%s: events %v, want exactly the schedule (its routes are under its own URL, not the HTTP API)", flowsSAMID, events)
	}
	for name, ev := range events {
		typ := asStr(dig(ev, "Type"))
		if typ != "Schedule" && typ != "ScheduleV2" {
			t.Errorf("%s: event %s is %s, want a schedule", flowsSAMID, name, typ)
		}
		expr := asStr(dig(ev, "Properties", "Schedule")) + asStr(dig(ev, "Properties", "ScheduleExpression"))
		if expr != "rate(1 minute)" {
			t.Errorf("%s: schedule %q, want rate(1 minute)", flowsSAMID, expr)
		}
		if in := asStr(dig(ev, "Properties", "Input")); in != flowsSweepJSON {
			t.Errorf("%s: schedule Input %q, want exactly %s", flowsSAMID, in, flowsSweepJSON)
		}
		if st := dig(ev, "Properties", "State"); st != nil && asStr(st) != "ENABLED" {
			t.Errorf("%s: schedule State %v", flowsSAMID, st)
		}
	}
	vars, _ := dig(props, "Environment", "Variables").(ymap)
	for _, v := range append(catalogEnvNames(), "IDV_WEBHOOKS") {
		p, ok := refOf(vars[v])
		if !ok || sam["Parameters"].(ymap)[p] == nil {
			t.Errorf("%s: %s is %v, want a stack parameter", flowsSAMID, v, vars[v])
		}
	}
	if p, _ := refOf(vars["IDV_WEBHOOKS"]); p != "IdvWebhooks" {
		t.Errorf("IDV_WEBHOOKS comes from %q, want the IdvWebhooks parameter", p)
	}
	if _, ok := vars["IDV_PUBLIC_URL"]; ok {
		t.Errorf("%s: IDV_PUBLIC_URL would name the function's own URL: a cycle CloudFormation refuses", flowsSAMID)
	}
	for _, k := range []string{"FlowsLogs", "FlowsRole"} {
		if resources[k] == nil {
			t.Errorf("no %s", k)
		}
	}

	// The starters: IDV_PUBLIC_URL is the flows function's URL when the
	// shared store is configured (a flow started in one function's memory
	// is unknown to another), and IDV_WEBHOOKS; nobody else has either.
	cond := dig(sam, "Conditions", "HasSharedStore", "Fn::Not")
	if eq := listOf(dig(listOf(cond)[0], "Fn::Equals")); len(eq) != 2 || asStr(dig(eq[0], "Ref")) != "RedisUrlRef" || asStr(eq[1]) != "" {
		t.Errorf("Conditions.HasSharedStore = %v, want RedisUrlRef not empty", cond)
	}
	fns := samFunctions(t, sam)
	starters := flowStarters(t)
	for _, a := range deployedFunctions() {
		id := fns[a.Name]
		vars, _ := dig(resources[id], "Properties", "Environment", "Variables").(ymap)
		if !slices.Contains(starters, a.Function) {
			if vars["IDV_PUBLIC_URL"] != nil || vars["IDV_WEBHOOKS"] != nil {
				t.Errorf("%s starts no flow but has flows settings", id)
			}
			continue
		}
		ifv := listOf(dig(vars["IDV_PUBLIC_URL"], "Fn::If"))
		if len(ifv) != 3 || asStr(ifv[0]) != "HasSharedStore" || asStr(ifv[2]) != "" {
			t.Errorf("%s: IDV_PUBLIC_URL %v, want Fn::If HasSharedStore, the flows URL, \"\"", id, vars["IDV_PUBLIC_URL"])
		} else if g, ok := getAttOf(ifv[1], "FunctionUrl"); !ok || g != flowsSAMID+"Url" {
			t.Errorf("%s: IDV_PUBLIC_URL is %v, want %sUrl.FunctionUrl", id, ifv[1], flowsSAMID)
		}
		if p, _ := refOf(vars["IDV_WEBHOOKS"]); p != "IdvWebhooks" {
			t.Errorf("%s: IDV_WEBHOOKS %v", id, vars["IDV_WEBHOOKS"])
		}
	}
	if g, ok := getAttOf(dig(sam, "Outputs", "FlowsUrl", "Value"), "FunctionUrl"); !ok || g != flowsSAMID+"Url" {
		t.Errorf("Outputs.FlowsUrl = %v, want the flows function's URL", dig(sam, "Outputs", "FlowsUrl", "Value"))
	}
}

func TestDeployFlowsServerless(t *testing.T) {
	sls := loadDeployYAML(t, "serverless.yml")
	inputs := sls["inputs"].(ymap)
	functions := inputs["functions"].(ymap)
	fn, ok := functions[flowsSCFKey].(ymap)
	if !ok {
		t.Fatalf("serverless.yml has no %s function", flowsSCFKey)
	}
	if asStr(fn["handler"]) != flowsSCFKey || fn["src"] != nil {
		t.Errorf("flows: handler %v src %v, want handler flows (functions/all serves it like all) and the shared package", fn["handler"], fn["src"])
	}
	if s := asInt(fn["timeout"]); s < 30 || s > 900 {
		t.Errorf("flows: timeout %d", s)
	}
	envOf := func(f ymap) map[string]string {
		m := map[string]string{}
		l, _ := f["environments"].(ylist)
		if l == nil {
			l, _ = inputs["environments"].(ylist)
		}
		for _, e := range l {
			m[asStr(dig(e, "key"))] = asStr(dig(e, "value"))
		}
		return m
	}
	env := envOf(fn)
	for _, v := range append(catalogEnvNames(), "IDV_WEBHOOKS", "IDV_PUBLIC_URL", "IDV_REDIS_URL", "IDV_STORE_KEY", "IDV_CALLERS") {
		if !scfVariableRe.MatchString(env[v]) {
			t.Errorf("flows: %s = %q, want a ${env:...} variable", v, env[v])
		}
	}
	if env["IDV_WEBHOOKS"] != "${env:IDV_WEBHOOKS}" || env["IDV_PUBLIC_URL"] != "${env:IDV_PUBLIC_URL}" {
		t.Errorf("flows: IDV_WEBHOOKS %q IDV_PUBLIC_URL %q", env["IDV_WEBHOOKS"], env["IDV_PUBLIC_URL"])
	}
	starters := flowStarters(t)
	for key, f := range functions {
		e := envOf(f.(ymap))
		switch {
		case key == flowsSCFKey:
		case slices.Contains(starters, key):
			if e["IDV_PUBLIC_URL"] != "${env:IDV_PUBLIC_URL}" || e["IDV_WEBHOOKS"] != "${env:IDV_WEBHOOKS}" {
				t.Errorf("%s starts flows: IDV_PUBLIC_URL %q IDV_WEBHOOKS %q", key, e["IDV_PUBLIC_URL"], e["IDV_WEBHOOKS"])
			}
		default:
			if _, ok := e["IDV_PUBLIC_URL"]; ok {
				t.Errorf("%s starts no flow but has IDV_PUBLIC_URL", key)
			}
			if _, ok := e["IDV_WEBHOOKS"]; ok {
				t.Errorf("%s starts no flow but has IDV_WEBHOOKS", key)
			}
		}
	}

	var urls, timers []ymap
	for _, tr := range inputs["triggers"].(ylist) {
		if asStr(dig(tr, "function")) != flowsSCFKey {
			continue
		}
		switch asStr(dig(tr, "type")) {
		case "http":
			urls = append(urls, dig(tr, "parameters").(ymap))
		case "timer":
			timers = append(timers, dig(tr, "parameters").(ymap))
		default:
			t.Errorf("flows: trigger %v", tr)
		}
	}
	if len(urls) != 1 || asStr(urls[0]["authType"]) != "NONE" || dig(urls[0], "netConfig", "enableExtranet") != true {
		t.Errorf("flows: Function URLs %v, want one, authType NONE, on the internet", urls)
	}
	if len(timers) != 1 {
		t.Fatalf("flows: %d timers, want 1", len(timers))
	}
	tm := timers[0]
	// tencent-component-toolkit's timer trigger: CLOSE unless enable is
	// true; CustomArgument is parameters.argument, which SCF delivers as
	// the event's Message.
	if tm["enable"] != true {
		t.Errorf("flows timer: enable %v: the toolkit would create it closed", tm["enable"])
	}
	if a := asStr(tm["argument"]); a != flowsSweepJSON {
		t.Errorf("flows timer: argument %q, want exactly %s", a, flowsSweepJSON)
	}
	if !json.Valid([]byte(asStr(tm["argument"]))) {
		t.Error("flows timer: argument is not JSON")
	}
	if c := asStr(tm["cronExpression"]); c != "0 */1 * * * * *" {
		t.Errorf("flows timer: cronExpression %q, want every minute in SCF's seven fields", c)
	}
	if asStr(tm["name"]) == "" {
		t.Error("flows timer: no name")
	}
}
