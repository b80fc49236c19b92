//go:build !idv_no_aws

package backends

import _ "github.com/idverify/idverify/shared/secrets/awsbackend" // registers awskms, awssm, awsssm
