package main

import (
	"strings"

	"github.com/idverify/idverify/shared/flows"
)

// The flows function of the deploy files. Flows start in the functions of
// their first actions (DetectAuth, GetEidToken, GetFaceIdToken, faceAdv,
// verifyToken/generate: flows.Starts), which send the browser back to
// <IDV_PUBLIC_URL>/v1/flows/<id>/return. That route, the result route, the
// webhook routes and the sweep pull results through the pipeline, so they
// need every pull action (GetDetectInfoEnhanced, GetEidResult,
// GetFaceIdResult, faceAdvResult, result/getall): one function running
// functions/all, reached by its own Function URL (the return route is
// public; every other route authenticates its caller), and invoked every
// minute with {"Action":"flows/sweep"}: on Lambda and SCF nothing may rely
// on a goroutine outliving an invocation, so the schedule moves open flows
// and due webhook deliveries along.
const (
	flowsKey = "flows" // the SCF function key and handler; the SAM logical ids are Flows*
	// flowsFolder is what the flows function runs: functions/all.
	flowsFolder = "all"
	// flowsSweep is the scheduled invocation's payload.
	flowsSweep = `{"Action":"` + flows.ActionSweep + `"}`
	// flowsScheduleAWS and flowsCronSCF are "every minute": EventBridge
	// Scheduler's rate expression, and SCF's seven-field cron (second
	// minute hour day month weekday year).
	flowsScheduleAWS = "rate(1 minute)"
	flowsCronSCF     = "0 */1 * * * * *"
	// A sweep handles up to 50 open flows and 100 deliveries within its
	// deadline; a browser waits on the return route for one pull.
	flowsMemory  = 256
	flowsTimeout = 60
	// The SCF timer trigger's name (1-100 letters, digits, - and _).
	flowsTimerName = "flows-sweep"
)

// Settings the flows add to the deploy files.
const (
	envPublicURL = "IDV_PUBLIC_URL"  // the flow-start functions: where browsers come back to
	envWebhooks  = flows.EnvWebhooks // the flow-start functions and the flows function
)

// flowsAction is the flows function as a deploy entry: functions/all with
// every catalog function's own settings (it serves their pull actions) and
// the right to invoke itself (faceAdv's async jobs resume that way).
func flowsAction(all []deployAction) deployAction {
	a := deployAction{
		name:     "Flows",
		fn:       flowsKey,
		folder:   flowsFolder,
		flows:    true,
		desc:     "Verification flows: the return, result and webhook routes under /v1/flows/ (Function URL), swept every minute",
		timeoutS: flowsTimeout,
		async:    true,
	}
	seen := map[string]bool{}
	for _, c := range all {
		for _, e := range c.ownEnv() {
			if !seen[e.Name] {
				seen[e.Name] = true
				a.env = append(a.env, e)
			}
		}
	}
	return a
}

// startsFlow says whether a function's action starts a flow: it gets
// IDV_PUBLIC_URL and IDV_WEBHOOKS.
func (a deployAction) startsFlow() bool { return a.action != "" && flows.Starts(a.action) }

// flowsLinked says whether a function gets IDV_WEBHOOKS: the flow starters
// and the flows function.
func (a deployAction) flowsLinked() bool { return a.flows || a.startsFlow() }

// codeFolder is the functions/ folder whose build a function deploys.
func (a deployAction) codeFolder() string {
	if a.folder != "" {
		return a.folder
	}
	return a.fn
}

// ---------------------------------------------------------------------------
// AWS SAM

// flowsCondition holds when the shared store is configured: only then do
// the flow-start functions send browsers to the flows function (a flow
// started in one function's memory is unknown to another).
const flowsCondition = "HasSharedStore"

// samFlowsParams are the flows' stack parameters.
func samFlowsParams() omap {
	return omap{{envParamName(envWebhooks), omap{
		{"Type", "String"},
		{"Default", ""},
		// A JSON array; its secrets are references (shared/flows refuses a
		// plain secret in production), never the secret itself.
		{"AllowedPattern", `^(\[.*\])?$`},
		{"ConstraintDescription", "must be a JSON array of {caller, url, secret} with each secret an awssm:/awsssm:/awskms: reference, or empty"},
		{"Description", envWebhooks + `: where the flows' signed webhooks go, a JSON array of {"caller", "url", "secret"}, each secret a reference such as awssm:idverify/webhook#secret (empty: no webhooks; flows still end by the return and result routes).`},
	}}}
}

// envParamName is the SAM parameter of a plain (not secret) variable.
func envParamName(v string) string {
	return camel(strings.ToLower(strings.ReplaceAll(v, "_", "-")))
}

// samFlowsEnv are a function's flows settings: IDV_WEBHOOKS for the flow
// starters and the flows function, IDV_PUBLIC_URL (the flows function's
// URL, with the shared store) for the starters. The flows function's own
// start actions leave redirects alone: its URL cannot name itself.
func samFlowsEnv(a deployAction) omap {
	var out omap
	if a.startsFlow() {
		out = append(out, kv{envPublicURL, ifCond(flowsCondition, getAtt(logicalID("Flows", "FunctionUrl"), "FunctionUrl"), "")})
	}
	if a.flowsLinked() {
		out = append(out, kv{envWebhooks, ref(envParamName(envWebhooks))})
	}
	return out
}

// samFlowsEvents are the flows function's URL and schedule.
func samFlowsEvents() omap {
	return omap{
		// Public: the browser comes back to the return route from the
		// provider's page; every other route authenticates its caller.
		{"FunctionUrlConfig", omap{{"AuthType", "NONE"}}},
		{"Events", omap{{"Sweep", omap{
			{"Type", "Schedule"},
			{"Properties", omap{
				{"Schedule", flowsScheduleAWS},
				{"Input", flowsSweep},
				{"Description", "idverify flows: pull open flows' results, expire them, send due webhooks"},
				{"State", "ENABLED"},
			}},
		}}}},
	}
}

// ---------------------------------------------------------------------------
// Tencent Serverless Cloud Framework

// scfFlowsEnv are a function's flows settings in serverless.yml. The flows
// function's Function URL exists only after the first deploy, so
// IDV_PUBLIC_URL is the operator's to fill in then (scripts/deploy-tencent
// says so); the flows function gets it too, for the start actions it also
// serves.
func scfFlowsEnv(a deployAction) []any {
	var out []any
	if a.startsFlow() || a.flows {
		out = append(out, omap{{"key", envPublicURL}, {"value", "${env:" + envPublicURL + "}"}})
	}
	if a.flowsLinked() {
		out = append(out, omap{{"key", envWebhooks}, {"value", "${env:" + envWebhooks + "}"}})
	}
	return out
}

// scfFlowsTimer is the flows function's schedule: a timer trigger whose
// argument arrives as the event's Message and is the direct invocation
// (shared/runtime/event TimerPayload). tencent-component-toolkit's
// triggers/timer.js creates it CLOSE unless enable is true.
func scfFlowsTimer(a deployAction) omap {
	return omap{
		{"type", "timer"},
		{"function", a.fn},
		{"parameters", omap{
			{"name", flowsTimerName},
			{"qualifier", "$DEFAULT"},
			{"cronExpression", flowsCronSCF},
			{"enable", true},
			{"argument", flowsSweep},
		}},
	}
}
