// Package awsbackend resolves awskms:, awssm: and awsssm: references (KMS
// Decrypt, Secrets Manager GetSecretValue, SSM GetParameter WithDecryption)
// and encrypts values for the operator command (KMS Encrypt).
//
// Each is one SigV4-signed AWS JSON 1.1 request (awsjson.go), signed with
// aws-sdk-go-v2's v4 signer: the SDK's generated service clients are not
// linked, so a function that can read AWS secrets stays small and starts
// fast.
//
// Credentials: in the Lambda build (-tags idv_lambda) the role's
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN and
// AWS_REGION, which Lambda sets; elsewhere the SDK's default chain (shared
// files, SSO, IMDS...), for operators' machines and local servers.
// Endpoints can be overridden for tests and VPC endpoints with
// IDV_AWS_ENDPOINT (all three services), or with the SDK's own
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_KMS / _SECRETS_MANAGER / _SSM.
//
// The package registers itself with shared/secrets when linked; build with
// -tags idv_no_aws to leave it (and the AWS SDK) out of a binary.
package awsbackend

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/idverify/idverify/shared/secrets"
)

// EndpointEnv overrides the endpoint of KMS, Secrets Manager and SSM.
const EndpointEnv = "IDV_AWS_ENDPOINT"

func init() {
	secrets.Register("aws", []string{secrets.AWSKMS, secrets.AWSSM, secrets.AWSSSM}, New)
}

// awsConfig is what a backend needs from the platform: the default region,
// an endpoint from the shared config (if any), and credentials to sign with.
type awsConfig struct {
	Region       string
	BaseEndpoint string
	Credentials  func(context.Context) (aws.Credentials, error)
}

// Backend talks to the three AWS services over one HTTP client, so a warm
// function keeps its connections.
type Backend struct {
	getenv func(string) string
	signer *v4.Signer
	client *http.Client

	cfgOnce      sync.Once
	cfg          awsConfig
	cfgErr       error
	baseEndpoint string
}

// New returns a backend configured through getenv. It does no I/O.
func New(getenv func(string) string) (secrets.Backend, error) {
	return &Backend{getenv: getenv, signer: v4.NewSigner(), client: &http.Client{}}, nil
}

// env reads a platform variable: getenv's value, else the process's (as
// the SDK would).
func (b *Backend) env(k string) string {
	if v := b.getenv(k); v != "" {
		return v
	}
	return os.Getenv(k)
}

func (b *Backend) config(ctx context.Context) (awsConfig, error) {
	b.cfgOnce.Do(func() {
		region := firstNonEmpty(b.getenv("AWS_REGION"), b.getenv("AWS_DEFAULT_REGION"))
		b.cfg, b.cfgErr = loadConfig(ctx, b.env, region)
		b.baseEndpoint = strings.TrimSpace(b.cfg.BaseEndpoint)
	})
	if b.cfgErr != nil {
		var se *secrets.Error
		if errors.As(b.cfgErr, &se) {
			return awsConfig{}, se
		}
		// Never the cause's text: a malformed shared config file could be quoted.
		return awsConfig{}, secrets.Fail(secrets.Misconfigured, "", "cannot load the AWS configuration (shared config files, environment)").WithCause(b.cfgErr)
	}
	return b.cfg, nil
}

// region picks the reference's region, else the platform's.
func (b *Backend) region(ctx context.Context, ref string) (string, error) {
	cfg, err := b.config(ctx)
	if err != nil {
		return "", err
	}
	r := firstNonEmpty(ref, cfg.Region)
	if r == "" {
		return "", secrets.Fail(secrets.Misconfigured, "", "no AWS region: set AWS_REGION (Lambda sets it) or add ?region= to the reference")
	}
	return r, nil
}

// creds are the credentials to sign the next request with.
func (b *Backend) creds(ctx context.Context) (aws.Credentials, error) {
	cfg, err := b.config(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	if cfg.Credentials == nil {
		return aws.Credentials{}, errors.New("no credential provider")
	}
	c, err := cfg.Credentials(ctx)
	if err == nil && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		err = errors.New("empty credentials")
	}
	return c, err
}

// Fetch implements secrets.Backend.
func (b *Backend) Fetch(ctx context.Context, ref secrets.Ref) ([]byte, error) {
	region, err := b.region(ctx, ref.Region)
	if err != nil {
		return nil, err
	}
	switch ref.Scheme {
	case secrets.AWSKMS:
		blob, err := ref.Ciphertext()
		if err != nil {
			return nil, err
		}
		in := struct {
			CiphertextBlob    []byte
			EncryptionContext map[string]string `json:",omitempty"`
		}{blob, ref.Context}
		var out struct{ Plaintext []byte }
		if err := b.call(ctx, svcKMS, region, "Decrypt", in, &out); err != nil {
			return nil, classify(err, "KMS Decrypt")
		}
		if len(out.Plaintext) == 0 {
			return nil, secrets.Fail(secrets.Malformed, "", "KMS returned an empty plaintext")
		}
		return out.Plaintext, nil

	case secrets.AWSSM:
		in := struct {
			SecretId     string
			VersionId    string `json:",omitempty"`
			VersionStage string `json:",omitempty"`
		}{ref.Target, ref.Version, ref.Stage}
		var out struct {
			SecretString *string
			SecretBinary []byte
		}
		if err := b.call(ctx, svcSM, region, "GetSecretValue", in, &out); err != nil {
			return nil, classify(err, "Secrets Manager GetSecretValue")
		}
		if out.SecretString != nil {
			return []byte(*out.SecretString), nil
		}
		if len(out.SecretBinary) > 0 {
			return out.SecretBinary, nil
		}
		return nil, secrets.Fail(secrets.NotFound, "", "the secret version has neither SecretString nor SecretBinary")

	case secrets.AWSSSM:
		in := struct {
			Name           string
			WithDecryption bool
		}{ref.Target, true}
		var out struct {
			Parameter *struct{ Value *string }
		}
		if err := b.call(ctx, svcSSM, region, "GetParameter", in, &out); err != nil {
			return nil, classify(err, "SSM GetParameter")
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return nil, secrets.Fail(secrets.NotFound, "", "SSM returned no parameter value")
		}
		return []byte(*out.Parameter.Value), nil
	}
	return nil, secrets.Fail(secrets.Malformed, "", "scheme %s is not an AWS scheme", ref.Scheme)
}

// Encrypt implements secrets.Encrypter with KMS Encrypt.
func (b *Backend) Encrypt(ctx context.Context, req secrets.EncryptRequest) (secrets.Ref, error) {
	region, err := b.region(ctx, req.Region)
	if err != nil {
		return secrets.Ref{}, err
	}
	in := struct {
		KeyId             string
		Plaintext         []byte
		EncryptionContext map[string]string `json:",omitempty"`
	}{req.KeyID, req.Plaintext, req.Context}
	var out struct{ CiphertextBlob []byte }
	if err := b.call(ctx, svcKMS, region, "Encrypt", in, &out); err != nil {
		return secrets.Ref{}, classify(err, "KMS Encrypt")
	}
	// The reference records the region that holds the key: a ciphertext can
	// only be decrypted there, whatever region the function runs in.
	return secrets.Ref{
		Scheme:  secrets.AWSKMS,
		Target:  base64.StdEncoding.EncodeToString(out.CiphertextBlob),
		Region:  region,
		Context: req.Context,
	}, nil
}

// classify maps an AWS error to a class. Only the error code and request id
// are kept in the text: AWS messages are harmless today, but a policy that
// never prints upstream text cannot be broken by tomorrow's message.
func classify(err error, op string) error {
	var se *secrets.Error
	if errors.As(err, &se) {
		return se
	}
	e := &secrets.Error{Class: secrets.Unavailable, Err: err, Detail: op + " failed"}
	var ae *apiError
	var ce *credentialError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		e.Class, e.Detail = secrets.Timeout, op+": no answer in time"
	case errors.As(err, &ce):
		e.Class, e.Detail = secrets.Misconfigured, op+": no usable AWS credentials (the function role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
	case errors.As(err, &ae):
		e.Code, e.RequestID = ae.Code, ae.RequestID
		e.Class, e.Detail = codeClass(e.Code, op)
	}
	return e
}

func codeClass(code, op string) (secrets.Class, string) {
	switch code {
	case "NotFoundException", "ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound":
		return secrets.NotFound, op + ": no such key, secret, parameter or version"
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
		"ExpiredTokenException", "InvalidClientTokenId", "KMSAccessDeniedException", "DecryptionFailure",
		"MissingAuthenticationTokenException":
		return secrets.AccessDenied, op + ": refused; the role needs permission on this resource (and kms:Decrypt on its key)"
	case "DisabledException", "KMSDisabledException", "KMSInvalidStateException", "KeyUnavailableException":
		return secrets.AccessDenied, op + ": the KMS key is disabled or unavailable"
	case "InvalidCiphertextException", "IncorrectKeyException":
		return secrets.Malformed, op + ": KMS rejected the ciphertext (corrupt, another key's, or a different encryption context)"
	case "InvalidRequestException":
		return secrets.NotFound, op + ": the secret cannot be read (scheduled for deletion or has no such version)"
	case "ValidationException", "InvalidParameterException", "InvalidKeyId", "InvalidKeyUsageException", "SerializationException":
		return secrets.Malformed, op + ": the request was rejected as invalid"
	case "ThrottlingException", "LimitExceededException", "TooManyRequestsException", "RequestLimitExceeded":
		return secrets.Unavailable, op + ": throttled"
	}
	return secrets.Unavailable, op + ": the service failed"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
