package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/runtimes"
)

// TestFlowsFunctionOnSCF runs functions/all as serverless.yml's flows
// function (handler flows) under the SCF Custom Runtime protocol: the timer
// event its trigger delivers (events/scf-timer.json) runs the sweep; a
// timer without its argument fails as InvalidInput naming the trigger; the
// flows routes and every other action are served over its Function URL.
func TestFlowsFunctionOnSCF(t *testing.T) {
	bin := runtimes.Build(t, "./functions/all")
	target := runtimes.StartSCFCustom(t, bin, "IDV_SANDBOX_OPEN=true", "_HANDLER=flows")
	invoke := func(payload []byte) *runtimes.Outcome {
		t.Helper()
		o, err := target.Invoke(context.Background(), payload, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	events := eventFiles(t)

	o := invoke(events["scf-timer.json"])
	var report map[string]any
	if o.Failure != nil || json.Unmarshal(o.Payload, &report) != nil {
		t.Fatalf("the sweep timer: %+v %s", o.Failure, o.Payload)
	}
	for _, k := range []string{"flows", "finished", "deliveries", "delivered"} {
		if _, ok := report[k]; !ok {
			t.Errorf("the sweep's report %s lacks %q", o.Payload, k)
		}
	}

	empty := bytes.Replace(events["scf-timer.json"], []byte(`"{\"Action\":\"flows/sweep\"}"`), []byte(`""`), 1)
	if bytes.Equal(empty, events["scf-timer.json"]) {
		t.Fatal(`events/scf-timer.json has no Message {"Action":"flows/sweep"}`)
	}
	o = invoke(empty)
	if o.Failure == nil || o.Failure.Type != "InvalidInput" || !strings.Contains(o.Failure.Message, `timer trigger "flows-sweep" has no argument`) {
		t.Errorf("a timer without its argument: %+v %s", o.Failure, o.Payload)
	}

	// Over the Function URL: a flows route (a flow nobody started is not
	// found, by the flows contract, not an unknown route) and any action.
	url := events["scf-function-url.json"]
	ret := bytes.Replace(bytes.Replace(url, []byte(`"POST"`), []byte(`"GET"`), 1),
		[]byte("/v1/faceid/IdCardVerification"), []byte("/v1/flows/f_0000000000000000000000/return"), 1)
	o = invoke(ret)
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	// The browser's page, from the flows contract (an unknown route would
	// answer the FaceID envelope).
	if o.Failure != nil || json.Unmarshal(o.Payload, &resp) != nil || resp.StatusCode != 404 || !strings.Contains(resp.Body, "This verification link does not work") {
		t.Errorf("GET /v1/flows/<unknown>/return on the flows function: %+v %s", o.Failure, o.Payload)
	}
	other := bytes.Replace(url, []byte("/v1/faceid/IdCardVerification"), []byte("/v1/faceid/PhoneVerification"), 1)
	o = invoke(other)
	// The sample's body lacks Phone: PhoneVerification itself answers.
	status, r := resultOf(t, "PhoneVerification on the flows function", o.Payload)
	if e, _ := r["Error"].(map[string]any); status != 400 || e["Code"] != "MissingParameter" || !strings.Contains(e["Message"].(string), "Phone") {
		t.Errorf("PhoneVerification on the flows function (it serves every action, like all): %d %v", status, r)
	}
}

// TestFlowsFunctionOnLambda: the schedule's Input in template.yaml, which
// EventBridge sends as the event, runs the sweep in functions/all under the
// Lambda protocol (Lambda's _HANDLER is the template's Handler, bootstrap).
func TestFlowsFunctionOnLambda(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	events, _ := dig(sam, "Resources", flowsSAMID, "Properties", "Events").(ymap)
	var input string
	for _, ev := range events {
		input = asStr(dig(ev, "Properties", "Input"))
	}
	if input == "" {
		t.Fatalf("%s has no schedule Input", flowsSAMID)
	}
	target := runtimes.StartLambda(t, runtimes.Build(t, "./functions/all"), "IDV_SANDBOX_OPEN=true")
	o, err := target.Invoke(context.Background(), []byte(input), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var report map[string]any
	if o.Failure != nil || json.Unmarshal(o.Payload, &report) != nil || report["deliveries"] == nil {
		t.Errorf("the schedule's Input %s: %+v %s", input, o.Failure, o.Payload)
	}
}
