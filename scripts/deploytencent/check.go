package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/secrets"
)

// required are the variables a deploy refuses to go without: in production
// a function without callers refuses to start.
var required = map[string]string{
	"IDV_CALLERS_REF": "who may call the functions (production refuses to start without it)",
}

// pairs are settings that only work together: one without the other is a
// mistake, both empty leaves the provider off.
var pairs = [][2]string{
	{"TENCENTCLOUD_SECRET_ID_REF", "TENCENTCLOUD_SECRET_KEY_REF"},
	{"IDV_WEBANK_APP_ID", "IDV_WEBANK_SECRET_REF"},
	{"BAIDU_API_KEY_REF", "BAIDU_SECRET_KEY_REF"},
}

// offWhenEmpty says what a deployment without a setting gives up, for the
// notes of a deploy that leaves it empty.
var offWhenEmpty = map[string]string{
	"TENCENTCLOUD_SECRET_ID_REF":  "FaceID is called with the execution role's own credentials (allow it the faceid actions)",
	"IDV_WEBANK_SECRET_REF":       "face-adv and face-adv-result refuse to start (live mode without WeBank credentials)",
	"BAIDU_API_KEY_REF":           "the faceprint-* functions refuse to start (live mode without Baidu credentials)",
	"IDV_REDIS_URL_REF":           "idempotency, rate limits, flow-token owners and flows are per instance (in memory): the flows function cannot see the flows other functions start",
	"IDV_STORE_KEY_REF":           "stored answers are not sealed (IDV_STORE_KEY unset)",
	varPublicURL:                  "the flow-start functions leave the caller's RedirectUrl alone (no return route): after this deploy set it to the flows function's Function URL and deploy again",
	varWebhooks:                   "no webhooks: flows end by their return and result routes",
	"IDV_EID_SM2_PRIVATE_KEY_REF": "GetEidResult returns eID identities still encrypted to your SM2 key (no decryption key)",
}

// checkResult is the outcome of checking the variables a plan uses.
type checkResult struct {
	Values   map[string]string // every variable, "" for one left empty
	Problems []string          // each stops the deploy
	Notes    []string          // what the deploy leaves off
	Unset    map[string]bool   // optional variables not set at all, deployed empty
}

// check applies the rules to the variables p uses. lookup reports whether
// a variable is set at all. With fill, an unset optional variable is left
// empty (the deploy script exports it so); without it (the src hook, run
// after the framework resolved the file) an unset variable is a problem,
// because the function would receive the text "undefined".
func check(p *plan, lookup func(string) (string, bool), fill bool) checkResult {
	r := checkResult{Values: map[string]string{}, Unset: map[string]bool{}}
	for _, v := range p.varNames() {
		val, set := lookup(v)
		val = strings.TrimSpace(val)
		switch {
		case !set && required[v] != "":
			r.Problems = append(r.Problems, fmt.Sprintf("%s is not set: %s; used by %s", v, required[v], p.usedBy(v)))
			continue
		case !set && !fill:
			r.Problems = append(r.Problems, fmt.Sprintf(
				"%s is not set: scf deploy would give %s the text \"undefined\" (the framework's resolver turns an unset ${env:%s} into it); set it, set it empty to leave the setting off (export %s=), or deploy with scripts/deploy-tencent, which does that for you",
				v, p.usedBy(v), v, v))
			continue
		case !set:
			r.Unset[v] = true
		case val == "undefined":
			r.Problems = append(r.Problems, fmt.Sprintf("%s is the text \"undefined\": set it to a value or to the empty string", v))
			continue
		case val == "" && required[v] != "":
			r.Problems = append(r.Problems, fmt.Sprintf("%s is empty: %s", v, required[v]))
			continue
		}
		r.Values[v] = val
		if val != "" && strings.HasSuffix(v, "_REF") {
			if msg := refProblem(val); msg != "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s: %s", v, msg))
			}
		}
	}
	for _, pr := range pairs {
		a, aok := r.Values[pr[0]]
		b, bok := r.Values[pr[1]]
		if !aok || !bok {
			continue // not in this file, or already a problem
		}
		if (a == "") != (b == "") {
			set, unset := pr[0], pr[1]
			if a == "" {
				set, unset = unset, set
			}
			r.Problems = append(r.Problems, fmt.Sprintf("%s is set but %s is empty: set both or neither", set, unset))
		}
	}
	checkFlows(p, &r)
	checkSettings(&r)
	checkEnvSize(p, &r)
	vars := make([]string, 0, len(offWhenEmpty))
	for v := range offWhenEmpty {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	for _, v := range vars {
		if val, ok := r.Values[v]; ok && val == "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s is empty: %s", v, offWhenEmpty[v]))
		}
	}
	return r
}

// refProblem says what is wrong with a value that must be a reference to a
// Tencent secret, "" when nothing is. It never repeats the value: a
// plaintext key pasted here must not reach a terminal log.
func refProblem(val string) string {
	if !secrets.IsRef(val) {
		return "not a secret reference (tckms:<ciphertext> or tcssm:<name>?version=<v>): a plain value would be stored in the function's configuration; encrypt it with go run ./scripts/idvsecrets encrypt --cloud tencent"
	}
	ref, err := secrets.ParseRef(val)
	if err != nil {
		return "malformed reference: " + err.Error()
	}
	if secrets.CloudOf(ref.Scheme) != secrets.CloudTencent {
		return fmt.Sprintf("a %s reference cannot be resolved on Tencent SCF: use tckms: or tcssm:", ref.Scheme)
	}
	return ""
}

// checkSettings checks the functions' optional settings (app.DeploySettings:
// encryption, per-person limits, budgets, usage) with the parsing the
// functions run at start, so a value they would refuse stops the deploy
// here, named. A plain setting is the ${env:X} of its own name; a secret
// one (X_REF) is a reference, resolved only by the function.
func checkSettings(r *checkResult) {
	for _, err := range app.CheckSettings(func(v string) string { return r.Values[v] }) {
		r.Problems = append(r.Problems, errs.As(err).Message)
	}
}

// checkEnvSize refuses settings that would make a function's environment
// larger than SCF takes: CreateFunction would refuse it halfway through
// the deploy, after other functions were created.
func checkEnvSize(p *plan, r *checkResult) {
	fnSize, sizes := map[string]int{}, map[string]int{}
	for _, f := range p.Functions {
		for _, e := range f.Env {
			v := envRef.ReplaceAllStringFunc(e.Value, func(m string) string {
				name := envRef.FindStringSubmatch(m)[1]
				sizes[name] = len(r.Values[name])
				return r.Values[name]
			})
			fnSize[f.Key] += len(e.Key) + len(v)
		}
	}
	if msg := app.EnvOverLimit("SCF", "SCF would refuse them halfway through the deploy", fnSize, sizes); msg != "" {
		r.Problems = append(r.Problems, msg)
	}
}
