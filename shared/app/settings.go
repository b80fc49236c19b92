package app

import (
	"fmt"
	"sort"
	"strings"

	"github.com/idverify/idverify/shared/budget"
	"github.com/idverify/idverify/shared/catalog"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/personlimit"
	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/usage"
)

// DeploySetting is one of the optional settings of the wiring that the
// deploy files carry (scripts/gen writes them into template.yaml and
// serverless.yml, the deploy preflights check them with CheckSettings).
// Empty means the default: every one of them may be left empty. Example
// is a valid value (a reference for a secret), or "" where none is short.
type DeploySetting struct {
	catalog.EnvVar // Secret: a secret reference in the deploy files, never the value
	// FaceID: read only by functions that serve FaceID actions (the FaceID
	// contract's encryption); otherwise by every function (the pipeline's
	// policy).
	FaceID bool
	// Actions, when set: only functions serving one of these FaceID
	// actions use it.
	Actions []string
	// Doc says in one line what it does and what empty leaves.
	Doc string
}

// DeploySettings are the settings of sensitive-data encryption (README
// "Sensitive data") and of per-person limits, budgets and usage, in the
// README's order.
var DeploySettings = []DeploySetting{
	{EnvVar: catalog.EnvVar{Name: encryptVar, Example: "SM4-GCM"}, FaceID: true,
		Doc: "encrypt personal data to Tencent on the caller's behalf and decrypt encrypted answers: AES-256-CBC, SM4-GCM or off (empty: off)"},
	{EnvVar: catalog.EnvVar{Name: rsaPubVar}, FaceID: true,
		Doc: "Tencent's RSA public key for AES-256-CBC, as base64 of the PEM on one line (empty: Tencent's published key)"},
	{EnvVar: catalog.EnvVar{Name: sm2PubVar}, FaceID: true,
		Doc: "Tencent's SM2 public key for SM4-GCM, as hex 04||X||Y or base64 of the PEM (empty: Tencent's published key)"},
	{EnvVar: catalog.EnvVar{Name: eidPrivVar, Secret: true, Example: "tcssm:idverify-eid-key?version=v1"}, FaceID: true, Actions: []string{"GetEidResult"},
		Doc: "your eID SM2 private key: GetEidResult's identity comes back decrypted (empty: left encrypted)"},
	{EnvVar: catalog.EnvVar{Name: personlimit.Var, Example: "IdCardVerification=5/20,DetectAuth=3/10"},
		Doc: "per-person limits, off or Action=perMinute/perDay,... (empty: Tencent's published limits)"},
	{EnvVar: catalog.EnvVar{Name: PersonKeyVar, Secret: true, Example: "tcssm:idverify-person-key?version=v1"},
		Doc: "32 random bytes (base64 or hex) keying the hash that names an identity's counters (empty: derived from IDV_STORE_KEY)"},
	{EnvVar: catalog.EnvVar{Name: budget.Var, Example: `{"*":{"day":1000,"month":20000}}`},
		Doc: "caps on each caller's billable calls per day and month, JSON (empty: none)"},
	{EnvVar: catalog.EnvVar{Name: usage.PricesVar, Example: `{"currency":"CNY","perCall":{"IdCardVerification":0.3}}`},
		Doc: "the price of one charged call, JSON, for the usage report's estimated cost (empty: none)"},
	{EnvVar: catalog.EnvVar{Name: usageRetentionVar, Example: "9600h"},
		Doc: "how long a day's usage counts are kept in Redis, 24h to 26352h (empty: 9600h)"},
	{EnvVar: catalog.EnvVar{Name: usageMetricsVar, Example: "log"},
		Doc: "where each usage count goes besides the store: emf, log or off (empty: emf on Lambda, log on SCF)"},
}

// CheckSettings checks the DeploySettings in a configuration by the
// parsing a function runs at start, for the deploy preflights: a value they
// pass is one every function accepts. Each setting is checked alone (none
// depends on another), so every bad one is reported; each error is an
// *errs.Error naming the variable in Field and never repeating the value.
// Nothing is connected or resolved: a value that is a secret reference is
// left to the function (and to idvsecrets check), and budgets are not
// matched against IDV_CALLERS, which a deploy holds only as a reference.
func CheckSettings(getenv func(string) string) []error {
	var out []error
	for _, s := range DeploySettings {
		v := getenv(s.Name)
		if strings.TrimSpace(v) == "" || secrets.IsRef(strings.TrimSpace(v)) {
			continue
		}
		only := func(k string) string {
			if k == s.Name {
				return v
			}
			return ""
		}
		var err error
		switch s.Name {
		case encryptVar, rsaPubVar, sm2PubVar, eidPrivVar:
			_, err = faceIDCryptoFromEnv(only)
		case PersonKeyVar:
			_, err = personKeyFromEnv(only)
		default:
			_, err = accountingFromEnv(only, nil)
		}
		if err != nil {
			out = append(out, errs.Configure(err, s.Name))
		}
	}
	return out
}

// EnvLimit is both clouds' limit on one function's environment, names and
// values together: 4 KB (SCF quota limits, cloud.tencent.com/document/
// product/583/11637; Lambda quotas, "Environment variables").
const EnvLimit = 4096

// EnvOverLimit is the deploy preflights' one refusal of environments over
// EnvLimit, or "" when every function fits: the cloud would otherwise refuse
// them partway through a deploy. fnSize is each function's environment size;
// settingSize the size of each setting's value, under the name the operator
// sets. Settings are named with their size, never shown.
func EnvOverLimit(cloud, consequence string, fnSize, settingSize map[string]int) string {
	over, largest, largestFn := 0, 0, ""
	for fn, size := range fnSize {
		if size > EnvLimit {
			over++
			if size > largest || size == largest && fn < largestFn {
				largest, largestFn = size, fn
			}
		}
	}
	if over == 0 {
		return ""
	}
	var names []string
	for v, n := range settingSize {
		if n > 0 {
			names = append(names, v)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := settingSize[names[i]], settingSize[names[j]]
		return a > b || a == b && names[i] < names[j]
	})
	var top []string
	for _, v := range names[:min(3, len(names))] {
		top = append(top, fmt.Sprintf("%s (%d bytes)", v, settingSize[v]))
	}
	return fmt.Sprintf("the environment variables of %d function(s) would be over %s's 4 KB per function (%s: %d bytes), and %s: shorten the longest settings, %s",
		over, cloud, largestFn, largest, consequence, strings.Join(top, ", "))
}
