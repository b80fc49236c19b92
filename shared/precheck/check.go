package precheck

import (
	"reflect"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/validate"
)

// Local is a business result answered without calling the provider, because
// Tencent would have answered the same input with this free result code.
type Local struct {
	Code        faceid.ResultCode
	Field       string // the field that failed
	Rule        string // the rule it broke, safe to show (never the value)
	ResultField string // "Result" or "ResultCode"
}

// Check decodes params into the action's request model and validates it.
// It returns the decoded request, or a Local answer, or an *errs.Error of kind
// Invalid naming the field and the rule. Media fields (ImageBase64...) are
// validated where they lie in params: in the returned request they hold a
// stand-in ("A", or "" for a blank value), never a copy of the media.
func Check(a *faceid.Action, params []byte) (req any, local *Local, err error) {
	req, media, err := decode(a, params)
	if err != nil {
		return nil, nil, err
	}
	v := reflect.ValueOf(req).Elem()
	if err := checkRequired(a, v); err != nil {
		return nil, nil, err
	}
	if err := checkEncryption(a, v, media); err != nil {
		return nil, nil, err
	}
	skip := encryptedFields(v)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Name
		s, ok := stringField(v.Field(i))
		if !ok || skip[name] {
			continue
		}
		if max, isMedia := a.MediaLimit(name); isMedia {
			err := validate.Base64Media(s, max)
			if lit, ok := media[name]; ok {
				err = validate.Base64MediaJSON(lit, max)
			}
			if err != nil {
				return nil, nil, errs.E(errs.Invalid, "InvalidParameterValue", "field %s: %s", name, ruleText(err))
			}
			continue
		}
		r, ok := fieldRules[name]
		if !ok {
			continue
		}
		if err := r.check(s); err != nil {
			if code, ok := localCode(a, r.class); ok {
				return nil, &Local{Code: code, Field: name, Rule: ruleText(err), ResultField: a.ResultField}, nil
			}
			return nil, nil, errs.E(errs.Invalid, "InvalidParameterValue", "field %s: %s", name, ruleText(err))
		}
	}
	if local, err := checkSpecial(a, v); local != nil || err != nil {
		return nil, local, err
	}
	return req, nil, nil
}

func checkRequired(a *faceid.Action, v reflect.Value) error {
	for _, name := range a.Required {
		f := v.FieldByName(name)
		if !f.IsValid() {
			continue
		}
		if f.IsNil() {
			if other := a.RequiredUnless[name]; other != "" {
				if o := v.FieldByName(other); o.IsValid() && !o.IsNil() {
					continue // carried inside the encrypted body
				}
				return errs.E(errs.Invalid, "MissingParameter", "missing required field %s (required unless %s is sent)", name, other)
			}
			return errs.E(errs.Invalid, "MissingParameter", "missing required field %s", name)
		}
		if s, ok := stringField(f); ok && strings.TrimSpace(s) == "" {
			return errs.E(errs.Invalid, "InvalidParameterValue", "field %s must not be empty", name)
		}
	}
	return nil
}

// stringField returns the value of a non-nil *string field.
func stringField(f reflect.Value) (string, bool) {
	if f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return "", false
	}
	return f.Elem().String(), true
}

// encryptedFields lists the fields the caller encrypted (Encryption.EncryptList,
// or PhoneVerification's legacy top-level EncryptList): their values are
// ciphertext, so format rules cannot apply; Tencent checks them after decryption.
// checkEncryption has already refused a list that names anything else.
func encryptedFields(v reflect.Value) map[string]bool {
	out := map[string]bool{}
	add := func(list reflect.Value) {
		if !list.IsValid() || list.Kind() != reflect.Slice {
			return
		}
		for i := 0; i < list.Len(); i++ {
			if s, ok := stringField(list.Index(i)); ok {
				out[s] = true
			}
		}
	}
	if enc := v.FieldByName("Encryption"); enc.IsValid() && !enc.IsNil() {
		add(enc.Elem().FieldByName("EncryptList"))
	}
	add(v.FieldByName("EncryptList"))
	// EncryptedPhoneVerification carries hashes instead of plain values
	// unless EncryptionMode is "0"; checkSpecial validates the hashes.
	if m, ok := stringField(v.FieldByName("EncryptionMode")); ok && m != "0" {
		out["IdCard"], out["Name"], out["Phone"] = true, true, true
	}
	return out
}

// ruleText is the safe message of a validation error (validators never put
// the value in it).
func ruleText(err error) string { return err.Error() }
