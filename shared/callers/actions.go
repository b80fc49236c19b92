package callers

import (
	"slices"

	"github.com/idverify/idverify/shared/faceid"
)

// AllActions is the action pattern that allows every action.
const AllActions = "*"

// FaceAdvActions are the seed-002 enhanced face verification actions.
var FaceAdvActions = []string{"faceAdv", "faceAdvResult"}

// BaiduActions are the eight Baidu H5 face real-name endpoints, named by
// their path under /rpc/2.0/brain/solution/faceprint/ without that prefix.
var BaiduActions = []string{
	"faceprint/verifyToken/generate",
	"faceprint/idcard/submit",
	"faceprint/uploadMatchImage",
	"faceprint/result/simple",
	"faceprint/result/detail",
	"faceprint/result/stat",
	"faceprint/result/media/query",
	"faceprint/result/getall",
}

// KnownActions lists every action name a caller may be allowed, sorted:
// the FaceID registry, the enhanced face pair and the Baidu endpoints. It
// is the one list both IDV_CALLERS validation and scripts/idvcaller use, so
// a typo in a caller's actions fails at start instead of silently
// forbidding the action it meant.
func KnownActions() []string {
	out := make([]string, 0, 48)
	for _, a := range faceid.All() {
		out = append(out, a.Name)
	}
	out = append(out, FaceAdvActions...)
	out = append(out, BaiduActions...)
	slices.Sort(out)
	return out
}

// Permissions are what a caller may be allowed that is not a provider
// action: "usage" reads the usage report of every caller (GET /v1/usage).
// "*" does not grant them: each must be listed.
var Permissions = []string{"usage"}

// KnownAction reports whether name is an action a caller may be allowed
// (AllActions and Permissions included).
func KnownAction(name string) bool {
	if name == AllActions || slices.Contains(FaceAdvActions, name) || slices.Contains(BaiduActions, name) || slices.Contains(Permissions, name) {
		return true
	}
	_, ok := faceid.Lookup(name)
	return ok
}
