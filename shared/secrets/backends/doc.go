// Package backends links the secret backends into a binary. Import it for
// its side effect:
//
//	import _ "github.com/idverify/idverify/shared/secrets/backends"
//
// Both backends are linked by default, so `go run` and tests work anywhere.
// Platform builds leave out the cloud they do not run on:
//
//	Lambda:  go build -tags idv_no_tencent ...   (no Tencent KMS/SSM code)
//	SCF:     go build -tags idv_no_aws ...       (no aws-sdk-go-v2 at all)
//
// Tags are negative on purpose: forgetting one costs binary size, while
// forgetting a positive tag would leave a binary that cannot read its own
// secrets. A reference whose backend was left out fails at start with a
// message naming the tag.
package backends
