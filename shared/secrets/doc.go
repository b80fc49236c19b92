// Package secrets resolves secret references in configuration at cold start,
// caches the values and re-resolves them after a TTL, so that provider keys
// never sit in plaintext in template.yaml, serverless.yml or the console, and
// a rotated secret is picked up without a redeploy.
//
// # References
//
// Any environment variable may hold a reference instead of a value:
//
//	awskms:<base64 ciphertext>[?region=R][&ctx.K=V...][#json-key]   AWS KMS Decrypt
//	awssm:<secret id or ARN>[?version=ID|stage=S][&region=R][#json-key]   Secrets Manager GetSecretValue
//	awsssm:<parameter name>[?region=R][#json-key]                   SSM GetParameter WithDecryption
//	tckms:<base64 ciphertext>[?region=R][&ctx.K=V...][#json-key]    Tencent KMS Decrypt
//	tcssm:<secret name>?version=ID[&region=R][#json-key]            Tencent SSM GetSecretValue
//
// The part after "?" is a URL query (values percent-encoded where needed).
// ctx.K=V entries are the KMS encryption context: they must be the ones the
// value was encrypted with, or KMS refuses to decrypt, which is what binds a
// ciphertext to its purpose. "#json-key" selects one string field of a
// secret that is a JSON object, so one Secrets Manager secret can hold a
// whole key pair. Unknown query keys are refused, so a typo fails at start
// instead of silently meaning something else.
//
// A value that does not start with one of the five prefixes is a plain value.
// Plain values are accepted in development; with IDV_ENV=production a plain
// value in a variable the caller names as a secret stops the function.
//
// # Backends and build tags
//
// The core package has no cloud SDK in it. Backends live in awsbackend
// (SigV4-signed AWS JSON requests) and tcbackend (tencentcloud-sdk-go common) and register
// themselves; package backends links both unless the binary is built with
// -tags idv_no_aws (SCF builds) or -tags idv_no_tencent (Lambda builds). A
// reference whose backend is not linked fails closed, naming the tag.
//
// # Failing closed
//
// Load resolves every reference concurrently within a time bound and returns
// an error naming each variable that failed and why (class: not_found,
// access_denied, timeout, malformed, not_compiled, plaintext_refused,
// misconfigured, unavailable). Error texts never contain a value: causes
// from SDKs are kept for errors.Is/As but never printed, because some SDK
// messages quote the response body.
//
// # Refresh
//
// Env serves the resolved values through Getenv. There is no background
// goroutine (a frozen Lambda or SCF instance would wake it at random): a
// value older than the TTL (IDV_SECRET_TTL, default 15m) is re-resolved by
// the next Getenv that sees it, one caller per reference while the others
// keep the previous value. A failed refresh keeps the previous value and is
// retried after IDV_SECRET_RETRY (default 30s) until the value is older than
// IDV_SECRET_MAX_AGE (default 24h); after that the value is withdrawn
// (Getenv returns "") so a revoked key or deleted secret eventually stops
// the function rather than living on in memory forever.
package secrets
