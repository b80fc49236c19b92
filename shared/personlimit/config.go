package personlimit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Limit is how often one identity may be checked by one action.
type Limit struct {
	PerMinute int64 // 0: no per-minute limit
	PerDay    int64 // 0: no daily limit
}

func (l Limit) off() bool { return l.PerMinute <= 0 && l.PerDay <= 0 }

// Tencent's published per-identity limits (cloud.tencent.com/document/
// product/1007/108625 "限频策略"; see /work/shared/reference notes in the
// README): Tencent refuses past them anyway, after which every further
// attempt is wasted work and, for the flows, a user locked out until the
// next day. Mirroring them here answers before anything is sent.
const (
	// SaaS flows (WeChat H5 / mini program / E证通) and ImageRecognitionV2:
	// the same ID number at most 15 a minute and 30 a day.
	flowPerMinute, flowPerDay = 15, 30
	// Element checks (二要素 and the like): the same ID number at most 1000
	// a day per Tencent Cloud AppId; no per-minute figure is published.
	elementPerDay = 1000
)

// Defaults are the limits applied when IDV_PERSON_LIMITS does not name an
// action. Actions missing here have no default (no published limit).
//
// UNCONFIRMED: Tencent's page gives the figure (1000 a day per ID number)
// for IdCardVerification only; for the other element checks it names the
// counted fields and the "认证次数超过当日限制" code but leaves the figure
// blank, so 1000 a day is assumed for them, applied to a phone or bank card
// number where the action carries no ID number (MobileStatus,
// MobileNetworkTimeVerification, CheckPhoneAndName, BankCard2EVerification,
// CheckBankCardInformation). GetFaceIdToken (the app SDK flow) and
// ImageRecognition (V1.0) have no published figure and no default.
func Defaults() map[string]Limit {
	flow := Limit{PerMinute: flowPerMinute, PerDay: flowPerDay}
	element := Limit{PerDay: elementPerDay}
	return map[string]Limit{
		"DetectAuth":                    flow,
		"GetEidToken":                   flow,
		"ImageRecognitionV2":            flow,
		"IdCardVerification":            element,
		"IdCardOCRVerification":         element,
		"CheckIdNameDate":               element,
		"CheckPhoneAndName":             element,
		"PhoneVerification":             element,
		"PhoneVerificationCMCC":         element,
		"PhoneVerificationCTCC":         element,
		"PhoneVerificationCUCC":         element,
		"MobileStatus":                  element,
		"MobileNetworkTimeVerification": element,
		"BankCard2EVerification":        element,
		"BankCardVerification":          element,
		"BankCard4EVerification":        element,
		"CheckBankCardInformation":      element,
	}
}

// Var is the setting that changes the limits.
const Var = "IDV_PERSON_LIMITS"

// Parse reads IDV_PERSON_LIMITS over the defaults: "off" turns every limit
// off; otherwise a comma-separated list of Action=M/D (at most M checks of
// one identity a minute and D a day; 0 is no limit in that window) or
// Action=off. An empty value keeps the defaults.
func Parse(v string) (map[string]Limit, error) {
	limits := Defaults()
	v = strings.TrimSpace(v)
	if v == "" {
		return limits, nil
	}
	if strings.EqualFold(v, "off") {
		return map[string]Limit{}, nil
	}
	for i, item := range strings.Split(v, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(item), "=")
		name, spec = strings.TrimSpace(name), strings.TrimSpace(spec)
		if !ok || name == "" {
			return nil, fmt.Errorf("%s item %d: want Action=perMinute/perDay (e.g. IdCardVerification=5/20) or Action=off", Var, i+1)
		}
		if _, known := identities[name]; !known {
			return nil, fmt.Errorf("%s item %d: %q is not an action that carries an identity (known: %s)", Var, i+1, trunc(name, 64), strings.Join(Actions(), ", "))
		}
		if strings.EqualFold(spec, "off") {
			delete(limits, name)
			continue
		}
		m, d, ok := strings.Cut(spec, "/")
		pm, err1 := strconv.ParseInt(strings.TrimSpace(m), 10, 64)
		pd, err2 := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if !ok || err1 != nil || err2 != nil || pm < 0 || pd < 0 || pm > 1e9 || pd > 1e9 {
			return nil, fmt.Errorf("%s item %d (%s): want perMinute/perDay, two whole numbers from 0 (no limit) to 1000000000", Var, i+1, name)
		}
		if pm > 0 && pd > 0 && pm > pd {
			return nil, fmt.Errorf("%s item %d (%s): the per-minute limit %d is above the daily limit %d", Var, i+1, name, pm, pd)
		}
		l := Limit{PerMinute: pm, PerDay: pd}
		if l.off() {
			delete(limits, name)
			continue
		}
		limits[name] = l
	}
	return limits, nil
}

// Actions lists the actions whose requests carry an identity, sorted.
func Actions() []string {
	out := make([]string, 0, len(identities))
	for a := range identities {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
