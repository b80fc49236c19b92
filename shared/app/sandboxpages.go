package app

import (
	"strings"

	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// SandboxPagesPath is where the sandbox's H5 pages are served
// (shared/sandboxh5), under PublicURL.
const SandboxPagesPath = "/sandbox/h5"

// SandboxFlows is the store the sandbox's browser flows share, one per
// process: the FaceID sandbox, the faceprint sandbox and the sandbox H5
// pages of functions/all see the same flows. In Redis (keys "idv:sbx:")
// when IDV_REDIS_URL is set, so separate functions (a DetectAuth function,
// the pages, a GetDetectInfoEnhanced function) agree.
func (e *Env) SandboxFlows() sandboxflow.Store {
	sh := &e.shared
	sh.flowsOnce.Do(func() {
		if e.Redis != nil {
			sh.flows = sandboxflow.NewRedis(e.Redis, "idv:sbx:")
		} else {
			sh.flows = sandboxflow.NewMemory(nil)
		}
	})
	return sh.flows
}

// SandboxPagesBase is the base of the sandbox H5 page URLs that DetectAuth,
// GetEidToken and Baidu's verifyToken/generate hand out:
// PublicURL + "/sandbox/h5". served says this process serves the pages
// (functions/all): then the local server's own address is used when
// IDV_PUBLIC_URL is unset. A one-action function serves no page, so it
// points there only when IDV_PUBLIC_URL names the function set's address.
// Otherwise "": the sandbox's https://sandbox.idverify.invalid, which
// nothing serves.
func (e *Env) SandboxPagesBase(served bool) string {
	if !served && strings.TrimSpace(e.Getenv(PublicURLVar)) == "" {
		return ""
	}
	pub, err := e.PublicURL()
	if err != nil || pub == "" {
		return ""
	}
	return pub + SandboxPagesPath
}

// sandboxOptions are the FaceID sandbox's options in this function.
func (e *Env) sandboxOptions(pagesHere bool) sandbox.Options {
	return sandbox.Options{URLBase: e.SandboxPagesBase(pagesHere), Flows: e.SandboxFlows()}
}
