package faceid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	sdkerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

// The billing count follows the registry's Charged flags: the recording of
// IdCardVerification is Result "0" (charged), "-4" (证件库服务异常) is free,
// RequestLimitExceeded and bad signatures are refused before processing.
func TestBillableFollowsRegistry(t *testing.T) {
	s, url := Start(t, Options{})
	c := client{url: url}
	const a = "IdCardVerification"

	if _, err := c.send(t, a, `{}`); err != nil {
		t.Fatal(err)
	}
	s.Queue(a, Behavior{Result: "-4"}, Behavior{ErrorCode: "RequestLimitExceeded"}, Behavior{Result: "-1"})
	body, err := c.send(t, a, `{}`)
	if err != nil || !bytes.Contains(body, []byte(`"Result":"-4"`)) || !bytes.Contains(body, []byte("证件库服务异常")) {
		t.Fatalf("busy result: %s %v", body, err)
	}
	if _, err := c.send(t, a, `{}`); code(err) != "RequestLimitExceeded" {
		t.Fatalf("throttle: %v", err)
	}
	if _, err := c.send(t, a, `{}`); err != nil { // "-1" 姓名和身份证号不一致: charged
		t.Fatal(err)
	}
	if _, err := (client{url: url, id: DefaultSecretID, key: "wrong"}).send(t, a, `{}`); code(err) != "AuthFailure.SignatureFailure" {
		t.Fatalf("bad signature: %v", err)
	}
	// The queue is spent: the recording again.
	if _, err := c.send(t, a, `{}`); err != nil {
		t.Fatal(err)
	}
	if s.Calls(a) != 6 || s.Billable(a) != 3 || s.TotalBillable() != 3 {
		t.Fatalf("calls %d billable %d total %d, want 6 3 3", s.Calls(a), s.Billable(a), s.TotalBillable())
	}

	// Error answers are billed only where the registry says so.
	s.Program("DetectAIFakeFaces", Behavior{ErrorCode: "FailedOperation.CoveredFace"})
	if _, err := c.send(t, "DetectAIFakeFaces", `{}`); code(err) != "FailedOperation.CoveredFace" {
		t.Fatalf("err = %v", err)
	}
	if s.Billable("DetectAIFakeFaces") != 0 {
		t.Fatal("a free error code was billed")
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name     string
		b        Behavior
		billable int
		check    func(t *testing.T, body []byte, err error)
	}{
		{"refuse", Behavior{Fault: Refuse}, 0, func(t *testing.T, _ []byte, err error) {
			if code(err) != "ClientError.NetworkError" {
				t.Fatalf("err = %v", err)
			}
		}},
		{"reset after read", Behavior{Fault: ResetAfterRead}, 1, func(t *testing.T, _ []byte, err error) {
			if code(err) != "ClientError.NetworkError" {
				t.Fatalf("err = %v", err)
			}
		}},
		{"malformed", Behavior{Fault: Malformed}, 1, func(t *testing.T, body []byte, err error) {
			if code(err) != "ClientError.ParseJsonError" || json.Valid(body) || len(body) == 0 {
				t.Fatalf("err = %v body %q", err, body)
			}
		}},
		{"5xx", Behavior{Status: 503, Body: []byte("unavailable")}, 1, func(t *testing.T, _ []byte, err error) {
			if code(err) != "ClientError.HttpStatusCodeError" && code(err) != "ClientError.ParseJsonError" {
				t.Fatalf("err = %v", err)
			}
		}},
		{"delay past deadline", Behavior{Delay: time.Minute}, 1, func(t *testing.T, _ []byte, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && code(err) != "ClientError.NetworkError" {
				t.Fatalf("err = %v", err)
			}
		}},
		{"trickle past deadline", Behavior{Trickle: 50 * time.Millisecond}, 1, func(t *testing.T, _ []byte, err error) {
			var e *sdkerr.TencentCloudSDKError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, url := Start(t, Options{})
			s.Queue("GetLiveCode", c.b)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			body, err := client{url: url, ctx: ctx}.send(t, "GetLiveCode", `{}`)
			c.check(t, body, err)
			if s.Calls("GetLiveCode") != 1 || s.Billable("GetLiveCode") != c.billable {
				t.Fatalf("calls %d billable %d, want 1 %d", s.Calls("GetLiveCode"), s.Billable("GetLiveCode"), c.billable)
			}
			// The fault was for one call only.
			if _, err := (client{url: url}).send(t, "GetLiveCode", `{}`); err != nil {
				t.Fatalf("next call: %v", err)
			}
		})
	}
}

// A trickled answer arrives whole when the client waits long enough.
func TestTrickleCompletes(t *testing.T) {
	s, url := Start(t, Options{})
	s.Program("GetLiveCode", Behavior{Trickle: time.Microsecond})
	body, err := client{url: url}.send(t, "GetLiveCode", `{}`)
	rec, _ := Recording("GetLiveCode")
	if err != nil || !bytes.Equal(body, rec) {
		t.Fatalf("%s %v", body, err)
	}
}
