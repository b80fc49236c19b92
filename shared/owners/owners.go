// Package owners keeps which caller created each flow token in Redis, so
// every instance of every function agrees (a DetectAuth on one instance, its
// GetDetectInfoEnhanced on another). Only a hash of the token is stored.
package owners

import (
	"context"
	"errors"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Redis is a gateway.OwnerStore in Redis.
type Redis struct {
	c      *resp.Client
	prefix string
}

var _ gateway.OwnerStore = (*Redis)(nil)

// NewRedis stores owners under prefix ("idv:own:").
func NewRedis(c *resp.Client, prefix string) *Redis { return &Redis{c: c, prefix: prefix} }

// Bind records caller as token's owner unless the token has one: a token
// never changes hands.
func (r *Redis) Bind(ctx context.Context, kind, token, caller string, ttl time.Duration) error {
	if err := r.c.SetNX(ctx, r.prefix+gateway.OwnerKey(kind, token), caller, ttl).Err(); err != nil {
		return errs.Wrap(err, errs.Unavailable, "OwnerStoreUnavailable", "the owner store could not be reached")
	}
	return nil
}

// Owner is token's owner, "" when none is recorded.
func (r *Redis) Owner(ctx context.Context, kind, token string) (string, error) {
	v, err := r.c.Get(ctx, r.prefix+gateway.OwnerKey(kind, token)).Text()
	if errors.Is(err, resp.Nil) {
		return "", nil
	}
	if err != nil {
		return "", errs.Wrap(err, errs.Unavailable, "OwnerStoreUnavailable", "the owner store could not be reached")
	}
	return v, nil
}
