//go:build idv_lambda

package runtime

import (
	"context"
	"strings"
	"testing"
)

// A Lambda build asked to serve anything but the Runtime API says what it
// is instead of failing obscurely.
func TestLambdaBuildServesOnlyLambda(t *testing.T) {
	for _, m := range []Mode{ModeLocal, ModeSCFCustom, ModeSCFWeb, ModeSCFGo1} {
		err := RunMode(context.Background(), m, fakeHandler{}, Options{})
		if err == nil || !strings.Contains(err.Error(), "idv_lambda") || !strings.Contains(err.Error(), "go run ./functions") {
			t.Fatalf("%s: err = %v", m, err)
		}
	}
	if !LambdaOnly {
		t.Fatal("LambdaOnly is false in an idv_lambda build")
	}
}
