//go:build !idv_no_tencent

package backends

import _ "github.com/idverify/idverify/shared/secrets/tcbackend" // registers tckms, tcssm
