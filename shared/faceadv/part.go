package faceadv

import (
	"context"

	"github.com/idverify/idverify/shared/app"
)

// Part is this package's share of a function serving every provider
// (functions/all): the seed-002 paths, its sandbox table, and direct
// invocations whose Action is faceAdv or faceAdvResult (job resumption
// included).
func Part() app.Part {
	return app.Part{
		Name:     "faceAdv",
		Build:    func(ctx context.Context, env *app.Env) (*app.Built, error) { return Build(ctx, env) },
		Prefixes: []string{"/tech/ai/face/", "/v1/sandbox/faceadv/"},
		Actions:  []string{"faceAdv", "faceAdvResult"},
	}
}
