package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/provider"
)

// TestEveryResultCodeIsInTable is the "reach every code" promise: each
// documented result code of each action with Results, and each
// FailedOperation code of the face-class actions, has a row, and every row
// but the account-state ones is one the emulator answers (TestScenarios).
func TestEveryResultCodeIsInTable(t *testing.T) {
	rows := map[string]map[string]Scenario{}
	for _, s := range scenariosAt(t0) {
		if rows[s.Action] == nil {
			rows[s.Action] = map[string]Scenario{}
		}
		code := s.Result
		if s.ErrorCode != "" {
			code = s.ErrorCode
		}
		if _, dup := rows[s.Action][code]; !dup {
			rows[s.Action][code] = s
		}
	}
	for _, a := range faceid.All() {
		codes := []string{}
		for _, r := range a.Results {
			codes = append(codes, r.Code)
		}
		if isFaceClass(a) {
			for _, c := range a.ErrorCodes {
				if strings.HasPrefix(c, "FailedOperation.") {
					codes = append(codes, c)
				}
			}
		}
		for _, code := range codes {
			s, ok := rows[a.Name][code]
			if !ok {
				t.Errorf("%s: documented code %s has no scenario", a.Name, code)
				continue
			}
			if r, ok := a.Result(code); ok && s.Charged != r.Charged {
				t.Errorf("%s %s: charged %v, registry says %v", a.Name, code, s.Charged, r.Charged)
			}
			if s.ReachedBy == ReachedByNotEmulated && !strings.HasPrefix(code, "UnauthorizedOperation") {
				t.Errorf("%s %s: only account-state codes may be left unemulated", a.Name, code)
			}
		}
	}
}

func TestEveryActionHasHandlerAndScenario(t *testing.T) {
	rows := map[string]int{}
	for _, s := range scenariosAt(t0) {
		rows[s.Action]++
		if _, ok := faceid.Lookup(s.Action); !ok {
			t.Errorf("scenario for unknown action %s", s.Action)
		}
		switch s.ReachedBy {
		case ReachedByMagic, ReachedByAnyValid, ReachedByInvalid, ReachedByFlow, ReachedByNotEmulated:
		default:
			t.Errorf("%s: reachedBy %q", s.Action, s.ReachedBy)
		}
		if s.Description == "" {
			t.Errorf("%s %s%s: empty description", s.Action, s.Result, s.ErrorCode)
		}
		if !json.Valid(s.Request) {
			t.Errorf("%s: request is not JSON", s.Action)
		}
	}
	handlers := allHandlers()
	for _, a := range faceid.All() {
		if _, ok := handlers[a.Name]; !ok {
			t.Errorf("%s has no handler", a.Name)
		}
		if rows[a.Name] == 0 {
			t.Errorf("%s has no scenario", a.Name)
		}
		if pl := plans()[a.Name]; pl != nil && len(pl.outcomes) > maxOutcome+1 {
			t.Errorf("%s has %d outcomes; magic values have two digits", a.Name, len(pl.outcomes)-1)
		}
	}
	if len(handlers) != len(faceid.All()) {
		t.Errorf("%d handlers for %d actions", len(handlers), len(faceid.All()))
	}
}

func TestUnknownActionAndBadJSON(t *testing.T) {
	p, _ := newTestProvider()
	if p.Name() != "sandbox" {
		t.Errorf("Name() = %q", p.Name())
	}
	e := callErr(t, p, "NoSuchAction", json.RawMessage(`{}`))
	if e.Code != "InvalidAction" || e.Kind != errs.NotFound {
		t.Errorf("unknown action: %v (%v)", e, e.Kind)
	}
	e = callErr(t, p, "IdCardVerification", json.RawMessage(`{"IdCard": 1}`))
	if e.Kind != errs.Invalid {
		t.Errorf("bad JSON: %v (%v)", e, e.Kind)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Call(ctx, "GetLiveCode", nil); errs.KindOf(err) != errs.Unavailable {
		t.Errorf("cancelled context: %v", err)
	}
	// Empty params are an empty request, not an error.
	if out, err := p.Call(context.Background(), "GetActionSequence", nil); err != nil || !json.Valid(out) {
		t.Errorf("empty params: %v %s", err, out)
	}
}

// TestErrorKinds: API errors carry the kind the live provider would give
// them, so workflows Retry and Catch the same way in both.
func TestErrorKinds(t *testing.T) {
	for code, want := range map[string]errs.Kind{
		"FailedOperation.CoveredFace":           errs.Provider,
		"InvalidParameterValue.BizTokenExpired": errs.Invalid,
		"InvalidParameter":                      errs.Invalid,
		"UnauthorizedOperation.Arrears":         errs.Forbidden,
		"RequestLimitExceeded":                  errs.Throttled,
		"InternalError":                         errs.Unavailable,
	} {
		if got := kindOf(code); got != want {
			t.Errorf("kindOf(%s) = %v, want %v", code, got, want)
		}
	}
	p, _ := newTestProvider()
	req := happyRequest("DetectAIFakeFaces").(*faceid.DetectAIFakeFacesRequest)
	req.FaceInput = str(MagicMedia(1))
	e := callErr(t, p, "DetectAIFakeFaces", req)
	if e.Kind != errs.Provider || !strings.HasPrefix(e.Code, "FailedOperation.") {
		t.Errorf("DetectAIFakeFaces failure: %v (%v)", e, e.Kind)
	}
}

// FuzzCall: whatever reaches the sandbox, it answers with JSON or an
// *errs.Error, never a panic (Call would turn one into an Internal error,
// which the fuzzer reports too).
func FuzzCall(f *testing.F) {
	actions := faceid.All()
	for i, s := range scenariosAt(t0) {
		f.Add(uint8(i%len(actions)), []byte(s.Request))
	}
	f.Add(uint8(0), []byte(`null`))
	f.Add(uint8(3), []byte(`[]`))
	f.Add(uint8(7), []byte(`{"IdCard":"11010119900307901"}`))
	f.Add(uint8(9), []byte(`{"BizToken":"sandbox-biz-1-00-n-0-00000000-00000000"}`))
	f.Add(uint8(9), []byte(`{"FaceInput":"c2FuZGJveC1vdXRjb21lLTk5","FaceInputType":-1}`))
	p, _ := newTestProvider()
	f.Fuzz(func(t *testing.T, n uint8, body []byte) {
		a := actions[int(n)%len(actions)]
		out, err := p.Call(context.Background(), a.Name, body)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind == errs.Internal {
				t.Fatalf("%s %q: %v", a.Name, body, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s: invalid JSON %s", a.Name, out)
		}
		if rid, _ := at(out, "RequestId"); !strings.HasPrefix(rid, "sandbox-") {
			t.Fatalf("%s: RequestId %q", a.Name, rid)
		}
	})
}

// TestPanicBecomesError: a bug in a handler answers an Internal error with
// a sandbox RequestId instead of crashing the function.
func TestPanicBecomesError(t *testing.T) {
	p, _ := newTestProvider()
	p.handlers["SandboxPanicTest"] = func(*Provider, *call, []byte) (any, error) { panic("boom") }
	_, err := p.Call(context.Background(), "SandboxPanicTest", nil)
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Internal || !strings.HasPrefix(e.RequestID, "sandbox-") || e.PublicMessage() != "internal error" {
		t.Errorf("panic answered %v", err)
	}
}

// TestNewForServesOnlyItsActions: a provider made with NewFor answers the
// actions it was given exactly as New's does, and no other.
func TestNewForServesOnlyItsActions(t *testing.T) {
	for _, a := range AllActions() {
		if _, ok := faceid.Lookup(a.name); !ok {
			t.Errorf("AllActions has %s, which the registry does not", a.name)
		}
	}
	if len(AllActions()) != len(faceid.All()) {
		t.Fatalf("%d actions in AllActions for %d in the registry", len(AllActions()), len(faceid.All()))
	}
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	one := NewFor(Options{Now: clock}, IdCardVerification())
	all := New(Options{Now: clock})
	body := json.RawMessage(`{"IdCard":"` + HappyIDCard + `","Name":"` + HappyName + `"}`)
	ctx := provider.WithRequestID(context.Background(), "sandbox-fixed")
	a, errA := one.Call(ctx, "IdCardVerification", body)
	b, errB := all.Call(ctx, "IdCardVerification", body)
	if errA != nil || errB != nil || string(a) != string(b) {
		t.Fatalf("NewFor answered %s %v, New %s %v", a, errA, b, errB)
	}
	_, err := one.Call(ctx, "PhoneVerification", json.RawMessage(`{}`))
	if e := errs.As(err); e == nil || e.Code != "InvalidAction" {
		t.Fatalf("an action NewFor was not given: %v", err)
	}
}
