package faceadv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// lambdaInvoker starts an async job on Lambda by invoking this function
// asynchronously (InvocationType Event) with {"resumeJob": traceNo}. A
// goroutine would be frozen with the instance as soon as the answer is
// sent; an Event invocation runs in an instance of its own and Lambda
// retries it. It is a plain SigV4-signed call to the Invoke API, so the
// Lambda SDK module is not needed. If the call fails, the job still waits
// in Redis for a poll or the sweep.
type lambdaInvoker struct {
	endpoint, function, region string
	creds                      aws.Credentials
	signer                     *v4.Signer
	client                     *http.Client
	now                        func() time.Time
}

// lambdaInvokerFromEnv reads what the Lambda runtime sets: the function's
// name and region and its role credentials. IDV_LAMBDA_ENDPOINT overrides
// the regional endpoint (tests, VPC endpoints). nil when not on Lambda.
func lambdaInvokerFromEnv(getenv func(string) string) *lambdaInvoker {
	l := &lambdaInvoker{
		function: getenv("AWS_LAMBDA_FUNCTION_NAME"),
		region:   getenv("AWS_REGION"),
		endpoint: strings.TrimRight(getenv("IDV_LAMBDA_ENDPOINT"), "/"),
		creds: aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken: getenv("AWS_SESSION_TOKEN")},
		signer: v4.NewSigner(),
		client: &http.Client{Timeout: 5 * time.Second},
		now:    time.Now,
	}
	if l.function == "" || l.region == "" || l.creds.AccessKeyID == "" || l.creds.SecretAccessKey == "" {
		return nil
	}
	if l.endpoint == "" {
		l.endpoint = "https://lambda." + l.region + ".amazonaws.com"
	}
	return l
}

// invoke queues one asynchronous invocation of this function.
func (l *lambdaInvoker) invoke(ctx context.Context, payload []byte) error {
	u := l.endpoint + "/2015-03-31/functions/" + url.PathEscape(l.function) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	sum := sha256.Sum256(payload)
	if err := l.signer.SignHTTP(ctx, l.creds, req, hex.EncodeToString(sum[:]), "lambda", l.region, l.now()); err != nil {
		return err
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("lambda invoke: network error")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("lambda invoke: HTTP %d", resp.StatusCode)
	}
	return nil
}

// background is Options.Background for Lambda. It runs before the answer
// is sent, while the instance is still running.
func (l *lambdaInvoker) background(h *Handler) func(string) {
	return func(traceNo string) {
		payload, _ := json.Marshal(map[string]string{"Action": ActionAdv, "resumeJob": traceNo})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.invoke(ctx, payload); err != nil {
			// The job waits in Redis; the caller's first poll runs it.
			h.opts.Logger.Warn("faceadv: async self-invocation failed; the job runs on the first poll",
				"trace_no", traceNo, "error", err.Error())
		}
	}
}
