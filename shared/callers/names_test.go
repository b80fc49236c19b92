package callers_test

import (
	"slices"
	"testing"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/faceprint"
)

// The Baidu names callers may be allowed are the ones the faceprint
// handler asks about, so the two lists cannot drift apart.
func TestBaiduActionsMatchFaceprint(t *testing.T) {
	var served []string
	for _, e := range faceprint.Endpoints() {
		served = append(served, e.Action())
	}
	want := slices.Sorted(slices.Values(callers.BaiduActions))
	slices.Sort(served)
	if !slices.Equal(served, want) {
		t.Fatalf("faceprint serves %v, callers knows %v", served, want)
	}
}
