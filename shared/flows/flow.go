// Package flows owns the verification flows that run in a browser or an
// app between two calls: DetectAuth → Tencent's H5 page → GetDetectInfoEnhanced,
// GetEidToken → eID → GetEidResult, GetFaceIdToken → app SDK → GetFaceIdResult,
// faceAdv → WeBank SDK → faceAdvResult, and Baidu's verifyToken/generate →
// H5 page → result/getall.
//
// A flow starts when the pipeline runs its first action (an Interceptor):
// the caller's RedirectUrl is kept and the provider is given this
// function set's return route instead. When the browser comes back (or the
// sweep finds the flow finished, or its time runs out) the result is pulled
// through the same pipeline as the caller that started it, stored sealed,
// and announced by signed webhooks (Stripe-style "t=…,v1=…") delivered at
// least once from an outbox that survives a restart; the browser goes on to
// the caller's own URL with only the flow's opaque id. A result route lets
// the caller's backend poll.
//
// Nothing here depends on a goroutine outliving an invocation: on Lambda
// and SCF a scheduled invocation ({"Action":"flows/sweep"}) moves open flows
// and due deliveries along; the local and web servers sweep on a ticker.
package flows

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Flow states.
const (
	StatePending   = "pending"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateExpired   = "expired"
)

// Flow is one started flow, as stored (sealed) and as the result route
// shows it.
type Flow struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Action string `json:"action"` // the action that started it
	Caller string `json:"caller"`
	// Test: the caller is a test caller (served by the sandbox).
	Test    bool `json:"-"`
	Sandbox bool `json:"sandbox"`
	// Token is the provider's flow token (BizToken, EidToken, FaceIdToken,
	// traceNo, verify_token): the caller received it with the first answer.
	Token string `json:"token,omitempty"`
	State string `json:"state"`
	// ReturnTo is the caller's own URL the browser goes on to.
	ReturnTo string `json:"-"`
	// Ref holds what later pulls need (RuleId, orderNo).
	Ref map[string]string `json:"-"`
	// ExtData is faceAdv's extData as the caller sent it: kept with the
	// flow, returned with the result and in webhooks, never logged.
	ExtData json.RawMessage `json:"extData,omitempty"`
	// Result is the last answer pulled, as the provider returned it, and
	// the action that answered.
	Result       json.RawMessage `json:"result,omitempty"`
	ResultAction string          `json:"resultAction,omitempty"`
	Created      time.Time       `json:"created"`
	Expires      time.Time       `json:"expires"`
	Finished     *time.Time      `json:"finished,omitempty"`
	Pulls        int             `json:"-"`
	LastPull     time.Time       `json:"-"`
}

// stored is Flow with the members the result route does not show.
type stored struct {
	Flow
	Test     bool              `json:"test,omitempty"`
	ReturnTo string            `json:"returnTo,omitempty"`
	Ref      map[string]string `json:"ref,omitempty"`
	Pulls    int               `json:"pulls,omitempty"`
	LastPull time.Time         `json:"lastPull"`
}

func (f *Flow) marshal() ([]byte, error) {
	return json.Marshal(stored{Flow: *f, Test: f.Test, ReturnTo: f.ReturnTo, Ref: f.Ref, Pulls: f.Pulls, LastPull: f.LastPull})
}

func unmarshalFlow(b []byte) (*Flow, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	f := s.Flow
	f.Test, f.ReturnTo, f.Ref, f.Pulls, f.LastPull = s.Test, s.ReturnTo, s.Ref, s.Pulls, s.LastPull
	return &f, nil
}

// Done says the flow has its final state.
func (f *Flow) Done() bool { return f.State != StatePending }

// newID makes an opaque, unguessable id: it is the capability the return
// route and the browser's redirect carry.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// validID accepts what newID makes, so a hostile path segment never
// reaches the store.
func validID(prefix, s string) bool {
	if len(s) != len(prefix)+32 || s[:len(prefix)] != prefix {
		return false
	}
	_, err := hex.DecodeString(s[len(prefix):])
	return err == nil
}

const (
	flowPrefix  = "flw_"
	eventPrefix = "evt_"
)
