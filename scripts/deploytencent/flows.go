package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/idverify/idverify/shared/flows"
)

// The flows' settings (serverless.yml's flows function and the functions
// that start flows).
const (
	varPublicURL = "IDV_PUBLIC_URL"
	varWebhooks  = flows.EnvWebhooks
	varRedis     = "IDV_REDIS_URL_REF"
	varStoreKey  = "IDV_STORE_KEY_REF"
)

// checkFlows adds the flows' rules to r. Flows are on when browsers are
// sent back to the flows function (IDV_PUBLIC_URL) or webhooks are sent
// (IDV_WEBHOOKS): the flows function must then see every flow the start
// functions began, so the shared store is required (a flow kept in one
// function's memory is unknown to another), and its results, personal
// data, are sealed (IDV_STORE_KEY).
func checkFlows(p *plan, r *checkResult) {
	pub, pubIn := r.Values[varPublicURL]
	hooks, hooksIn := r.Values[varWebhooks]
	if !pubIn && !hooksIn {
		return // a file without flows
	}
	if pub != "" {
		if u, err := url.Parse(pub); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			r.Problems = append(r.Problems, varPublicURL+" must be the https URL of the flows function's Function URL (no query), such as https://1250000000-abcd1234ef.ap-guangzhou.tencentscf.com")
		}
	}
	if hooks != "" {
		eps, err := flows.ParseWebhooks(hooks, true)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		}
		for i, e := range eps {
			if msg := refProblem(e.Secret); msg != "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s[%d].secret: %s", varWebhooks, i, msg))
			}
		}
	}
	if pub == "" && hooks == "" {
		return
	}
	on := varPublicURL
	if pub == "" {
		on = varWebhooks
	}
	for _, v := range []string{varRedis, varStoreKey} {
		if val, ok := r.Values[v]; ok && val == "" {
			why := "the flows function must see the flows the start functions began: without the shared store each keeps its own in memory"
			if v == varStoreKey {
				why = "flows keep the providers' results (personal data) in Redis: they must be sealed"
			}
			r.Problems = append(r.Problems, fmt.Sprintf("%s is set, so flows are on, and %s is empty: %s; set %s, or leave %s and %s empty", on, v, why, v, varPublicURL, varWebhooks))
		}
	}
}

// webhookRefs are IDV_WEBHOOKS' secret references under the names the
// flows function resolves them by, for idvsecrets check.
func webhookRefs(res checkResult) []string {
	eps, err := flows.ParseWebhooks(res.Values[varWebhooks], true)
	if err != nil {
		return nil
	}
	var out []string
	for i, e := range eps {
		out = append(out, fmt.Sprintf("IDV_WEBHOOKS_%d_SECRET=%s", i, e.Secret))
	}
	return out
}

// flowsSummary is the dry run's account of the flows: what is on, and what
// the operator does after the first deploy.
func flowsSummary(res checkResult) string {
	var b strings.Builder
	b.WriteString("Flows: the flows function (idverify-flows, functions/all) serves GET /v1/flows/<id>/return (public), GET /v1/flows/<id>\n")
	b.WriteString("       and the webhook routes at its Function URL; its timer invokes it every minute with {\"Action\":\"flows/sweep\"}.\n")
	b.WriteString("       Flows need IDV_REDIS_URL_REF and IDV_STORE_KEY_REF (required once IDV_PUBLIC_URL or IDV_WEBHOOKS is set).\n")
	if res.Values[varPublicURL] == "" {
		b.WriteString("       IDV_PUBLIC_URL is empty: after this first deploy, set it to the flows function's Function URL\n")
		b.WriteString("       (SCF console: idverify-flows, trigger \"url\") and deploy again; until then the flow-start functions\n")
		b.WriteString("       leave the caller's RedirectUrl alone and flows end by the sweep and the result route.")
	} else {
		b.WriteString("       Browsers come back to " + strings.TrimRight(res.Values[varPublicURL], "/") + "/v1/flows/<id>/return.")
	}
	return b.String()
}
