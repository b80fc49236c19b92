package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/catalog"
	"github.com/idverify/idverify/shared/faceadv"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/fieldcrypt"
)

const repoFile = "../../serverless.yml"

// envOf is a lookup over a fixed environment: set variables only.
func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPlanOfTheRepositoryFile(t *testing.T) {
	p, err := loadPlan(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	if p.Dist != "./dist/scf/serverless" || p.Hook != "scripts/deploy-tencent --hook" {
		t.Errorf("dist %q hook %q", p.Dist, p.Hook)
	}
	if len(p.Functions) < 40 {
		t.Fatalf("%d functions", len(p.Functions))
	}
	for _, f := range p.Functions {
		if f.Handler != f.Key {
			t.Errorf("%s: handler %q, want the function key (functions/all serves the function its handler names)", f.Key, f.Handler)
		}
		if f.Key == "flows" {
			// functions/all serves it like "all" (its generated switch).
			b, _ := os.ReadFile("../../functions/all/main.go")
			if !strings.Contains(string(b), `"all", "flows":`) {
				t.Errorf("functions/all/main.go does not serve the handler flows")
			}
			if tr := p.Triggers[f.Key]; len(tr) != 2 || tr[0].Type != "http" || tr[1].String() != `timer "0 */1 * * * * *" with {"Action":"flows/sweep"}` {
				t.Errorf("flows: triggers %v, want its Function URL and the sweep every minute", tr)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join("../../functions", f.Key, "main.go")); err != nil {
			t.Errorf("%s: no functions/%s: the handler names no function of functions/all", f.Key, f.Key)
		}
		if tr := p.Triggers[f.Key]; len(tr) != 1 || tr[0].Type != "http" {
			t.Errorf("%s: triggers %v, want http (Function URL)", f.Key, tr)
		}
	}
	if got := p.Vars["IDV_CALLERS_REF"]; len(got) != len(p.Functions) {
		t.Errorf("IDV_CALLERS_REF reaches %d of %d functions (a function's own environments replace the inputs')", len(got), len(p.Functions))
	}
}

func TestOwnSrcIsRefused(t *testing.T) {
	yml := filepath.Join(t.TempDir(), "serverless.yml")
	os.WriteFile(yml, []byte("component: multi-scf\ninputs:\n  functions:\n    a:\n      src: ./a\n      handler: bootstrap\n"), 0o644)
	if _, err := loadPlan(yml); err == nil || !strings.Contains(err.Error(), "executable bit") {
		t.Errorf("a function with its own src: %v", err)
	}
}

func TestCheckRules(t *testing.T) {
	p, err := loadPlan(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	const callers = "tcssm:idverify-callers?version=v1"
	has := func(list []string, subs ...string) bool {
		for _, l := range list {
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(l, s)
			}
			if ok {
				return true
			}
		}
		return false
	}

	// The deploy script: unset optional settings are left empty.
	r := check(p, envOf("IDV_CALLERS_REF", callers), true)
	if len(r.Problems) != 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	if v, ok := r.Values["IDV_REDIS_URL_REF"]; !ok || v != "" {
		t.Errorf("IDV_REDIS_URL_REF unset: %q %v, want empty", v, ok)
	}
	if !has(r.Notes, "IDV_REDIS_URL_REF", "per instance") {
		t.Errorf("notes do not say what an empty IDV_REDIS_URL_REF gives up: %v", r.Notes)
	}

	// The src hook runs after the framework resolved the file: an unset
	// optional setting has already become "undefined", so it is refused.
	r = check(p, envOf("IDV_CALLERS_REF", callers), false)
	if !has(r.Problems, "IDV_REDIS_URL_REF is not set", "undefined", "export IDV_REDIS_URL_REF=") {
		t.Errorf("hook with IDV_REDIS_URL_REF unset: %v", r.Problems)
	}

	// Required, in every mode.
	for _, fill := range []bool{true, false} {
		r = check(p, envOf(), fill)
		if !has(r.Problems, "IDV_CALLERS_REF is not set") {
			t.Errorf("fill=%v: no IDV_CALLERS_REF: %v", fill, r.Problems)
		}
		r = check(p, envOf("IDV_CALLERS_REF", ""), fill)
		if !has(r.Problems, "IDV_CALLERS_REF is empty") {
			t.Errorf("fill=%v: empty IDV_CALLERS_REF: %v", fill, r.Problems)
		}
	}

	// Secret settings hold Tencent references only, and their values never
	// appear in a message.
	const plain = "AKIDplainSecretValue1234567890"
	for _, c := range []struct{ val, want string }{
		{plain, "not a secret reference"},
		{"awsssm:/idv/callers", "cannot be resolved on Tencent SCF"},
		{"tcssm:idverify-callers", "malformed reference"},
		{"undefined", "the text \"undefined\""},
	} {
		r = check(p, envOf("IDV_CALLERS_REF", c.val), true)
		if !has(r.Problems, "IDV_CALLERS_REF", c.want) {
			t.Errorf("IDV_CALLERS_REF=%s: %v, want %q", c.val, r.Problems, c.want)
		}
		if has(r.Problems, plain) {
			t.Errorf("a problem repeats the plain value: %v", r.Problems)
		}
	}

	// Settings that go together.
	r = check(p, envOf("IDV_CALLERS_REF", callers, "TENCENTCLOUD_SECRET_ID_REF", "tcssm:idverify-faceid?version=v1#SecretId"), true)
	if !has(r.Problems, "TENCENTCLOUD_SECRET_ID_REF is set but TENCENTCLOUD_SECRET_KEY_REF is empty") {
		t.Errorf("half a key pair: %v", r.Problems)
	}
}

func TestRunDryRunAndHookRefusal(t *testing.T) {
	t.Setenv("IDV_CALLERS_REF", "tcssm:idverify-callers?version=v1")
	var out, errb bytes.Buffer
	if code := run([]string{"--file", repoFile, "--dry-run"}, &out, &errb); code != 0 {
		t.Fatalf("--dry-run: exit %d\n%s", code, errb.String())
	}
	// One SCF function per FaceID action of the registry and per catalog
	// function (functions/all is the code, not a function of its own).
	n := len(faceid.All()) + len(faceadv.Functions) + len(faceprint.Functions) + 1 // and flows
	for _, want := range []string{fmt.Sprintf("Would deploy %d functions", n),
		`trigger http, timer "0 */1 * * * * *" with {"Action":"flows/sweep"}`,
		"IDV_PUBLIC_URL is empty: after this first deploy, set it to the flows function's Function URL", "id-card-verification", "liveness", "image-recognition", "handler face-adv", "trigger http",
		"IDV_CALLERS_REF", "tcssm:idverify-callers?version=v1", "dist/scf/serverless"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, out.String())
		}
	}

	// As the src hook, with an optional variable unset: refused, nothing built.
	dir := t.TempDir()
	b, _ := os.ReadFile(repoFile)
	os.WriteFile(filepath.Join(dir, "serverless.yml"), b, 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"--file", filepath.Join(dir, "serverless.yml"), "--hook"}, &out, &errb); code != 1 {
		t.Fatalf("--hook with unset variables: exit %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "IDV_REDIS_URL_REF is not set") || !strings.Contains(errb.String(), "nothing was built") {
		t.Errorf("--hook refusal:\n%s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); !os.IsNotExist(err) {
		t.Errorf("the refused hook built something: %v", err)
	}
}

// TestDotenvBesideTheFile: references kept in .env (as serverless.yml's
// header suggests, and as the scf CLI loads them) count as set; the
// process environment wins over the file.
func TestDotenvBesideTheFile(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(repoFile)
	yml := filepath.Join(dir, "serverless.yml")
	os.WriteFile(yml, b, 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("# refs\nIDV_CALLERS_REF='tcssm:from-file?version=v1'\nexport IDV_REDIS_URL_REF=\"tcssm:redis?version=v2\"\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"--file", yml, "--dry-run"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "tcssm:from-file?version=v1") || !strings.Contains(out.String(), "tcssm:redis?version=v2") {
		t.Errorf(".env values not used:\n%s", out.String())
	}
	t.Setenv("IDV_CALLERS_REF", "tcssm:from-env?version=v1")
	out.Reset()
	run([]string{"--file", yml, "--dry-run"}, &out, &errb)
	if !strings.Contains(out.String(), "tcssm:from-env?version=v1") {
		t.Errorf("the environment does not win over .env:\n%s", out.String())
	}
}

// TestCatalogExamplesAreTencentReferences: the examples the docs and deploy
// files show for secret settings pass the same check a deploy applies.
func TestCatalogExamplesAreTencentReferences(t *testing.T) {
	for _, fns := range [][]catalog.Function{faceadv.Functions, faceprint.Functions} {
		for _, f := range fns {
			for _, e := range f.Env {
				if e.Secret {
					if msg := refProblem(e.Example); msg != "" {
						t.Errorf("%s %s: example %q: %s", f.Name, e.Name, e.Example, msg)
					}
				}
			}
		}
	}
}

func TestDotenvInlineCommentRefused(t *testing.T) {
	dir := t.TempDir()
	for _, line := range []string{"IDV_CALLERS_REF='tcssm:c?version=v1'   # who may call", "IDV_CALLERS_REF=tcssm:c?version=v1 # who"} {
		os.WriteFile(filepath.Join(dir, ".env"), []byte(line+"\n"), 0o600)
		if _, err := dotenvLookup(filepath.Join(dir, ".env")); err == nil || !strings.Contains(err.Error(), "IDV_CALLERS_REF") || !strings.Contains(err.Error(), "comment") {
			t.Errorf("%q: %v", line, err)
		}
	}
}

// TestFlowsRules: flows on (IDV_PUBLIC_URL or IDV_WEBHOOKS set) need the
// shared store and the store key; IDV_PUBLIC_URL is an https URL;
// IDV_WEBHOOKS is checked as the function checks it, its secrets Tencent
// references, never repeated.
func TestFlowsRules(t *testing.T) {
	p, err := loadPlan(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	const (
		callers = "tcssm:idverify-callers?version=v1"
		redis   = "tcssm:idverify-redis?version=v1"
		key     = "tcssm:idverify-store-key?version=v1"
		url     = "https://1250000000-abcd1234ef.ap-guangzhou.tencentscf.com"
		hooks   = `[{"caller":"shop","url":"https://hooks.example.com/idv","secret":"tcssm:idverify-webhook?version=v1#secret"}]`
		plain   = "whsec-plain-value-0123456789abcdef"
	)
	joined := func(r checkResult) string { return strings.Join(r.Problems, "\n") }
	ok := check(p, envOf("IDV_CALLERS_REF", callers, "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key, "IDV_PUBLIC_URL", url, "IDV_WEBHOOKS", hooks), true)
	if len(ok.Problems) != 0 {
		t.Fatalf("flows with the store: %v", ok.Problems)
	}
	if lines := webhookRefs(ok); len(lines) != 1 || lines[0] != "IDV_WEBHOOKS_0_SECRET=tcssm:idverify-webhook?version=v1#secret" {
		t.Errorf("webhookRefs = %v", lines)
	}
	for _, c := range []struct {
		name string
		env  []string
		want []string
	}{
		{"public URL without the store", []string{"IDV_PUBLIC_URL", url}, []string{"IDV_PUBLIC_URL is set, so flows are on, and IDV_REDIS_URL_REF is empty", "IDV_STORE_KEY_REF is empty"}},
		{"webhooks without the store key", []string{"IDV_WEBHOOKS", hooks, "IDV_REDIS_URL_REF", redis}, []string{"IDV_WEBHOOKS is set, so flows are on, and IDV_STORE_KEY_REF is empty"}},
		{"public URL over http", []string{"IDV_PUBLIC_URL", "http://example.com", "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_PUBLIC_URL must be the https URL"}},
		{"public URL with a query", []string{"IDV_PUBLIC_URL", url + "?a=b", "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_PUBLIC_URL must be the https URL"}},
		{"webhooks not JSON", []string{"IDV_WEBHOOKS", "shop=https://x", "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_WEBHOOKS: want a JSON array"}},
		{"webhook over http", []string{"IDV_WEBHOOKS", strings.Replace(hooks, "https:", "http:", 1), "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_WEBHOOKS[0].url: http is refused in production"}},
		{"plain webhook secret", []string{"IDV_WEBHOOKS", strings.Replace(hooks, "tcssm:idverify-webhook?version=v1#secret", plain, 1), "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_WEBHOOKS[0].secret: not a secret reference"}},
		{"AWS webhook secret", []string{"IDV_WEBHOOKS", strings.Replace(hooks, "tcssm:idverify-webhook?version=v1#secret", "awssm:idverify/webhook", 1), "IDV_REDIS_URL_REF", redis, "IDV_STORE_KEY_REF", key}, []string{"IDV_WEBHOOKS[0].secret: a awssm reference cannot be resolved on Tencent SCF"}},
	} {
		r := check(p, envOf(append([]string{"IDV_CALLERS_REF", callers}, c.env...)...), true)
		for _, w := range c.want {
			if !strings.Contains(joined(r), w) {
				t.Errorf("%s: problems %v, want %q", c.name, r.Problems, w)
			}
		}
		if strings.Contains(joined(r), plain) {
			t.Errorf("%s: a problem repeats the webhook secret", c.name)
		}
	}
	// Flows off: neither set, the store may stay empty (a note says what
	// that leaves off).
	r := check(p, envOf("IDV_CALLERS_REF", callers), true)
	if len(r.Problems) != 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "the flows function cannot see the flows other functions start") {
		t.Errorf("flows off: problems %v notes %v", r.Problems, r.Notes)
	}
}

// TestSettingsRules: the functions' optional settings (encryption,
// per-person limits, budgets, usage) are checked as the functions check
// them, each bad one named and never repeated; secret ones are Tencent
// references; the eID key reaches GetEidResult's function and the flows
// function only; unset, each is left empty by the deploy script and
// refused by the hook (it would arrive as "undefined").
func TestSettingsRules(t *testing.T) {
	p, err := loadPlan(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	const callers = "tcssm:idverify-callers?version=v1"
	if got := p.Vars["IDV_EID_SM2_PRIVATE_KEY_REF"]; strings.Join(got, ",") != "flows,get-eid-result" {
		t.Errorf("IDV_EID_SM2_PRIVATE_KEY_REF is used by %v, want flows and get-eid-result", got)
	}
	for _, v := range []string{"IDV_PERSON_LIMITS", "IDV_PERSON_KEY_REF", "IDV_BUDGETS", "IDV_USAGE_PRICES", "IDV_USAGE_RETENTION", "IDV_USAGE_METRICS"} {
		if len(p.Vars[v]) != len(p.Functions) {
			t.Errorf("%s reaches %d of %d functions, want every one", v, len(p.Vars[v]), len(p.Functions))
		}
	}
	if n := len(p.Vars["IDV_FACEID_ENCRYPT"]); n != len(faceid.All())+1 {
		t.Errorf("IDV_FACEID_ENCRYPT reaches %d functions, want the %d FaceID ones and flows", n, len(faceid.All()))
	}

	good := []string{"IDV_CALLERS_REF", callers,
		"IDV_FACEID_ENCRYPT", "SM4-GCM",
		"IDV_FACEID_SM2_PUBLIC_KEY", base64.StdEncoding.EncodeToString([]byte(fieldcrypt.TencentSM2PublicKey)),
		"IDV_EID_SM2_PRIVATE_KEY_REF", "tcssm:idverify-eid-key?version=v1",
		"IDV_PERSON_LIMITS", "IdCardVerification=5/20",
		"IDV_PERSON_KEY_REF", "tcssm:idverify-person-key?version=v1",
		"IDV_BUDGETS", `{"*":{"day":1000,"month":20000}}`,
		"IDV_USAGE_PRICES", `{"currency":"CNY","perCall":{"IdCardVerification":0.3}}`,
		"IDV_USAGE_RETENTION", "9600h",
		"IDV_USAGE_METRICS", "log",
	}
	if r := check(p, envOf(good...), true); len(r.Problems) != 0 {
		t.Fatalf("good settings: %v", r.Problems)
	}
	with := func(kv ...string) checkResult {
		return check(p, envOf(append(slices.Clone(good), kv...)...), true)
	}
	const marker = "value-5d1c"
	for _, c := range []struct{ kv []string }{
		{[]string{"IDV_FACEID_ENCRYPT", "AES-128-" + marker}},
		{[]string{"IDV_FACEID_RSA_PUBLIC_KEY", marker}},
		{[]string{"IDV_PERSON_LIMITS", "IdCardVerification=" + marker}},
		{[]string{"IDV_BUDGETS", `{"*":{"day":-1,"x":"` + marker + `"}}`}},
		{[]string{"IDV_USAGE_PRICES", `{"perCall":{"NoSuchAction":1},"x":"` + marker + `"}`}},
		{[]string{"IDV_USAGE_RETENTION", "1h" + marker}},
		{[]string{"IDV_USAGE_METRICS", "cloudwatch" + marker}},
	} {
		r := with(c.kv...)
		joined := strings.Join(r.Problems, "\n")
		if len(r.Problems) != 1 || !strings.HasPrefix(joined, c.kv[0]) {
			t.Errorf("%s malformed: problems %v, want one naming it", c.kv[0], r.Problems)
		}
		if strings.Contains(joined, marker) {
			t.Errorf("%s: a problem repeats the value: %s", c.kv[0], joined)
		}
	}
	// Secrets: Tencent references only, never repeated.
	for _, v := range []string{"IDV_PERSON_KEY_REF", "IDV_EID_SM2_PRIVATE_KEY_REF"} {
		r := with(v, "plain-"+marker)
		if !strings.Contains(strings.Join(r.Problems, "\n"), v+": not a secret reference") || strings.Contains(strings.Join(r.Problems, "\n"), marker) {
			t.Errorf("%s plain: %v", v, r.Problems)
		}
	}
	// Unset: the deploy script leaves it empty (the default), the hook
	// refuses it.
	r := check(p, envOf("IDV_CALLERS_REF", callers), true)
	if v, ok := r.Values["IDV_BUDGETS"]; len(r.Problems) != 0 || !ok || v != "" || !r.Unset["IDV_BUDGETS"] {
		t.Errorf("IDV_BUDGETS unset: %q %v %v", v, ok, r.Problems)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "IDV_EID_SM2_PRIVATE_KEY_REF is empty: GetEidResult returns eID identities still encrypted") {
		t.Errorf("notes do not say what an empty eID key leaves: %v", r.Notes)
	}
	r = check(p, envOf("IDV_CALLERS_REF", callers), false)
	if !strings.Contains(strings.Join(r.Problems, "\n"), "IDV_USAGE_METRICS is not set: scf deploy would give") {
		t.Errorf("the hook with IDV_USAGE_METRICS unset: %v", r.Problems)
	}
}

// TestEnvSizeLimit: settings that would make a function's environment
// larger than SCF's 4 KB are refused before the deploy, naming the
// longest settings and never showing them; the README's realistic values
// fit.
func TestEnvSizeLimit(t *testing.T) {
	p, err := loadPlan(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	const callers = "tcssm:idverify-callers?version=v1"
	big := `{"*":{"day":1000,"actions":{` + strings.Repeat(`"BankCard4EVerification":{"day":50},`, 120) + `"IdCardVerification":{"day":9}}}}`
	r := check(p, envOf("IDV_CALLERS_REF", callers, "IDV_BUDGETS", big), true)
	joined := strings.Join(r.Problems, "\n")
	if !strings.Contains(joined, fmt.Sprintf("the environment variables of %d function(s) would be over SCF's 4 KB", len(p.Functions))) || !strings.Contains(joined, "IDV_BUDGETS (") {
		t.Errorf("a 4.3 KB IDV_BUDGETS: problems %v", r.Problems)
	}
	if strings.Contains(joined, "BankCard4E") {
		t.Errorf("the problem shows the value: %s", joined)
	}
	// The eID key (a reference) reaches two functions only: one long
	// reference there is refused naming those.
	r = check(p, envOf("IDV_CALLERS_REF", callers, "IDV_EID_SM2_PRIVATE_KEY_REF", "tckms:"+strings.Repeat("A", 4000)), true)
	if joined := strings.Join(r.Problems, "\n"); !strings.Contains(joined, "of 2 function(s)") || !strings.Contains(joined, "IDV_EID_SM2_PRIVATE_KEY_REF (4006 bytes)") {
		t.Errorf("a long eID key reference: %v", r.Problems)
	}
	if r := check(p, envOf("IDV_CALLERS_REF", callers), true); len(r.Problems) != 0 {
		t.Errorf("nothing set: %v", r.Problems)
	}
}
