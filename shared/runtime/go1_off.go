//go:build !idv_scfgo1

package runtime

import (
	"context"
	"errors"
	"log/slog"

	"github.com/idverify/idverify/shared/gateway"
)

// Go1Linked says whether this binary speaks SCF's legacy Go1 protocol. It is
// opt-in (-tags idv_scfgo1) because the protocol is net/rpc, which links
// html/template; reflection on template method calls turns off the linker's
// dead-method elimination and costs every binary several megabytes. SCF
// Custom Runtime and Web functions (what serverless.yml deploys) do not need it.
const Go1Linked = false

func serveGo1(context.Context, gateway.Handler, *slog.Logger) error {
	return errors.New("this binary was built without the SCF Go1 protocol: deploy it as a Custom Runtime or Web function, " +
		"or build with -tags idv_scfgo1 (scripts/build.sh --platform scf-go1)")
}
