//go:build idv_lambda

package awsbackend

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/idverify/idverify/shared/secrets"
)

// loadConfig, in the Lambda build, takes the role's credentials from the
// environment Lambda sets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) and nothing else. The SDK's config loader, with its
// shared files, SSO, STS and IMDS providers, is not linked: a function has
// no use for them, and leaving them out makes the binary smaller and its
// start shorter (see README "Build and deploy").
func loadConfig(_ context.Context, getenv func(string) string, region string) (aws.Config, error) {
	// The process environment, as the SDK's own environment provider reads
	// it, unless the backend's getenv says otherwise (tests, tools).
	env := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return os.Getenv(k)
	}
	id, key := strings.TrimSpace(env("AWS_ACCESS_KEY_ID")), strings.TrimSpace(env("AWS_SECRET_ACCESS_KEY"))
	if id == "" || key == "" {
		return aws.Config{}, secrets.Fail(secrets.Misconfigured, "",
			"no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): Lambda sets them from the function's role")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, key, env("AWS_SESSION_TOKEN"))),
	}, nil
}

// sdkEndpoint reads the SDK's endpoint variables, which the config loader
// would have applied: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL.
func sdkEndpoint(getenv func(string) string, service string) *string {
	for _, name := range []string{"AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"} {
		v := getenv(name)
		if v == "" {
			v = os.Getenv(name)
		}
		if ep := strings.TrimSpace(v); ep != "" {
			return &ep
		}
	}
	return nil
}
