package dispatch

import (
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// A configuration error keeps its class and its message: they name the
// variable and the rule, and an operator needs them to fix the deployment.
func TestFailureOfConfig(t *testing.T) {
	err := errs.Configf("IDV_MODE", "IDV_MODE is not a mode: use sandbox or live")
	want := Failure{"ConfigurationError", "InvalidConfiguration: IDV_MODE is not a mode: use sandbox or live"}
	if got := FailureOf(err); got != want {
		t.Errorf("FailureOf = %+v, want %+v", got, want)
	}
	wrapped := errs.Wrap(err, errs.KindOf(err), "", "faceprint: %s", err.Message)
	if got := FailureOf(wrapped); got.Type != "ConfigurationError" || got.Message != "InvalidConfiguration: faceprint: IDV_MODE is not a mode: use sandbox or live" {
		t.Errorf("wrapped: %+v", got)
	}
	if got := string(want.JSON()); got != `{"errorType":"ConfigurationError","errorMessage":"InvalidConfiguration: IDV_MODE is not a mode: use sandbox or live"}` {
		t.Errorf("JSON %s", got)
	}
}
