package awsfake

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestStoredSecretsAreEncrypted(t *testing.T) {
	s := New(Options{})
	key := s.CreateKey()
	if blob := s.Encrypt(key, []byte("fake-plain-value"), nil); bytes.Contains(blob, []byte("fake-plain-value")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	s.PutSecretString("n", "fake-plain-secret")
	s.PutParameter("/p", "fake-plain-param", true)
	for _, v := range s.secrets["n"].versions {
		if bytes.Contains(v.blob, []byte("fake-plain-secret")) {
			t.Fatal("stored secret in plaintext")
		}
	}
	if bytes.Contains(s.params["/p"].blob, []byte("fake-plain-param")) {
		t.Fatal("stored parameter in plaintext")
	}
}

func TestUnsignedRequestRefused(t *testing.T) {
	_, url := Start(t, Options{})
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader(`{"Name":"/p"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
