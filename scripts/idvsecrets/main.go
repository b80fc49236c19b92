// Command idvsecrets encrypts secrets for idverify configuration and checks
// that references resolve. It is a thin main over shared/secrets/secretscmd;
// run `go run ./scripts/idvsecrets help`.
//
// Built with -tags idv_no_aws or idv_no_tencent it carries one cloud only,
// like the functions built for that platform.
package main

import (
	"context"
	"os"
	"os/signal"

	_ "github.com/idverify/idverify/shared/secrets/backends"
	"github.com/idverify/idverify/shared/secrets/secretscmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := &secretscmd.Command{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Environ: os.Environ(),
		StdinIsTerminal: isTerminal(os.Stdin),
		ReadHidden:      readHidden,
	}
	code := c.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
