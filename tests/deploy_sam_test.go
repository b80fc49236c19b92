package tests

// The AWS deployment as a user meets it: template.yaml's structure for any
// stack name and partition, samconfig.toml, the SAM translator where it is
// installed, and scripts/deploy-aws run as a user runs it (--dry-run, its
// refusals, and a full run with a stand-in sam on PATH).

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idverify/idverify/shared/faceadv"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/faceprint"
)

// walk calls fn for every string in v with its path.
func walk(v any, at string, fn func(at, s string)) {
	switch v := v.(type) {
	case ymap:
		for k, x := range v {
			walk(x, at+"."+k, fn)
		}
	case ylist:
		for i, x := range v {
			walk(x, at+"["+strconv.Itoa(i)+"]", fn)
		}
	case string:
		fn(at, v)
	}
}

// longStack is a stack name of CloudFormation's maximum length.
var longStack = "s" + strings.Repeat("x", 127)

// subWith renders an Fn::Sub string with the pseudo parameters of a stack
// named longStack in the longest standard partition.
func subWith(s string) string {
	r := strings.NewReplacer("${AWS::StackName}", longStack, "${AWS::Region}", "ap-southeast-3",
		"${AWS::AccountId}", "123456789012", "${AWS::Partition}", "aws-us-gov", "${AWS::URLSuffix}", "amazonaws.com")
	return r.Replace(s)
}

func TestDeploySAMStructure(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	resources := sam["Resources"].(ymap)
	params := sam["Parameters"].(ymap)

	// Partition-aware: no literal arn:aws: in what is deployed (parameter
	// descriptions may show an example ARN).
	for _, section := range []string{"Resources", "Outputs", "Conditions", "Globals"} {
		walk(sam[section], section, func(at, s string) {
			if strings.Contains(s, "arn:aws:") {
				t.Errorf("%s: literal arn:aws: (use ${AWS::Partition} or a ${Partition} substitution): %q", at, s)
			}
		})
	}

	// Names within their limits for a 128-character stack name. No
	// function is named explicitly (CloudFormation's own names fit); any
	// name the template does give is checked.
	limits := map[string]int{"FunctionName": 64, "RoleName": 64, "ManagedPolicyName": 128, "PolicyName": 128,
		"LogGroupName": 512, "StateMachineName": 80, "Name": 128}
	for id, r := range resources {
		props, _ := dig(r, "Properties").(ymap)
		for prop, limit := range limits {
			v, ok := props[prop]
			if !ok {
				continue
			}
			name := asStr(v)
			if s, ok := dig(v, "Fn::Sub").(string); ok {
				name = subWith(s)
			} else if name == "" {
				t.Errorf("%s.%s is neither a string nor an Fn::Sub: %v (its length cannot be checked)", id, prop, v)
				continue
			}
			if len(name) > limit {
				t.Errorf("%s.%s is %d characters for a 128-character stack name, over the limit of %d", id, prop, len(name), limit)
			}
		}
		if asStr(dig(r, "Type")) == "AWS::Serverless::Function" && props["FunctionName"] != nil {
			t.Errorf("%s has a FunctionName: CloudFormation's generated name is the one that fits any stack name", id)
		}
	}

	// Every route throttled, with a rate and a burst that are numbers or
	// Number parameters with a sane default.
	routes := 0
	for id, r := range resources {
		events, _ := dig(r, "Properties", "Events").(ymap)
		for _, ev := range events {
			if asStr(dig(ev, "Type")) != "HttpApi" {
				continue
			}
			routes++
			for _, k := range []string{"ThrottlingRateLimit", "ThrottlingBurstLimit"} {
				v := dig(ev, "Properties", "RouteSettings", k)
				if n := asInt(v); n > 0 {
					continue
				}
				p, ok := refOf(v)
				if !ok || asStr(dig(params[p], "Type")) != "Number" || asInt(dig(params[p], "Default")) < 1 || asInt(dig(params[p], "MinValue")) < 1 {
					t.Errorf("%s: route %s %s has no %s (a positive number or a Number parameter with MinValue >= 1): %v",
						id, asStr(dig(ev, "Properties", "Method")), asStr(dig(ev, "Properties", "Path")), k, v)
				}
			}
		}
	}
	if routes != len(deployedFunctions()) {
		t.Errorf("%d routes, want %d", routes, len(deployedFunctions()))
	}

	// Log groups outlive the stack.
	groups := 0
	for id, r := range resources {
		if asStr(dig(r, "Type")) != "AWS::Logs::LogGroup" {
			continue
		}
		groups++
		for _, k := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if asStr(dig(r, k)) != "Retain" {
				t.Errorf("%s: %s is %v, want Retain (audit logs)", id, k, dig(r, k))
			}
		}
	}
	if groups != len(deployedFunctions())+1 {
		t.Errorf("%d log groups, want one per function (%d and flows)", groups, len(deployedFunctions()))
	}

	// The Description counts what the registry and the catalogs have.
	desc := asStr(sam["Description"])
	for _, want := range []string{
		itoa(len(faceid.All())) + " Tencent FaceID actions",
		"faceAdv pair (" + itoa(len(faceadv.Functions)) + " functions",
		itoa(len(faceprint.Functions)) + " Baidu faceprint endpoints",
		"as " + itoa(len(deployedFunctions())) + " Lambda functions",
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("Description %q does not say %q", desc, want)
		}
	}

	// Every parameter's Default and the examples in its Description pass
	// its own AllowedPattern / AllowedValues.
	example := regexp.MustCompile(`e\.g\. ([^\s)]+?)[.,;]?(?:[\s)]|$)`)
	for name, p := range params {
		pattern := asStr(dig(p, "AllowedPattern"))
		var re *regexp.Regexp
		if pattern != "" {
			var err error
			if re, err = regexp.Compile(pattern); err != nil {
				t.Errorf("parameter %s: AllowedPattern %q: %v", name, pattern, err)
				continue
			}
		}
		allowed := listOf(dig(p, "AllowedValues"))
		ok := func(v string) bool {
			if re != nil && !re.MatchString(v) {
				return false
			}
			if len(allowed) > 0 {
				for _, a := range allowed {
					if fmtAny(a) == v {
						return true
					}
				}
				return false
			}
			return true
		}
		if d, has := p.(ymap)["Default"]; has && !ok(fmtAny(d)) {
			t.Errorf("parameter %s: Default %q fails its own constraints", name, fmtAny(d))
		}
		for _, m := range example.FindAllStringSubmatch(asStr(dig(p, "Description")), -1) {
			if re != nil && !re.MatchString(m[1]) {
				t.Errorf("parameter %s: the example %q in its Description fails its own AllowedPattern %s", name, m[1], pattern)
			}
			if strings.HasPrefix(m[1], "tc") {
				t.Errorf("parameter %s: example %q is a Tencent reference in an AWS template", name, m[1])
			}
		}
	}

	// The template needs an S3 bucket (samconfig.toml's resolve_s3).
	if info, err := os.Stat(filepath.Join(deployRoot, "template.yaml")); err == nil && info.Size() <= 51200 {
		t.Logf("template.yaml is %d bytes: it would fit inline now", info.Size())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtAny(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDeploySAMConfig: samconfig.toml lets sam deploy run without --guided.
func TestDeploySAMConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployRoot, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// A TOML subset: [tables] and key = value lines; enough to read what
	// SAM reads, and strict about anything else.
	tables := map[string]map[string]string{}
	cur := ""
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = strings.Trim(line, "[]")
			tables[cur] = map[string]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("samconfig.toml:%d is neither a table nor key = value", i+1)
		}
		v = strings.TrimSpace(v)
		if !(v == "true" || v == "false" || regexp.MustCompile(`^"[^"]*"$|^[0-9.]+$`).MatchString(v)) {
			t.Errorf("samconfig.toml:%d: value %s is not a TOML string, number or boolean", i+1, v)
		}
		if tables[cur] == nil {
			tables[cur] = map[string]string{}
		}
		tables[cur][strings.TrimSpace(k)] = strings.Trim(v, `"`)
	}
	if tables[""]["version"] != "0.1" {
		t.Errorf("version = %q, want 0.1", tables[""]["version"])
	}
	deploy := tables["default.deploy.parameters"]
	want := map[string]string{"resolve_s3": "true", "capabilities": "CAPABILITY_IAM", "confirm_changeset": "true"}
	for k, v := range want {
		if deploy[k] != v {
			t.Errorf("[default.deploy.parameters] %s = %q, want %q", k, deploy[k], v)
		}
	}
	if tables["default.global.parameters"]["stack_name"] == "" && deploy["stack_name"] == "" {
		t.Error("no stack_name: sam deploy without --guided would ask for one")
	}
	for _, k := range []string{"parameter_overrides", "region", "s3_bucket"} {
		if _, ok := deploy[k]; ok {
			t.Errorf("samconfig.toml sets %s: that is per deployment (scripts/deploy-aws passes it)", k)
		}
	}
	// No named IAM resource: CAPABILITY_IAM is enough.
	sam := loadDeployYAML(t, "template.yaml")
	for id, r := range sam["Resources"].(ymap) {
		for _, k := range []string{"RoleName", "ManagedPolicyName", "UserName", "GroupName"} {
			if dig(r, "Properties", k) != nil {
				t.Errorf("%s has %s: it needs CAPABILITY_NAMED_IAM", id, k)
			}
		}
	}
}

// TestDeploySAMTranslator applies the SAM transform with the
// aws-sam-translator Python package, as CloudFormation does after sam
// deploy has uploaded the zips (CodeUri becomes s3://), and checks the
// result: no error, the HTTP API stage throttles every route, the faceAdv
// functions may invoke themselves.
func TestDeploySAMTranslator(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if err := exec.Command(py, "-c", "import samtranslator, yaml").Run(); err != nil {
		t.Skip("the aws-sam-translator Python package (with PyYAML) is not installed: pip install aws-sam-translator")
	}
	const script = `
import json, sys, yaml
from samtranslator.translator.transform import transform
class NoManagedPolicies:
    def load(self): return {}
tpl = yaml.safe_load(open(sys.argv[1]))
for r in tpl["Resources"].values():
    p = r.get("Properties") or {}
    if r["Type"] == "AWS::Serverless::Function" and isinstance(p.get("CodeUri"), str):
        p["CodeUri"] = "s3://sam-managed-bucket/" + p["CodeUri"].rsplit("/", 1)[-1]
json.dump(transform(tpl, {}, NoManagedPolicies()), sys.stdout)
`
	cmd := exec.Command(py, "-c", script, filepath.Join(deployRoot, "template.yaml"))
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the SAM transform failed: %v\n%s", err, stderr.String())
	}
	var cfn ymap
	if err := json.Unmarshal(out, &cfn); err != nil {
		t.Fatal(err)
	}
	resources := cfn["Resources"].(ymap)
	count := map[string]int{}
	var stage ymap
	for _, r := range resources {
		ty := asStr(dig(r, "Type"))
		count[ty]++
		if ty == "AWS::ApiGatewayV2::Stage" {
			stage = r.(ymap)
		}
	}
	// One function, route permission and log group per route, and the
	// flows function: its log group, its URL with the two permissions a
	// public Function URL needs (lambda:InvokeFunctionUrl, and since
	// October 2025 lambda:InvokeFunction via the URL), and its schedule:
	// an EventBridge rule with the permission to invoke it.
	n := len(deployedFunctions())
	if count["AWS::Lambda::Function"] != n+1 || count["AWS::Lambda::Permission"] != n+3 || count["AWS::Logs::LogGroup"] != n+1 ||
		count["AWS::Lambda::Url"] != 1 {
		t.Errorf("translated: %v, want %d functions and log groups, %d permissions, one Function URL", count, n+1, n+3)
	}
	var urlInvoke, urlPublic, ruleInvoke bool
	for _, r := range resources {
		p, _ := dig(r, "Properties").(ymap)
		if asStr(dig(r, "Type")) != "AWS::Lambda::Permission" || asStr(dig(p, "FunctionName", "Ref")) != flowsSAMID {
			continue
		}
		switch {
		case asStr(p["Action"]) == "lambda:InvokeFunctionUrl" && asStr(p["Principal"]) == "*" && asStr(p["FunctionUrlAuthType"]) == "NONE":
			urlPublic = true
		case asStr(p["Action"]) == "lambda:InvokeFunction" && asStr(p["Principal"]) == "*" && p["InvokedViaFunctionUrl"] == true:
			urlInvoke = true
		case asStr(p["Action"]) == "lambda:InvokeFunction" && asStr(p["Principal"]) == "events.amazonaws.com":
			ruleInvoke = true
		}
	}
	if !urlPublic || !urlInvoke || !ruleInvoke {
		t.Errorf("flows permissions: public URL %v, invoke via URL %v, invoke by the schedule %v", urlPublic, urlInvoke, ruleInvoke)
	}
	sweeps := 0
	for _, r := range resources {
		if asStr(dig(r, "Type")) != "AWS::Events::Rule" {
			continue
		}
		sweeps++
		targets := listOf(dig(r, "Properties", "Targets"))
		if asStr(dig(r, "Properties", "ScheduleExpression")) != "rate(1 minute)" || asStr(dig(r, "Properties", "State")) != "ENABLED" ||
			len(targets) != 1 || asStr(dig(targets[0], "Input")) != flowsSweepJSON {
			t.Errorf("the flows schedule translated to %v", r)
		}
		if g, _ := getAttOf(dig(targets[0], "Arn"), "Arn"); g != flowsSAMID {
			t.Errorf("the schedule invokes %v, want %s", dig(targets[0], "Arn"), flowsSAMID)
		}
	}
	if sweeps != 1 {
		t.Errorf("%d schedules, want the flows sweep", sweeps)
	}
	settings, _ := dig(stage, "Properties", "RouteSettings").(ymap)
	if len(settings) != n {
		t.Errorf("the stage throttles %d routes, want %d", len(settings), n)
	}
	for route, s := range settings {
		if dig(s, "ThrottlingRateLimit") == nil || dig(s, "ThrottlingBurstLimit") == nil {
			t.Errorf("stage route %s: %v", route, s)
		}
	}
	for _, f := range catalogFunctions() {
		if !f.Async {
			continue
		}
		id := camelOf(f.Name) + "Function"
		if _, ok := resources[id]; !ok {
			t.Errorf("no translated %s", id)
		}
		if dig(resources[id], "Properties", "FunctionName") != nil {
			t.Errorf("%s: translated with a FunctionName", id)
		}
	}
	t.Logf("translated: %d resources", len(resources))
}

func camelOf(kebab string) string {
	var b strings.Builder
	for _, p := range strings.Split(kebab, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

var (
	goEnvOnce sync.Once
	goEnv     []string
)

// goCaches are the Go build and module caches of this machine, so the
// wrapper's go build under a scratch HOME reuses them.
func goCaches(t *testing.T) []string {
	goEnvOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
		if err != nil {
			return
		}
		l := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(l) == 2 {
			goEnv = []string{"GOCACHE=" + l[0], "GOMODCACHE=" + l[1]}
		}
	})
	if goEnv == nil {
		t.Skip("go env GOCACHE GOMODCACHE failed")
	}
	return goEnv
}

// deployAWS runs scripts/deploy-aws (the bash wrapper, as a user would)
// from dir with exactly env (plus PATH and the Go caches), and returns its
// output and exit code.
func deployAWS(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("scripts/deploy-aws is a bash script")
	}
	root, _ := filepath.Abs(deployRoot)
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "deploy-aws")}, args...)...)
	cmd.Dir = dir
	for _, k := range []string{"PATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, goCaches(t)...)
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir()) // no ~/.aws: no credentials
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// A production, live deployment's settings, all references, in an env file.
const prodEnv = `# idverify on AWS
TENCENTCLOUD_SECRET_ID_REF=awssm:idverify/faceid#SecretId
TENCENTCLOUD_SECRET_KEY_REF=awssm:idverify/faceid#SecretKey
IDV_CALLERS_REF='awsssm:/idverify/callers'
IDV_STORE_KEY_REF=awskms:AQICAHh0ZXN0?ctx.var=IDV_STORE_KEY
IDV_REDIS_URL_REF=awssm:idverify/redis#url
SECRETS_MANAGER_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*
SSM_PARAMETER_PATH=idverify/*
KMS_KEY_ARN=arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
FACEPRINT_RATE_LIMIT=4
IDV_WEBHOOKS='[{"caller":"shop","url":"https://hooks.example.com/idv","secret":"awssm:idverify/webhook#secret"}]'
IDV_FACEID_ENCRYPT=SM4-GCM
IDV_EID_SM2_PRIVATE_KEY_REF=awssm:idverify/eid-key
IDV_PERSON_KEY_REF=awssm:idverify/person-key
IDV_BUDGETS='{"*":{"day":1000,"month":20000}}'
IDV_USAGE_METRICS=emf
`

// prodBudgets is prodEnv's IDV_BUDGETS as the functions must receive it.
const prodBudgets = `{"*":{"day":1000,"month":20000}}`

// prodWebhooks is prodEnv's IDV_WEBHOOKS as the functions must receive it.
const prodWebhooks = `[{"caller":"shop","url":"https://hooks.example.com/idv","secret":"awssm:idverify/webhook#secret"}]`

func writeEnv(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "prod.env")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeployAWSDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scripts/deployaws")
	}
	dir := t.TempDir()
	writeEnv(t, dir, prodEnv)
	// A relative --env-file is relative to where the user is, not the repo.
	out, errOut, code := deployAWS(t, dir, []string{"AWS_REGION=eu-west-1", "IDV_LOG_LEVEL=debug"}, "--dry-run", "--env-file", "prod.env", "--stack-name", "idv-test")
	if code != 0 {
		t.Fatalf("--dry-run exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"stack:     idv-test (--stack-name)",
		"region:    eu-west-1 (AWS_REGION)",
		"functions (" + itoa(len(deployedFunctions())+1) + "):", // and flows
		// every setting with its source
		"IDV_LOG_LEVEL", "environment",
		"FaceprintRateLimit", "FACEPRINT_RATE_LIMIT",
		"TencentSecretKeyRef", "awssm:****", "awsssm:****", "awskms:****",
		// what it would run
		"scripts/build.sh --platform lambda --arch arm64 ",
		"sam deploy --template-file template.yaml --config-file samconfig.toml --stack-name idv-test --resolve-s3 --capabilities CAPABILITY_IAM --region eu-west-1 --parameter-overrides",
		`'LogLevel="debug"'`, `'FaceprintRateLimit="4"'`, `'TencentSecretKeyRef="awssm:****"'`, `'BaiduApiKeyRef=""'`,
		"references not resolved: no AWS credentials",
		// what the deployment leaves off
		"IDV_WEBANK_SECRET_REF is empty",
		// the flows function, its URL and schedule, and flows on
		"all (FlowsFunction)", `Function URL (auth NONE); schedule rate(1 minute) with {"Action":"flows/sweep"}`,
		"ON: IDV_REDIS_URL_REF is set", `"secret":"awssm:****"`,
		// the encryption and accounting settings, secrets masked
		`'IdvFaceidEncrypt="SM4-GCM"'`, `'IdvEidSm2PrivateKeyRef="awssm:****"'`, `'IdvPersonKeyRef="awssm:****"'`,
		`'IdvUsageMetrics="emf"'`, `'IdvUsagePrices=""'`, "IDV_BUDGETS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range deployedFunctions() {
		if !strings.Contains(out, "dist/lambda/arm64/"+f.Function+".zip") {
			t.Errorf("--dry-run does not list %s", f.Function)
		}
	}
	// The references themselves never appear.
	for _, secret := range []string{"idverify/faceid", "/idverify/callers", "AQICAHh0ZXN0", "idverify/redis", "idverify/webhook", "idverify/eid-key", "idverify/person-key"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("--dry-run shows the reference %q unmasked", secret)
		}
	}
	// Every template parameter is passed, so the stack matches the file.
	sam := loadDeployYAML(t, "template.yaml")
	for name := range sam["Parameters"].(ymap) {
		if !strings.Contains(out, "'"+name+"=") {
			t.Errorf("the sam command does not pass %s", name)
		}
	}
	// The build is exactly the template's functions, and functions/all
	// for the flows function.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "scripts/build.sh") {
			if !strings.Contains(line, " all ") {
				t.Errorf("the build leaves out functions/all, which the flows function runs: %s", line)
			}
			if got := len(strings.Fields(line)) - 5; got != len(deployedFunctions())+1 {
				t.Errorf("the build names %d functions, want %d and all", got, len(deployedFunctions()))
			}
		}
	}
}

func TestDeployAWSRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scripts/deployaws")
	}
	dir := t.TempDir()
	cases := []struct {
		name     string
		env      string
		want     []string
		mustNot  []string
		extraEnv []string
	}{
		{
			name: "missing callers",
			env:  strings.Replace(prodEnv, "IDV_CALLERS_REF='awsssm:/idverify/callers'\n", "", 1),
			want: []string{"IDV_CALLERS_REF is not set"},
		},
		{
			name: "missing FaceID key in live mode",
			env:  strings.Replace(prodEnv, "TENCENTCLOUD_SECRET_KEY_REF=awssm:idverify/faceid#SecretKey\n", "", 1),
			want: []string{"TENCENTCLOUD_SECRET_KEY_REF is not set", "IDV_MODE=live"},
		},
		{
			name:    "plaintext secret",
			env:     strings.Replace(prodEnv, "awssm:idverify/faceid#SecretKey", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1),
			want:    []string{"TENCENTCLOUD_SECRET_KEY_REF holds a plain value, not a reference"},
			mustNot: []string{"Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"},
		},
		{
			name: "Tencent reference",
			env:  prodEnv + "IDV_WEBANK_APP_ID=IDAXXXXX\nIDV_WEBANK_SECRET_REF=tcssm:idverify-webank?version=v1\n",
			want: []string{"IDV_WEBANK_SECRET_REF is a tcssm: reference, which only Tencent Cloud resolves"},
		},
		{
			name:    "malformed reference",
			env:     strings.Replace(prodEnv, "awskms:AQICAHh0ZXN0?ctx.var=IDV_STORE_KEY", "awskms:not*base64", 1),
			want:    []string{"IDV_STORE_KEY_REF is not a valid reference", "base64"},
			mustNot: []string{"not*base64"},
		},
		{
			name: "reference without its grant",
			env:  strings.Replace(prodEnv, "SSM_PARAMETER_PATH=idverify/*\n", "", 1),
			want: []string{"IDV_CALLERS_REF is an awsssm: reference but SSM_PARAMETER_PATH is empty"},
		},
		{
			name: "half a pair",
			env:  prodEnv + "BAIDU_API_KEY_REF=awssm:idverify/baidu#api_key\n",
			want: []string{"BAIDU_API_KEY_REF is set but BAIDU_SECRET_KEY_REF is not"},
		},
		{
			name: "value outside the template's constraints",
			env:  prodEnv + "LOG_RETENTION_IN_DAYS=12\nIDV_MODE=livee\n",
			want: []string{"LOG_RETENTION_IN_DAYS (parameter LogRetentionInDays) must be one of", "IDV_MODE (parameter Mode) must be one of live, sandbox"},
		},
		{
			// Checked by the functions' own parsing (app.CheckSettings).
			name:    "settings the functions would refuse",
			env:     strings.Replace(prodEnv, "IDV_FACEID_ENCRYPT=SM4-GCM", "IDV_FACEID_ENCRYPT=AES-128-CBC", 1) + "IDV_USAGE_RETENTION=1h\nIDV_PERSON_LIMITS=IdCardVerification=5\n",
			want:    []string{"IDV_FACEID_ENCRYPT is not an algorithm: use AES-256-CBC, SM4-GCM or off (or leave it unset: off) (parameter IdvFaceidEncrypt)", "IDV_USAGE_RETENTION: want a duration from 24h to 26352h", "IDV_PERSON_LIMITS item 1 (IdCardVerification): want perMinute/perDay"},
			mustNot: []string{"AES-128-CBC"},
		},
		{
			name:    "plain eID key",
			env:     strings.Replace(prodEnv, "awssm:idverify/eid-key", "MHcCAQEEIPlainKeyBytes", 1),
			want:    []string{"IDV_EID_SM2_PRIVATE_KEY_REF holds a plain value, not a reference"},
			mustNot: []string{"MHcCAQEEIPlainKeyBytes"},
		},
		{
			name:     "stack name too long for CloudFormation",
			env:      prodEnv,
			extraEnv: []string{"IDV_STACK_NAME=" + strings.Repeat("a", 129)},
			want:     []string{"the stack name must be 1-128"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeEnv(t, dir, c.env)
			out, errOut, code := deployAWS(t, dir, c.extraEnv, "--dry-run", "--env-file", "prod.env")
			if code != 1 {
				t.Fatalf("exit %d, want 1 (refused)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "nothing was built or deployed") {
				t.Errorf("stderr does not say nothing happened:\n%s", errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, m := range c.mustNot {
				if strings.Contains(out+errOut, m) {
					t.Errorf("the output repeats the value %q", m)
				}
			}
		})
	}

	// A sandbox deployment in development needs no key at all.
	out, errOut, code := deployAWS(t, dir, []string{"IDV_ENV=development", "IDV_MODE=sandbox"}, "--dry-run")
	if code != 0 || !strings.Contains(out, "Mode                         sandbox") {
		t.Errorf("a development sandbox deployment: exit %d\n%s\n%s", code, out, errOut)
	}

	// --help names the settings.
	out, _, code = deployAWS(t, dir, nil, "--help")
	if code != 0 || !strings.Contains(out, "--dry-run") || !strings.Contains(out, "IDV_CALLERS_REF") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

// TestDeployAWSRun follows the whole command without --dry-run, with a
// stand-in sam on PATH that records its arguments and checks what the real
// one would need (the template, samconfig.toml and every zip beside it),
// and the zips already built (--no-build), in a copy of the deploy files.
func TestDeployAWSRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scripts/deployaws")
	}
	work := t.TempDir()
	for _, f := range []string{"template.yaml", "samconfig.toml"} {
		b, err := os.ReadFile(filepath.Join(deployRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zips := filepath.Join(work, "dist", "lambda", "arm64")
	if err := os.MkdirAll(zips, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(work, "sam-args")
	fakeSam := `#!/usr/bin/env bash
set -eu
[ -f template.yaml ] && [ -f samconfig.toml ] || { echo "fake sam: not run beside template.yaml and samconfig.toml" >&2; exit 3; }
for z in $(grep -o 'dist/lambda/arm64/[a-z0-9-]*\.zip' template.yaml); do [ -f "$z" ] || { echo "fake sam: missing $z" >&2; exit 4; }; done
printf '%s\n' "$@" > "` + record + `"
echo "Successfully created/updated stack"
`
	if err := os.WriteFile(filepath.Join(bin, "sam"), []byte(fakeSam), 0o755); err != nil {
		t.Fatal(err)
	}
	writeEnv(t, work, prodEnv)
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}

	// Without the zips: refused, naming one.
	_, errOut, code := deployAWS(t, work, env, "--env-file", "prod.env", "--template", filepath.Join(work, "template.yaml"), "--no-build", "--no-confirm-changeset")
	if code != 1 || !strings.Contains(errOut, "zips are missing") {
		t.Fatalf("without zips: exit %d\n%s", code, errOut)
	}
	for _, f := range append(deployedFunctions(), deployed{"flows", "all"}) {
		if err := os.WriteFile(filepath.Join(zips, f.Function+".zip"), []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := deployAWS(t, work, env, "--env-file", "prod.env", "--template", filepath.Join(work, "template.yaml"), "--no-build", "--no-confirm-changeset")
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Successfully created/updated stack") {
		t.Errorf("sam's output is not passed through:\n%s", out)
	}
	if !strings.Contains(errOut, "references not resolved (no AWS credentials") {
		t.Errorf("it does not say the references were not resolved:\n%s", errOut)
	}
	raw, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSpace(string(raw)), "\n")
	joined := strings.Join(args, " ")
	for _, want := range []string{"deploy", "--resolve-s3", "--capabilities CAPABILITY_IAM", "--no-confirm-changeset",
		"--stack-name idverify", "--parameter-overrides",
		`TencentSecretKeyRef="awssm:idverify/faceid#SecretKey"`, // the real reference reaches sam
		`CallersRef="awsssm:/idverify/callers"`, `RedisUrlRef="awssm:idverify/redis#url"`,
		`BaiduApiKeyRef=""`, `FaceprintRateLimit="4"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("sam was not given %q: %v", want, args)
		}
	}
	// sam's own parser (samcli/cli/types.py CfnParameterOverridesType,
	// restated): a key, =, and a double-quoted value that may hold \"; the
	// quotes are dropped and \" \' and "\ " unescaped. IDV_WEBHOOKS' JSON
	// must come out exactly.
	samValue := regexp.MustCompile(`^([A-Za-z0-9"']+)=("(?:\\.|[^"\\]+)*")$`)
	unquote := strings.NewReplacer(`\ `, " ", `\"`, `"`, `\'`, "'")
	after := false
	read := map[string]string{}
	for _, a := range args {
		if a == "--parameter-overrides" {
			after = true
			continue
		}
		if !after {
			continue
		}
		m := samValue.FindStringSubmatch(a)
		if m == nil {
			t.Errorf("parameter override %q is not Key=\"value\" as sam parses it", a)
			continue
		}
		read[m[1]] = unquote.Replace(m[2][1 : len(m[2])-1])
	}
	if read["IdvBudgets"] != prodBudgets || read["IdvFaceidEncrypt"] != "SM4-GCM" || read["IdvEidSm2PrivateKeyRef"] != "awssm:idverify/eid-key" || read["IdvUsageRetention"] != "" {
		t.Errorf("sam would read IdvBudgets %q IdvFaceidEncrypt %q IdvEidSm2PrivateKeyRef %q IdvUsageRetention %q", read["IdvBudgets"], read["IdvFaceidEncrypt"], read["IdvEidSm2PrivateKeyRef"], read["IdvUsageRetention"])
	}
	if read["IdvWebhooks"] != prodWebhooks {
		t.Errorf("sam would read IdvWebhooks as %q, want %q", read["IdvWebhooks"], prodWebhooks)
	}
	// The masked command line is what it printed.
	if strings.Contains(errOut, "idverify/faceid") {
		t.Errorf("the printed command shows a reference unmasked:\n%s", errOut)
	}
}
