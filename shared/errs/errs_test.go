package errs

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestConfigKind(t *testing.T) {
	if Config.String() != "ConfigurationError" || Config.HTTPStatus() != http.StatusInternalServerError {
		t.Fatalf("Config: %q %d", Config, Config.HTTPStatus())
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.String()] {
			t.Errorf("kind name %q twice", k)
		}
		seen[k.String()] = true
	}
	if !seen["ConfigurationError"] {
		t.Error("Kinds() leaves out Config")
	}
	// Kinds are stored by number: the old ones keep theirs.
	if Internal != 0 || Conflict != 8 || Config != 9 {
		t.Errorf("kind numbers moved: Conflict=%d Config=%d", Conflict, Config)
	}
}

func TestConfigf(t *testing.T) {
	e := Configf("IDV_MODE", "IDV_MODE is not a mode: use %s or %s", "sandbox", "live")
	if e.Kind != Config || e.Code != "InvalidConfiguration" || e.Field != "IDV_MODE" {
		t.Fatalf("%+v", e)
	}
	if e.PublicMessage() != "IDV_MODE is not a mode: use sandbox or live" {
		t.Errorf("public message %q", e.PublicMessage())
	}
	if e.Error() != "InvalidConfiguration: IDV_MODE is not a mode: use sandbox or live" {
		t.Errorf("Error() %q", e.Error())
	}
}

func TestConfigure(t *testing.T) {
	if Configure(nil, "X") != nil {
		t.Error("nil error configured")
	}
	// A Config error is kept; its field is filled when it had none.
	c := Configf("", "bad")
	if got := Configure(c, "IDV_X"); got.Field != "IDV_X" || got.Kind != Config || c.Field != "" {
		t.Errorf("field not filled on a copy: %+v (original %+v)", got, c)
	}
	named := Configf("IDV_A", "bad")
	if got := Configure(fmt.Errorf("ctx: %w", named), "IDV_B"); got != named {
		t.Errorf("named config error replaced: %+v", got)
	}
	// Another classified kind keeps its kind (an unreachable store is not
	// a configuration mistake) and gains the field.
	u := E(Unavailable, "RedisUnavailable", "no answer")
	if got := Configure(u, "IDV_REDIS_URL"); got.Kind != Unavailable || got.Field != "IDV_REDIS_URL" || got.Code != "RedisUnavailable" {
		t.Errorf("unavailable: %+v", got)
	}
	// A plain error becomes Config with its text; errors.Is still sees
	// the cause.
	sentinel := errors.New("IDV_LOG_LEVEL: use debug, info, warn or error")
	got := Configure(sentinel, "IDV_LOG_LEVEL")
	if got.Kind != Config || got.Message != sentinel.Error() || got.Field != "IDV_LOG_LEVEL" || !errors.Is(got, sentinel) {
		t.Errorf("plain: %+v", got)
	}
	// An Internal *Error keeps its message and its specific code.
	in := E(Internal, "InvalidConfiguration", "BAIDU_API_KEY and BAIDU_SECRET_KEY are both required")
	got = Configure(in, "BAIDU_API_KEY")
	if got.Kind != Config || got.Message != in.Message || got.Code != "InvalidConfiguration" || got.PublicMessage() != in.Message {
		t.Errorf("internal: %+v", got)
	}
	if got := Configure(E(Internal, "", "x"), ""); got.Code != "InvalidConfiguration" {
		t.Errorf("generic internal code kept: %q", got.Code)
	}
}

func TestFieldOf(t *testing.T) {
	inner := Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN=true is only allowed in sandbox mode")
	outer := Wrap(inner, KindOf(inner), "", "faceprint: %s", inner.Message)
	if FieldOf(outer) != "IDV_SANDBOX_OPEN" || As(outer).Kind != Config {
		t.Errorf("wrapped: field %q kind %v", FieldOf(outer), As(outer).Kind)
	}
	if FieldOf(fmt.Errorf("a: %w", errors.Join(errors.New("x"), inner))) != "IDV_SANDBOX_OPEN" {
		t.Error("joined: field lost")
	}
	if FieldOf(nil) != "" || FieldOf(errors.New("x")) != "" || FieldOf(E(Invalid, "", "x")) != "" {
		t.Error("field where none was set")
	}
}

func TestPublicMessageHidesInternalOnly(t *testing.T) {
	if m := E(Internal, "", "db password is hunter2").PublicMessage(); m != "internal error" {
		t.Errorf("internal shown: %q", m)
	}
	if m := As(errors.New("secret detail")).PublicMessage(); m != "internal error" {
		t.Errorf("unclassified shown: %q", m)
	}
}
