package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/validate"
)

// runScenario plays a scenario on a fresh provider: the Start call, the
// token, the wait, then the call itself.
func runScenario(t *testing.T, s Scenario) (json.RawMessage, error) {
	t.Helper()
	p, clock := newTestProvider()
	req := s.Request
	if s.Start != nil {
		out := mustCall(t, p, s.Start.Action, s.Start.Request)
		tok, ok := at(out, s.Start.TokenField)
		if !ok || tok == "" {
			t.Fatalf("%s answered no %s: %s", s.Start.Action, s.Start.TokenField, out)
		}
		req = withField(t, req, s.Start.Into, tok)
	}
	if s.After != "" {
		d, err := time.ParseDuration(s.After)
		if err != nil {
			t.Fatalf("After %q: %v", s.After, err)
		}
		clock.Advance(d)
	}
	return p.Call(context.Background(), s.Action, req)
}

// TestScenarios is the table's promise: every row reached by a magic value,
// a flow, any valid input or invalid input gets exactly the documented
// answer from the emulator.
func TestScenarios(t *testing.T) {
	for i, s := range scenariosAt(t0) {
		name := fmt.Sprintf("%03d_%s_%s%s", i, s.Action, s.Result, s.ErrorCode)
		t.Run(name, func(t *testing.T) {
			if s.ReachedBy == ReachedByNotEmulated {
				t.Skip("not emulated: " + s.ErrorCode)
			}
			out, err := runScenario(t, s)
			if s.ErrorCode != "" {
				var e *errs.Error
				if !errors.As(err, &e) {
					t.Fatalf("want error %s, got %v / %s", s.ErrorCode, err, out)
				}
				if e.Code != s.ErrorCode {
					t.Errorf("error code %s, want %s", e.Code, s.ErrorCode)
				}
				if !strings.HasPrefix(e.Message, s.Description) {
					t.Errorf("error message %q does not start with %q", e.Message, s.Description)
				}
				if !strings.HasPrefix(e.RequestID, "sandbox-") {
					t.Errorf("error RequestID %q", e.RequestID)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if rid, _ := at(out, "RequestId"); !strings.HasPrefix(rid, "sandbox-") {
				t.Errorf("RequestId %q lacks the sandbox- prefix", rid)
			}
			if s.ResultField != "" {
				if got, ok := at(out, s.ResultField); !ok || got != s.Result {
					t.Errorf("%s = %q (present %v), want %q; response %s", s.ResultField, got, ok, s.Result, out)
				}
			}
			if s.DescriptionField != "" {
				if got, _ := at(out, s.DescriptionField); got != s.Description {
					t.Errorf("%s = %q, want %q", s.DescriptionField, got, s.Description)
				}
			}
			for path, want := range s.Expect {
				if got, ok := at(out, path); !ok || got != want {
					t.Errorf("%s = %q (present %v), want %q", path, got, ok, want)
				}
			}
		})
	}
}

// TestMagicValuesAreValid: magic values must pass our own validation, or
// precheck would stop them before they reach the provider.
func TestMagicValuesAreValid(t *testing.T) {
	for _, s := range scenariosAt(t0) {
		if s.ReachedBy != ReachedByMagic && !(s.ReachedBy == ReachedByFlow && s.Start != nil) {
			continue
		}
		var err error
		switch s.Field {
		case "IdCard":
			err = validate.IDNumber(s.Value)
		case "Mobile", "Phone":
			err = validate.Mobile(s.Value)
		case "BankCard":
			err = validate.BankCard(s.Value)
		case "ImageBase64", "VideoBase64", "FaceInput":
			a, _ := faceid.Lookup(s.Action)
			lim, _ := a.MediaLimit(s.Field)
			err = validate.Base64Media(s.Value, lim)
		}
		if err != nil {
			t.Errorf("%s %s=%s: magic value fails validation: %v", s.Action, s.Field, s.Value, err)
		}
	}
	for i := 1; i <= maxOutcome; i++ {
		if err := validate.IDNumber(MagicIDCard(i)); err != nil {
			t.Errorf("MagicIDCard(%d) = %s: %v", i, MagicIDCard(i), err)
		}
		if err := validate.BankCard(MagicBankCard(i)); err != nil {
			t.Errorf("MagicBankCard(%d) = %s: %v", i, MagicBankCard(i), err)
		}
		if err := validate.Mobile(MagicMobile(i)); err != nil {
			t.Errorf("MagicMobile(%d) = %s: %v", i, MagicMobile(i), err)
		}
		if idIndex(MagicIDCard(i)) != i || cardIndex(MagicBankCard(i)) != i || mobileIndex(MagicMobile(i)) != i ||
			mediaIndex(MagicMedia(i)) != i || tokenIndex(MagicNFCToken(i)) != i {
			t.Errorf("magic value %d does not read back", i)
		}
	}
	for _, v := range []string{HappyIDCard, HappyMobile, HappyBankCard} {
		if idIndex(v)+mobileIndex(v)+cardIndex(v) != 0 {
			t.Errorf("happy value %s is magic", v)
		}
	}
	if err := validate.IDNumber(HappyIDCard); err != nil {
		t.Error(err)
	}
	if err := validate.BankCard(HappyBankCard); err != nil {
		t.Error(err)
	}
	if err := validate.Name(HappyName); err != nil {
		t.Error(err)
	}
}

// TestInvalidExamplesAreInvalid: the table's "invalid input" examples must
// really be rejected by the validator precheck uses for that field.
func TestInvalidExamplesAreInvalid(t *testing.T) {
	checks := map[string]func(string) error{
		"IdCard": validate.IDNumber, "Name": validate.Name, "Mobile": validate.Mobile, "Phone": validate.Mobile,
		"BankCard": validate.BankCard, "ValidityEnd": validate.ValidityEnd, "EncryptionMode": checkEncryptionMode,
		"FaceInput": func(s string) error { return validate.Base64Media(s, 10<<20) },
		"FaceInputType": func(s string) error {
			if s == "1" || s == "2" {
				return nil
			}
			return errors.New("not 1 or 2")
		},
		"LivenessType": validate.LivenessType,
		"Date": func(s string) error {
			_, err := time.Parse("2006-01-02", s)
			return err
		},
	}
	n := 0
	for _, s := range scenariosAt(t0) {
		if s.ReachedBy != ReachedByInvalid {
			continue
		}
		n++
		check, ok := checks[s.Field]
		if !ok {
			t.Errorf("%s: no validator known for field %s", s.Action, s.Field)
			continue
		}
		if check(s.Value) == nil {
			t.Errorf("%s %s=%q: the invalid example passes validation", s.Action, s.Field, s.Value)
		}
	}
	if n == 0 {
		t.Fatal("no invalid-input scenarios")
	}
}
