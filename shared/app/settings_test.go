package app

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/secrets"
)

// TestCheckSettings: the deploy preflights' check accepts every setting
// left empty (the deploy files' default) and every example, refuses each
// malformed setting on its own naming it and never the value, and leaves
// references to the function.
func TestCheckSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	empty := map[string]string{}
	examples := map[string]string{}
	for _, s := range DeploySettings {
		empty[s.Name] = ""
		if s.Example != "" {
			examples[s.Name] = s.Example
		}
		if s.Secret != slices.Contains(SecretVars, s.Name) {
			t.Errorf("%s: Secret %v, but SecretVars (references required in production) says otherwise", s.Name, s.Secret)
		}
		if s.Secret && !secrets.IsRef(s.Example) {
			t.Errorf("%s: a secret's example must be a reference", s.Name)
		}
		if len(s.Actions) > 0 && !s.FaceID {
			t.Errorf("%s: names FaceID actions but is not a FaceID setting", s.Name)
		}
	}
	if errs := CheckSettings(env(empty)); len(errs) != 0 {
		t.Errorf("every setting empty: %v", errs)
	}
	if errs := CheckSettings(env(examples)); len(errs) != 0 {
		t.Errorf("the examples: %v", errs)
	}
	// Values a function accepts, in the forms the README gives for the
	// deploy files (a key on one line).
	good := map[string]string{
		encryptVar:        "aes-256-cbc",
		rsaPubVar:         base64.StdEncoding.EncodeToString([]byte(fieldcrypt.TencentRSAPublicKey)),
		sm2PubVar:         base64.StdEncoding.EncodeToString([]byte(fieldcrypt.TencentSM2PublicKey)),
		eidPrivVar:        base64.StdEncoding.EncodeToString([]byte(sandbox.EidPrivateKey)),
		PersonKeyVar:      base64.StdEncoding.EncodeToString(make([]byte, 32)),
		usageRetentionVar: "48h",
		usageMetricsVar:   "EMF",
	}
	if errs := CheckSettings(env(good)); len(errs) != 0 {
		t.Errorf("good values: %v", errs)
	}

	const marker = "value-7f3e"
	bad := map[string]string{
		encryptVar:          "AES-128-" + marker,
		rsaPubVar:           marker,
		sm2PubVar:           marker,
		eidPrivVar:          marker,
		"IDV_PERSON_LIMITS": "IdCardVerification=" + marker,
		PersonKeyVar:        marker,
		"IDV_BUDGETS":       `{"web":{"day":-1,"note":"` + marker + `"}}`,
		"IDV_USAGE_PRICES":  `{"currency":"CNY","perCall":{"IdCardVerification":"` + marker + `"}}`,
		usageRetentionVar:   "1h",
		usageMetricsVar:     "cloudwatch-" + marker,
	}
	got := CheckSettings(env(bad))
	if len(got) != len(DeploySettings) {
		t.Errorf("%d errors for %d bad settings: %v", len(got), len(DeploySettings), got)
	}
	for _, s := range DeploySettings {
		if _, ok := bad[s.Name]; !ok {
			t.Errorf("no bad value tried for %s", s.Name)
		}
		found := false
		for _, err := range got {
			if e := errs.As(err); e != nil && e.Field == s.Name {
				found = true
				if e.Kind != errs.Config || !strings.Contains(e.Message, s.Name) {
					t.Errorf("%s: %v, want a configuration error naming it", s.Name, err)
				}
				if strings.Contains(e.Error(), marker) {
					t.Errorf("%s: the error repeats the value: %v", s.Name, err)
				}
			}
		}
		if !found {
			t.Errorf("%s=%q was not refused", s.Name, bad[s.Name])
		}
	}
	// A reference is resolved only by the function.
	refs := map[string]string{}
	for _, s := range DeploySettings {
		refs[s.Name] = "tcssm:idverify-x?version=v1"
	}
	if errs := CheckSettings(env(refs)); len(errs) != 0 {
		t.Errorf("references: %v", errs)
	}
}
