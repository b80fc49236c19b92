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
func loadConfig(ctx context.Context, _ func(string) string, region string) (awsConfig, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return awsConfig{}, err
	}
	out := awsConfig{Region: cfg.Region}
	if cfg.BaseEndpoint != nil {
		out.BaseEndpoint = *cfg.BaseEndpoint
	}
	if cfg.Credentials != nil {
		p := cfg.Credentials
		out.Credentials = func(ctx context.Context) (aws.Credentials, error) { return p.Retrieve(ctx) }
	}
	return out, nil
}
