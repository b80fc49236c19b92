package tcfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func client(t *testing.T, url string, cred *common.Credential, region string) *common.Client {
	p := profile.NewClientProfile()
	p.HttpProfile.Scheme = "HTTP"
	p.HttpProfile.Endpoint = strings.TrimPrefix(url, "http://")
	return common.NewCommonClient(cred, region, p)
}

func call(t *testing.T, c *common.Client, service, version, action string, params map[string]any) (map[string]any, error) {
	req := tchttp.NewCommonRequest(service, version, action)
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		return nil, err
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		t.Fatal(err)
	}
	return out.Response, nil
}

func TestUnsignedRequestRefused(t *testing.T) {
	s := Start(t, Options{})
	resp, err := http.Post(s.KMSURL, "application/json", strings.NewReader(`{"CiphertextBlob":"AAAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "AuthFailure") {
		t.Fatalf("unsigned request answered %s", b)
	}
}

func TestGenerateDataKeyAndEncrypt(t *testing.T) {
	s := Start(t, Options{})
	key := s.CreateKey(DefaultRegion)
	c := client(t, s.KMSURL, common.NewTokenCredential(DefaultSecretID, DefaultSecretKey, DefaultToken), DefaultRegion)

	out, err := call(t, c, "kms", KMSVersion, "GenerateDataKey", map[string]any{"KeyId": key, "KeySpec": "AES_256", "EncryptionContext": `{"a":"b"}`})
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := base64.StdEncoding.DecodeString(out["Plaintext"].(string))
	if len(pt) != 32 {
		t.Fatalf("data key of %d bytes", len(pt))
	}
	dec, err := call(t, c, "kms", KMSVersion, "Decrypt", map[string]any{"CiphertextBlob": out["CiphertextBlob"], "EncryptionContext": `{"a":"b"}`})
	if err != nil || dec["Plaintext"] != out["Plaintext"] {
		t.Fatalf("decrypting the data key: %v %v", dec, err)
	}

	// The ciphertext is not the plaintext in disguise.
	enc, err := call(t, c, "kms", KMSVersion, "Encrypt", map[string]any{"KeyId": key, "Plaintext": base64.StdEncoding.EncodeToString([]byte("fake-plain"))})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(enc["CiphertextBlob"].(string))
	if strings.Contains(string(blob), "fake-plain") {
		t.Fatal("ciphertext contains the plaintext")
	}

	// A permanent key must not come with a token, a temporary one needs its own.
	s.SetCredentials(Credential{SecretID: "AKIDperm", SecretKey: "permkey"})
	c = client(t, s.KMSURL, common.NewTokenCredential("AKIDperm", "permkey", "sometoken"), DefaultRegion)
	if _, err := call(t, c, "kms", KMSVersion, "Encrypt", map[string]any{"KeyId": key, "Plaintext": "eA=="}); err == nil || !strings.Contains(err.Error(), "AuthFailure.TokenFailure") {
		t.Fatalf("token with a permanent key: %v", err)
	}
}
