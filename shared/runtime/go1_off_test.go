//go:build !idv_scfgo1 && !idv_lambda

package runtime

import (
	"context"
	"strings"
	"testing"
)

// Without the tag, a binary started under SCF's Go1 protocol says how to
// fix the deployment instead of failing obscurely.
func TestGo1NotLinkedExplains(t *testing.T) {
	err := RunMode(context.Background(), ModeSCFGo1, fakeHandler{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "idv_scfgo1") || !strings.Contains(err.Error(), "Custom Runtime") {
		t.Fatalf("err = %v", err)
	}
}
