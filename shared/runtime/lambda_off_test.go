//go:build idv_scf

package runtime

import (
	"context"
	"strings"
	"testing"
)

// An SCF build started as a Lambda function says what it is.
func TestSCFBuildDoesNotServeLambda(t *testing.T) {
	err := RunMode(context.Background(), ModeLambda, fakeHandler{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "idv_scf") {
		t.Fatalf("err = %v", err)
	}
}
