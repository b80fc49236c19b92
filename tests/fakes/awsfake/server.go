// Package awsfake is a fake AWS KMS, Secrets Manager and SSM Parameter Store
// for tests, on one loopback server. It speaks the AWS JSON 1.1 protocol the
// real services speak (POST /, Content-Type application/x-amz-json-1.1,
// X-Amz-Target TrentService.Decrypt / TrentService.Encrypt /
// secretsmanager.GetSecretValue / AmazonSSM.GetParameter, errors as
// {"__type","message"} with X-Amzn-ErrorType), verifies SigV4 signatures
// and session tokens with its own verifier (sigv4.go), and enforces what the
// real services enforce that matters to a client: key state, encryption
// context, resource existence, and access denial programmed by the test.
//
// Secrets are stored encrypted under fake KMS keys (vault.go).
package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults for Options left empty.
const (
	DefaultRegion          = "us-east-1"
	DefaultAccount         = "111122223333"
	DefaultAccessKeyID     = "AKIDFAKEAWSROLE00001"
	DefaultSecretAccessKey = "fakeAwsSecretAccessKey/0001"
	DefaultSessionToken    = "fakeAwsSessionToken0001"
)

// Options configures a Server.
type Options struct {
	Region  string
	Account string
	// Credentials the fake accepts; empty means the Default* role credentials.
	Credentials []Credential
	// Now is the clock for the signature window; nil is time.Now.
	Now func() time.Time
}

type secretVersion struct {
	id     string
	blob   []byte // encrypted SecretString or SecretBinary
	binary bool
	stages []string
	keyID  string
}

type smSecret struct {
	name, arn string
	versions  []*secretVersion
	deleted   bool
}

type param struct {
	name, arn string
	blob      []byte // SecureString: encrypted; String: plaintext
	secure    bool
	version   int64
	keyID     string
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	region, account string
	now             func() time.Time

	mu      sync.Mutex
	creds   map[string]Credential
	keys    map[string]*kmsKey // by key id
	aliases map[string]string  // alias/name -> key id
	secrets map[string]*smSecret
	params  map[string]*param
	denied  map[string]bool
	delay   time.Duration
	calls   map[string]int
	seq     int
}

// New returns a fake with two managed keys, aws/secretsmanager and aws/ssm,
// which store secrets and parameters, as on AWS.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey, SessionToken: DefaultSessionToken}}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		region: opts.Region, account: opts.Account, now: opts.Now,
		creds: map[string]Credential{}, keys: map[string]*kmsKey{}, aliases: map[string]string{},
		secrets: map[string]*smSecret{}, params: map[string]*param{}, denied: map[string]bool{}, calls: map[string]int{},
	}
	for _, c := range opts.Credentials {
		s.creds[c.AccessKeyID] = c
	}
	s.CreateAlias("alias/aws/secretsmanager", s.CreateKey())
	s.CreateAlias("alias/aws/ssm", s.CreateKey())
	return s
}

// Start runs a new fake on a loopback httptest server closed at the end of
// the test, and returns it with its URL.
func Start(t testing.TB, opts Options) (*Server, string) {
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// Region is the region the fake serves.
func (s *Server) Region() string { return s.region }

// AddCredential makes the fake accept another access key.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.AccessKeyID] = c
}

// RemoveCredential makes an access key unknown, as when role credentials expire.
func (s *Server) RemoveCredential(akid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.creds, akid)
}

// CreateKey creates an enabled symmetric key and returns its id.
func (s *Server) CreateKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("1234abcd-12ab-34cd-56ef-%012d", s.seq)
	s.keys[id] = newKey(id, s.arn("kms", "key/"+id))
	return id
}

// KeyARN is the ARN of a key id.
func (s *Server) KeyARN(id string) string { return s.arn("kms", "key/"+id) }

// CreateAlias points alias ("alias/name") at a key.
func (s *Server) CreateAlias(alias, keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aliases[alias] = keyID
}

// SetKeyEnabled enables or disables a key.
func (s *Server) SetKeyEnabled(keyID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyID].Enabled = on
}

// Encrypt encrypts plaintext under keyID as KMS Encrypt would, for tests
// that need a ciphertext without going through a client.
func (s *Server) Encrypt(keyID string, plaintext []byte, ctx map[string]string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[s.keyID(keyID)].seal(plaintext, ctx)
}

// PutSecretString stores a new version of a secret, creating it if needed.
// The new version becomes AWSCURRENT and the previous one AWSPREVIOUS, as
// PutSecretValue does. It returns the version id.
func (s *Server) PutSecretString(name, value string) string {
	return s.putSecret(name, []byte(value), false)
}

// PutSecretBinary is PutSecretString for a SecretBinary.
func (s *Server) PutSecretBinary(name string, value []byte) string {
	return s.putSecret(name, value, true)
}

func (s *Server) putSecret(name string, value []byte, binary bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[name]
	if sec == nil {
		// Real ARNs end in a dash and six random characters.
		sec = &smSecret{name: name, arn: s.arn("secretsmanager", "secret:"+name+"-AbCdEf")}
		s.secrets[name] = sec
	}
	for _, v := range sec.versions {
		v.stages = removeStage(v.stages, "AWSPREVIOUS")
		if hasStage(v.stages, "AWSCURRENT") {
			v.stages = append(removeStage(v.stages, "AWSCURRENT"), "AWSPREVIOUS")
		}
	}
	s.seq++
	keyID := s.aliases["alias/aws/secretsmanager"]
	v := &secretVersion{
		id: fmt.Sprintf("EXAMPLE1-90ab-cdef-fedc-%012d", s.seq), binary: binary, stages: []string{"AWSCURRENT"}, keyID: keyID,
		blob: s.keys[keyID].seal(value, map[string]string{"SecretARN": sec.arn, "SecretVersionId": ""}),
	}
	sec.versions = append(sec.versions, v)
	sec.deleted = false
	return v.id
}

// DeleteSecret marks a secret for deletion: reads then fail.
func (s *Server) DeleteSecret(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.secrets[name]; sec != nil {
		sec.deleted = true
	}
}

// PutParameter stores a parameter (SecureString when secure), bumping its version.
func (s *Server) PutParameter(name, value string, secure bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.params[name]
	if p == nil {
		p = &param{name: name, arn: s.arn("ssm", "parameter/"+strings.TrimPrefix(name, "/"))}
		s.params[name] = p
	}
	p.version++
	p.secure = secure
	p.keyID = s.aliases["alias/aws/ssm"]
	if secure {
		p.blob = s.keys[p.keyID].seal([]byte(value), map[string]string{"PARAMETER_ARN": p.arn})
	} else {
		p.blob = []byte(value)
	}
}

// Deny makes every call on resource (a key id or ARN, a secret name, a
// parameter name) fail with AccessDeniedException, as a missing IAM
// permission would.
func (s *Server) Deny(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[resource] = true
}

// SetDelay holds every answer back by d (ending early if the client goes away).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls is how many signed requests for target (e.g. "TrentService.Decrypt")
// the fake has answered, successfully or not.
func (s *Server) Calls(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[target]
}

func (s *Server) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + s.region + ":" + s.account + ":" + resource
}

// keyID resolves a key id, key ARN, alias name or alias ARN. Callers hold mu.
func (s *Server) keyID(ref string) string {
	if i := strings.Index(ref, ":alias/"); i >= 0 {
		ref = ref[i+1:]
	}
	if id, ok := s.aliases[ref]; ok {
		return id
	}
	if i := strings.Index(ref, ":key/"); i >= 0 {
		return ref[i+len(":key/"):]
	}
	return ref
}

// apiError is a JSON 1.1 error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func fail(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

var services = map[string]string{"TrentService": "kms", "secretsmanager": "secretsmanager", "AmazonSSM": "ssm"}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	reqID := fmt.Sprintf("fake-aws-%08d", s.seq)
	delay := s.delay
	s.mu.Unlock()
	w.Header().Set("X-Amzn-RequestId", reqID)

	out, aerr := s.serve(r, delay)
	if aerr != nil {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", aerr.code)
		w.WriteHeader(aerr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": aerr.code, "message": aerr.message})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) serve(r *http.Request, delay time.Duration) (any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, fail(404, "UnknownOperationException", "POST / only")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fail(400, "SerializationException", "cannot read body")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return nil, fail(400, "UnknownOperationException", "Content-Type must be application/x-amz-json-1.1")
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, op, _ := strings.Cut(target, ".")
	service, ok := services[prefix]
	if !ok || op == "" {
		return nil, fail(400, "UnknownOperationException", "unknown X-Amz-Target")
	}
	scope, err := VerifySigV4(r, body, func(akid string) (Credential, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.creds[akid]
		return c, ok
	}, s.now())
	if err != nil {
		e := err.(*SigV4Error)
		status := 400
		if e.Code == "InvalidSignatureException" || e.Code == "MissingAuthenticationTokenException" {
			status = 403
		}
		return nil, fail(status, e.Code, "%s", e.Message)
	}
	if scope.Service != service {
		return nil, fail(403, "InvalidSignatureException", "Credential should be scoped to correct service: '%s'.", service)
	}
	if scope.Region != s.region {
		return nil, fail(403, "InvalidSignatureException", "Credential should be scoped to a valid region.")
	}
	s.mu.Lock()
	s.calls[target]++
	s.mu.Unlock()

	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return nil, fail(500, "InternalFailure", "client went away")
		}
	}

	switch target {
	case "TrentService.Decrypt":
		return s.decrypt(body)
	case "TrentService.Encrypt":
		return s.encrypt(body)
	case "secretsmanager.GetSecretValue":
		return s.getSecretValue(body)
	case "AmazonSSM.GetParameter":
		return s.getParameter(body)
	}
	return nil, fail(400, "UnknownOperationException", "operation %s is not faked", target)
}

func decode(body []byte, v any) *apiError {
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fail(400, "SerializationException", "cannot decode the request")
	}
	return nil
}

func (s *Server) decrypt(body []byte) (any, *apiError) {
	var in struct {
		CiphertextBlob      []byte
		EncryptionContext   map[string]string
		KeyId               string
		EncryptionAlgorithm string
		GrantTokens         []string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	id, err := blobKeyID(in.CiphertextBlob)
	if err != nil {
		return nil, fail(400, "InvalidCiphertextException", "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[id]
	if k == nil {
		return nil, fail(400, "NotFoundException", "Key '%s' does not exist", s.arn("kms", "key/"+id))
	}
	if in.KeyId != "" && s.keyID(in.KeyId) != id {
		return nil, fail(400, "IncorrectKeyException", "The key ID in the request does not identify the key that encrypted the ciphertext.")
	}
	if s.denied[id] || s.denied[k.arn] {
		return nil, fail(400, "AccessDeniedException", "User is not authorized to perform: kms:Decrypt on resource: %s", k.arn)
	}
	if !k.Enabled {
		return nil, fail(400, "DisabledException", "%s is disabled.", k.arn)
	}
	pt, err := k.open(in.CiphertextBlob, in.EncryptionContext)
	if err != nil {
		// KMS says nothing more: a wrong context and a corrupt blob look alike.
		return nil, fail(400, "InvalidCiphertextException", "")
	}
	return map[string]any{"KeyId": k.arn, "Plaintext": pt, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func (s *Server) encrypt(body []byte) (any, *apiError) {
	var in struct {
		KeyId               string
		Plaintext           []byte
		EncryptionContext   map[string]string
		EncryptionAlgorithm string
		GrantTokens         []string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.Plaintext) == 0 || len(in.Plaintext) > 4096 {
		return nil, fail(400, "ValidationException", "Plaintext must be 1 to 4096 bytes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.keyID(in.KeyId)
	k := s.keys[id]
	if k == nil {
		return nil, fail(400, "NotFoundException", "Key '%s' does not exist", in.KeyId)
	}
	if s.denied[id] || s.denied[k.arn] {
		return nil, fail(400, "AccessDeniedException", "User is not authorized to perform: kms:Encrypt on resource: %s", k.arn)
	}
	if !k.Enabled {
		return nil, fail(400, "DisabledException", "%s is disabled.", k.arn)
	}
	return map[string]any{"CiphertextBlob": k.seal(in.Plaintext, in.EncryptionContext), "KeyId": k.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func (s *Server) getSecretValue(body []byte) (any, *apiError) {
	var in struct{ SecretId, VersionId, VersionStage string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sec *smSecret
	for _, c := range s.secrets {
		if c.name == in.SecretId || c.arn == in.SecretId {
			sec = c
		}
	}
	if sec == nil {
		return nil, fail(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	if s.denied[sec.name] || s.denied[sec.arn] {
		return nil, fail(400, "AccessDeniedException", "User is not authorized to perform: secretsmanager:GetSecretValue on resource: %s", sec.name)
	}
	if sec.deleted {
		return nil, fail(400, "InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	stage := in.VersionStage
	if stage == "" && in.VersionId == "" {
		stage = "AWSCURRENT"
	}
	var v *secretVersion
	for _, c := range sec.versions {
		if (in.VersionId == "" || c.id == in.VersionId) && (stage == "" || hasStage(c.stages, stage)) {
			v = c
		}
	}
	if v == nil {
		return nil, fail(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for the version or staging label.")
	}
	k := s.keys[v.keyID]
	if s.denied[k.ID] || !k.Enabled {
		return nil, fail(400, "DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	pt, err := k.open(v.blob, map[string]string{"SecretARN": sec.arn, "SecretVersionId": ""})
	if err != nil {
		return nil, fail(400, "DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": v.stages,
		"CreatedDate": float64(s.now().Unix())}
	if v.binary {
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(pt)
	} else {
		out["SecretString"] = string(pt)
	}
	return out, nil
}

func (s *Server) getParameter(body []byte) (any, *apiError) {
	var in struct {
		Name           string
		WithDecryption bool
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.params[in.Name]
	if p == nil {
		return nil, fail(400, "ParameterNotFound", "")
	}
	if s.denied[p.name] || s.denied[p.arn] {
		return nil, fail(400, "AccessDeniedException", "User is not authorized to perform: ssm:GetParameter on resource: %s", p.arn)
	}
	typ, value := "String", string(p.blob)
	if p.secure {
		typ = "SecureString"
		if in.WithDecryption {
			k := s.keys[p.keyID]
			if s.denied[k.ID] || !k.Enabled {
				return nil, fail(400, "AccessDeniedException", "User is not authorized to perform: kms:Decrypt on resource: %s", k.arn)
			}
			pt, err := k.open(p.blob, map[string]string{"PARAMETER_ARN": p.arn})
			if err != nil {
				return nil, fail(400, "InvalidCiphertextException", "")
			}
			value = string(pt)
		} else {
			// Without decryption SSM answers the ciphertext, base64.
			value = base64.StdEncoding.EncodeToString(p.blob)
		}
	}
	return map[string]any{"Parameter": map[string]any{
		"ARN": p.arn, "DataType": "text", "LastModifiedDate": float64(s.now().Unix()),
		"Name": p.name, "Type": typ, "Value": value, "Version": p.version,
	}}, nil
}

func hasStage(stages []string, s string) bool {
	for _, x := range stages {
		if x == s {
			return true
		}
	}
	return false
}

func removeStage(stages []string, s string) []string {
	out := stages[:0:0]
	for _, x := range stages {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
