package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// t0 is the fake clock's start: a Sunday afternoon in Beijing.
var t0 = time.Date(2026, 3, 1, 14, 30, 0, 0, chinaTime)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestProvider() (*Provider, *fakeClock) {
	c := newClock()
	return New(Options{Now: c.Now}), c
}

// mustCall runs one action and fails the test on an error.
func mustCall(t *testing.T, p *Provider, action string, req any) json.RawMessage {
	t.Helper()
	body, ok := req.(json.RawMessage)
	if !ok {
		body = reqJSON(req)
	}
	out, err := p.Call(context.Background(), action, body)
	if err != nil {
		t.Fatalf("%s: unexpected error %v", action, err)
	}
	return out
}

// callErr runs one action that must fail and returns its error.
func callErr(t *testing.T, p *Provider, action string, req any) *errs.Error {
	t.Helper()
	body, ok := req.(json.RawMessage)
	if !ok {
		body = reqJSON(req)
	}
	out, err := p.Call(context.Background(), action, body)
	if err == nil {
		t.Fatalf("%s: want an error, got %s", action, out)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T is not *errs.Error", action, err)
	}
	if !strings.HasPrefix(e.RequestID, "sandbox-") {
		t.Errorf("%s: error RequestID %q lacks the sandbox- prefix", action, e.RequestID)
	}
	return e
}

// at reads the value at a dotted path of a JSON document, going into
// JSON-in-a-string values (DetectInfo) as needed. Strings come back
// unquoted, null as "null", anything else as its JSON text.
func at(doc json.RawMessage, path string) (string, bool) {
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		var s string
		if json.Unmarshal(cur, &s) == nil {
			cur = json.RawMessage(s)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(cur, &m) != nil {
			return "", false
		}
		v, ok := m[seg]
		if !ok {
			return "", false
		}
		cur = v
	}
	if string(cur) == "null" {
		return "null", true
	}
	var s string
	if json.Unmarshal(cur, &s) == nil {
		return s, true
	}
	return string(cur), true
}

// withField returns req with field set to a string value.
func withField(t *testing.T, req json.RawMessage, field, value string) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(req, &m); err != nil {
		t.Fatalf("request %s: %v", req, err)
	}
	m[field] = value
	out, _ := json.Marshal(m)
	return out
}
