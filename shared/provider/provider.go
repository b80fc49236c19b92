// Package provider holds the interfaces the action service calls. Each
// implementation lives in a package named for what it talks to (tencent,
// sandbox, ...), so a binary links only the providers it uses.
package provider

import (
	"context"
	"encoding/json"
)

// FaceID sends one Tencent FaceID 2018-03-01 action.
//
// params is the request JSON exactly as the caller sent it (already
// validated). The result is the inner object of {"Response": {...}} exactly as
// the provider returned it, RequestId included, so no field is ever dropped.
// A provider-side error (Response.Error) comes back as *errs.Error of kind
// Provider (or Throttled/Unauthorized/Invalid where the code says so), with
// Code and RequestID set; transport failures as kind Unavailable.
type FaceID interface {
	Call(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error)
	// Name is "tencent", "sandbox", ...: it is logged and shown in the banner.
	Name() string
}

type requestIDKey struct{}

// WithRequestID carries the id the gateway gave a request to the provider.
// Providers that make their own answers (the sandbox) use it as the
// RequestId, so the answer, the X-Request-Id header and the logs agree.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID set, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type encryptionKey struct{}

// WithEncryption carries the caller's choice of encryption on its behalf
// (shared/fieldcrypt): an algorithm name, or "off". Empty leaves the
// function's setting in force.
func WithEncryption(ctx context.Context, alg string) context.Context {
	if alg == "" {
		return ctx
	}
	return context.WithValue(ctx, encryptionKey{}, alg)
}

// Encryption is what WithEncryption set, or "".
func Encryption(ctx context.Context) string {
	alg, _ := ctx.Value(encryptionKey{}).(string)
	return alg
}
