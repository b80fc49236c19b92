package flows

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook signatures are Stripe's scheme under our own header name:
//
//	Idverify-Signature: t=1733140000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// v1 is hex(HMAC-SHA256(endpoint secret, t + "." + body)). A receiver
// recomputes it over the raw body, compares in constant time, and refuses a
// t too far from its clock (replay). Every retry of an event carries the
// same Idverify-Event-Id (and the same body), signed afresh.
const (
	HeaderSignature = "Idverify-Signature"
	HeaderEventID   = "Idverify-Event-Id"
	// DefaultTolerance is how far from now a receiver should accept t.
	DefaultTolerance = 5 * time.Minute
)

// Sign is the Idverify-Signature value of body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrNoSignature = errors.New("webhook: no t= and v1= in the signature header")
	ErrSignature   = errors.New("webhook: no v1 signature matches the body")
	ErrTimestamp   = errors.New("webhook: the timestamp is outside the tolerance")
)

// Verify checks a received webhook: header is the Idverify-Signature value,
// body the raw request body. Several v1= values (a secret being rotated)
// are accepted when any matches.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignature
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(n, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	return nil
}

// Endpoint is one webhook receiver of IDV_WEBHOOKS.
type Endpoint struct {
	// Caller whose flows are sent here; "*" for every caller.
	Caller string `json:"caller"`
	URL    string `json:"url"`
	// Secret signs the deliveries: a value, or a secret reference
	// resolved at start.
	Secret string `json:"secret"`
	// id keys deliveries; stable across restarts and reordering.
	id string
}

// EndpointID is a short stable id of an endpoint URL.
func EndpointID(u string) string {
	s := sha256.Sum256([]byte(u))
	return "ep_" + hex.EncodeToString(s[:6])
}

// parseEndpoints reads IDV_WEBHOOKS. Secrets are resolved by the caller
// (the secret references); here they are only checked to be present.
func parseEndpoints(raw string, production bool) ([]Endpoint, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var eps []Endpoint
	if err := dec.Decode(&eps); err != nil {
		return nil, fmt.Errorf(`: want a JSON array such as [{"caller":"web","url":"https://hooks.example.com/idv","secret":"tcssm:idv/webhook#secret"}]`)
	}
	if len(eps) > 100 {
		return nil, fmt.Errorf(": %d endpoints, at most 100", len(eps))
	}
	seen := map[string]bool{}
	for i := range eps {
		e := &eps[i]
		if e.Caller == "" {
			return nil, fmt.Errorf(`[%d].caller: missing (a caller id, or "*" for every caller)`, i)
		}
		u, err := url.Parse(e.URL)
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("[%d].url: want an absolute https URL", i)
		}
		if u.Scheme == "http" && production && !loopback(u.Hostname()) {
			return nil, fmt.Errorf("[%d].url: http is refused in production (the body carries personal data): use https", i)
		}
		if e.Secret == "" {
			return nil, fmt.Errorf("[%d].secret: missing (a secret reference, or at least 24 characters)", i)
		}
		e.id = EndpointID(e.URL)
		if seen[e.Caller+" "+e.id] {
			return nil, fmt.Errorf("[%d]: the same url is listed twice for caller %q", i, e.Caller)
		}
		seen[e.Caller+" "+e.id] = true
	}
	return eps, nil
}

func loopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// minSecretLen keeps a hand-typed weak secret out.
const minSecretLen = 24

// Event is what a webhook delivers.
type Event struct {
	ID      string `json:"id"`
	Type    string `json:"type"` // flow.succeeded, flow.failed, flow.expired
	Created int64  `json:"created"`
	// Livemode is false when the sandbox answered: a rehearsal.
	Livemode bool  `json:"livemode"`
	Flow     *Flow `json:"flow"`
}

// eventID is derived from the flow and the type, so two instances that
// both see a flow end make the same event, and a retry never becomes a new
// one.
func eventID(flowID, typ string) string {
	sum := sha256.Sum256([]byte("idverify-flow-event\x00" + flowID + "\x00" + typ))
	return eventPrefix + hex.EncodeToString(sum[:16])
}

// post sends one delivery. The answer's status is all that is read.
func post(ctx context.Context, client *http.Client, u string, secret []byte, eventID string, body []byte, now time.Time) (int, error) {
	// Errors name no URL: an endpoint's URL may carry a token of the
	// caller's, and the error is logged and kept with the delivery.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the endpoint URL is not usable")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "idverify-webhooks/1")
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderSignature, Sign(secret, now, body))
	resp, err := client.Do(req)
	if err != nil {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return 0, errors.New("network error: timed out")
		}
		return 0, errors.New("network error")
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// ParseWebhooks reads an IDV_WEBHOOKS value by the rules a function applies
// at start, for the deploy tools' preflight (scripts/deploytencent,
// scripts/deployaws): the endpoints, their secrets as written. The error
// names the member at fault and never repeats a secret.
func ParseWebhooks(raw string, production bool) ([]Endpoint, error) {
	eps, err := parseEndpoints(raw, production)
	if err != nil {
		return nil, errors.New(EnvWebhooks + err.Error())
	}
	return eps, nil
}
