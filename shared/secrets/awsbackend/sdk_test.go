package awsbackend_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/secrets/awsbackend"
	"github.com/idverify/idverify/tests/fakes/awsfake"
)

// The backend signs and sends its own AWS JSON 1.1 requests. These tests
// keep it and the fake honest together: every case runs through the SDK's
// generated clients (aws-sdk-go-v2 service/kms, secretsmanager, ssm) and
// through the backend against the same fake, and both must get the same
// answer or the same error code.

func sdkConfig(f *awsfake.Server, url, secret, token string) aws.Config {
	return aws.Config{
		Region:           f.Region(),
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(awsfake.DefaultAccessKeyID, secret, token),
		RetryMaxAttempts: 1,
	}
}

// sdkCode is the API error code of err ("" when nil).
func sdkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("SDK error without an API code: %v", err)
	}
	return ae.ErrorCode()
}

func backendCode(err error) string {
	if err == nil {
		return ""
	}
	var e *secrets.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "?"
}

func TestSameAnswersAsTheSDK(t *testing.T) {
	f, env := start(t)
	url := env[awsbackendEndpointEnv()]
	ctx := context.Background()
	key := f.CreateKey()
	blob := f.Encrypt(key, []byte("kms-plain-sdk"), map[string]string{"app": "idverify"})
	denied := f.CreateKey()
	deniedBlob := f.Encrypt(denied, []byte("p"), nil)
	f.Deny(denied)
	v1 := f.PutSecretString("s", "sm-plain-sdk-1")
	f.PutSecretString("s", "sm-plain-sdk-2")
	f.PutSecretBinary("bin", []byte{0, 1, 'x'})
	f.PutParameter("/p", "ssm-plain-sdk", true)

	type result struct {
		value string
		code  string
	}
	cases := []struct {
		name string
		ref  string
		sdk  func(aws.Config) result
	}{
		{"kms", "awskms:" + b64(blob) + "?ctx.app=idverify", func(c aws.Config) result {
			out, err := kms.NewFromConfig(c).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"app": "idverify"}})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: string(out.Plaintext)}
		}},
		{"kms wrong context", "awskms:" + b64(blob) + "?ctx.app=other", func(c aws.Config) result {
			_, err := kms.NewFromConfig(c).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: map[string]string{"app": "other"}})
			return result{code: sdkCode(t, err)}
		}},
		{"kms denied", "awskms:" + b64(deniedBlob), func(c aws.Config) result {
			_, err := kms.NewFromConfig(c).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: deniedBlob})
			return result{code: sdkCode(t, err)}
		}},
		{"sm current", "awssm:s", func(c aws.Config) result {
			out, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: aws.ToString(out.SecretString)}
		}},
		{"sm version", "awssm:s?version=" + v1, func(c aws.Config) result {
			out, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(v1)})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: aws.ToString(out.SecretString)}
		}},
		{"sm previous", "awssm:s?stage=AWSPREVIOUS", func(c aws.Config) result {
			out, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPREVIOUS")})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: aws.ToString(out.SecretString)}
		}},
		{"sm binary", "awssm:bin", func(c aws.Config) result {
			out, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: string(out.SecretBinary)}
		}},
		{"sm missing", "awssm:missing", func(c aws.Config) result {
			_, err := secretsmanager.NewFromConfig(c).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})
			return result{code: sdkCode(t, err)}
		}},
		{"ssm", "awsssm:/p", func(c aws.Config) result {
			out, err := ssm.NewFromConfig(c).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p"), WithDecryption: aws.Bool(true)})
			if err != nil {
				return result{code: sdkCode(t, err)}
			}
			return result{value: aws.ToString(out.Parameter.Value)}
		}},
		{"ssm missing", "awsssm:/none", func(c aws.Config) result {
			_, err := ssm.NewFromConfig(c).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/none"), WithDecryption: aws.Bool(true)})
			return result{code: sdkCode(t, err)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.sdk(sdkConfig(f, url, awsfake.DefaultSecretAccessKey, awsfake.DefaultSessionToken))
			v, err := fetch(t, env, c.ref)
			got := result{value: string(v), code: backendCode(err)}
			if got != want {
				t.Fatalf("backend %+v, SDK %+v", got, want)
			}
		})
	}

	// A signature the fake refuses, for both.
	t.Run("bad signature", func(t *testing.T) {
		_, err := ssm.NewFromConfig(sdkConfig(f, url, "wrong", awsfake.DefaultSessionToken)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
		want := sdkCode(t, err)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		_, err = fetch(t, env, "awsssm:/p")
		if got := backendCode(err); got != want || want != "InvalidSignatureException" {
			t.Fatalf("backend %q, SDK %q", got, want)
		}
	})
}

func awsbackendEndpointEnv() string { return awsbackend.EndpointEnv }

// TestRetriesServerErrorsAndThrottling: an answer a retry can change (5xx,
// throttling, no answer) is tried again, as the SDK's standard retryer does;
// a refusal is not.
func TestRetriesServerErrorsAndThrottling(t *testing.T) {
	f, _ := awsfake.Start(t, awsfake.Options{})
	roleEnv(t, f)
	f.PutParameter("/p", "ssm-plain-retry", true)
	var failures, seen atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if failures.Load() > 0 {
			failures.Add(-1)
			w.Header().Set("X-Amzn-ErrorType", "ThrottlingException")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	env := map[string]string{awsbackendEndpointEnv(): proxy.URL, "AWS_REGION": f.Region()}

	failures.Store(2)
	got, err := fetch(t, env, "awsssm:/p")
	if err != nil || string(got) != "ssm-plain-retry" || seen.Load() != 3 {
		t.Fatalf("got %q, %v after %d requests", got, err, seen.Load())
	}

	seen.Store(0)
	failures.Store(5)
	_, err = fetch(t, env, "awsssm:/p")
	wantClass(t, err, secrets.Unavailable, "ThrottlingException")
	if seen.Load() != 3 {
		t.Fatalf("%d requests, want 3 attempts", seen.Load())
	}

	seen.Store(0)
	failures.Store(0)
	_, err = fetch(t, env, "awsssm:/none")
	wantClass(t, err, secrets.NotFound, "ParameterNotFound")
	if seen.Load() != 1 {
		t.Fatalf("a refusal was retried: %d requests", seen.Load())
	}
}

// TestEndpointsByRegion: without an override each service is called at its
// regional endpoint (the China partition has its own domain).
func TestEndpointsByRegion(t *testing.T) {
	for _, c := range []struct{ region, want string }{
		{"us-east-1", "https://ssm.us-east-1.amazonaws.com"},
		{"cn-north-1", "https://ssm.cn-north-1.amazonaws.com.cn"},
	} {
		if got := awsbackend.EndpointURLForTest(c.region); got != c.want {
			t.Errorf("%s: %s, want %s", c.region, got, c.want)
		}
	}
}
