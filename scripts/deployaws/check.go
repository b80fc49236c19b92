package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/secrets"
)

// setting is the value a deploy gives one parameter, and where it came from.
type setting struct {
	Value  string
	Source string // "prod.env", "environment", "default", "unset"
}

// checkResult is the outcome of the preflight.
type checkResult struct {
	Values   map[string]setting // by parameter name
	Problems []string           // each stops the deploy
	Notes    []string           // what the deploy leaves off, or may get wrong
}

// Parameters the rules below name. They are the template's; a test checks
// the template still has them.
const (
	pEnvironment = "Environment"
	pMode        = "Mode"
	pCallers     = "CallersRef"
	pTencentID   = "TencentSecretIdRef"
	pTencentKey  = "TencentSecretKeyRef"
	pSMArn       = "SecretsManagerSecretArn"
	pSSMPath     = "SsmParameterPath"
	pKMSKey      = "KmsKeyArn"
)

// pairs are settings that only work together.
var pairs = [][2]string{
	{"TencentSecretIdRef", "TencentSecretKeyRef"},
	{"IdvWebankAppId", "IdvWebankSecretRef"},
	{"BaiduApiKeyRef", "BaiduSecretKeyRef"},
}

// offWhenEmpty says what a deployment gives up without a setting.
var offWhenEmpty = map[string]string{
	"IdvWebankSecretRef":     "face-adv and face-adv-result refuse to start in live mode (no WeBank credentials)",
	"BaiduApiKeyRef":         "the faceprint-* functions refuse to start in live mode (no Baidu credentials)",
	"RedisUrlRef":            "rate limits, idempotency, provider tokens and async faceAdv jobs are per instance (in memory), and flows are off: the start functions leave the caller's RedirectUrl alone (IDV_PUBLIC_URL empty) and the flows function sees no flow another function began",
	pWebhooks:                "no webhooks: flows end by their return and result routes",
	"StoreKeyRef":            "personal data kept in Redis is not sealed (IDV_STORE_KEY unset: a warning at start)",
	"IdvEidSm2PrivateKeyRef": "GetEidResult returns eID identities still encrypted to your SM2 key (no decryption key)",
}

// grants are the stack parameters that give the functions' roles read
// access to what a reference of each scheme names.
var grants = map[string]string{
	secrets.AWSSM:  pSMArn,
	secrets.AWSSSM: pSSMPath,
	secrets.AWSKMS: pKMSKey,
}

// check applies the rules. lookup returns a variable's value and where it
// was found ("" when unset). Messages name variables, never values.
func check(p *plan, lookup func(string) (val, source string)) checkResult {
	r := checkResult{Values: map[string]setting{}}
	for _, pr := range p.Params {
		val, src := lookup(pr.Var)
		val = strings.TrimSpace(val)
		if src == "" {
			val, src = pr.Default, "default"
			if !pr.HasDefault {
				src = "unset"
			}
		}
		r.Values[pr.Name] = setting{val, src}
		if val == "" && !pr.HasDefault || val == "" && pr.Default == "" {
			continue
		}
		if strings.ContainsRune(val, '\\') {
			// sam deploy's parameter parser unescapes \" and \' but
			// keeps other backslashes, so the value could not be passed
			// exactly.
			r.Problems = append(r.Problems, fmt.Sprintf("%s holds a backslash: sam deploy --parameter-overrides cannot pass it exactly (write JSON without escapes)", pr.Var))
			continue
		}
		if pr.Secret {
			if msg := refProblem(val); msg != "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s %s", pr.Var, msg))
				continue
			}
		}
		if msg := pr.validate(val); msg != "" {
			r.Problems = append(r.Problems, fmt.Sprintf("%s (parameter %s) %s", pr.Var, pr.Name, msg))
		}
	}
	get := func(name string) string { return r.Values[name].Value }
	varOf := func(name string) string {
		if pr := p.param(name); pr != nil {
			return pr.Var
		}
		return name
	}

	production := get(pEnvironment) == "production"
	live := get(pMode) == "live"
	if production && get(pCallers) == "" {
		r.Problems = append(r.Problems, fmt.Sprintf("%s is not set: who may call the functions (an awssm:/awsssm:/awskms: reference to the callers JSON); with %s=production every function refuses to start without it",
			varOf(pCallers), varOf(pEnvironment)))
	}
	if live {
		for _, n := range []string{pTencentID, pTencentKey} {
			if get(n) == "" {
				r.Problems = append(r.Problems, fmt.Sprintf("%s is not set: the reference to the FaceID key; with %s=live the FaceID functions need it (set %s=sandbox for a deployment that calls no provider)",
					varOf(n), varOf(pMode), varOf(pMode)))
			}
		}
	}
	for _, pair := range pairs {
		a, b := get(pair[0]), get(pair[1])
		if p.param(pair[0]) == nil || p.param(pair[1]) == nil {
			continue
		}
		if (a == "") != (b == "") {
			set, unset := pair[0], pair[1]
			if a == "" {
				set, unset = unset, set
			}
			r.Problems = append(r.Problems, fmt.Sprintf("%s is set but %s is not: they only work together", varOf(set), varOf(unset)))
		}
	}
	checkFlows(p, &r, production)
	checkSettings(p, &r)
	checkEnvSize(p, &r)
	for _, pr := range p.Params {
		if why, ok := offWhenEmpty[pr.Name]; ok && get(pr.Name) == "" {
			if strings.Contains(why, "live mode") && !live {
				continue
			}
			r.Notes = append(r.Notes, fmt.Sprintf("%s is empty: %s", pr.Var, why))
		}
	}

	// Every reference needs its grant, or the function fails at start with
	// access_denied.
	for _, pr := range p.Params {
		v := get(pr.Name)
		scheme := secrets.SchemeOf(v)
		grant, ok := grants[scheme]
		if !ok || p.param(grant) == nil {
			continue
		}
		g := get(grant)
		if g == "" {
			r.Problems = append(r.Problems, fmt.Sprintf("%s is an %s: reference but %s is empty: the functions' roles could not read it (they would stop at start with access_denied)",
				pr.Var, scheme, varOf(grant)))
			continue
		}
		if ref, err := secrets.ParseRef(v); err == nil && !covers(scheme, g, ref.Target) {
			r.Notes = append(r.Notes, fmt.Sprintf("%s names a %s that %s does not seem to cover: check the grant", pr.Var, what(scheme), varOf(grant)))
		}
	}
	return r
}

// refProblem says what is wrong with a secret parameter's value, never
// repeating it.
func refProblem(v string) string {
	if !secrets.IsRef(v) {
		return "holds a plain value, not a reference: template.yaml takes only awssm:, awsssm: or awskms: references (store the secret in Secrets Manager, SSM or KMS and set the reference; see README, Secrets)"
	}
	if scheme := secrets.SchemeOf(v); secrets.CloudOf(scheme) != secrets.CloudAWS {
		return fmt.Sprintf("is a %s: reference, which only Tencent Cloud resolves: an AWS deployment takes awssm:, awsssm: or awskms:", scheme)
	}
	if _, err := secrets.ParseRef(v); err != nil {
		return "is not a valid reference: " + strings.TrimPrefix(err.Error(), "secret: ")
	}
	return ""
}

func what(scheme string) string {
	switch scheme {
	case secrets.AWSSM:
		return "secret"
	case secrets.AWSSSM:
		return "parameter"
	}
	return "ciphertext key"
}

// covers reports whether a grant plausibly covers a reference's target.
// KMS ciphertexts name their key inside the blob: always assumed covered.
func covers(scheme, grant, target string) bool {
	switch scheme {
	case secrets.AWSSSM:
		return glob(strings.TrimPrefix(grant, "/"), strings.TrimPrefix(target, "/"))
	case secrets.AWSSM:
		if strings.HasPrefix(target, "arn:") {
			return glob(grant, target)
		}
		// A name: the ARN ends in secret:<name>-<6 random characters>.
		_, g, ok := strings.Cut(grant, ":secret:")
		return ok && glob(g, target+"-AbCdEf")
	}
	return true
}

// glob matches IAM resource wildcards: * any run, ? one character.
func glob(pattern, s string) bool {
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

// mask shows a secret parameter's value as its kind only, and IDV_WEBHOOKS
// with its secrets so.
func mask(pr *param, v string) string {
	if pr.Name == pWebhooks {
		return maskWebhooks(v)
	}
	if !pr.Secret || v == "" {
		return v
	}
	if s := secrets.SchemeOf(v); s != "" {
		return s + ":****"
	}
	return "****"
}

// checkSettings checks the functions' optional settings (app.DeploySettings:
// encryption, per-person limits, budgets, usage) with the parsing the
// functions run at start, so a value they would refuse stops the deploy
// here, named with its parameter. Secret parameters hold references,
// resolved only by the function.
func checkSettings(p *plan, r *checkResult) {
	byVar := map[string]*param{}
	for i := range p.Params {
		if pr := &p.Params[i]; pr.FnVar != "" && !pr.Secret {
			byVar[pr.FnVar] = pr
		}
	}
	get := func(v string) string {
		if pr := byVar[v]; pr != nil {
			return r.Values[pr.Name].Value
		}
		return ""
	}
	for _, err := range app.CheckSettings(get) {
		e := errs.As(err)
		msg := e.Message
		if pr := byVar[e.Field]; pr != nil {
			msg += " (parameter " + pr.Name + ")"
		}
		r.Problems = append(r.Problems, msg)
	}
}

// computedValueSize stands for a value CloudFormation computes (the flows
// function's URL, https://<32 characters>.lambda-url.<region>.on.aws/).
const computedValueSize = 80

// checkEnvSize refuses settings that would make a function's environment
// larger than Lambda takes: the stack would fail and roll back.
func checkEnvSize(p *plan, r *checkResult) {
	fnSize, sizes := map[string]int{}, map[string]int{}
	for _, f := range p.Functions {
		for v, pn := range f.Env {
			n := computedValueSize
			if pn != "" {
				n = len(r.Values[pn].Value)
				name := pn
				if pr := p.param(pn); pr != nil {
					name = pr.Var
				}
				sizes[name] = n
			}
			fnSize[f.ID] += len(v) + n
		}
	}
	if msg := app.EnvOverLimit("Lambda", "the stack would roll back", fnSize, sizes); msg != "" {
		r.Problems = append(r.Problems, msg)
	}
}
