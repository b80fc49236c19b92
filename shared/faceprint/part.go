package faceprint

import (
	"context"

	"github.com/idverify/idverify/shared/app"
)

// Part is this package's share of a function serving every provider
// (functions/all): Baidu's paths, its sandbox table, and direct invocations
// whose Action starts with "faceprint/".
func Part() app.Part {
	return app.Part{
		Name:         "faceprint",
		Build:        func(ctx context.Context, env *app.Env) (*app.Built, error) { return Build(ctx, env) },
		Prefixes:     []string{Prefix, ScenariosPath},
		ActionPrefix: "faceprint/",
	}
}
