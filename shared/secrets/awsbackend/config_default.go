//go:build !idv_lambda

package awsbackend

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// loadConfig is the SDK's default chain (environment, shared config and
// credentials files, SSO, IMDS...): what an operator's machine or a local
// server needs. Lambda builds (-tags idv_lambda) use config_lambda.go.
func loadConfig(ctx context.Context, _ func(string) string, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// sdkEndpoint is handled by the SDK's config loader in this build.
func sdkEndpoint(func(string) string, string) *string { return nil }
