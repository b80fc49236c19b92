//go:build idv_scfgo1

package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/scfgo1"
)

// Go1Linked says whether this binary speaks SCF's legacy Go1 protocol.
const Go1Linked = true

func serveGo1(ctx context.Context, h gateway.Handler, log *slog.Logger) error {
	lis, err := scfgo1.Listen(os.Getenv("_LAMBDA_SERVER_PORT"))
	if err != nil {
		return fmt.Errorf("scf go1: %w", err)
	}
	return scfgo1.Serve(ctx, lis, h, log)
}
