// Package awsbackend resolves awskms:, awssm: and awsssm: references with
// aws-sdk-go-v2 (KMS Decrypt, Secrets Manager GetSecretValue, SSM
// GetParameter WithDecryption) and encrypts values for the operator command.
//
// Credentials come from the SDK's default chain: on Lambda that is the
// role's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN and
// AWS_REGION. Endpoints can be overridden for tests and VPC endpoints with
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
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/idverify/idverify/shared/secrets"
)

// EndpointEnv overrides the endpoint of KMS, Secrets Manager and SSM.
const EndpointEnv = "IDV_AWS_ENDPOINT"

func init() {
	secrets.Register("aws", []string{secrets.AWSKMS, secrets.AWSSM, secrets.AWSSSM}, New)
}

// Backend talks to the three AWS services. Clients are made per region on
// first use and reused, so a warm function keeps its connections.
type Backend struct {
	getenv func(string) string

	cfgOnce sync.Once
	cfg     aws.Config
	cfgErr  error

	mu  sync.Mutex
	kms map[string]*kms.Client
	sm  map[string]*secretsmanager.Client
	ssm map[string]*ssm.Client
}

// New returns a backend configured through getenv. It does no I/O.
func New(getenv func(string) string) (secrets.Backend, error) {
	return &Backend{getenv: getenv, kms: map[string]*kms.Client{}, sm: map[string]*secretsmanager.Client{}, ssm: map[string]*ssm.Client{}}, nil
}

func (b *Backend) config(ctx context.Context) (aws.Config, error) {
	b.cfgOnce.Do(func() {
		region := firstNonEmpty(b.getenv("AWS_REGION"), b.getenv("AWS_DEFAULT_REGION"))
		b.cfg, b.cfgErr = loadConfig(ctx, b.getenv, region)
	})
	if b.cfgErr != nil {
		// Never the cause's text: a malformed shared config file could be quoted.
		return aws.Config{}, secrets.Fail(secrets.Misconfigured, "", "cannot load the AWS configuration (shared config files, environment)").WithCause(b.cfgErr)
	}
	return b.cfg, nil
}

// region picks the reference's region, else the platform's.
func (b *Backend) region(ctx context.Context, ref string) (aws.Config, string, error) {
	cfg, err := b.config(ctx)
	if err != nil {
		return cfg, "", err
	}
	r := firstNonEmpty(ref, cfg.Region)
	if r == "" {
		return cfg, "", secrets.Fail(secrets.Misconfigured, "", "no AWS region: set AWS_REGION (Lambda sets it) or add ?region= to the reference")
	}
	return cfg, r, nil
}

// endpoint is IDV_AWS_ENDPOINT, else (in the Lambda build, which does not
// link the SDK's config loader) the SDK's AWS_ENDPOINT_URL_<SERVICE> and
// AWS_ENDPOINT_URL.
func (b *Backend) endpoint(service string) *string {
	if ep := strings.TrimSpace(b.getenv(EndpointEnv)); ep != "" {
		return &ep
	}
	return sdkEndpoint(b.getenv, service)
}

func (b *Backend) kmsClient(ctx context.Context, region string) (*kms.Client, error) {
	cfg, r, err := b.region(ctx, region)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.kms[r]
	if c == nil {
		c = kms.NewFromConfig(cfg, func(o *kms.Options) {
			o.Region = r
			if ep := b.endpoint("KMS"); ep != nil {
				o.BaseEndpoint = ep
			}
		})
		b.kms[r] = c
	}
	return c, nil
}

func (b *Backend) smClient(ctx context.Context, region string) (*secretsmanager.Client, error) {
	cfg, r, err := b.region(ctx, region)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.sm[r]
	if c == nil {
		c = secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			o.Region = r
			if ep := b.endpoint("SECRETS_MANAGER"); ep != nil {
				o.BaseEndpoint = ep
			}
		})
		b.sm[r] = c
	}
	return c, nil
}

func (b *Backend) ssmClient(ctx context.Context, region string) (*ssm.Client, error) {
	cfg, r, err := b.region(ctx, region)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.ssm[r]
	if c == nil {
		c = ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			o.Region = r
			if ep := b.endpoint("SSM"); ep != nil {
				o.BaseEndpoint = ep
			}
		})
		b.ssm[r] = c
	}
	return c, nil
}

// Fetch implements secrets.Backend.
func (b *Backend) Fetch(ctx context.Context, ref secrets.Ref) ([]byte, error) {
	switch ref.Scheme {
	case secrets.AWSKMS:
		blob, err := ref.Ciphertext()
		if err != nil {
			return nil, err
		}
		c, err := b.kmsClient(ctx, ref.Region)
		if err != nil {
			return nil, err
		}
		out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ref.Context})
		if err != nil {
			return nil, classify(err, "KMS Decrypt")
		}
		if len(out.Plaintext) == 0 {
			return nil, secrets.Fail(secrets.Malformed, "", "KMS returned an empty plaintext")
		}
		return out.Plaintext, nil

	case secrets.AWSSM:
		c, err := b.smClient(ctx, ref.Region)
		if err != nil {
			return nil, err
		}
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.Target)}
		if ref.Version != "" {
			in.VersionId = aws.String(ref.Version)
		}
		if ref.Stage != "" {
			in.VersionStage = aws.String(ref.Stage)
		}
		out, err := c.GetSecretValue(ctx, in)
		if err != nil {
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
		c, err := b.ssmClient(ctx, ref.Region)
		if err != nil {
			return nil, err
		}
		out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref.Target), WithDecryption: aws.Bool(true)})
		if err != nil {
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
	c, err := b.kmsClient(ctx, req.Region)
	if err != nil {
		return secrets.Ref{}, err
	}
	out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(req.KeyID), Plaintext: req.Plaintext, EncryptionContext: req.Context})
	if err != nil {
		return secrets.Ref{}, classify(err, "KMS Encrypt")
	}
	// The reference records the region that holds the key: a ciphertext can
	// only be decrypted there, whatever region the function runs in.
	return secrets.Ref{
		Scheme:  secrets.AWSKMS,
		Target:  base64.StdEncoding.EncodeToString(out.CiphertextBlob),
		Region:  c.Options().Region,
		Context: req.Context,
	}, nil
}

// classify maps an AWS error to a class. Only the error code and request id
// are kept in the text: AWS messages are harmless today, but a policy that
// never prints upstream text cannot be broken by tomorrow's message.
func classify(err error, op string) error {
	e := &secrets.Error{Class: secrets.Unavailable, Err: err, Detail: op + " failed"}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.RequestID = re.ServiceRequestID()
	}
	var se *v4.SigningError
	var mr *aws.MissingRegionError
	var ae smithy.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		e.Class, e.Detail = secrets.Timeout, op+": no answer in time"
	case errors.As(err, &se):
		e.Class, e.Detail = secrets.Misconfigured, op+": no usable AWS credentials (the function role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
	case errors.As(err, &mr):
		e.Class, e.Detail = secrets.Misconfigured, op+": no AWS region"
	case errors.As(err, &ae):
		e.Code = ae.ErrorCode()
		e.Class, e.Detail = codeClass(e.Code, op)
	}
	return e
}

func codeClass(code, op string) (secrets.Class, string) {
	switch code {
	case "NotFoundException", "ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound":
		return secrets.NotFound, op + ": no such key, secret, parameter or version"
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
		"ExpiredTokenException", "InvalidClientTokenId", "KMSAccessDeniedException", "DecryptionFailure":
		return secrets.AccessDenied, op + ": refused; the role needs permission on this resource (and kms:Decrypt on its key)"
	case "DisabledException", "KMSDisabledException", "KMSInvalidStateException", "KeyUnavailableException":
		return secrets.AccessDenied, op + ": the KMS key is disabled or unavailable"
	case "InvalidCiphertextException", "IncorrectKeyException":
		return secrets.Malformed, op + ": KMS rejected the ciphertext (corrupt, another key's, or a different encryption context)"
	case "InvalidRequestException":
		return secrets.NotFound, op + ": the secret cannot be read (scheduled for deletion or has no such version)"
	case "ValidationException", "InvalidParameterException", "InvalidKeyId", "InvalidKeyUsageException":
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
