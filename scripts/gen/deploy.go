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
	mediaMax int // largest base64 media field in bytes, 0 when none

	// Catalog (non-FaceID) functions only.
	route    string           // the HTTP path; FaceID actions use /v1/faceid/<name>
	desc     string           // one line
	env      []catalog.EnvVar // their own configuration
	timeoutS int
	async    bool // invokes itself asynchronously (needs a fixed name and the right to)
}

// selfName is the fixed name of a function that invokes itself, so its role
// can be granted exactly that function without a reference cycle.
func (a deployAction) selfName() string { return "${AWS::StackName}-" + a.fn }

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
		out = append(out, deployAction{name: camel(f.Name), fn: f.Name, route: f.Path, desc: f.Description, env: f.Env, timeoutS: f.TimeoutSeconds, async: f.Async})
	}
	return out
}

func (a deployAction) memory() int {
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
	if a.route != "" {
		return fmt.Sprintf("%s (POST %s)", a.desc, a.route)
	}
	d := fmt.Sprintf("FaceID %s (POST /v1/faceid/%s); Tencent default limit %d QPS", a.name, a.name, a.qps)
	if a.mediaMax > 0 {
		d += fmt.Sprintf("; base64 media up to %d MiB", a.mediaMax>>20)
	}
	return d
}

func deployActions(s *spec) []deployAction {
	out := make([]deployAction, 0, len(s.Actions))
	for _, a := range s.Actions {
		d := deployAction{name: a.Action, fn: kebab(a.Action), qps: a.Gateway.QPS}
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
	src["template.yaml"] = genSAM(all)
	src["serverless.yml"] = genServerless(all)
	src["serverless.asw.json"] = genASW()
}

// ---------------------------------------------------------------------------
// AWS SAM

func logicalID(action, suffix string) string { return action + suffix }

func ref(name string) omap { return omap{{"Ref", name}} }

func getAtt(resource, attr string) omap {
	return omap{{"Fn::GetAtt", flow{resource, attr}}}
}

func sub(s string) omap { return omap{{"Fn::Sub", s}} }

func ifCond(cond string, then, els any) omap {
	return omap{{"Fn::If", []any{cond, then, els}}}
}

var noValue = ref("AWS::NoValue")

const samHeader = `# Code generated by scripts/gen from shared/faceid/spec/faceid-2018-03-01.json. DO NOT EDIT.
# Regenerate with scripts/generate.sh (the generator is scripts/gen/deploy.go);
# tests/deploy_test.go checks this file against the action registry.
#
# AWS SAM: one Lambda function per FaceID action (provided.al2023, arm64, the
# binary is "bootstrap"), each with its own IAM role and log group, all behind
# one HTTP API as POST /v1/faceid/<Action>; and a sample KYC state machine that
# invokes three of the functions directly.
#
# Build, then deploy (do not run "sam build": CodeUri names the zips that
# scripts/build.sh writes, and "sam deploy" uploads them as they are):
#
#   scripts/build.sh --platform lambda --arch arm64   # dist/lambda/arm64/<function>.zip
#   sam deploy --guided                               # first time; answers go to samconfig.toml
#   sam deploy                                        # afterwards
#
# Secrets are never in this file or in the stack parameters. TencentSecretIdRef,
# TencentSecretKeyRef and CallersRef accept only references, resolved by the
# function at cold start: awssm:<secret arn>, awsssm:<parameter name> (a
# SecureString) or awskms:<base64 ciphertext>, with "#SecretId"-style suffixes to
# pick one field of a JSON secret (see shared/secrets). Grant the functions read
# access to exactly what the references name with SecretsManagerSecretArn,
# SsmParameterPath and KmsKeyArn; leave those empty that you do not use.
#
# Each function's role may write only to its own log group and read only those
# secrets. The HTTP API throttles each route at Tencent's default QPS for the
# action, so requests Tencent would refuse anyway are turned away before a
# function runs. Synchronous Lambda payloads are capped at 6 MB, below some
# documented FaceID media limits (7-10 MiB of base64).
`

func genSAM(actions []deployAction) string {
	refPattern := `^((` + strings.Join(trimColons(awsRefPrefixes), "|") + `):\S+)?$`
	refParam := func(desc string) omap {
		return omap{
			{"Type", "String"},
			{"NoEcho", true},
			{"AllowedPattern", refPattern},
			{"ConstraintDescription", "must be a reference (awssm:<secret arn>, awsssm:<parameter name>, awskms:<ciphertext>) or empty, never the secret itself"},
			{"Description", desc},
		}
	}
	params := omap{
		{"Environment", omap{
			{"Type", "String"},
			{"Default", "production"},
			{"AllowedValues", flow{"production", "development"}},
			{"Description", "IDV_ENV. In production the sandbox is never chosen silently: missing provider keys stop the function at start."},
		}},
		{"Mode", omap{
			{"Type", "String"},
			{"Default", "live"},
			{"AllowedValues", flow{"live", "sandbox"}},
			{"Description", "IDV_MODE: live calls Tencent FaceID (billed); sandbox answers emulated results and calls nothing."},
		}},
		{"LogLevel", omap{
			{"Type", "String"},
			{"Default", "info"},
			{"AllowedValues", flow{"debug", "info", "warn", "error"}},
			{"Description", "IDV_LOG_LEVEL."},
		}},
		{"TencentRegion", omap{
			{"Type", "String"},
			{"Default", "ap-guangzhou"},
			{"Description", "TENCENTCLOUD_REGION: the FaceID API region."},
		}},
		{"TencentSecretIdRef", refParam("TENCENTCLOUD_SECRET_ID as a reference to where the FaceID SecretId is kept.")},
		{"TencentSecretKeyRef", refParam("TENCENTCLOUD_SECRET_KEY as a reference to where the FaceID SecretKey is kept.")},
		{"CallersRef", refParam("IDV_CALLERS as a reference to where the caller definitions (JSON, with the callers' keys) are kept.")},
		{"RedisUrlRef", refParam("IDV_REDIS_URL as a reference to the redis:// or rediss:// URL of the store shared by every instance (rate limits, idempotency, provider tokens, async jobs); empty: per instance.")},
		{"StoreKeyRef", refParam("IDV_STORE_KEY as a reference to 32 random bytes (base64) sealing the personal data kept in Redis (idempotent answers, async faceAdv jobs).")},
		{"SecretsManagerSecretArn", omap{
			{"Type", "String"},
			{"Default", ""},
			{"Description", "Secrets Manager secret(s) the awssm: references name, e.g. arn:aws:secretsmanager:REGION:ACCOUNT:secret:idverify/* (empty: no Secrets Manager access)."},
		}},
		{"SsmParameterPath", omap{
			{"Type", "String"},
			{"Default", ""},
			{"AllowedPattern", `^([A-Za-z0-9_.\-/]+\*?)?$`},
			{"Description", "SSM parameter name or path the awsssm: references name, without the leading slash, e.g. idverify/* (empty: no SSM access)."},
		}},
		{"KmsKeyArn", omap{
			{"Type", "String"},
			{"Default", ""},
			{"Description", "KMS key ARN for kms:Decrypt: the key of the awskms: ciphertexts, or the customer-managed key of the secrets or SecureString parameters (empty: no KMS access; AWS-managed keys need none)."},
		}},
		{"LogRetentionInDays", omap{
			{"Type", "Number"},
			{"Default", 30},
			{"AllowedValues", flow{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}},
			{"Description", "How long each function's log group keeps events."},
		}},
	}

	// The catalog functions' own parameters go before LogRetentionInDays.
	last := params[len(params)-1]
	params = append(append(params[:len(params)-1:len(params)-1], catalogParams(actions, refParam)...), last)

	notEmpty := func(p string) omap {
		return omap{{"Fn::Not", []any{omap{{"Fn::Equals", []any{ref(p), ""}}}}}}
	}
	conditions := omap{
		{"HasSecretsManager", notEmpty("SecretsManagerSecretArn")},
		{"HasSsm", notEmpty("SsmParameterPath")},
		{"HasKms", notEmpty("KmsKeyArn")},
		{"HasSecretAccess", omap{{"Fn::Or", []any{
			omap{{"Condition", "HasSecretsManager"}},
			omap{{"Condition", "HasSsm"}},
			omap{{"Condition", "HasKms"}},
		}}}},
	}

	globals := omap{{"Function", omap{
		{"Runtime", "provided.al2023"},
		{"Architectures", flow{lambdaArch}},
		{"Handler", "bootstrap"},
		{"MemorySize", memoryDefault},
		{"Timeout", timeoutDefault},
		{"Environment", omap{{"Variables", omap{
			{"IDV_ENV", ref("Environment")},
			{"IDV_MODE", ref("Mode")},
			{"IDV_LOG_LEVEL", ref("LogLevel")},
			{"TENCENTCLOUD_REGION", ref("TencentRegion")},
			{"TENCENTCLOUD_SECRET_ID", ref("TencentSecretIdRef")},
			{"TENCENTCLOUD_SECRET_KEY", ref("TencentSecretKeyRef")},
			{"IDV_CALLERS", ref("CallersRef")},
			{"IDV_REDIS_URL", ref("RedisUrlRef")},
			{"IDV_STORE_KEY", ref("StoreKeyRef")},
		}}}},
	}}}

	stmt := func(actions []any, resource any) omap {
		return omap{{"Effect", "Allow"}, {"Action", actions}, {"Resource", resource}}
	}
	resources := omap{
		{"HttpApi", omap{
			{"Type", "AWS::Serverless::HttpApi"},
			{"Properties", omap{
				{"Description", "idverify: POST /v1/faceid/<Action>, one route per function"},
				{"FailOnWarnings", true},
			}},
		}},
		note("Read access to the secrets the references name, shared by every function role."),
		{"SecretsReadPolicy", omap{
			{"Type", "AWS::IAM::ManagedPolicy"},
			{"Condition", "HasSecretAccess"},
			{"Properties", omap{
				{"Description", "idverify functions: read the secrets their configuration references name"},
				{"PolicyDocument", omap{
					{"Version", "2012-10-17"},
					{"Statement", []any{
						ifCond("HasSecretsManager",
							stmt([]any{"secretsmanager:GetSecretValue"}, ref("SecretsManagerSecretArn")), noValue),
						ifCond("HasSsm",
							stmt([]any{"ssm:GetParameter"}, sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${SsmParameterPath}")), noValue),
						ifCond("HasKms",
							stmt([]any{"kms:Decrypt"}, ref("KmsKeyArn")), noValue),
					}},
				}},
			}},
		}},
	}
	for _, a := range actions {
		fnID, roleID, logsID := logicalID(a.name, "Function"), logicalID(a.name, "Role"), logicalID(a.name, "Logs")
		resources = append(resources,
			note(fmt.Sprintf("%s: functions/%s", a.name, a.fn)),
			kv{logsID, omap{
				{"Type", "AWS::Logs::LogGroup"},
				{"Properties", omap{
					{"LogGroupName", sub("/idverify/${AWS::StackName}/" + a.fn)},
					{"RetentionInDays", ref("LogRetentionInDays")},
				}},
			}},
			kv{roleID, omap{
				{"Type", "AWS::IAM::Role"},
				{"Properties", omap{
					{"Description", "idverify " + a.fn + ": write its own logs, read the configured secrets"},
					{"AssumeRolePolicyDocument", omap{
						{"Version", "2012-10-17"},
						{"Statement", []any{omap{
							{"Effect", "Allow"},
							{"Principal", omap{{"Service", "lambda.amazonaws.com"}}},
							{"Action", "sts:AssumeRole"},
						}}},
					}},
					{"ManagedPolicyArns", []any{ifCond("HasSecretAccess", ref("SecretsReadPolicy"), noValue)}},
					{"Policies", rolePolicies(a, logsID, stmt)},
				}},
			}},
		)
		props := omap{
			{"Description", a.description()},
			{"CodeUri", "dist/lambda/" + lambdaArch + "/" + a.fn + ".zip"},
			{"Role", getAtt(roleID, "Arn")},
			{"LoggingConfig", omap{{"LogGroup", ref(logsID)}}},
		}
		if a.memory() != memoryDefault {
			props = append(props, kv{"MemorySize", a.memory()})
		}
		if a.timeout() != timeoutDefault {
			props = append(props, kv{"Timeout", a.timeout()})
		}
		if a.async {
			props = append(props, kv{"FunctionName", sub(a.selfName())})
		}
		if own := a.ownEnv(); len(own) > 0 {
			vars := omap{}
			for _, e := range own {
				vars = append(vars, kv{e.Name, ref(envParam(e))})
			}
			props = append(props, kv{"Environment", omap{{"Variables", vars}}})
		}
		route := omap{
			{"ApiId", ref("HttpApi")},
			{"Method", "POST"},
			{"Path", a.path()},
			{"PayloadFormatVersion", "2.0"},
		}
		if a.qps > 0 { // an unknown limit is no limit, not zero
			route = append(route, kv{"RouteSettings", omap{
				{"ThrottlingRateLimit", a.qps},
				{"ThrottlingBurstLimit", a.qps},
			}})
		}
		props = append(props, kv{"Events", omap{{"Http", omap{
			{"Type", "HttpApi"},
			{"Properties", route},
		}}}})
		resources = append(resources, kv{fnID, omap{
			{"Type", "AWS::Serverless::Function"},
			{"Properties", props},
		}})
	}

	// The state machine: the optimized Lambda integration, the function ARN
	// through DefinitionSubstitutions, and an invoke right on exactly the
	// functions it calls.
	subs := omap{}
	var invokable []any
	for _, st := range kycFlow {
		subs = append(subs, kv{st.action + "Arn", getAtt(logicalID(st.action, "Function"), "Arn")})
		invokable = append(invokable, getAtt(logicalID(st.action, "Function"), "Arn"))
	}
	resources = append(resources,
		note("Sample KYC workflow: IdCardVerification, then PhoneVerification, then DetectAuth."),
		note("Start it with {\"IdCard\": ..., \"Name\": ..., \"Phone\": ..., \"RuleId\": ...}; it ends with DetectAuth's Url and BizToken."),
		note("Retries: Throttled (refused, never billed) up to 3 more times; UpstreamUnavailable once more, safely:"),
		note("each step sends IdempotencyKey <execution name>/<Action>, so a call that may have been billed answers its"),
		note("stored failure again instead of calling Tencent twice. InvalidInput and ProviderError end the run; so does"),
		note("a Result other than \"0\"."),
		kv{"KycStateMachine", omap{
			{"Type", "AWS::Serverless::StateMachine"},
			{"Properties", omap{
				{"Type", "STANDARD"},
				{"Definition", kycDefinition(awsTask)},
				{"DefinitionSubstitutions", subs},
				{"Policies", []any{omap{
					{"Version", "2012-10-17"},
					{"Statement", []any{stmt([]any{"lambda:InvokeFunction"}, invokable)}},
				}}},
			}},
		}},
	)

	outputs := omap{
		{"HttpApiUrl", omap{
			{"Description", "Base URL: POST <url>v1/faceid/<Action>"},
			{"Value", sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")},
		}},
		{"KycStateMachineArn", omap{
			{"Description", "The sample KYC state machine"},
			{"Value", ref("KycStateMachine")},
		}},
	}

	doc := omap{
		{"AWSTemplateFormatVersion", "2010-09-09"},
		{"Transform", "AWS::Serverless-2016-10-31"},
		{"Description", fmt.Sprintf("idverify: %d Tencent FaceID actions as Lambda functions behind an HTTP API, and a sample KYC state machine", len(actions))},
		{"Parameters", params},
		{"Conditions", conditions},
		{"Globals", globals},
		{"Resources", resources},
		{"Outputs", outputs},
	}
	return samHeader + "\n" + yamlDoc(doc)
}

func trimColons(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.TrimSuffix(p, ":")
	}
	return out
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
			{"Resource", "arn:aws:states:::lambda:invoke"},
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

// ---------------------------------------------------------------------------
// Tencent Serverless Cloud Framework and ASW

const serverlessHeader = `# Code generated by scripts/gen from shared/faceid/spec/faceid-2018-03-01.json. DO NOT EDIT.
# Regenerate with scripts/generate.sh (the generator is scripts/gen/deploy.go);
# tests/deploy_test.go checks this file against the action registry.
#
# Tencent Serverless Cloud Framework (npm i -g serverless-cloud-framework; CLI
# "scf" 1.2.0 or later): one SCF function per FaceID action, each with a
# Function URL. Build, then deploy from this directory:
#
#   scripts/build.sh --platform scf   # dist/scf/event/<function>/bootstrap (linux/amd64)
#   scf deploy
#
# Component. "multi-scf" is the component that describes several functions in
# one file; "scf" describes exactly one, so it would take one directory and
# serverless.yml per function. Each function here takes its own code directory
# (functions.<key>.src, relative to inputs.src), so no function carries the
# others' binaries. The Function URL is a trigger of type "http" with the same
# parameters as the scf component's "events: - http:" form (qualifier, authType,
# netConfig). multi-scf creates every trigger through tencent-component-toolkit,
# which has the http (Function URL) trigger since 2.27 (2024-06); the multi-scf
# documentation predates it, so check the URL after the first deploy. Tencent's
# API Gateway trigger is retired: do not add an apigw trigger.
#
# Runtime flavour: event functions on the Custom Runtime ("runtime:
# CustomRuntime", zip with an executable "bootstrap" at the root, linux/amd64).
# One binary then serves both callers: the Function URL (HTTP requests arrive as
# events) and ASW workflows or the Invoke API (the FaceID request is the event,
# and errors carry the stable type names the workflow matches). A Web function
# (type: web) would serve only HTTP. scripts/build.sh also writes Web-function
# packages (dist/scf/web/<function>: scf_bootstrap starts the binary with
# IDV_RUNTIME=scf-web on port 9000) for those who want HTTP only: set
# "type: web", "src: ./dist/scf/web" and "handler: scf_bootstrap".
#
# Caller authentication is done by the function itself (IDV_CALLERS), so the
# Function URL uses authType NONE.
#
# Secrets. SCF has no encrypted environment variables, so sensitive variables
# hold references the function resolves at cold start with the role's
# credentials: tckms:<base64 KMS ciphertext> or tcssm:<Secrets Manager secret
# name>. They come from the shell or a .env file beside this one (never
# committed; it is outside inputs.src, so never uploaded):
#
#   TENCENTCLOUD_SECRET_ID_REF='tcssm:idverify-faceid?version=v1#SecretId'
#   TENCENTCLOUD_SECRET_KEY_REF='tcssm:idverify-faceid?version=v1#SecretKey'
#   IDV_CALLERS_REF='tcssm:idverify-callers?version=v1'
# (tcssm needs the secret version; "#Field" picks one field of a JSON secret.)
#
# Execution role "idverify-scf" (create it once in CAM: role entity "cloud
# function" scf.qcloud.com). SCF gives the function its temporary credentials
# (TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN).
# It needs read access to exactly what the references name, nothing more:
#   tcssm:  ssm:GetSecretValue on the secrets  (preset QcloudSSMReadOnlyAccess is broader)
#   tckms:  kms:Decrypt on the key             (preset QcloudKMSReadOnlyAccess-style policies are broader)
# for example this custom policy (resource forms as in the CAM docs of SSM and KMS):
#   {"version": "2.0", "statement": [
#     {"effect": "allow", "action": ["ssm:GetSecretValue"],
#      "resource": ["qcs::ssm:ap-guangzhou:uin/<uin>:secret/creatorUin/<uin>/idverify-*"]},
#     {"effect": "allow", "action": ["kms:Decrypt"],
#      "resource": ["qcs::kms:ap-guangzhou:uin/<uin>:key/creatorUin/<uin>/<key-id>"]}]}
# If FaceID is to be called with the role's own credentials instead of a key
# pair, leave the two key references empty and also allow the faceid actions.
#
# The ASW workflow for the same KYC flow is serverless.asw.json (see its
# Comment). Function URL and synchronous invocations carry at most 6 MB, below
# some documented FaceID media limits (7-10 MiB of base64).
`

func genServerless(actions []deployAction) string {
	env := []any{
		omap{{"key", "IDV_ENV"}, {"value", "production"}},
		omap{{"key", "IDV_MODE"}, {"value", "live"}},
		omap{{"key", "IDV_LOG_LEVEL"}, {"value", "info"}},
		omap{{"key", "TENCENTCLOUD_REGION"}, {"value", "ap-guangzhou"}},
		omap{{"key", "TENCENTCLOUD_SECRET_ID"}, {"value", "${env:TENCENTCLOUD_SECRET_ID_REF}"}},
		omap{{"key", "TENCENTCLOUD_SECRET_KEY"}, {"value", "${env:TENCENTCLOUD_SECRET_KEY_REF}"}},
		omap{{"key", "IDV_CALLERS"}, {"value", "${env:IDV_CALLERS_REF}"}},
		omap{{"key", "IDV_REDIS_URL"}, {"value", "${env:IDV_REDIS_URL_REF}"}},
		omap{{"key", "IDV_STORE_KEY"}, {"value", "${env:IDV_STORE_KEY_REF}"}},
	}
	functions := omap{}
	var triggers []any
	for _, a := range actions {
		fn := omap{
			{"name", scfPrefix + a.fn},
			{"src", "./" + a.fn},
			{"handler", "bootstrap"},
			{"description", a.description()},
		}
		if a.memory() != memoryDefault {
			fn = append(fn, kv{"memorySize", a.memory()})
		}
		if a.timeout() != timeoutDefault {
			fn = append(fn, kv{"timeout", a.timeout()})
		}
		if own := a.ownEnv(); len(own) > 0 {
			// The whole list: whether a function's environments replace
			// or extend the inputs' is not documented for multi-scf.
			fenv := append([]any{}, env...)
			for _, e := range own {
				v := "${env:" + e.Name + "}"
				if e.Secret {
					v = "${env:" + e.Name + "_REF}"
				}
				fenv = append(fenv, omap{{"key", e.Name}, {"value", v}})
			}
			fn = append(fn, kv{"environments", fenv})
		}
		functions = append(functions, kv{a.fn, fn})
		triggers = append(triggers, omap{
			{"type", "http"},
			{"function", a.fn},
			{"parameters", omap{
				{"name", "url"},
				{"qualifier", "$DEFAULT"},
				{"authType", "NONE"},
				{"netConfig", omap{{"enableIntranet", false}, {"enableExtranet", true}}},
			}},
		})
	}
	doc := omap{
		{"app", "idverify"},
		{"stage", "prod"},
		{"component", "multi-scf"},
		{"name", "idverify"},
		{"inputs", omap{
			{"src", omap{{"src", "./dist/scf/event"}}},
			{"region", "ap-guangzhou"},
			{"namespace", "default"},
			{"type", "event"},
			{"runtime", "CustomRuntime"},
			{"role", scfRole},
			{"memorySize", memoryDefault},
			{"timeout", timeoutDefault},
			note("Secrets are resolved at start: leave time for the KMS/SSM calls."),
			{"initTimeout", 10},
			note("Sensitive values are references only (see the header)."),
			{"environments", env},
			{"functions", functions},
			note("One Function URL per function; callers are authenticated by the function (IDV_CALLERS)."),
			{"triggers", triggers},
		}},
	}
	return serverlessHeader + "\n" + yamlDoc(doc)
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
			params = append(params, kv{n, refParam(e.Name + " as a reference (e.g. " + e.Example + ").")})
			continue
		}
		params = append(params, kv{n, omap{{"Type", "String"}, {"Default", ""}, {"Description", e.Name + ", e.g. " + e.Example + "."}}})
	}
	return params
}

// rolePolicies are a function role's inline policies: writing its own logs,
// and for a function that resumes work asynchronously, invoking itself.
func rolePolicies(a deployAction, logsID string, stmt func([]any, any) omap) []any {
	out := []any{omap{
		{"PolicyName", "logs"},
		{"PolicyDocument", omap{
			{"Version", "2012-10-17"},
			{"Statement", []any{stmt([]any{"logs:CreateLogStream", "logs:PutLogEvents"}, getAtt(logsID, "Arn"))}},
		}},
	}}
	if a.async {
		out = append(out, omap{
			{"PolicyName", "self-invoke"},
			{"PolicyDocument", omap{
				{"Version", "2012-10-17"},
				{"Statement", []any{stmt([]any{"lambda:InvokeFunction"},
					sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"+a.selfName()))}},
			}},
		})
	}
	return out
}
