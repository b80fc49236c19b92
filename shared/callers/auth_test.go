package callers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

const (
	webKey     = "idvk_web_0123456789abcdefghijklmnopqrstuv"
	phoneKey   = "idvk_phone_0123456789abcdefghijklmnopqrst"
	partnerID  = "AKIDpartner0001"
	partnerKey = "partner-secret-key-0123456789"
	narrowID   = "AKIDnarrow0001"
	narrowKey  = "narrow-secret-key-0123456789"
)

// testConfig has an API-key caller for IdCardVerification, one for
// PhoneVerification only, a test key pair for everything and a key pair
// for PhoneVerification only.
func testConfig() string {
	return `[
 {"id":"web","keySha256":"` + hashHex(webKey) + `","actions":["IdCardVerification","faceAdv"],"rate":{"perSecond":10,"burst":20}},
 {"id":"phone","keySha256":"` + hashHex(phoneKey) + `","actions":["PhoneVerification"]},
 {"id":"partner","secretId":"` + partnerID + `","secretKey":"` + partnerKey + `","actions":["*"],"test":true},
 {"id":"narrow","secretId":"` + narrowID + `","secretKey":"` + narrowKey + `","actions":["PhoneVerification"]}]`
}

func testSet(t testing.TB) *Set {
	t.Helper()
	s, err := Load(context.Background(), []byte(testConfig()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearerReq(auth ...string) *gateway.Request {
	h := http.Header{}
	for _, a := range auth {
		h.Add("Authorization", a)
	}
	return &gateway.Request{Method: http.MethodPost, Path: "/v1/faceid/IdCardVerification", Header: h, SourceIP: "127.0.0.1"}
}

func wantErr(t *testing.T, err error, kind errs.Kind, code string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("error = %v (kind %v), want %v %s", err, errs.KindOf(err), kind, code)
	}
}

func TestBearer(t *testing.T) {
	s := testSet(t)
	ctx := context.Background()

	c, err := s.Authenticate(ctx, bearerReq("Bearer "+webKey), "IdCardVerification")
	if err != nil {
		t.Fatal(err)
	}
	if *c != (gateway.Caller{ID: "web", Rate: 10, Burst: 20}) {
		t.Fatalf("caller = %+v", c)
	}
	// The seed-002 contract sends the token bare; the scheme name is
	// case-insensitive, as RFC 9110 says.
	for _, h := range []string{webKey, "bearer " + webKey, "Bearer   " + webKey} {
		if c, err := s.Authenticate(ctx, bearerReq(h), "faceAdv"); err != nil || c.ID != "web" {
			t.Errorf("%.12q: %v %v", h, c, err)
		}
	}

	// Another caller's key authenticates that caller, with its actions.
	c, err = s.Authenticate(ctx, bearerReq("Bearer "+phoneKey), "PhoneVerification")
	if err != nil || c.ID != "phone" || c.Rate != 0 {
		t.Fatalf("phone: %+v %v", c, err)
	}
	_, err = s.Authenticate(ctx, bearerReq("Bearer "+phoneKey), "IdCardVerification")
	wantErr(t, err, errs.Forbidden, CodeUnauthorizedOperation)

	for _, h := range []string{"Bearer " + webKey + "x", "Bearer " + webKey[:len(webKey)-1], "nope", "Bearer " + hashHex(webKey)} {
		_, err = s.Authenticate(ctx, bearerReq(h), "IdCardVerification")
		wantErr(t, err, errs.Unauthorized, CodeSecretIDNotFound)
		if strings.Contains(err.Error(), webKey[5:20]) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
	for _, hs := range [][]string{nil, {""}, {"Bearer "}, {"Basic dXNlcjpwYXNz"}, {"Bearer " + webKey, "Bearer " + webKey},
		{"Bearer " + strings.Repeat("k", maxKeyLen+1)}, {"TC3-HMAC-SHA256 garbage"}} {
		_, err = s.Authenticate(ctx, bearerReq(hs...), "IdCardVerification")
		wantErr(t, err, errs.Unauthorized, CodeInvalidAuthorization)
	}
	// TC3 pairs are not API keys.
	_, err = s.Authenticate(ctx, bearerReq("Bearer "+partnerKey), "IdCardVerification")
	wantErr(t, err, errs.Unauthorized, CodeSecretIDNotFound)
}

// authServer stands in for the function with authentication alone: it
// turns each HTTP request into a gateway.Request as the runtime adapters do
// (Host kept in the header), authenticates it with auth for its action
// (X-TC-Action on the Tencent API form at "/", the last path segment on
// /v1/faceid/<action>) and answers a FaceID envelope: Result "0" for an
// authenticated call, else Response.Error, with HTTP 200 on the Tencent form
// (as Tencent answers) and the error kind's status on /v1. The whole
// function, gateway included, is driven by tests/callers_test.go; these
// tests stay about what this package decides. A test can tamper with the
// request after the client signed it, and see the last one.
type authServer struct {
	auth   gateway.Authenticator
	mu     sync.Mutex
	tamper func(*gateway.Request)
	last   *gateway.Request
}

func (h *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	hdr := r.Header.Clone()
	hdr.Set("Host", r.Host)
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	req := &gateway.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: hdr, Body: body, SourceIP: ip}
	action, v1 := strings.CutPrefix(r.URL.Path, "/v1/faceid/")
	if !v1 {
		action = r.Header.Get("X-TC-Action")
	}
	h.mu.Lock()
	if h.tamper != nil {
		h.tamper(req)
	}
	h.last = req
	h.mu.Unlock()

	status, resp := http.StatusOK, map[string]any{"RequestId": "r-1"}
	if c, err := h.auth.Authenticate(r.Context(), req, action); err != nil {
		e := errs.As(err)
		resp["Error"] = map[string]string{"Code": e.Code, "Message": e.PublicMessage()}
		if v1 {
			status = e.Kind.HTTPStatus()
		}
	} else {
		resp["Result"], resp["Caller"] = "0", c.ID
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

func (h *authServer) setTamper(f func(*gateway.Request)) {
	h.mu.Lock()
	h.tamper = f
	h.mu.Unlock()
}

// startGateway serves authentication by auth over HTTP.
func startGateway(t *testing.T, auth gateway.Authenticator) (*httptest.Server, *authServer) {
	t.Helper()
	tap := &authServer{auth: auth}
	srv := httptest.NewServer(tap)
	t.Cleanup(srv.Close)
	return srv, tap
}

func sdkClient(srv *httptest.Server, id, key string) *common.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 10
	return common.NewCommonClient(common.NewCredential(id, key), "ap-guangzhou", cpf)
}

var idCardParams = map[string]any{"IdCard": "110101199003074477", "Name": "张三"}

// sdkCall calls action with the real Tencent SDK and returns the error
// code ("" on success) and the result.
func sdkCall(t *testing.T, c *common.Client, action string, params map[string]any) (string, map[string]any) {
	t.Helper()
	return sdkCallService(t, c, "faceid", action, params)
}

// sdkCallService is sdkCall signing for service: the Go SDK signs for the
// request's service whatever the endpoint, so it can sign as the Node SDK
// does for a host that does not start with "faceid.".
func sdkCallService(t *testing.T, c *common.Client, service, action string, params map[string]any) (string, map[string]any) {
	t.Helper()
	req := tchttp.NewCommonRequest(service, "2018-03-01", action)
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		e, ok := err.(*tcerr.TencentCloudSDKError)
		if !ok {
			t.Fatalf("%s: not an API error: %v", action, err)
		}
		return e.Code, nil
	}
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		t.Fatal(err)
	}
	return "", env.Response
}

func TestTC3WithTencentSDK(t *testing.T) {
	s := testSet(t)
	srv, tap := startGateway(t, s)

	code, r := sdkCall(t, sdkClient(srv, partnerID, partnerKey), "IdCardVerification", idCardParams)
	if code != "" || r["Result"] != "0" {
		t.Fatalf("signed call: %s %v", code, r)
	}
	// What the SDK sent authenticates as the test key pair.
	tap.mu.Lock()
	signed := tap.last
	tap.mu.Unlock()
	c, err := s.Authenticate(context.Background(), signed, "IdCardVerification")
	if err != nil || *c != (gateway.Caller{ID: "partner", Test: true}) {
		t.Fatalf("caller = %+v, %v", c, err)
	}

	cases := []struct {
		name    string
		id, key string
		action  string
		want    string
	}{
		{"wrong key", partnerID, partnerKey + "x", "IdCardVerification", CodeSignatureFailure},
		{"unknown secretId", "AKIDnobody0001", partnerKey, "IdCardVerification", CodeSecretIDNotFound},
		{"another pair's key", narrowID, partnerKey, "PhoneVerification", CodeSignatureFailure},
		{"action not allowed", narrowID, narrowKey, "IdCardVerification", CodeUnauthorizedOperation},
	}
	for _, c := range cases {
		if code, _ := sdkCall(t, sdkClient(srv, c.id, c.key), c.action, idCardParams); code != c.want {
			t.Errorf("%s: code %q, want %q", c.name, code, c.want)
		}
	}
	if code, r := sdkCall(t, sdkClient(srv, narrowID, narrowKey), "PhoneVerification",
		map[string]any{"IdCard": "110101199003074477", "Name": "张三", "Phone": "13800138000"}); code != "" || r["Result"] == nil {
		t.Errorf("narrow pair on its own action: %s %v", code, r)
	}

	// A body changed after signing fails, however small the change.
	tap.setTamper(func(r *gateway.Request) { r.Body = bytes.Replace(r.Body, []byte("4477"), []byte("4478"), 1) })
	if code, _ := sdkCall(t, sdkClient(srv, partnerID, partnerKey), "IdCardVerification", idCardParams); code != CodeSignatureFailure {
		t.Errorf("tampered body: code %q", code)
	}
	tap.setTamper(nil)

	// A request signed more than five minutes from the server's clock.
	skewed := testSet(t)
	skewed.now = func() time.Time { return time.Now().Add(6 * time.Minute) }
	srv2, _ := startGateway(t, skewed)
	if code, _ := sdkCall(t, sdkClient(srv2, partnerID, partnerKey), "IdCardVerification", idCardParams); code != CodeSignatureExpire {
		t.Errorf("expired timestamp: code %q", code)
	}
}

// tencentcloud-sdk-nodejs signs for the first label of the endpoint host:
// behind a Function URL (<id>.lambda-url.<region>.on.aws,
// <appid>-<id>.<region>.tencentscf.com) that is "<id>" or "<appid>-<id>",
// against 127.0.0.1:<port> "127", against localhost:<port> the whole
// "localhost:<port>". An issued key pair is accepted whatever service the
// credential scope names, and everything else is checked as before.
func TestTC3AnyService(t *testing.T) {
	srv, _ := startGateway(t, testSet(t))
	for _, service := range []string{"faceid", "127", "0123456789abcdefghijklmnopqrstuv", "1250000000-abcdefgh", "localhost:9000", "cvm"} {
		code, r := sdkCallService(t, sdkClient(srv, partnerID, partnerKey), service, "IdCardVerification", idCardParams)
		if code != "" || r["Result"] != "0" || r["Caller"] != "partner" {
			t.Errorf("service %q: %q %v", service, code, r)
		}
		for _, c := range []struct {
			name    string
			id, key string
			action  string
			want    string
		}{
			{"wrong key", partnerID, partnerKey + "x", "IdCardVerification", CodeSignatureFailure},
			{"unknown secretId", "AKIDnobody0001", partnerKey, "IdCardVerification", CodeSecretIDNotFound},
			{"another pair's key", narrowID, partnerKey, "PhoneVerification", CodeSignatureFailure},
			{"action not allowed", narrowID, narrowKey, "IdCardVerification", CodeUnauthorizedOperation},
		} {
			if code, _ := sdkCallService(t, sdkClient(srv, c.id, c.key), service, c.action, idCardParams); code != c.want {
				t.Errorf("service %q, %s: code %q, want %q", service, c.name, code, c.want)
			}
		}
	}
}

// The scope is bound by the signature: a request signed for one service
// and presented as signed for another, by changing the Credential after
// signing, fails, whichever of the two is "faceid".
func TestTC3TamperedScope(t *testing.T) {
	srv, tap := startGateway(t, testSet(t))
	for _, c := range []struct{ signed, presented string }{
		{"127", "faceid"},
		{"faceid", "127"},
		{"0123456789abcdefghijklmnopqrstuv", "0123456789abcdefghijklmnopqrstuw"},
		{"faceid", "faceie"},
	} {
		tap.setTamper(func(r *gateway.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+c.signed+"/", "/"+c.presented+"/", 1))
		})
		if code, _ := sdkCallService(t, sdkClient(srv, partnerID, partnerKey), c.signed, "IdCardVerification", idCardParams); code != CodeSignatureFailure {
			t.Errorf("signed for %q, presented as %q: code %q", c.signed, c.presented, code)
		}
		tap.mu.Lock()
		auth := tap.last.Header.Get("Authorization")
		tap.mu.Unlock()
		if !strings.Contains(auth, "/"+c.presented+"/tc3_request") {
			t.Fatalf("the tamper did not apply: %s", auth)
		}
	}
}

// The Node SDK signs the host without its port but sends it with one; the
// same host with a port is accepted, another host is not. The same holds
// for a host that is not faceid.*, signed (as the Node SDK does) for its
// first label.
func TestTC3HostWithoutPort(t *testing.T) {
	srv, tap := startGateway(t, testSet(t))
	for _, ep := range []struct{ host, service string }{
		{"faceid.idverify.test", "faceid"},
		{"0123456789abcdefghijklmnopqrstuv.lambda-url.ap-northeast-1.on.aws", "0123456789abcdefghijklmnopqrstuv"},
		{"1250000000-abcdefgh.ap-guangzhou.tencentscf.com", "1250000000-abcdefgh"},
		{"127.0.0.1", "127"},
	} {
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint = ep.host
		cpf.HttpProfile.Scheme = "HTTP"
		client := common.NewCommonClient(common.NewCredential(partnerID, partnerKey), "ap-guangzhou", cpf)
		// The SDK signs and sends Host ep.host; dial the test server
		// whatever the name.
		addr := strings.TrimPrefix(srv.URL, "http://")
		client.WithHttpTransport(&http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}})
		for host, want := range map[string]string{
			ep.host:                  "",
			ep.host + ":8443":        "",
			"faceid.other.test:8443": CodeSignatureFailure,
			ep.host + ":":            CodeSignatureFailure,
			"8443":                   CodeSignatureFailure,
		} {
			tap.setTamper(func(r *gateway.Request) { r.Header.Set("Host", host) })
			if code, _ := sdkCallService(t, client, ep.service, "IdCardVerification", idCardParams); code != want {
				t.Errorf("endpoint %s, Host %q: code %q, want %q", ep.host, host, code, want)
			}
		}
	}
}

// The /v1 surface answers HTTP statuses: 401 without or with a bad key,
// 403 for an action the caller may not call.
func TestFaceIDSurfaceStatuses(t *testing.T) {
	srv, _ := startGateway(t, testSet(t))
	body := `{"IdCard":"110101199003074477","Name":"张三"}`
	for _, c := range []struct {
		auth string
		want int
		code string
	}{
		{"", 401, CodeInvalidAuthorization},
		{"Bearer wrong", 401, CodeSecretIDNotFound},
		{"Bearer " + phoneKey, 403, CodeUnauthorizedOperation},
		{"Bearer " + webKey, 200, ""},
		{webKey, 200, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/faceid/IdCardVerification", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var env struct {
			Response struct{ Error *struct{ Code string } }
		}
		_ = json.Unmarshal(b, &env)
		got := ""
		if env.Response.Error != nil {
			got = env.Response.Error.Code
		}
		if resp.StatusCode != c.want || got != c.code {
			t.Errorf("Authorization %.16q: %d %s, want %d %s", c.auth, resp.StatusCode, got, c.want, c.code)
		}
	}
}

func BenchmarkBearer(b *testing.B) {
	s := testSet(b)
	req := bearerReq("Bearer " + phoneKey)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Authenticate(ctx, req, "PhoneVerification"); err != nil {
			b.Fatal(err)
		}
	}
}

// A caller's encrypt setting reaches the pipeline with the caller.
func TestCallerEncryptSetting(t *testing.T) {
	s, err := Parse([]byte(`[{"id":"bank","keySha256":"` + hashHex("bank-key") + `","actions":["*"],"encrypt":"AES-256-CBC"}]`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Authenticate(context.Background(), bearerReq("Bearer bank-key"), "IdCardVerification")
	if err != nil || c.Encrypt != "AES-256-CBC" {
		t.Fatalf("caller %+v, %v", c, err)
	}
}
