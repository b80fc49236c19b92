package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/catalog"
)

// This file generates the deployment descriptions from the same spec as the
// models and the registry, so adding an action changes them too:
//
//	template.yaml        AWS SAM: a Lambda function, role, log group and HTTP API
//	                     route per action, and a sample KYC state machine
//	serverless.yml       Tencent Serverless Cloud Framework (component multi-scf):
//	                     an SCF function and a Function URL per action
//	serverless.asw.json  the same KYC flow for Tencent ASW (TCSL)
//
// Both YAML files use only plain mappings (the long forms {"Ref": ...} and
// {"Fn::GetAtt": [...]} instead of the !Ref / !GetAtt tags), so any YAML
// parser reads them; tests/deploy_test.go checks them against the registry.

const (
	// scfPrefix prefixes every SCF function name (2-60 characters, letters,
	// digits, '-' and '_'); the ASW definition names functions with it.
	scfPrefix = "idverify-"
	// scfRole is the SCF execution role serverless.yml names; see its header.
	scfRole = "idverify-scf"
	// lambdaArch is the architecture template.yaml deploys; scripts/build.sh
	// builds both and writes dist/lambda/<arch>/<function>.zip.
	lambdaArch = "arm64"
)

// Sizing. Actions that take base64 media get more memory (the request is
// held, decoded and re-encoded) and more time (the upload to Tencent).
const (
	memoryDefault  = 128
	timeoutDefault = 10
	memoryMedia    = 256
	timeoutMedia   = 25 // below the 30 s integration limit of an HTTP API
)

// awsRefPrefixes are the AWS reference forms of shared/secrets. A sensitive
// variable in template.yaml is a parameter that accepts only these; in
// serverless.yml it is a deploy-time variable meant to hold tckms:/tcssm:.
var awsRefPrefixes = []string{"awssm:", "awsssm:", "awskms:"}

// kycStep is one step of the sample KYC workflow.
type kycStep struct {
	action string
	input  []string // request members taken from the execution input
	// result members kept from the response; a step with "Result" continues
	// only on Result "0".
	keep []string
}

var kycFlow = []kycStep{
	{"IdCardVerification", []string{"IdCard", "Name"}, []string{"Result", "Description"}},
	{"PhoneVerification", []string{"IdCard", "Name", "Phone"}, []string{"Result", "Description"}},
	{"DetectAuth", []string{"RuleId", "IdCard", "Name"}, []string{"Url", "BizToken"}},
}

// deployAction is what the deploy files need to know about one action.
type deployAction struct {
	name     string // IdCardVerification; for catalog functions the CamelCase of fn
	fn       string // id-card-verification
	qps      int
	mediaMax int    // largest base64 media field in bytes, 0 when none
	dep      bool   // Tencent no longer onboards new users to the action
	action   string // the pipeline's action name (flows.Starts), "" for the flows function

	// The flows function only (flowsdeploy.go): it runs functions/<folder>.
	flows  bool
	folder string

	// Catalog (non-FaceID) functions only.
	route    string           // the HTTP path; FaceID actions use /v1/faceid/<name>
	desc     string           // one line
	env      []catalog.EnvVar // their own configuration
	timeoutS int
	async    bool // invokes itself asynchronously (by its own name; needs the right to)
}

// path is the function's HTTP route.
func (a deployAction) path() string {
	if a.route != "" {
		return a.route
	}
	return "/v1/faceid/" + a.name
}

// globalEnv are the variables every function gets from the deploy files'
// global section; catalog functions list them too, and they are skipped there.
var globalEnv = map[string]bool{"IDV_REDIS_URL": true, "IDV_STORE_KEY": true}

// ownEnv is a catalog function's configuration beyond the global one.
func (a deployAction) ownEnv() []catalog.EnvVar {
	var out []catalog.EnvVar
	for _, e := range a.env {
		if !globalEnv[e.Name] {
			out = append(out, e)
		}
	}
	return out
}

// envParam is the SAM parameter that feeds variable e: "<Camel>Ref" for a
// secret (a reference), "<Camel>" for a plain value.
func envParam(e catalog.EnvVar) string {
	p := camel(strings.ToLower(strings.ReplaceAll(e.Name, "_", "-")))
	if e.Secret {
		p += "Ref"
	}
	return p
}

// camel turns kebab-case into CamelCase: face-adv-result -> FaceAdvResult.
func camel(kebabName string) string {
	var b strings.Builder
	for _, part := range strings.Split(kebabName, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// catalogActions are the non-FaceID functions as the deploy files see them.
func catalogActions() []deployAction {
	var out []deployAction
	for _, f := range catalogFunctions() {
		out = append(out, deployAction{name: camel(f.Name), fn: f.Name, action: f.Action, route: f.Path, desc: f.Description, env: f.Env, timeoutS: f.TimeoutSeconds, async: f.Async})
	}
	return out
}

func (a deployAction) memory() int {
	if a.flows {
		return flowsMemory
	}
	if a.mediaMax > 0 {
		return memoryMedia
	}
	return memoryDefault
}

func (a deployAction) timeout() int {
	if a.timeoutS > 0 {
		return a.timeoutS
	}
	if a.mediaMax > 0 {
		return timeoutMedia
	}
	return timeoutDefault
}

func (a deployAction) description() string {
	if a.flows {
		return a.desc
	}
	if a.route != "" {
		return fmt.Sprintf("%s (POST %s)", a.desc, a.route)
	}
	d := fmt.Sprintf("FaceID %s (POST /v1/faceid/%s); Tencent default limit %d QPS", a.name, a.name, a.qps)
	if a.mediaMax > 0 {
		d += fmt.Sprintf("; base64 media up to %d MiB", a.mediaMax>>20)
	}
	if a.dep {
		d += "; deprecated by Tencent (no new users)"
	}
	return d
}

func deployActions(s *spec) []deployAction {
	out := make([]deployAction, 0, len(s.Actions))
	for _, a := range s.Actions {
		d := deployAction{name: a.Action, fn: kebab(a.Action), action: a.Action, qps: a.Gateway.QPS, dep: a.Deprecated}
		for _, l := range a.Gateway.SizeLimits {
			if n, ok := mediaLimit(l); ok && n > d.mediaMax {
				d.mediaMax = n
			}
		}
		out = append(out, d)
	}
	return out
}

// genDeploy adds template.yaml, serverless.yml and serverless.asw.json to src.
func genDeploy(s *spec, src map[string]string) {
	actions := deployActions(s)
	byName := make(map[string]deployAction, len(actions))
	for _, a := range actions {
		byName[a.name] = a
	}
	for _, st := range kycFlow {
		if _, ok := byName[st.action]; !ok {
			// The sample workflow is part of the generator, not of the spec:
			// an action it names can only vanish by a spec change that the
			// generator must follow.
			panic(fmt.Sprintf("gen: the KYC sample workflow uses %s, which the spec no longer has: edit kycFlow in scripts/gen/deploy.go", st.action))
		}
	}
	all := append(actions, catalogActions()...)
	all = append(all, flowsAction(all))
	src["template.yaml"] = genSAM(all)
	src["serverless.yml"] = genServerless(all)
	src["serverless.asw.json"] = genASW()
}

// ---------------------------------------------------------------------------
// The KYC workflow, shared by Step Functions and ASW.

// taskFlavour builds the platform-specific part of a Task state.
type taskFlavour struct {
	// task returns the Resource and Parameters of one step.
	task func(st kycStep) omap
	// platformRetry are retriers for the platform's own transient errors.
	platformRetry []any
	// resultRoot is where the function's answer sits in the task result.
	resultRoot string
	// backoff adds the jitter/max-delay members (Step Functions only).
	backoff omap
	// failFromError makes the catch-all Fail state report the caught error.
	failFromError bool
	// idempotent says the task sends an IdempotencyKey unique to the
	// execution and step. Only then is UpstreamUnavailable retried: the
	// function replays an ambiguous (maybe billed) failure instead of
	// calling again, and retries what provably never reached Tencent.
	idempotent bool
}

// awsTask invokes the function with the optimized Lambda integration: the
// answer is under $.Payload, and a function error surfaces under its
// errorType (InvalidInput, Throttled...).
var awsTask = taskFlavour{
	task: func(st kycStep) omap {
		payload := omap{}
		for _, f := range st.input {
			payload = append(payload, kv{f + ".$", "$." + f})
		}
		// One key per execution and step: a retried step can never be
		// billed twice (see README "Rate limits, idempotency").
		payload = append(payload, kv{"IdempotencyKey.$", "States.Format('{}/" + st.action + "', $$.Execution.Name)"})
		return omap{
			// ${Partition} is a DefinitionSubstitution of AWS::Partition
			// (aws, aws-cn, aws-us-gov): the same template deploys anywhere.
			{"Resource", "arn:${Partition}:states:::lambda:invoke"},
			{"Parameters", omap{
				{"FunctionName", "${" + st.action + "Arn}"},
				{"Payload", payload},
			}},
		}
	},
	platformRetry: []any{omap{
		{"ErrorEquals", flow{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}},
		{"IntervalSeconds", 1},
		{"MaxAttempts", 3},
		{"BackoffRate", 2},
		{"JitterStrategy", "FULL"},
	}},
	resultRoot:    "$.Payload",
	backoff:       omap{{"MaxDelaySeconds", 10}, {"JitterStrategy", "FULL"}},
	failFromError: true,
	idempotent:    true,
}

// aswTask invokes the SCF function: the state input (after Parameters) is
// the event and the function's JSON answer is the task result.
var aswTask = taskFlavour{
	task: func(st kycStep) omap {
		params := omap{}
		for _, f := range st.input {
			params = append(params, kv{f + ".$", "$." + f})
		}
		return omap{
			{"Resource", aswResource(scfPrefix + kebab(st.action))},
			{"Parameters", params},
		}
	},
	resultRoot: "$",
}

// aswResource is the TCSL resource of a synchronous SCF invocation in the
// default namespace. ${region} and ${appid} are filled at deploy time.
func aswResource(function string) string {
	return "qrn:qcs:asw:${region}:${appid}:sdk:json:qcloud:scf:Invoke/" + function
}

func kycDefinition(f taskFlavour) omap {
	states := omap{}
	for i, st := range kycFlow {
		sel := omap{}
		for _, k := range st.keep {
			sel = append(sel, kv{k + ".$", f.resultRoot + "." + k})
		}
		throttled := omap{
			// Throttled calls were refused before any work: never billed.
			{"ErrorEquals", flow{"Throttled"}},
			{"IntervalSeconds", 1},
			{"MaxAttempts", 3}, // retries after the first attempt
			{"BackoffRate", 2},
		}
		throttled = append(throttled, f.backoff...)
		retry := []any{throttled}
		if f.idempotent {
			unavailable := omap{
				// The provider could not be reached or timed out. With the
				// step's idempotency key a call that may have been billed
				// answers its stored failure again; one that never left
				// is tried again.
				{"ErrorEquals", flow{"UpstreamUnavailable"}},
				{"IntervalSeconds", 2},
				{"MaxAttempts", 1},
				{"BackoffRate", 2},
			}
			retry = append(retry, append(unavailable, f.backoff...))
		}
		retry = append(retry, f.platformRetry...)
		task := omap{{"Type", "Task"}, {"Comment", "FaceID " + st.action}}
		task = append(task, f.task(st)...)
		task = append(task,
			kv{"ResultSelector", sel},
			kv{"ResultPath", "$." + st.action},
			kv{"Retry", retry},
			kv{"Catch", []any{
				omap{{"ErrorEquals", flow{"InvalidInput"}}, {"ResultPath", "$.error"}, {"Next", "RejectedInvalidInput"}},
				omap{{"ErrorEquals", flow{"ProviderError"}}, {"ResultPath", "$.error"}, {"Next", "RejectedByProvider"}},
				omap{{"ErrorEquals", flow{"States.ALL"}}, {"ResultPath", "$.error"}, {"Next", "Failed"}},
			}},
		)
		last := i == len(kycFlow)-1
		checks := len(st.keep) > 0 && st.keep[0] == "Result"
		switch {
		case last:
			task = append(task, kv{"OutputPath", "$." + st.action}, kv{"End", true})
		case checks:
			task = append(task, kv{"Next", st.action + "Passed"})
		default:
			task = append(task, kv{"Next", kycFlow[i+1].action})
		}
		states = append(states, kv{st.action, task})
		if checks && !last {
			states = append(states, kv{st.action + "Passed", omap{
				{"Type", "Choice"},
				{"Comment", "Business result: \"0\" passes, any other code ends the flow"},
				{"Choices", []any{omap{
					{"Variable", "$." + st.action + ".Result"},
					{"StringEquals", "0"},
					{"Next", kycFlow[i+1].action},
				}}},
				{"Default", "NotVerified"},
			}})
		}
	}
	failed := omap{{"Type", "Fail"}}
	if f.failFromError {
		failed = append(failed, kv{"ErrorPath", "$.error.Error"}, kv{"CausePath", "$.error.Cause"})
	} else {
		failed = append(failed, kv{"Error", "Failed"}, kv{"Cause", "a step failed with an error that is not InvalidInput or ProviderError; see the execution history"})
	}
	states = append(states,
		kv{"NotVerified", omap{{"Type", "Fail"}, {"Error", "NotVerified"}, {"Cause", "a check answered a Result other than \"0\": its Result and Description are in the execution history"}}},
		kv{"RejectedInvalidInput", omap{{"Type", "Fail"}, {"Error", "InvalidInput"}, {"Cause", "the input was rejected before any billed call: fix it and start again"}}},
		kv{"RejectedByProvider", omap{{"Type", "Fail"}, {"Error", "ProviderError"}, {"Cause", "Tencent FaceID answered with a business error"}}},
		kv{"Failed", failed},
	)
	return omap{
		{"Comment", "Sample KYC flow: IdCardVerification, PhoneVerification, DetectAuth (generated by scripts/gen)"},
		{"StartAt", kycFlow[0].action},
		{"TimeoutSeconds", 300},
		{"States", states},
	}
}

func genASW() string {
	def := kycDefinition(aswTask)
	def[0] = kv{"Comment", "Code generated by scripts/gen (scripts/generate.sh). DO NOT EDIT. " +
		"Tencent ASW (TCSL) definition of the sample KYC flow: IdCardVerification, PhoneVerification, DetectAuth, " +
		"invoking the SCF functions of serverless.yml. Replace ${region} and ${appid} before CreateFlowService. " +
		"Start it with {\"IdCard\", \"Name\", \"Phone\", \"RuleId\"}; it ends with DetectAuth's Url and BizToken."}
	var b strings.Builder
	writeJSON(&b, def, 0)
	b.WriteString("\n")
	return b.String()
}

// ---------------------------------------------------------------------------
// A small ordered-document writer: YAML (block style, comments) and JSON.

// kv is one member of an ordered mapping; a kv with an empty key and a
// comment value is a comment line (YAML only).
type kv struct {
	k string
	v any
}

// omap is an ordered mapping.
type omap []kv

// flow is a list of scalars written on one line: [a, b].
type flow []any

type comment string

// note is a comment line among the members of a mapping.
func note(s string) kv { return kv{"", comment(s)} }

// writeJSON writes v indented by two spaces, lists of scalars on one line.
func writeJSON(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat(" ", indent)
	switch v := v.(type) {
	case omap:
		b.WriteString("{")
		first := true
		for _, e := range v {
			if _, ok := e.v.(comment); ok && e.k == "" {
				continue // JSON has no comments
			}
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString("\n" + pad + "  " + jsonScalar(e.k) + ": ")
			writeJSON(b, e.v, indent+2)
		}
		if !first {
			b.WriteString("\n" + pad)
		}
		b.WriteString("}")
	case []any:
		b.WriteString("[")
		for i, x := range v {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n" + pad + "  ")
			writeJSON(b, x, indent+2)
		}
		if len(v) > 0 {
			b.WriteString("\n" + pad)
		}
		b.WriteString("]")
	case flow:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = jsonScalar(x)
		}
		b.WriteString("[" + strings.Join(parts, ", ") + "]")
	default:
		b.WriteString(jsonScalar(v))
	}
}

func jsonScalar(v any) string {
	switch v.(type) {
	case string, int, bool:
	default:
		panic(fmt.Sprintf("gen: no JSON form for %T", v))
	}
	q, err := jsonText(v)
	if err != nil {
		panic(err)
	}
	return string(q)
}

// jsonText is json.Marshal without the HTML escaping of <, > and &.
func jsonText(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func yamlDoc(m omap) string {
	var b strings.Builder
	writeMap(&b, m, 0)
	return b.String()
}

func writeMap(b *strings.Builder, m omap, indent int) {
	pad := strings.Repeat(" ", indent)
	afterComment := false
	for i, e := range m {
		if c, ok := e.v.(comment); ok && e.k == "" {
			if indent == 2 && i > 0 && !afterComment {
				b.WriteString("\n") // a blank line before a commented group at the top level of a section
			}
			b.WriteString(pad + "# " + string(c) + "\n")
			afterComment = true
			continue
		}
		afterComment = false
		b.WriteString(pad + yamlScalar(e.k) + ":")
		writeValue(b, e.v, indent)
	}
}

// writeValue writes what follows "key:" (or "- ") for v.
func writeValue(b *strings.Builder, v any, indent int) {
	switch v := v.(type) {
	case omap:
		if len(v) == 0 {
			b.WriteString(" {}\n")
			return
		}
		if inline, ok := inlineMap(v); ok {
			b.WriteString(" " + inline + "\n")
			return
		}
		b.WriteString("\n")
		writeMap(b, v, indent+2)
	case []any:
		if len(v) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		writeList(b, v, indent+2)
	case flow:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = scalar(x)
		}
		b.WriteString(" [" + strings.Join(parts, ", ") + "]\n")
	default:
		b.WriteString(" " + scalar(v) + "\n")
	}
}

func writeList(b *strings.Builder, l []any, indent int) {
	pad := strings.Repeat(" ", indent)
	for _, x := range l {
		// A mapping or list item starts on the dash line; the rest of it
		// aligns with its first line.
		var sub strings.Builder
		switch x := x.(type) {
		case omap:
			if len(x) == 0 {
				b.WriteString(pad + "- {}\n")
				continue
			}
			writeMap(&sub, x, indent+2)
		case []any:
			if len(x) == 0 {
				b.WriteString(pad + "- []\n")
				continue
			}
			writeList(&sub, x, indent+2)
		case flow:
			sub.WriteString(pad + "  ")
			writeValue(&sub, x, indent+2)
			b.WriteString(pad + "-" + strings.TrimPrefix(sub.String(), pad+"  "))
			continue
		default:
			b.WriteString(pad + "- " + scalar(x) + "\n")
			continue
		}
		b.WriteString(pad + "- " + strings.TrimPrefix(sub.String(), pad+"  "))
	}
}

// inlineMap writes a one-member mapping with a scalar value on one line,
// {Ref: Name}, when neither side holds a plain ':' (which older YAML 1.1
// parsers refuse inside flow collections).
func inlineMap(m omap) (string, bool) {
	if len(m) != 1 || m[0].k == "" {
		return "", false
	}
	switch m[0].v.(type) {
	case string, int, bool:
	default:
		return "", false
	}
	k, v := yamlScalar(m[0].k), scalar(m[0].v)
	for _, s := range []string{k, v} {
		if !strings.HasPrefix(s, `"`) && strings.Contains(s, ":") {
			return "", false
		}
	}
	return "{" + k + ": " + v + "}", true
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return yamlScalar(v)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	default:
		panic(fmt.Sprintf("gen: no YAML form for %T", v))
	}
}

// plainSafe matches strings that read back as the same string when written
// plain: no YAML indicators, no spaces, not starting with a digit or a sign.
var plainSafe = regexp.MustCompile(`^[A-Za-z_/$.][A-Za-z0-9_./$:-]*$`)

// yamlWords are plain scalars YAML 1.1 or 1.2 reads as something else.
var yamlWords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "~": true,
	".inf": true, ".nan": true,
}

// yamlScalar writes s plain when that is unambiguous, else double-quoted
// (a JSON string is a valid YAML double-quoted scalar).
func yamlScalar(s string) string {
	if plainSafe.MatchString(s) && !strings.HasSuffix(s, ":") && !yamlWords[strings.ToLower(s)] {
		return s
	}
	q, _ := jsonText(s)
	return string(q)
}

// catalogParams are the SAM parameters of the catalog functions' own
// configuration, one per variable, secrets as references.
func catalogParams(actions []deployAction, refParam func(string) omap) omap {
	seen := map[string]catalog.EnvVar{}
	for _, a := range actions {
		for _, e := range a.ownEnv() {
			seen[envParam(e)] = e
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	params := omap{}
	for _, n := range names {
		e := seen[n]
		if e.Secret {
			// The catalogs' examples are Tencent references (serverless.yml);
			// a SAM parameter accepts only the AWS forms.
			params = append(params, kv{n, refParam(e.Name + " as a reference, e.g. " + awsRefExample(e.Example) + " (empty: unset).")})
			continue
		}
		params = append(params, kv{n, omap{{"Type", "String"}, {"Default", ""}, {"Description", e.Name + ", e.g. " + e.Example + "."}}})
	}
	return params
}

// rolePolicies are a function role's inline policies: writing its own logs.
// A function that resumes work asynchronously also gets a policy of its own
// to invoke itself (see genSAM): inline here it would name the function's
// ARN from the role the function depends on, a cycle.
func rolePolicies(logsID string, stmt func([]any, any) omap) []any {
	return []any{omap{
		{"PolicyName", "logs"},
		{"PolicyDocument", omap{
			{"Version", "2012-10-17"},
			{"Statement", []any{stmt([]any{"logs:CreateLogStream", "logs:PutLogEvents"}, getAtt(logsID, "Arn"))}},
		}},
	}}
}
