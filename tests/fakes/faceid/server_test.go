package faceid

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// captureBody keeps the raw response body, which the SDK's CommonResponse
// would otherwise re-encode.
type captureBody struct{ last []byte }

func (c *captureBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.last, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(c.last))
	return resp, nil
}

type client struct {
	url, id, key, token, version string
	ctx                          context.Context
}

// send signs with the real SDK and returns the raw body and the SDK error.
func (c client) send(t *testing.T, action, params string) ([]byte, error) {
	t.Helper()
	cp := profile.NewClientProfile()
	cp.HttpProfile.Scheme = "HTTP"
	cp.HttpProfile.Endpoint = strings.TrimPrefix(c.url, "http://")
	if c.id == "" {
		c.id, c.key = DefaultSecretID, DefaultSecretKey
	}
	if c.version == "" {
		c.version = Version
	}
	capture := &captureBody{}
	sdk := common.NewCommonClient(common.NewTokenCredential(c.id, c.key, c.token), "ap-guangzhou", cp).
		WithHttpTransport(capture)
	req := tchttp.NewCommonRequest(Service, c.version, action)
	if c.ctx != nil {
		req.SetContext(c.ctx)
	}
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	err := sdk.Send(req, tchttp.NewCommonResponse())
	return capture.last, err
}

func code(err error) string {
	var e *sdkerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestServesRecordingVerbatim(t *testing.T) {
	s, url := Start(t, Options{})
	for _, action := range Actions() {
		body, err := client{url: url}.send(t, action, `{}`)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		rec, _ := Recording(action)
		if !bytes.Equal(body, rec) {
			t.Fatalf("%s: body differs from the recording", action)
		}
		if s.Calls(action) != 1 {
			t.Fatalf("%s: Calls = %d", action, s.Calls(action))
		}
	}
	if s.TotalCalls() != len(Actions()) {
		t.Fatalf("TotalCalls = %d", s.TotalCalls())
	}
}

func TestRejects(t *testing.T) {
	_, url := Start(t, Options{})
	_, tokenURL := Start(t, Options{SessionToken: "tok"})
	cases := []struct {
		name   string
		c      client
		action string
		params string
		want   string
	}{
		{"wrong key", client{url: url, id: DefaultSecretID, key: "wrong"}, "IdCardVerification", `{}`, "AuthFailure.SignatureFailure"},
		{"unknown id", client{url: url, id: "AKIDother", key: "k"}, "IdCardVerification", `{}`, "AuthFailure.SecretIdNotFound"},
		{"wrong version", client{url: url, version: "2017-01-01"}, "IdCardVerification", `{}`, "NoSuchVersion"},
		{"unknown action", client{url: url}, "NoSuchAction", `{}`, "InvalidAction"},
		{"token missing", client{url: tokenURL}, "IdCardVerification", `{}`, "AuthFailure.TokenFailure"},
		{"token wrong", client{url: tokenURL, token: "other"}, "IdCardVerification", `{}`, "AuthFailure.TokenFailure"},
		{"token unexpected", client{url: url, token: "tok"}, "IdCardVerification", `{}`, "AuthFailure.TokenFailure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := c.c.send(t, c.action, c.params)
			if code(err) != c.want {
				t.Fatalf("err = %v, want code %s", err, c.want)
			}
			if !bytes.Contains(body, []byte(`"RequestId"`)) || !bytes.HasPrefix(body, []byte(`{"Response":{"Error":{"Code":`)) {
				t.Fatalf("error body not in Tencent's shape: %s", body)
			}
		})
	}
	if _, err := (client{url: tokenURL, token: "tok"}).send(t, "IdCardVerification", `{}`); err != nil {
		t.Fatalf("right token: %v", err)
	}
}

func TestExpiredSignature(t *testing.T) {
	_, url := Start(t, Options{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	_, err := client{url: url}.send(t, "GetLiveCode", `{}`)
	if code(err) != "AuthFailure.SignatureExpire" {
		t.Fatalf("err = %v", err)
	}
}

func TestProgram(t *testing.T) {
	s, url := Start(t, Options{})
	c := client{url: url}

	s.Program("IdCardVerification", Behavior{ErrorCode: "FailedOperation.UnKnown", ErrorMessage: "内部未知错误"})
	if _, err := c.send(t, "IdCardVerification", `{"Name":"x"}`); code(err) != "FailedOperation.UnKnown" {
		t.Fatalf("programmed error: %v", err)
	}
	// Other actions keep their recordings.
	if _, err := c.send(t, "GetLiveCode", `{}`); err != nil {
		t.Fatalf("unprogrammed action: %v", err)
	}

	s.Program("GetLiveCode", Behavior{Response: []byte(`{"LiveCode":"9999","RequestId":"r"}`)})
	body, err := c.send(t, "GetLiveCode", `{}`)
	if err != nil || string(body) != `{"Response":{"LiveCode":"9999","RequestId":"r"}}` {
		t.Fatalf("override: %s %v", body, err)
	}

	s.Program("GetNFCToken", Behavior{Status: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")})
	if _, err := c.send(t, "GetNFCToken", `{}`); err == nil {
		t.Fatal("502 accepted")
	}

	// A default behaviour applies to actions without their own.
	s.Program("", Behavior{ErrorCode: "RequestLimitExceeded"})
	if _, err := c.send(t, "MobileStatus", `{}`); code(err) != "RequestLimitExceeded" {
		t.Fatalf("default behaviour: %v", err)
	}
	if _, err := c.send(t, "GetLiveCode", `{}`); err != nil {
		t.Fatalf("own behaviour wins: %v", err)
	}

	if s.Calls("IdCardVerification") != 1 || s.Calls("GetLiveCode") != 3 || s.Calls("GetNFCToken") != 1 {
		t.Fatalf("calls: %d %d %d", s.Calls("IdCardVerification"), s.Calls("GetLiveCode"), s.Calls("GetNFCToken"))
	}
	last, ok := s.LastRequest("IdCardVerification")
	if !ok || string(last.Body) != `{"Name":"x"}` || last.Header.Get("X-TC-Action") != "IdCardVerification" {
		t.Fatalf("last request: %+v", last)
	}

	s.Reset()
	if s.TotalCalls() != 0 {
		t.Fatal("Reset kept counts")
	}
	if _, err := c.send(t, "MobileStatus", `{}`); err != nil {
		t.Fatalf("Reset kept behaviours: %v", err)
	}
}

func TestDelayEndsWhenClientGivesUp(t *testing.T) {
	s, url := Start(t, Options{})
	s.Program("GetLiveCode", Behavior{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client{url: url, ctx: ctx}.send(t, "GetLiveCode", `{}`)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	// The httptest server's Close (at cleanup) would hang if the handler
	// still slept; reaching the end of the test proves it did not.
}
