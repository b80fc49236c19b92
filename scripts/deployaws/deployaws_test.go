package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestUpperSnake(t *testing.T) {
	for in, want := range map[string]string{
		"KmsKeyArn": "KMS_KEY_ARN", "LogRetentionInDays": "LOG_RETENTION_IN_DAYS",
		"FaceAdvRateLimit": "FACE_ADV_RATE_LIMIT", "SecretsManagerSecretArn": "SECRETS_MANAGER_SECRET_ARN",
	} {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCovers(t *testing.T) {
	sm := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*"
	for _, c := range []struct {
		scheme, grant, target string
		want                  bool
	}{
		{"awssm", sm, "idverify/faceid", true},
		{"awssm", sm, "other/faceid", false},
		{"awssm", sm, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/faceid-AbCdEf", true},
		{"awssm", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/faceid-??????", "idverify/faceid", true},
		{"awsssm", "idverify/*", "/idverify/callers", true},
		{"awsssm", "idverify/*", "/prod/callers", false},
		{"awsssm", "idverify/callers", "idverify/callers", true},
		{"awskms", "arn:aws:kms:eu-west-1:123456789012:key/x", "AQIC", true},
	} {
		if got := covers(c.scheme, c.grant, c.target); got != c.want {
			t.Errorf("covers(%s, %s, %s) = %v, want %v", c.scheme, c.grant, c.target, got, c.want)
		}
	}
}

// The rules name template parameters; the template must still have them.
func TestRulesNameTemplateParameters(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{pEnvironment, pMode, pCallers, pTencentID, pTencentKey, pSMArn, pSSMPath, pKMSKey, pWebhooks, pRedis, pStoreKey}
	for _, pair := range pairs {
		names = append(names, pair[0], pair[1])
	}
	for n := range offWhenEmpty {
		names = append(names, n)
	}
	for _, n := range names {
		if p.param(n) == nil {
			t.Errorf("the preflight names parameter %s, which template.yaml does not have", n)
		}
	}
	// Secret parameters are set by <VAR>_REF, as serverless.yml names them.
	for _, v := range []string{"TENCENTCLOUD_SECRET_KEY_REF", "IDV_CALLERS_REF", "IDV_WEBANK_SECRET_REF", "BAIDU_API_KEY_REF"} {
		if pr := p.byVar(v); pr == nil || !pr.Secret {
			t.Errorf("%s sets no secret parameter", v)
		}
	}
	if pr := p.byVar("IDV_MODE"); pr == nil || pr.Name != pMode {
		t.Errorf("IDV_MODE does not set %s", pMode)
	}
	if pr := p.byVar("IDV_WEBHOOKS"); pr == nil || pr.Name != pWebhooks || pr.Secret {
		t.Errorf("IDV_WEBHOOKS does not set %s (a plain parameter: its secrets are references inside)", pWebhooks)
	}
	// functions/all is built once, for the flows function.
	if n := p.names(); !contains(n, "all") || len(n) != len(p.Functions) {
		t.Errorf("build names %v for %d functions", n, len(p.Functions))
	}
}

// TestFlowsRules: webhooks need the shared store and AWS references that
// the roles may read; the shared store (flows on) needs the store key in
// production; a value sam cannot pass exactly is refused; IDV_WEBHOOKS
// travels to sam quoted as its parser reads it, secrets masked in what is
// printed.
func TestFlowsRules(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const hooks = `[{"caller":"shop","url":"https://hooks.example.com/idv","secret":"awssm:idverify/webhook#secret"}]`
	base := map[string]string{
		"TENCENTCLOUD_SECRET_ID_REF":  "awssm:idverify/faceid#SecretId",
		"TENCENTCLOUD_SECRET_KEY_REF": "awssm:idverify/faceid#SecretKey",
		"IDV_CALLERS_REF":             "awssm:idverify/callers",
		"SECRETS_MANAGER_SECRET_ARN":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*",
		"IDV_REDIS_URL_REF":           "awssm:idverify/redis",
		"IDV_STORE_KEY_REF":           "awssm:idverify/store-key",
		"IDV_WEBHOOKS":                hooks,
	}
	run := func(change map[string]string) checkResult {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range change {
			env[k] = v
		}
		return check(p, func(v string) (string, string) {
			if val, ok := env[v]; ok && val != "\x00" {
				return val, "test"
			}
			return "", ""
		})
	}
	res := run(nil)
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	args := samCommand(p, res, "idverify", "", false, nil)
	var got string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, pWebhooks+"="); ok {
			got = samUnquote(v)
		}
	}
	if got != hooks {
		t.Errorf("sam would read IdvWebhooks as %q, want %q", got, hooks)
	}
	line := strings.Join(maskedArgs(p, args), " ")
	if strings.Contains(line, "idverify/webhook") || !strings.Contains(line, `\"secret\":\"awssm:****\"`) {
		t.Errorf("masked command: %s", line)
	}
	for _, c := range []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"webhooks without the store", map[string]string{"IDV_REDIS_URL_REF": "\x00"}, "IDV_WEBHOOKS is set but IDV_REDIS_URL_REF is empty"},
		{"the store without its key", map[string]string{"IDV_STORE_KEY_REF": "\x00"}, "IDV_REDIS_URL_REF is set, so flows are on"},
		{"plain webhook secret", map[string]string{"IDV_WEBHOOKS": strings.Replace(hooks, "awssm:idverify/webhook#secret", "whsec-plain-0123456789abcdef", 1)}, "IDV_WEBHOOKS[0].secret holds a plain value"},
		{"Tencent webhook secret", map[string]string{"IDV_WEBHOOKS": strings.Replace(hooks, "awssm:idverify/webhook#secret", "tcssm:idverify-webhook?version=v1", 1)}, "IDV_WEBHOOKS[0].secret is a tcssm: reference"},
		{"webhook secret without its grant", map[string]string{"IDV_WEBHOOKS": strings.Replace(hooks, "awssm:idverify/webhook#secret", "awsssm:/idverify/webhook", 1)}, "IDV_WEBHOOKS[0].secret is an awsssm: reference but SSM_PARAMETER_PATH is empty"},
		{"webhooks not JSON", map[string]string{"IDV_WEBHOOKS": "[shop]"}, "IDV_WEBHOOKS: want a JSON array"},
		{"a backslash", map[string]string{"IDV_WEBHOOKS": strings.Replace(hooks, "/idv", "\\/idv", 1)}, "IDV_WEBHOOKS holds a backslash"},
	} {
		res := run(c.change)
		if !strings.Contains(strings.Join(res.Problems, "\n"), c.want) {
			t.Errorf("%s: problems %v, want %q", c.name, res.Problems, c.want)
		}
		if strings.Contains(strings.Join(res.Problems, "\n"), "whsec-plain") {
			t.Errorf("%s: a problem repeats the secret", c.name)
		}
	}
}

func TestCheckMasksAndRefuses(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TENCENTCLOUD_SECRET_ID_REF":  "awssm:idverify/faceid#SecretId",
		"TENCENTCLOUD_SECRET_KEY_REF": "AKIDsecretvalue",
		"IDV_CALLERS_REF":             "awssm:idverify/callers",
		"SECRETS_MANAGER_SECRET_ARN":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*",
	}
	res := check(p, func(v string) (string, string) {
		if val, ok := env[v]; ok {
			return val, "test"
		}
		return "", ""
	})
	if len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0], "TENCENTCLOUD_SECRET_KEY_REF holds a plain value") {
		t.Errorf("problems = %q", res.Problems)
	}
	for _, pr := range res.Problems {
		if strings.Contains(pr, "AKIDsecretvalue") {
			t.Errorf("a problem repeats the value: %s", pr)
		}
	}
	args := maskedArgs(p, samCommand(p, res, "idverify", "", false, nil))
	line := strings.Join(args, " ")
	if strings.Contains(line, "idverify/faceid") || !strings.Contains(line, `TencentSecretIdRef="awssm:****"`) {
		t.Errorf("masked command: %s", line)
	}
}

// TestSettingsRules: the functions' optional settings are stack parameters
// set by the variable itself (secrets by <VAR>_REF, references only, with
// their grant), checked as the functions check them, each bad one named
// with its parameter and never repeated; empty is the default.
func TestSettingsRules(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for v, name := range map[string]string{
		"IDV_FACEID_ENCRYPT": "IdvFaceidEncrypt", "IDV_FACEID_RSA_PUBLIC_KEY": "IdvFaceidRsaPublicKey",
		"IDV_FACEID_SM2_PUBLIC_KEY": "IdvFaceidSm2PublicKey", "IDV_EID_SM2_PRIVATE_KEY_REF": "IdvEidSm2PrivateKeyRef",
		"IDV_PERSON_LIMITS": "IdvPersonLimits", "IDV_PERSON_KEY_REF": "IdvPersonKeyRef", "IDV_BUDGETS": "IdvBudgets",
		"IDV_USAGE_PRICES": "IdvUsagePrices", "IDV_USAGE_RETENTION": "IdvUsageRetention", "IDV_USAGE_METRICS": "IdvUsageMetrics",
	} {
		pr := p.byVar(v)
		if pr == nil || pr.Name != name || pr.Secret != strings.HasSuffix(v, "_REF") || pr.Default != "" || !pr.HasDefault {
			t.Errorf("%s sets %+v, want parameter %s, default empty", v, pr, name)
		}
	}
	const marker = "value-91ab"
	base := map[string]string{
		"TENCENTCLOUD_SECRET_ID_REF":  "awssm:idverify/faceid#SecretId",
		"TENCENTCLOUD_SECRET_KEY_REF": "awssm:idverify/faceid#SecretKey",
		"IDV_CALLERS_REF":             "awssm:idverify/callers",
		"SECRETS_MANAGER_SECRET_ARN":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*",
		"IDV_PERSON_KEY_REF":          "awssm:idverify/person-key",
		"IDV_EID_SM2_PRIVATE_KEY_REF": "awssm:idverify/eid-key",
		"IDV_FACEID_ENCRYPT":          "aes-256-cbc",
		"IDV_PERSON_LIMITS":           "off",
		"IDV_BUDGETS":                 `{"*":{"day":100}}`,
		"IDV_USAGE_PRICES":            `{"currency":"CNY","perCall":{"IdCardVerification":0.3}}`,
		"IDV_USAGE_RETENTION":         "800h",
		"IDV_USAGE_METRICS":           "emf",
	}
	run := func(change ...string) checkResult {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i+1 < len(change); i += 2 {
			env[change[i]] = change[i+1]
		}
		return check(p, func(v string) (string, string) {
			if val, ok := env[v]; ok && val != "\x00" {
				return val, "test"
			}
			return "", ""
		})
	}
	if res := run(); len(res.Problems) != 0 {
		t.Fatalf("good settings: %v", res.Problems)
	}
	for _, c := range []struct{ v, val, want string }{
		{"IDV_FACEID_ENCRYPT", "AES-128-" + marker, "IDV_FACEID_ENCRYPT is not an algorithm: use AES-256-CBC, SM4-GCM or off (or leave it unset: off) (parameter IdvFaceidEncrypt)"},
		{"IDV_FACEID_SM2_PUBLIC_KEY", marker, "IDV_FACEID_SM2_PUBLIC_KEY"},
		{"IDV_PERSON_LIMITS", "IdCardVerification=" + marker, "IDV_PERSON_LIMITS item 1"},
		{"IDV_BUDGETS", `{"*":{"day":"` + marker + `"}}`, "IDV_BUDGETS"},
		{"IDV_USAGE_PRICES", `[` + marker + `]`, "IDV_USAGE_PRICES"},
		{"IDV_USAGE_RETENTION", marker, "IDV_USAGE_RETENTION: want a duration from 24h to 26352h"},
		{"IDV_USAGE_METRICS", marker, "IDV_USAGE_METRICS: use emf, log or off"},
		{"IDV_PERSON_KEY_REF", "plain-" + marker, "IDV_PERSON_KEY_REF holds a plain value, not a reference"},
		{"IDV_EID_SM2_PRIVATE_KEY_REF", "awsssm:/idverify/eid-key", "IDV_EID_SM2_PRIVATE_KEY_REF is an awsssm: reference but SSM_PARAMETER_PATH is empty"},
	} {
		res := run(c.v, c.val)
		joined := strings.Join(res.Problems, "\n")
		if len(res.Problems) != 1 || !strings.Contains(joined, c.want) {
			t.Errorf("%s=%s: problems %v, want one with %q", c.v, c.val, res.Problems, c.want)
		}
		if strings.Contains(joined, marker) {
			t.Errorf("%s: a problem repeats the value: %s", c.v, joined)
		}
	}
	// Left empty: the default, and a note on what an empty eID key leaves.
	res := run("IDV_EID_SM2_PRIVATE_KEY_REF", "\x00", "IDV_BUDGETS", "\x00")
	if len(res.Problems) != 0 || res.Values["IdvBudgets"].Value != "" || !strings.Contains(strings.Join(res.Notes, "\n"), "IDV_EID_SM2_PRIVATE_KEY_REF is empty: GetEidResult returns eID identities still encrypted") {
		t.Errorf("empty settings: problems %v notes %v", res.Problems, res.Notes)
	}
	// JSON travels to sam exactly, as its parser reads it.
	for _, a := range samCommand(p, run(), "idverify", "", false, nil) {
		if v, ok := strings.CutPrefix(a, "IdvBudgets="); ok && samUnquote(v) != base["IDV_BUDGETS"] {
			t.Errorf("sam would read IdvBudgets as %q", samUnquote(v))
		}
	}
}

// TestEnvSizeLimit: settings that would make a function's environment
// larger than Lambda's 4 KB are refused, naming the longest settings and
// never showing them.
func TestEnvSizeLimit(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(env map[string]string) func(string) (string, string) {
		return func(v string) (string, string) {
			if val, ok := env[v]; ok {
				return val, "test"
			}
			return "", ""
		}
	}
	env := map[string]string{"IDV_ENV": "development", "IDV_MODE": "sandbox"}
	if res := check(p, lookup(env)); len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	// Every function has Globals' IDV_BUDGETS.
	env["IDV_BUDGETS"] = `{"*":{"day":1000,"actions":{` + strings.Repeat(`"BankCard4EVerification":{"day":50},`, 120) + `"IdCardVerification":{"day":9}}}}`
	res := check(p, lookup(env))
	joined := strings.Join(res.Problems, "\n")
	if !strings.Contains(joined, "the environment variables of "+itoa(len(p.Functions))+" function(s) would be over Lambda's 4 KB") || !strings.Contains(joined, "IDV_BUDGETS (") || strings.Contains(joined, "BankCard4E") {
		t.Errorf("a 4.3 KB IDV_BUDGETS: problems %v", res.Problems)
	}
	// The encryption settings reach the FaceID functions and flows only.
	delete(env, "IDV_BUDGETS")
	env["IDV_FACEID_RSA_PUBLIC_KEY"] = strings.Repeat("A", 4000)
	res = check(p, lookup(env))
	if joined := strings.Join(res.Problems, "\n"); !strings.Contains(joined, "IDV_FACEID_RSA_PUBLIC_KEY (4000 bytes)") || strings.Contains(joined, "of "+itoa(len(p.Functions))+" function(s)") {
		t.Errorf("a 4000-byte RSA key: problems %v", res.Problems)
	}
}

func itoa(n int) string { return fmt.Sprint(n) }
