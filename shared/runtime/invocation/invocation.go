// Package invocation carries what the platform said about the current
// invocation (which runtime protocol, its request id, its memory limit)
// through a context, so handlers and logs can use it without knowing the
// platform. The deadline travels as the context deadline, not here.
package invocation

import "context"

// Info describes one invocation as the platform announced it. Every field
// may be empty: a local HTTP request has no platform request id.
type Info struct {
	Platform      string // runtime mode: lambda, scf-custom, scf-go1, scf-web, local, invoke
	RequestID     string // the platform's invocation id (Lambda-Runtime-Aws-Request-Id, Request_Id, RequestId)
	MemoryLimitMB int    // when the platform announced it
}

type key struct{}

// NewContext returns ctx carrying info.
func NewContext(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// FromContext returns the invocation info of ctx, the zero Info when none.
func FromContext(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
