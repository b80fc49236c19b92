package runtime

import (
	"context"
	"fmt"
	"os"

	"github.com/idverify/idverify/shared/gateway"
)

// Main is the whole of a function's main: `<binary> invoke < event.json`
// runs one local event (see Invoke); `<binary> help` prints usage; anything
// else (platforms start the binary without arguments) serves h with Run. It
// exits the process: 0 after a clean shutdown, non-zero on failure.
func Main(h gateway.Handler, opts Options) {
	ctx := context.Background()
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "invoke":
			os.Exit(Invoke(ctx, h, os.Stdin, os.Stdout, opts))
		case "help", "-h", "-help", "--help":
			fmt.Fprint(os.Stderr, usage)
			os.Exit(0)
		}
	}
	if err := Run(ctx, h, opts); err != nil {
		opts.logger().Error("runtime stopped", "err", err)
		os.Exit(1)
	}
	os.Exit(0)
}

const usage = `usage:
  <binary>                 serve: AWS Lambda, Tencent SCF or a local HTTP server,
                           chosen from the environment (IDV_RUNTIME forces one of
                           lambda, scf-custom, scf-go1, scf-web, local)
  <binary> invoke < event  run one event (any events/*.json shape or a direct
                           payload) and print the platform-shaped response
`
