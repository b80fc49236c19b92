package tencent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Our TC3 signature is tencentcloud-sdk-go's, byte for byte: the SDK's
// Client.Send and ours sign the same body at the same second with the same
// key (a session token too), against an endpoint with and without a path,
// and every header the SDK sends that the signature or FaceID reads is
// sent alike.
func TestSignatureMatchesSDK(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"Response":{"RequestId":"r"}}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, c := range []struct{ endpoint, token string }{
		{host, ""},
		{host, "session-token"},
		{host + "/prefix", ""},
	} {
		mu.Lock()
		got, bodies = nil, nil
		mu.Unlock()

		cp := profile.NewClientProfile()
		cp.HttpProfile.Scheme = "HTTP"
		cp.HttpProfile.Endpoint = c.endpoint
		cp.HttpProfile.ReqMethod = http.MethodPost
		cred := common.NewTokenCredential("AKIDsdk", "sdk-secret-key", c.token)
		client := common.NewCommonClient(cred, "ap-shanghai", cp)
		req := tchttp.NewCommonRequest(service, version, "IdCardVerification")
		if err := req.SetActionParameters(`{"IdCard":"110101199003071234","Name":"张三"}`); err != nil {
			t.Fatal(err)
		}
		if err := client.Send(req, tchttp.NewCommonResponse()); err != nil {
			t.Fatalf("sdk: %v", err)
		}

		mu.Lock()
		sdk, sdkBody := got[0], bodies[0]
		mu.Unlock()
		ts, err := strconv.ParseInt(sdk.Header.Get("X-TC-Timestamp"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(Config{SecretID: "AKIDsdk", SecretKey: "sdk-secret-key", SessionToken: c.token,
			Region: "ap-shanghai", Endpoint: "http://" + c.endpoint})
		if err != nil {
			t.Fatal(err)
		}
		p.sign.now = func() time.Time { return time.Unix(ts, 0) }
		if _, err := p.Call(context.Background(), "IdCardVerification", sdkBody); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		ours, ourBody := got[1], bodies[1]
		mu.Unlock()

		if !bytes.Equal(ourBody, sdkBody) {
			t.Fatalf("%s: body %s, sdk %s", c.endpoint, ourBody, sdkBody)
		}
		if ours.URL.Path != sdk.URL.Path || ours.Host != sdk.Host || ours.Method != sdk.Method {
			t.Fatalf("%s: %s %s%s, sdk %s %s%s", c.endpoint, ours.Method, ours.Host, ours.URL.Path, sdk.Method, sdk.Host, sdk.URL.Path)
		}
		for _, h := range []string{"Authorization", "Content-Type", "X-TC-Action", "X-TC-Version", "X-TC-Timestamp",
			"X-TC-Region", "X-TC-Token", "X-TC-Language"} {
			if ours.Header.Get(h) != sdk.Header.Get(h) || len(ours.Header.Values(h)) != len(sdk.Header.Values(h)) {
				t.Errorf("%s: %s = %q, sdk %q", c.endpoint, h, ours.Header.Values(h), sdk.Header.Values(h))
			}
		}
	}
}

// The signing key is derived again when the day or the key changes.
func TestSigningKeyCache(t *testing.T) {
	s := &signer{}
	a := s.signingKey("k1", "2024-01-01")
	if b := s.signingKey("k1", "2024-01-01"); !bytes.Equal(a, b) {
		t.Fatal("same key and day, different signing key")
	}
	if b := s.signingKey("k2", "2024-01-01"); bytes.Equal(a, b) {
		t.Fatal("rotated key, same signing key")
	}
	if b := s.signingKey("k1", "2024-01-02"); bytes.Equal(a, b) {
		t.Fatal("next day, same signing key")
	}
}
