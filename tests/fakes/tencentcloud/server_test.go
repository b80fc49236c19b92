package tencentcloud

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// v1 signs params as Tencent's signature v1 (HmacSHA1) and posts them.
func v1(t *testing.T, s *Server, host, secretKey string, params map[string]string) map[string]any {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	if form.Get("Timestamp") == "" {
		form.Set("Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	}
	form.Set("Nonce", "4711")
	form.Set("SecretId", DefaultSecretID)
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("POST" + host + "/?")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + form.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(b.String()))
	form.Set("Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := s.Client().PostForm("https://"+host+"/", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Response map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	return out.Response
}

func errCode(r map[string]any) string {
	e, _ := r["Error"].(map[string]any)
	c, _ := e["Code"].(string)
	return c
}

// cosDo signs a COS request with the v5 algorithm and sends it.
func cosDo(t *testing.T, s *Server, method, host, path string, body []byte, secretKey string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, "https://"+host+path, bytes.NewReader(body))
	now := time.Now().Unix()
	kt := strconv.FormatInt(now-1, 10) + ";" + strconv.FormatInt(now+900, 10)
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	headers := "content-length=" + strconv.Itoa(len(body)) + "&host=" + host
	params := ""
	list := ""
	if req.URL.RawQuery != "" {
		list = strings.ToLower(strings.TrimSuffix(req.URL.RawQuery, "="))
		params = list + "="
	}
	httpString := strings.ToLower(method) + "\n" + req.URL.Path + "\n" + params + "\n" + headers + "\n"
	sum := sha1.Sum([]byte(httpString))
	k := hmac.New(sha1.New, []byte(secretKey))
	k.Write([]byte(kt))
	mac := hmac.New(sha1.New, []byte(hex.EncodeToString(k.Sum(nil))))
	mac.Write([]byte("sha1\n" + kt + "\n" + hex.EncodeToString(sum[:]) + "\n"))
	req.Header.Set("Authorization", "q-sign-algorithm=sha1&q-ak="+DefaultSecretID+"&q-sign-time="+kt+"&q-key-time="+kt+
		"&q-header-list=content-length;host&q-url-param-list="+list+"&q-signature="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func codeZip(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	_, _ = w.Write([]byte("\x7fELF"))
	_ = zw.Close()
	return b.Bytes()
}

func TestFunctionFromCOSWithTrigger(t *testing.T) {
	s := Start(t, Options{})
	bucketHost := "sls-code-" + s.AppID() + ".cos." + DefaultRegion + ".myqcloud.com"
	if resp := cosDo(t, s, "PUT", bucketHost, "/", nil, DefaultSecretKey); resp.StatusCode != 200 {
		t.Fatalf("PutBucket %d", resp.StatusCode)
	}
	if resp := cosDo(t, s, "PUT", bucketHost, "/", nil, DefaultSecretKey); resp.StatusCode != 409 {
		t.Fatalf("second PutBucket %d", resp.StatusCode)
	}
	zipBytes := codeZip(t)
	if resp := cosDo(t, s, "PUT", bucketHost, "/fn.zip", zipBytes, "wrong"); resp.StatusCode != 403 {
		t.Fatalf("PutObject with a wrong key: %d", resp.StatusCode)
	} else if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("COS error document: %s", b)
	}
	if resp := cosDo(t, s, "PUT", bucketHost, "/fn.zip", zipBytes, DefaultSecretKey); resp.StatusCode != 200 {
		t.Fatalf("PutObject %d", resp.StatusCode)
	}

	create := map[string]string{"Action": "CreateFunction", "Version": SCFVersion, "Region": DefaultRegion,
		"FunctionName": "idv-fn", "Runtime": "CustomRuntime", "Handler": "idv-fn", "MemorySize": "256", "Timeout": "25",
		"Code.CosBucketName": "sls-code", "Code.CosObjectName": "/fn.zip",
		"Environment.Variables.0.Key": "A", "Environment.Variables.0.Value": "1",
		"Environment.Variables.1.Key": "B", "Environment.Variables.1.Value": ""}
	if r := v1(t, s, "scf.tencentcloudapi.com", "wrong", create); errCode(r) != "AuthFailure.SignatureFailure" {
		t.Fatalf("wrong key: %v", r)
	}
	if r := v1(t, s, "scf.tencentcloudapi.com", DefaultSecretKey, create); errCode(r) != "" {
		t.Fatalf("CreateFunction: %v", r)
	}
	if r := v1(t, s, "scf.tencentcloudapi.com", DefaultSecretKey, create); errCode(r) != "ResourceInUse.Function" {
		t.Fatalf("second CreateFunction: %v", r)
	}
	r := v1(t, s, "scf.tencentcloudapi.com", DefaultSecretKey, map[string]string{"Action": "GetFunction", "Version": SCFVersion,
		"Region": DefaultRegion, "FunctionName": "idv-fn"})
	if r["Status"] != "Active" || r["MemorySize"] != 256.0 || r["Handler"] != "idv-fn" {
		t.Fatalf("GetFunction: %v", r)
	}
	desc := `{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}`
	if r := v1(t, s, "scf.tencentcloudapi.com", DefaultSecretKey, map[string]string{"Action": "CreateTrigger", "Version": SCFVersion,
		"Region": DefaultRegion, "FunctionName": "idv-fn", "Type": "http", "TriggerName": "url", "Qualifier": "$DEFAULT",
		"TriggerDesc": desc, "Enable": "OPEN"}); errCode(r) != "" {
		t.Fatalf("CreateTrigger: %v", r)
	}
	fns := s.Functions()
	if len(fns) != 1 || !bytes.Equal(fns[0].Code, zipBytes) || fns[0].EnvMap()["A"] != "1" || fns[0].EnvMap()["B"] != "" ||
		len(fns[0].Triggers) != 1 || fns[0].Triggers[0].Desc != desc {
		t.Fatalf("state: %+v", fns)
	}

	for _, c := range []struct {
		params map[string]string
		code   string
	}{
		{map[string]string{"Action": "Nope", "Version": SCFVersion, "Region": DefaultRegion}, "InvalidAction"},
		{map[string]string{"Action": "GetFunction", "Version": "2017-01-01", "Region": DefaultRegion}, "NoSuchVersion"},
		{map[string]string{"Action": "GetFunction", "Version": SCFVersion, "Region": DefaultRegion, "Timestamp": "1000"}, "AuthFailure.SignatureExpire"},
		{map[string]string{"Action": "GetFunction", "Version": SCFVersion, "Region": DefaultRegion, "FunctionName": "none"}, "ResourceNotFound.Function"},
		{map[string]string{"Action": "CreateFunction", "Version": SCFVersion, "Region": DefaultRegion, "FunctionName": "x2",
			"Runtime": "CustomRuntime", "Code.CosBucketName": "sls-code", "Code.CosObjectName": "missing.zip"}, "ResourceNotFound.CosObject"},
	} {
		if r := v1(t, s, "scf.tencentcloudapi.com", DefaultSecretKey, c.params); errCode(r) != c.code {
			t.Errorf("%v: %v, want %s", c.params, r, c.code)
		}
	}
	if u := s.Unexpected(); len(u) != 2 {
		t.Errorf("unexpected calls: %+v", u)
	}
}

// TC3 through the official Go SDK: the credential scope's service must be
// the host's.
func TestTC3(t *testing.T) {
	s := Start(t, Options{})
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = "cam.tencentcloudapi.com"
	c := common.NewCommonClient(common.NewCredential(DefaultSecretID, DefaultSecretKey), DefaultRegion, p)
	c.WithHttpTransport(s.Client().Transport)
	send := func(service string) error {
		req := tchttp.NewCommonRequest(service, CAMVersion, "GetUserAppId")
		_ = req.SetActionParameters(map[string]any{})
		resp := tchttp.NewCommonResponse()
		return c.Send(req, resp)
	}
	if err := send("cam"); err != nil {
		t.Fatalf("TC3 GetUserAppId: %v", err)
	}
	if err := send("scf"); err == nil || !strings.Contains(err.Error(), "AuthFailure.SignatureFailure") {
		t.Fatalf("a signature for scf sent to cam: %v", err)
	}
}
