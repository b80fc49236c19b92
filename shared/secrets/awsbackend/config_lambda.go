//go:build idv_lambda

package awsbackend

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/idverify/idverify/shared/secrets"
)

// loadConfig, in the Lambda build, takes the role's credentials from the
// environment Lambda sets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) and nothing else. The SDK's config loader, with its
// shared files, SSO, STS and IMDS providers, is not linked: a function has
// no use for them, and leaving them out makes the binary smaller and its
// start shorter (see README "Build and deploy"). env reads getenv, then the
// process environment.
func loadConfig(_ context.Context, env func(string) string, region string) (awsConfig, error) {
	id, key := strings.TrimSpace(env("AWS_ACCESS_KEY_ID")), strings.TrimSpace(env("AWS_SECRET_ACCESS_KEY"))
	if id == "" || key == "" {
		return awsConfig{}, secrets.Fail(secrets.Misconfigured, "",
			"no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): Lambda sets them from the function's role")
	}
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: key, SessionToken: env("AWS_SESSION_TOKEN"), Source: "Environment"}
	return awsConfig{
		Region:      region,
		Credentials: func(context.Context) (aws.Credentials, error) { return creds, nil },
	}, nil
}
