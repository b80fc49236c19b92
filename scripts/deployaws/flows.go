package main

import (
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/flows"
	"github.com/idverify/idverify/shared/secrets"
)

// Parameters of the flows' rules; a test checks the template has them.
const (
	pWebhooks = "IdvWebhooks"
	pRedis    = "RedisUrlRef"
	pStoreKey = "StoreKeyRef"
)

// checkFlows adds the flows' rules. template.yaml gives the flow-start
// functions the flows function's URL as IDV_PUBLIC_URL whenever the shared
// store is set (HasSharedStore), so with RedisUrlRef flows are on: their
// results, personal data, are kept in Redis and must be sealed
// (StoreKeyRef). Webhooks need the shared store too: the flows function's
// sweep sends them for flows other functions began. IDV_WEBHOOKS is read
// by the function's own rules; its secrets are AWS references the roles
// are granted.
func checkFlows(p *plan, r *checkResult, production bool) {
	if p.param(pWebhooks) == nil {
		return // a template without flows
	}
	get := func(n string) string { return r.Values[n].Value }
	varOf := func(n string) string {
		if pr := p.param(n); pr != nil {
			return pr.Var
		}
		return n
	}
	hooks := get(pWebhooks)
	if hooks != "" {
		eps, err := flows.ParseWebhooks(hooks, production)
		if err != nil {
			r.Problems = append(r.Problems, err.Error())
		}
		for i, e := range eps {
			if !secrets.IsRef(e.Secret) && !production {
				continue // a value outside production (the function's rule)
			}
			if msg := refProblem(e.Secret); msg != "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s[%d].secret %s", varOf(pWebhooks), i, msg))
				continue
			}
			scheme := secrets.SchemeOf(e.Secret)
			if grant := grants[scheme]; p.param(grant) != nil && get(grant) == "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s[%d].secret is an %s: reference but %s is empty: the functions' roles could not read it",
					varOf(pWebhooks), i, scheme, varOf(grant)))
			}
		}
		if get(pRedis) == "" {
			r.Problems = append(r.Problems, fmt.Sprintf("%s is set but %s is empty: webhooks are sent by the flows function for flows the start functions began, which it sees only through the shared store",
				varOf(pWebhooks), varOf(pRedis)))
		}
	}
	if production && get(pRedis) != "" && get(pStoreKey) == "" {
		r.Problems = append(r.Problems, fmt.Sprintf("%s is set, so flows are on (the start functions send browsers to the flows function), and %s is empty: flows keep the providers' results (personal data) in Redis, which must be sealed",
			varOf(pRedis), varOf(pStoreKey)))
	}
}

// webhookSecrets are IDV_WEBHOOKS' secret references, as written.
func webhookSecrets(raw string) []string {
	eps, err := flows.ParseWebhooks(raw, false)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range eps {
		if secrets.IsRef(e.Secret) {
			out = append(out, e.Secret)
		}
	}
	return out
}

// maskWebhooks shows IDV_WEBHOOKS with each secret as its kind only; a
// value that does not parse is not shown at all.
func maskWebhooks(raw string) string {
	if raw == "" {
		return ""
	}
	eps, err := flows.ParseWebhooks(raw, false)
	if err != nil {
		return "(not shown: it does not parse)"
	}
	out := raw
	for _, e := range eps {
		shown := "****"
		if s := secrets.SchemeOf(e.Secret); s != "" {
			shown = s + ":****"
		}
		out = strings.ReplaceAll(out, e.Secret, shown)
	}
	return out
}

// flowsSummary is the dry run's account of the flows: whether they are
// on, and what that needs.
func flowsSummary(p *plan, res checkResult) string {
	if p.param(pWebhooks) == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("flows: the flows function (functions/all) serves GET /v1/flows/<id>/return (public), GET /v1/flows/<id> and the\n")
	b.WriteString("       webhook routes at its own Function URL (stack output FlowsUrl), and runs every minute with {\"Action\":\"flows/sweep\"}.\n")
	if res.Values[pRedis].Value == "" {
		b.WriteString("       OFF: IDV_REDIS_URL_REF is empty, so the flow-start functions leave the caller's RedirectUrl alone\n")
		b.WriteString("       (IDV_PUBLIC_URL empty); set IDV_REDIS_URL_REF and IDV_STORE_KEY_REF to turn flows on.\n")
		return b.String()
	}
	b.WriteString("       ON: IDV_REDIS_URL_REF is set, so the flow-start functions send browsers to <FlowsUrl>v1/flows/<id>/return\n")
	b.WriteString("       (IDV_PUBLIC_URL); IDV_STORE_KEY_REF seals their results in Redis (required in production).\n")
	if n := len(webhookSecrets(res.Values[pWebhooks].Value)); res.Values[pWebhooks].Value != "" {
		fmt.Fprintf(&b, "       webhooks: IDV_WEBHOOKS set (%d secret reference(s), resolved by the flows function and the start functions).\n", n)
	} else {
		b.WriteString("       webhooks: none (IDV_WEBHOOKS empty).\n")
	}
	return b.String()
}
