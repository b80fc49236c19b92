package gateway

import (
	"encoding/json"
	"testing"
)

// aux is a contract that serves the deployment, not a provider.
type aux struct{ *fakeContract }

func (aux) Auxiliary() bool { return true }

// An Auxiliary contract is routed and authenticated like any other but is
// neither a provider in /healthz nor a reason to merge the sandbox tables.
func TestAuxiliaryContractIsRoutedButNotAProvider(t *testing.T) {
	report := aux{newFake("report")}
	fx := newFixture(t, func(o *Options) { o.Contracts = append(o.Contracts, report) })
	wantStatus(t, fx.serve(post("/v1/report/Echo", `{}`, "key-alice")), 200, "")
	if report.count() != 1 {
		t.Fatalf("the auxiliary contract was called %d times", report.count())
	}
	wantStatus(t, fx.serve(post("/v1/report/Echo", `{}`, "")), 401, "AuthFailure.SecretIdNotFound")
	var h map[string]any
	resp := fx.serve(get("/healthz", ""))
	if err := json.Unmarshal(resp.Body, &h); err != nil {
		t.Fatal(err)
	}
	if _, ok := h["providers"]; ok {
		t.Fatalf("healthz lists providers for one provider and one auxiliary contract: %s", resp.Body)
	}
	// Two providers and the auxiliary one: only the two are listed.
	fx = newFixture(t, func(o *Options) { o.Contracts = append(o.Contracts, newFake("other"), report) })
	resp = fx.serve(get("/healthz", ""))
	if err := json.Unmarshal(resp.Body, &h); err != nil {
		t.Fatal(err)
	}
	p, _ := h["providers"].(map[string]any)
	if len(p) != 2 || p["report"] != nil {
		t.Fatalf("providers %v", p)
	}
}
