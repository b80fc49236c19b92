package tests

// The settings of sensitive-data encryption (issue 15) and of per-person
// limits, budgets and usage (issue 16) in both deploy files: each reaches
// the functions that read it and no other (FaceID's encryption the
// functions serving FaceID, the eID key GetEidResult's and the flows
// function, the accounting every function), secrets as references only,
// every one empty unless set; and a function started with the files'
// empty values starts with the defaults.

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/sandbox"
)

// The settings, as README's configuration table names them.
var (
	encryptionSettings = []string{"IDV_FACEID_ENCRYPT", "IDV_FACEID_RSA_PUBLIC_KEY", "IDV_FACEID_SM2_PUBLIC_KEY"}
	accountingSettings = []string{"IDV_PERSON_LIMITS", "IDV_BUDGETS", "IDV_USAGE_PRICES", "IDV_USAGE_RETENTION", "IDV_USAGE_METRICS"}
)

const (
	personKeySetting = "IDV_PERSON_KEY"          // a secret: a reference
	eidKeySetting    = "IDV_EID_SM2_PRIVATE_KEY" // a secret, GetEidResult's only
	eidFunction      = "get-eid-result"
)

// settingValues are values of the plain settings a function accepts, in
// the forms the README gives for the deploy files (keys as base64 of the
// PEM, on one line).
func settingValues() map[string]string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return map[string]string{
		"IDV_FACEID_ENCRYPT":        "SM4-GCM",
		"IDV_FACEID_RSA_PUBLIC_KEY": b64(fieldcrypt.TencentRSAPublicKey),
		"IDV_FACEID_SM2_PUBLIC_KEY": b64(fieldcrypt.TencentSM2PublicKey),
		"IDV_PERSON_LIMITS":         "IdCardVerification=5/20,DetectAuth=3/10",
		"IDV_BUDGETS":               `{"*":{"day":1000,"month":20000,"actions":{"BankCard4EVerification":{"day":50}}}}`,
		"IDV_USAGE_PRICES":          `{"currency":"CNY","perCall":{"IdCardVerification":0.3,"*":0}}`,
		"IDV_USAGE_RETENTION":       "9600h",
		"IDV_USAGE_METRICS":         "log",
	}
}

// faceIDFunctions are the deployed functions serving FaceID actions (by
// folder), the flows function aside.
func faceIDFunctions() map[string]bool {
	m := map[string]bool{}
	for _, a := range faceid.All() {
		m[a.Function] = true
	}
	return m
}

func TestDeploySettingsSAM(t *testing.T) {
	sam := loadDeployYAML(t, "template.yaml")
	params := sam["Parameters"].(ymap)
	resources := sam["Resources"].(ymap)
	globals, _ := dig(sam, "Globals", "Function", "Environment", "Variables").(ymap)

	// paramOf is the parameter feeding v in vars: plain settings a plain
	// parameter defaulting to "" (the function's default), secrets a
	// NoEcho reference parameter named <Camel>Ref (scripts/deploy-aws reads
	// it from <VAR>_REF).
	paramOf := func(where string, vars ymap, v string, secret bool) {
		t.Helper()
		p, ok := refOf(vars[v])
		if !ok {
			t.Errorf("%s: %s is %v, want {Ref: <parameter>}", where, v, vars[v])
			return
		}
		def, ok := params[p].(ymap)
		if !ok {
			t.Errorf("%s: %s refers to %s, which is not a parameter", where, v, p)
			return
		}
		if d, has := def["Default"]; !has || asStr(d) != "" {
			t.Errorf("parameter %s (%s): Default %v, want \"\": a setting left empty is the function's default", p, v, d)
		}
		if (def["NoEcho"] == true) != secret || strings.HasSuffix(p, "Ref") != secret {
			t.Errorf("parameter %s (%s): NoEcho %v; a secret (a reference parameter named ...Ref) is %v", p, v, def["NoEcho"], secret)
		}
		if !strings.Contains(asStr(def["Description"]), v) {
			t.Errorf("parameter %s does not name %s in its description", p, v)
		}
	}

	// The accounting and the person key: every function, from Globals.
	for _, v := range accountingSettings {
		paramOf("Globals", globals, v, false)
	}
	paramOf("Globals", globals, personKeySetting, true)
	for _, v := range append(encryptionSettings, eidKeySetting) {
		if _, ok := globals[v]; ok {
			t.Errorf("Globals sets %s: only the functions serving FaceID read it", v)
		}
	}

	fns := samFunctions(t, sam)
	fns["flows"] = flowsSAMID
	faceIDFns := faceIDFunctions()
	for _, a := range append(deployedFunctions(), deployed{"flows", "flows"}) {
		id := fns[a.Name]
		vars, _ := dig(resources[id], "Properties", "Environment", "Variables").(ymap)
		for _, v := range append(slices.Clone(accountingSettings), personKeySetting) {
			if _, ok := vars[v]; ok {
				t.Errorf("%s sets %s again: Globals has it", id, v)
			}
		}
		faceID := faceIDFns[a.Function] || a.Function == "flows"
		for _, v := range encryptionSettings {
			if _, ok := vars[v]; ok != faceID {
				t.Errorf("%s: %s set %v; it serves FaceID: %v", id, v, ok, faceID)
			} else if ok {
				paramOf(id, vars, v, false)
			}
		}
		eid := a.Function == eidFunction || a.Function == "flows"
		if _, ok := vars[eidKeySetting]; ok != eid {
			t.Errorf("%s: %s set %v; only GetEidResult's function and the flows function decrypt eID identities", id, eidKeySetting, ok)
		} else if ok {
			paramOf(id, vars, eidKeySetting, true)
		}
	}
}

// scfFunctionEnv is a serverless.yml function's environment as multi-scf
// deploys it: its own list, else the inputs'.
func scfFunctionEnv(inputs, fn ymap) map[string]string {
	l, _ := fn["environments"].(ylist)
	if l == nil {
		l, _ = inputs["environments"].(ylist)
	}
	m := map[string]string{}
	for _, e := range l {
		m[asStr(dig(e, "key"))] = asStr(dig(e, "value"))
	}
	return m
}

func TestDeploySettingsServerless(t *testing.T) {
	sls := loadDeployYAML(t, "serverless.yml")
	inputs := sls["inputs"].(ymap)
	functions := inputs["functions"].(ymap)
	faceIDFns := faceIDFunctions()
	if len(functions) != len(deployedFunctions())+1 {
		t.Fatalf("%d functions", len(functions))
	}
	for key, f := range functions {
		env := scfFunctionEnv(inputs, f.(ymap))
		// Plain settings are ${env:<VAR>}, secrets ${env:<VAR>_REF} (a
		// tckms:/tcssm: reference; the deploy refuses anything else):
		// scripts/deploy-tencent sets the unset ones empty.
		want := func(v string, secret bool) string {
			if secret {
				return "${env:" + v + "_REF}"
			}
			return "${env:" + v + "}"
		}
		for _, v := range accountingSettings {
			if env[v] != want(v, false) {
				t.Errorf("%s: %s = %q, want %s", key, v, env[v], want(v, false))
			}
		}
		if env[personKeySetting] != want(personKeySetting, true) {
			t.Errorf("%s: %s = %q, want the reference %s", key, personKeySetting, env[personKeySetting], want(personKeySetting, true))
		}
		faceID := faceIDFns[key] || key == flowsSCFKey
		for _, v := range encryptionSettings {
			got, ok := env[v]
			if ok != faceID || ok && got != want(v, false) {
				t.Errorf("%s: %s = %q (set %v); it serves FaceID: %v", key, v, got, ok, faceID)
			}
		}
		eid := key == eidFunction || key == flowsSCFKey
		if got, ok := env[eidKeySetting]; ok != eid || ok && got != want(eidKeySetting, true) {
			t.Errorf("%s: %s = %q (set %v); only GetEidResult's function and the flows function decrypt eID identities", key, eidKeySetting, got, ok)
		}
	}
}

// TestDeploySettingsEmptyIsDefault starts GetEidResult's function (it reads
// every one of the settings) with its environment as each deploy file
// gives it when nothing optional is set: serverless.yml's ${env:X} empty
// (scripts/deploy-tencent exports them so), template.yaml's parameters at
// their defaults. It must start with the defaults: encryption off, no eID
// key. (A sandbox in development, so no key or caller is needed.)
func TestDeploySettingsEmptyIsDefault(t *testing.T) {
	bin := buildBinary(t, eidFunction)
	dev := []string{"IDV_ENV=development", "IDV_MODE=sandbox"}
	named := append(append(slices.Clone(encryptionSettings), accountingSettings...), personKeySetting, eidKeySetting)

	sls := loadDeployYAML(t, "serverless.yml")
	inputs := sls["inputs"].(ymap)
	scfEnv := map[string]string{}
	for k, v := range scfFunctionEnv(inputs, dig(inputs, "functions", eidFunction).(ymap)) {
		scfEnv[k] = scfEnvRE.ReplaceAllString(v, "")
	}

	sam := loadDeployYAML(t, "template.yaml")
	params := sam["Parameters"].(ymap)
	samEnv := map[string]string{}
	fnID := samFunctions(t, sam)["GetEidResult"]
	for _, vars := range []any{dig(sam, "Globals", "Function", "Environment", "Variables"), dig(sam["Resources"], fnID, "Properties", "Environment", "Variables")} {
		m, _ := vars.(ymap)
		for k, v := range m {
			if p, ok := refOf(v); ok && params[p] != nil {
				samEnv[k] = asStr(dig(params[p], "Default"))
			}
		}
	}

	for file, env := range map[string]map[string]string{"serverless.yml": scfEnv, "template.yaml": samEnv} {
		t.Run(file, func(t *testing.T) {
			var kv []string
			for _, v := range named {
				val, ok := env[v]
				if !ok {
					t.Errorf("%s gives %s no %s", file, eidFunction, v)
				}
				if val != "" {
					t.Errorf("%s: %s defaults to %q, want empty", file, v, val)
				}
			}
			for k, v := range env {
				if k != "IDV_ENV" && k != "IDV_MODE" && k != "IDV_LOG_LEVEL" {
					kv = append(kv, k+"="+v)
				}
			}
			s := startServer(t, bin, append(kv, dev...)...)
			var start struct {
				Msg         string `json:"msg"`
				Encrypt     string `json:"encrypt"`
				EidIdentity *bool  `json:"eid_identity"`
			}
			found := false
			started := func(l string) bool { return strings.Contains(l, `"msg":"start"`) }
			for _, line := range strings.Split(jsonLines(logsOnceAll(started, s)), "\n") {
				if json.Unmarshal([]byte(line), &start) == nil && start.Msg == "start" && start.EidIdentity != nil {
					found = true
					break
				}
			}
			if !found || start.Encrypt != "off" || *start.EidIdentity {
				t.Errorf("start line: %+v (found %v), want encryption off and no eID key\n%s", start, found, s.logs())
			}
		})
	}
}

// TestDeploySettingsSecretsResolveAtStart: the two secret settings are
// references in the deploy files; GetEidResult's function resolves them at
// cold start with its role (here SCF's, against the Tencent SSM fake) and
// uses the values: it starts with the eID key (the reference text itself
// would not parse as a key or stop the start), and a reference to a value
// that is not a key stops it naming the variable, never the value.
func TestDeploySettingsSecretsResolveAtStart(t *testing.T) {
	bin := buildBinary(t, eidFunction)
	w := newSecWorld(t)
	personKey := w.secret(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	w.tc.PutSecretString("idverify-eid-key", "v1", sandbox.EidPrivateKey)
	w.tc.PutSecretString("idverify-person-key", "v1", `{"key":"`+personKey+`"}`)
	w.tc.PutSecretString("idverify-not-a-key", "v1", w.secret("not-a-key-3f9e"))
	config := map[string]string{
		"IDV_ENV": "development", "IDV_MODE": "sandbox", "IDV_RUNTIME": "local",
		eidKeySetting:    "tcssm:idverify-eid-key?version=v1",
		personKeySetting: "tcssm:idverify-person-key?version=v1#key",
	}
	s := startServer(t, bin, w.environ(config)...)
	w.out.Write([]byte(s.logs()))
	if !strings.Contains(logsOnceAll(func(l string) bool { return strings.Contains(l, `"eid_identity"`) }, s), `"eid_identity":true`) {
		t.Errorf("GetEidResult's function did not start with the eID key its reference names:\n%s", s.logs())
	}
	for _, v := range []string{eidKeySetting, personKeySetting} {
		bad := maps.Clone(config)
		bad[v] = "tcssm:idverify-not-a-key?version=v1"
		out, err := execCommand(bin, w.environ(bad)...).CombinedOutput()
		w.out.Write(out)
		if err == nil || !strings.Contains(string(out), `"field":"`+v+`"`) {
			t.Errorf("%s naming a value that is not a key: %v\n%s", v, err, out)
		}
	}
}
