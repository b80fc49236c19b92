// Package tcfake is a fake Tencent Cloud KMS (2019-01-18: Encrypt, Decrypt,
// GenerateDataKey) and Secrets Manager (SSM 2019-09-23: GetSecretValue) for
// tests. Each service has its own loopback server, as kms. and ssm.
// tencentcloudapi.com are separate hosts. It speaks the API 3.0 wire form
// (POST /, JSON, X-TC-Action / X-TC-Version / X-TC-Region, errors as HTTP
// 200 with Response.Error), verifies TC3-HMAC-SHA256 signatures with
// shared/tc3 and the X-TC-Token of temporary credentials, and keeps CMKs
// regional, secrets encrypted (vault.go) and encryption contexts binding.
package tcfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/tc3"
)

// Defaults for Options left empty: SCF-style role credentials.
const (
	DefaultRegion    = "ap-guangzhou"
	DefaultSecretID  = "AKIDfakeScfRole0001"
	DefaultSecretKey = "fakeScfRoleSecretKey0001"
	DefaultToken     = "fakeScfSessionToken0001"

	KMSVersion = "2019-01-18"
	SSMVersion = "2019-09-23"
)

// Credential is one key pair the fake accepts. Token, when set, must arrive
// as X-TC-Token; when empty, a request carrying X-TC-Token is refused.
type Credential struct {
	SecretID, SecretKey, Token string
}

// Options configures a Server.
type Options struct {
	Region      string // where secrets live; CMKs can be created in any region
	Credentials []Credential
	Now         func() time.Time // signature clock; nil is time.Now
}

type ssmVersion struct {
	blob   []byte
	binary bool
}

// Server is both fakes. Its methods are safe for concurrent use.
type Server struct {
	// KMSURL and SSMURL are set by Start.
	KMSURL, SSMURL string

	region string
	now    func() time.Time

	mu      sync.Mutex
	creds   map[string]Credential
	keys    map[string]*kmsKey // by CMK id
	ssmKey  *kmsKey            // encrypts stored secrets
	secrets map[string]map[string]*ssmVersion
	denied  map[string]bool
	delay   time.Duration
	calls   map[string]int
	seq     int
}

// New returns a fake; see Start.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey, Token: DefaultToken}}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		region: opts.Region, now: opts.Now, creds: map[string]Credential{}, keys: map[string]*kmsKey{},
		secrets: map[string]map[string]*ssmVersion{}, denied: map[string]bool{}, calls: map[string]int{},
	}
	for _, c := range opts.Credentials {
		s.creds[c.SecretID] = c
	}
	s.ssmKey = newKey("ssm-internal", opts.Region)
	return s
}

// Start runs the two fakes on loopback servers closed at the end of the test.
func Start(t testing.TB, opts Options) *Server {
	s := New(opts)
	k := httptest.NewServer(s.Handler("kms"))
	t.Cleanup(k.Close)
	m := httptest.NewServer(s.Handler("ssm"))
	t.Cleanup(m.Close)
	s.KMSURL, s.SSMURL = k.URL, m.URL
	return s
}

// Region is where the fake's secrets live.
func (s *Server) Region() string { return s.region }

// SetCredentials replaces the accepted credentials, as SCF does when it
// rotates a role's temporary keys.
func (s *Server) SetCredentials(cs ...Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds = map[string]Credential{}
	for _, c := range cs {
		s.creds[c.SecretID] = c
	}
}

// CreateKey creates an enabled CMK in region and returns its id.
func (s *Server) CreateKey(region string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("fa4e1c2b-0000-11ee-9a00-%012d", s.seq)
	s.keys[id] = newKey(id, region)
	return id
}

// SetKeyEnabled enables or disables a CMK.
func (s *Server) SetKeyEnabled(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id].Enabled = on
}

// Encrypt encrypts as KMS Encrypt would and returns the base64
// CiphertextBlob, for tests that need one without a client. ctx may be nil.
func (s *Server) Encrypt(id string, plaintext []byte, ctx map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return base64.StdEncoding.EncodeToString(s.keys[id].seal(plaintext, ctx))
}

// PutSecretString stores (or overwrites, as UpdateSecret does) one version
// of a secret.
func (s *Server) PutSecretString(name, version, value string) {
	s.putSecret(name, version, []byte(value), false)
}

// PutSecretBinary stores one version of a binary secret.
func (s *Server) PutSecretBinary(name, version string, value []byte) {
	s.putSecret(name, version, value, true)
}

func (s *Server) putSecret(name, version string, value []byte, binary bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[name] == nil {
		s.secrets[name] = map[string]*ssmVersion{}
	}
	s.secrets[name][version] = &ssmVersion{blob: s.ssmKey.seal(value, map[string]string{"name": name, "version": version}), binary: binary}
}

// Deny makes calls on resource (a CMK id or a secret name) fail with
// AuthFailure.UnauthorizedOperation, as a missing CAM permission would.
func (s *Server) Deny(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[resource] = true
}

// SetDelay holds answers back by d (ending early if the client goes away).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls is how many signed requests for service+"."+action (e.g.
// "kms.Decrypt") were answered.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// apiError is a Response.Error.
type apiError struct{ code, message string }

func fail(code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

// Handler serves one service, "kms" or "ssm".
func (s *Server) Handler(service string) http.Handler {
	v := &tc3.Verifier{Service: service, Now: s.now, Lookup: func(id string) (string, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.creds[id]
		return c.SecretKey, ok
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seq++
		reqID := fmt.Sprintf("fake-tc-%08d", s.seq)
		delay := s.delay
		s.mu.Unlock()
		out, e := s.serve(service, v, r, delay)
		resp := map[string]any{"RequestId": reqID}
		if e != nil {
			resp["Error"] = map[string]string{"Code": e.code, "Message": e.message}
		} else {
			maps.Copy(resp, out)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
	})
}

func (s *Server) serve(service string, v *tc3.Verifier, r *http.Request, delay time.Duration) (map[string]any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, fail("UnsupportedOperation", "POST / only")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fail("InvalidParameter", "cannot read body")
	}
	who, err := v.Verify(r, body)
	if err != nil {
		e := errs.As(err)
		return nil, fail(e.Code, "%s", e.Message)
	}
	// Temporary credentials are only valid with their token, and a
	// permanent key must not come with one.
	s.mu.Lock()
	cred := s.creds[who.SecretID]
	s.mu.Unlock()
	if r.Header.Get("X-TC-Token") != cred.Token {
		return nil, fail("AuthFailure.TokenFailure", "token verification failed")
	}
	wantVersion := KMSVersion
	if service == "ssm" {
		wantVersion = SSMVersion
	}
	if r.Header.Get("X-TC-Version") != wantVersion {
		return nil, fail("InvalidParameterValue", "unsupported version for %s", service)
	}
	region := r.Header.Get("X-TC-Region")
	if region == "" {
		return nil, fail("MissingParameter", "the Region parameter is required")
	}
	action := r.Header.Get("X-TC-Action")
	s.mu.Lock()
	s.calls[service+"."+action]++
	s.mu.Unlock()

	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return nil, fail("InternalError", "client went away")
		}
	}

	var params map[string]any
	if err := json.Unmarshal(body, &params); err != nil {
		return nil, fail("InvalidParameter", "body is not a JSON object")
	}
	str := func(k string) string { v, _ := params[k].(string); return v }
	switch service + "." + action {
	case "kms.Decrypt":
		return s.decrypt(region, str("CiphertextBlob"), str("EncryptionContext"))
	case "kms.Encrypt":
		return s.encrypt(region, str("KeyId"), str("Plaintext"), str("EncryptionContext"))
	case "kms.GenerateDataKey":
		n, _ := params["NumberOfBytes"].(float64)
		return s.generateDataKey(region, str("KeyId"), str("KeySpec"), int(n), str("EncryptionContext"))
	case "ssm.GetSecretValue":
		return s.getSecretValue(region, str("SecretName"), str("VersionId"))
	}
	return nil, fail("InvalidAction", "action %s is not faked", action)
}

// parseContext reads EncryptionContext, a JSON object of strings.
func parseContext(s string) (map[string]string, *apiError) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || len(s) > 1024 {
		return nil, fail("InvalidParameterValue", "EncryptionContext must be a JSON object of strings, at most 1024 characters")
	}
	return m, nil
}

// key finds an enabled, permitted CMK in region. Callers hold mu.
func (s *Server) key(region, id string) (*kmsKey, *apiError) {
	k := s.keys[id]
	if k == nil || k.region != region {
		return nil, fail("ResourceUnavailable.CmkNotFound", "CMK not found in region %s", region)
	}
	if s.denied[id] {
		return nil, fail("AuthFailure.UnauthorizedOperation", "the CAM policy does not allow this operation on the key")
	}
	if !k.Enabled {
		return nil, fail("ResourceUnavailable.CmkDisabled", "the CMK is disabled")
	}
	return k, nil
}

func (s *Server) decrypt(region, blob64, ec string) (map[string]any, *apiError) {
	blob, err := base64.StdEncoding.DecodeString(blob64)
	if err != nil || blob64 == "" {
		return nil, fail("InvalidParameterValue.InvalidCiphertext", "CiphertextBlob is not valid")
	}
	ctx, e := parseContext(ec)
	if e != nil {
		return nil, e
	}
	id, err := blobKeyID(blob)
	if err != nil {
		return nil, fail("InvalidParameterValue.InvalidCiphertext", "CiphertextBlob is not valid")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, e := s.key(region, id)
	if e != nil {
		return nil, e
	}
	pt, err := k.open(blob, ctx)
	if err != nil {
		return nil, fail("InvalidParameter.DecryptMaterialError", "decryption failed")
	}
	return map[string]any{"KeyId": id, "Plaintext": base64.StdEncoding.EncodeToString(pt)}, nil
}

func (s *Server) encrypt(region, id, pt64, ec string) (map[string]any, *apiError) {
	pt, err := base64.StdEncoding.DecodeString(pt64)
	if err != nil || len(pt) == 0 || len(pt) > 4096 {
		return nil, fail("InvalidParameterValue", "Plaintext must be base64 of 1 to 4096 bytes")
	}
	ctx, e := parseContext(ec)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, e := s.key(region, id)
	if e != nil {
		return nil, e
	}
	return map[string]any{"KeyId": id, "CiphertextBlob": base64.StdEncoding.EncodeToString(k.seal(pt, ctx))}, nil
}

func (s *Server) generateDataKey(region, id, spec string, n int, ec string) (map[string]any, *apiError) {
	switch {
	case n > 0:
		if n > 1024 {
			return nil, fail("InvalidParameterValue", "NumberOfBytes must be 1 to 1024")
		}
	case spec == "AES_128":
		n = 16
	case spec == "AES_256":
		n = 32
	default:
		return nil, fail("InvalidParameterValue", "give KeySpec AES_128|AES_256 or NumberOfBytes")
	}
	ctx, e := parseContext(ec)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, e := s.key(region, id)
	if e != nil {
		return nil, e
	}
	dk := newKey("dk", region).Material[:n]
	return map[string]any{"KeyId": id, "Plaintext": base64.StdEncoding.EncodeToString(dk),
		"CiphertextBlob": base64.StdEncoding.EncodeToString(k.seal(dk, ctx))}, nil
}

func (s *Server) getSecretValue(region, name, version string) (map[string]any, *apiError) {
	if name == "" || version == "" {
		return nil, fail("MissingParameter", "SecretName and VersionId are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[name] {
		return nil, fail("AuthFailure.UnauthorizedOperation", "the CAM policy does not allow this operation on the secret")
	}
	v := s.secrets[name][version]
	if v == nil || region != s.region {
		return nil, fail("ResourceNotFound", "the secret or version does not exist")
	}
	pt, err := s.ssmKey.open(v.blob, map[string]string{"name": name, "version": version})
	if err != nil {
		return nil, fail("InternalError", "cannot decrypt the stored secret")
	}
	out := map[string]any{"SecretName": name, "VersionId": version, "SecretString": "", "SecretBinary": ""}
	if v.binary {
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(pt)
	} else {
		out["SecretString"] = string(pt)
	}
	return out, nil
}
