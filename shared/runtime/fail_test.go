package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/logging"
)

// failLine is the JSON line Fail logs for err.
func failLine(t *testing.T, err error) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logging.New(&buf, slog.LevelInfo).Error("initialisation failed", failAttrs(err)...)
	var m map[string]any
	if jerr := json.Unmarshal(buf.Bytes(), &m); jerr != nil {
		t.Fatalf("%v: %s", jerr, buf.Bytes())
	}
	return m
}

func TestFailLineConfig(t *testing.T) {
	inner := errs.Configf("IDV_SANDBOX_OPEN", "IDV_SANDBOX_OPEN=true is only allowed in sandbox mode")
	// As functions/all reports it: prefixed by the part's name.
	err := errs.Wrap(inner, errs.KindOf(inner), "", "faceprint: %s", inner.Message)
	m := failLine(t, err)
	if m["error_type"] != "ConfigurationError" || m["error_code"] != "InvalidConfiguration" ||
		m["error"] != "faceprint: IDV_SANDBOX_OPEN=true is only allowed in sandbox mode" || m["field"] != "IDV_SANDBOX_OPEN" {
		t.Errorf("config failure logged as %v", m)
	}
}

func TestFailLineInternal(t *testing.T) {
	for _, err := range []error{
		errors.New("dial tcp: password=hunter2"),
		errs.E(errs.Internal, "", "db password is hunter2"),
	} {
		m := failLine(t, fmt.Errorf("wrapped: %w", err))
		if m["error_type"] != "Internal" || m["error"] != "internal error" || m["error_code"] != "InternalError" {
			t.Errorf("internal failure logged as %v", m)
		}
		if _, ok := m["field"]; ok {
			t.Errorf("field without a configuration error: %v", m)
		}
	}
}

func TestFailLineUnavailableNamesVariable(t *testing.T) {
	err := errs.Configure(errs.E(errs.Unavailable, "RedisUnavailable", "IDV_REDIS_URL: the store at 10.0.0.1:6379 does not answer: timed out"), "IDV_REDIS_URL")
	m := failLine(t, err)
	if m["error_type"] != "UpstreamUnavailable" || m["field"] != "IDV_REDIS_URL" || m["error_code"] != "RedisUnavailable" {
		t.Errorf("unavailable store logged as %v", m)
	}
}
