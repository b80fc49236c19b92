// Package tcbackend resolves tckms: and tcssm: references with the
// tencentcloud-sdk-go common client (KMS 2019-01-18 Decrypt, SSM 2019-09-23
// GetSecretValue) and encrypts values for the operator command. The
// per-service Tencent Go modules are not used: the common client with
// tchttp.NewCommonRequest is all a Decrypt needs, and keeps the binary small.
//
// Credentials: IDV_SECRETS_TENCENT_SECRET_ID / _SECRET_KEY (/ _SESSION_TOKEN)
// when set, else the SCF role's TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY /
// TENCENTCLOUD_SESSIONTOKEN, read at every call because they rotate; the
// session token goes out as X-TC-Token. Region: the reference's ?region=,
// else TENCENTCLOUD_REGION. Endpoints: IDV_TENCENT_KMS_ENDPOINT and
// IDV_TENCENT_SSM_ENDPOINT ("http://127.0.0.1:9000" or a host name).
//
// The package registers itself with shared/secrets when linked; build with
// -tags idv_no_tencent to leave it out of a binary.
package tcbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/idverify/idverify/shared/secrets"
)

// Environment variables read by the backend.
const (
	KMSEndpointEnv = "IDV_TENCENT_KMS_ENDPOINT"
	SSMEndpointEnv = "IDV_TENCENT_SSM_ENDPOINT"
	RegionEnv      = "TENCENTCLOUD_REGION"
)

// API identities.
const (
	KMSService = "kms"
	KMSVersion = "2019-01-18"
	SSMService = "ssm"
	SSMVersion = "2019-09-23"
)

func init() {
	secrets.Register("tencent", []string{secrets.TCKMS, secrets.TCSSM}, New)
}

// Backend talks to Tencent KMS and SSM. One common client per service and
// region is made on first use and reused.
type Backend struct {
	getenv func(string) string
	cred   *Credential

	mu      sync.Mutex
	clients map[string]*common.Client
}

// New returns a backend configured through getenv. It does no I/O.
func New(getenv func(string) string) (secrets.Backend, error) {
	return &Backend{getenv: getenv, cred: NewCredential(getenv), clients: map[string]*common.Client{}}, nil
}

func (b *Backend) client(service, region string) (*common.Client, error) {
	if region = firstNonEmpty(region, b.getenv(RegionEnv)); region == "" {
		return nil, secrets.Fail(secrets.Misconfigured, "", "no Tencent region: set %s or add ?region= to the reference", RegionEnv)
	}
	if !b.cred.Available() {
		return nil, secrets.Fail(secrets.Misconfigured, "", "no Tencent credentials: give the SCF function an execution role "+
			"(TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN) or set IDV_SECRETS_TENCENT_SECRET_ID and IDV_SECRETS_TENCENT_SECRET_KEY")
	}
	envName := KMSEndpointEnv
	if service == SSMService {
		envName = SSMEndpointEnv
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := service + "/" + region
	if c := b.clients[k]; c != nil {
		return c, nil
	}
	prof := profile.NewClientProfile()
	prof.Language = "en-US"
	if ep := strings.TrimSpace(b.getenv(envName)); ep != "" {
		scheme, host, err := splitEndpoint(ep)
		if err != nil {
			return nil, secrets.Fail(secrets.Misconfigured, "", "%s is not a URL or host name", envName)
		}
		prof.HttpProfile.Scheme, prof.HttpProfile.Endpoint = scheme, host
	}
	c := common.NewCommonClient(b.cred, region, prof)
	b.clients[k] = c
	return c, nil
}

// splitEndpoint accepts "http://host:port[/path]" or a bare host name.
func splitEndpoint(ep string) (scheme, host string, err error) {
	if !strings.Contains(ep, "://") {
		return "HTTPS", ep, nil
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", errors.New("bad endpoint")
	}
	return strings.ToUpper(u.Scheme), u.Host + strings.TrimSuffix(u.Path, "/"), nil
}

// response is the {"Response": {...}} envelope; only the fields we read.
type response struct {
	tchttp.BaseResponse
	Response struct {
		Plaintext      string `json:"Plaintext"`
		CiphertextBlob string `json:"CiphertextBlob"`
		KeyId          string `json:"KeyId"`
		SecretString   string `json:"SecretString"`
		SecretBinary   string `json:"SecretBinary"`
		RequestId      string `json:"RequestId"`
	} `json:"Response"`
}

func (b *Backend) call(ctx context.Context, service, version, action, region string, params map[string]any) (*response, error) {
	c, err := b.client(service, region)
	if err != nil {
		return nil, err
	}
	req := tchttp.NewCommonRequest(service, version, action)
	if err := req.SetActionParameters(params); err != nil {
		return nil, secrets.Fail(secrets.Malformed, "", "%s %s: cannot build the request", service, action)
	}
	req.SetContext(ctx)
	resp := &response{}
	if err := c.Send(req, resp); err != nil {
		return nil, classify(err, service+" "+action)
	}
	return resp, nil
}

// contextJSON is the EncryptionContext parameter: a JSON object string.
// encoding/json sorts map keys, so Encrypt and Decrypt send the same text
// for the same context whatever order the reference lists it in.
func contextJSON(ctx map[string]string) (string, bool) {
	if len(ctx) == 0 {
		return "", false
	}
	b, _ := json.Marshal(ctx)
	return string(b), true
}

// Fetch implements secrets.Backend.
func (b *Backend) Fetch(ctx context.Context, ref secrets.Ref) ([]byte, error) {
	switch ref.Scheme {
	case secrets.TCKMS:
		if _, err := ref.Ciphertext(); err != nil {
			return nil, err
		}
		params := map[string]any{"CiphertextBlob": ref.Target}
		if ec, ok := contextJSON(ref.Context); ok {
			params["EncryptionContext"] = ec
		}
		resp, err := b.call(ctx, KMSService, KMSVersion, "Decrypt", ref.Region, params)
		if err != nil {
			return nil, err
		}
		pt, err := base64.StdEncoding.DecodeString(resp.Response.Plaintext)
		if err != nil || len(pt) == 0 {
			return nil, secrets.Fail(secrets.Malformed, "", "KMS Decrypt returned no base64 plaintext")
		}
		return pt, nil

	case secrets.TCSSM:
		resp, err := b.call(ctx, SSMService, SSMVersion, "GetSecretValue", ref.Region,
			map[string]any{"SecretName": ref.Target, "VersionId": ref.Version})
		if err != nil {
			return nil, err
		}
		if s := resp.Response.SecretString; s != "" {
			return []byte(s), nil
		}
		if s := resp.Response.SecretBinary; s != "" {
			v, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, secrets.Fail(secrets.Malformed, "", "SSM returned SecretBinary that is not base64")
			}
			return v, nil
		}
		return nil, secrets.Fail(secrets.NotFound, "", "the secret version has neither SecretString nor SecretBinary")
	}
	return nil, secrets.Fail(secrets.Malformed, "", "scheme %s is not a Tencent scheme", ref.Scheme)
}

// Encrypt implements secrets.Encrypter with KMS Encrypt.
func (b *Backend) Encrypt(ctx context.Context, req secrets.EncryptRequest) (secrets.Ref, error) {
	region := firstNonEmpty(req.Region, b.getenv(RegionEnv))
	params := map[string]any{"KeyId": req.KeyID, "Plaintext": base64.StdEncoding.EncodeToString(req.Plaintext)}
	if ec, ok := contextJSON(req.Context); ok {
		params["EncryptionContext"] = ec
	}
	resp, err := b.call(ctx, KMSService, KMSVersion, "Encrypt", region, params)
	if err != nil {
		return secrets.Ref{}, err
	}
	if _, err := base64.StdEncoding.DecodeString(resp.Response.CiphertextBlob); err != nil || resp.Response.CiphertextBlob == "" {
		return secrets.Ref{}, secrets.Fail(secrets.Malformed, "", "KMS Encrypt returned no base64 ciphertext")
	}
	// The region goes into the reference: a CMK lives in one region, and
	// the function may run in another.
	return secrets.Ref{Scheme: secrets.TCKMS, Target: resp.Response.CiphertextBlob, Region: region, Context: req.Context}, nil
}

// classify maps a Tencent error code to a class. The SDK's message is never
// kept in the text: for a response it cannot parse, the SDK quotes the body.
func classify(err error, op string) error {
	e := &secrets.Error{Class: secrets.Unavailable, Err: err, Detail: op + " failed"}
	var te *tcerr.TencentCloudSDKError
	if !errors.As(err, &te) {
		return e
	}
	e.Code, e.RequestID = te.GetCode(), te.GetRequestId()
	code := e.Code
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		e.Class, e.Detail = secrets.Timeout, op+": no answer in time"
	case strings.HasPrefix(code, "AuthFailure"), strings.HasPrefix(code, "UnauthorizedOperation"),
		strings.HasPrefix(code, "OperationDenied"):
		need := "kms:Decrypt on the key"
		if strings.HasPrefix(op, SSMService) {
			need = "ssm:GetSecretValue on the secret"
		}
		e.Class, e.Detail = secrets.AccessDenied, op+": refused; the role needs "+need+" and valid credentials"
	case code == "ResourceUnavailable.CmkNotFound", strings.HasPrefix(code, "ResourceNotFound"):
		e.Class, e.Detail = secrets.NotFound, op+": no such key, secret or version (check the region)"
	case strings.HasPrefix(code, "ResourceUnavailable"):
		e.Class, e.Detail = secrets.AccessDenied, op+": the key is disabled or the service is not enabled"
	case strings.HasPrefix(code, "InvalidParameter"), strings.HasPrefix(code, "MissingParameter"):
		e.Class, e.Detail = secrets.Malformed, op+": rejected (corrupt ciphertext, a different encryption context, or a bad name)"
	case code == "ClientError.NetworkError", code == "ClientError.HttpStatusCodeError":
		e.Class, e.Detail = secrets.Unavailable, op+": network or HTTP failure"
	case strings.HasPrefix(code, "ClientError"):
		e.Class, e.Detail = secrets.Unavailable, op+": unreadable response"
	default:
		e.Class, e.Detail = secrets.Unavailable, op+": the service failed"
	}
	return e
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
