package awsbackend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// The three services speak the same protocol, AWS JSON 1.1: one POST to "/"
// with X-Amz-Target naming the operation, a JSON body, signed with SigV4.
// One signed request is all a secret fetch needs, so this file is the whole
// client: the SDK's SigV4 signer (a few tens of kilobytes) instead of three
// generated service clients with their endpoint rules, schemas and
// middleware stacks (about 2.5 MiB of binary and 13 ms of package init).
// tests in this package check it against the SDK's own clients on the same
// fake (sdk_test.go).

// service is one AWS service as this client calls it.
type service struct {
	signingName string // SigV4 scope: kms, secretsmanager, ssm
	endpointID  string // host prefix: kms, secretsmanager, ssm
	envSuffix   string // AWS_ENDPOINT_URL_<envSuffix>
	targetPfx   string // X-Amz-Target prefix
}

var (
	svcKMS = service{"kms", "kms", "KMS", "TrentService"}
	svcSM  = service{"secretsmanager", "secretsmanager", "SECRETS_MANAGER", "secretsmanager"}
	svcSSM = service{"ssm", "ssm", "SSM", "AmazonSSM"}
)

// maxAttempts is how many times a call is tried: the SDK's standard
// retryer's default. Only answers that a retry can change are retried
// (no answer, 5xx, throttling), each after a jittered backoff.
const maxAttempts = 3

// apiError is an AWS error answer: the code from __type or
// X-Amzn-ErrorType, the request id. The message is kept out of Error():
// upstream text is never printed.
type apiError struct {
	Code      string
	RequestID string
	Status    int
}

func (e *apiError) Error() string {
	return fmt.Sprintf("api error %s (HTTP %d, request id %s)", e.Code, e.Status, e.RequestID)
}

// credentialError is a failure to get credentials to sign with.
type credentialError struct{ err error }

func (e *credentialError) Error() string { return "no usable AWS credentials: " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// call POSTs in as operation op of svc in region and decodes the answer
// into out.
func (b *Backend) call(ctx context.Context, svc service, region, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	url := b.endpointURL(svc, region)
	var last error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("%w: %w", err, last)
			}
		}
		creds, err := b.creds(ctx)
		if err != nil {
			return &credentialError{err}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", svc.targetPfx+"."+op)
		if err := b.signer.SignHTTP(ctx, creds, req, hash, svc.signingName, region, time.Now().UTC()); err != nil {
			return &credentialError{err}
		}
		retry, err := b.do(req, out)
		if err == nil || !retry || ctx.Err() != nil {
			if ctx.Err() != nil && err != nil {
				return fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return err
		}
		last = err
	}
	return last
}

// do sends req and decodes a 200 answer into out; retry says whether a
// failure may succeed when tried again.
func (b *Backend) do(req *http.Request, out any) (retry bool, err error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return true, err
	}
	reqID := resp.Header.Get("X-Amzn-RequestId")
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return false, &apiError{Code: "SerializationException", RequestID: reqID, Status: resp.StatusCode}
		}
		return false, nil
	}
	e := &apiError{Code: errorCode(resp.Header.Get("X-Amzn-ErrorType"), data), RequestID: reqID, Status: resp.StatusCode}
	return resp.StatusCode >= 500 || throttled(e.Code), e
}

// maxAnswer bounds an answer: a secret is at most 64 KiB (Secrets Manager),
// base64 in JSON a little more.
const maxAnswer = 1 << 20

// errorCode is the error's code: X-Amzn-ErrorType, else the body's __type
// (or code), without a namespace ("com.amazon...#Code") or a suffix
// ("Code:http://...").
func errorCode(header string, body []byte) string {
	code := header
	if code == "" {
		var v struct {
			Type string `json:"__type"`
			Code string `json:"code"`
		}
		_ = json.Unmarshal(body, &v)
		code = v.Type
		if code == "" {
			code = v.Code
		}
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		return "UnknownError"
	}
	return code
}

func throttled(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"LimitExceededException", "ProvisionedThroughputExceededException", "RequestThrottled",
		"RequestThrottledException", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
		"TransactionInProgressException", "RequestTimeout", "RequestTimeoutException":
		return true
	}
	return false
}

// backoff is the wait before attempt (1-based retries): full jitter over an
// exponential bound, as the SDK's standard retryer, capped at 1s here (a
// secret is fetched at start, where waiting 20s helps nobody).
func backoff(attempt int) time.Duration {
	bound := 50 * time.Millisecond << attempt
	if bound > time.Second {
		bound = time.Second
	}
	return time.Duration(rand.Int64N(int64(bound)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endpointURL is where svc is called in region: IDV_AWS_ENDPOINT, the
// SDK's AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL (from getenv, then
// the process), else the service's regional endpoint.
func (b *Backend) endpointURL(svc service, region string) string {
	if ep := strings.TrimSpace(b.getenv(EndpointEnv)); ep != "" {
		return ep
	}
	for _, name := range []string{"AWS_ENDPOINT_URL_" + svc.envSuffix, "AWS_ENDPOINT_URL"} {
		if ep := strings.TrimSpace(b.env(name)); ep != "" {
			return ep
		}
	}
	if ep := b.baseEndpoint; ep != "" {
		return ep
	}
	return "https://" + svc.endpointID + "." + region + "." + dnsSuffix(region)
}

// dnsSuffix is the partition's domain for region.
func dnsSuffix(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn"
	case strings.HasPrefix(region, "eusc-"):
		return "amazonaws.eu"
	}
	return "amazonaws.com"
}
