package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/idempotency"
)

func init() { SecretVars = append(SecretVars, "IDV_IDEMPOTENCY_KEY") }

// Idempotency is the process's Idempotency-Key store: Redis when
// IDV_REDIS_URL is set (a retry reaching another instance still replays),
// memory otherwise. Answers hold personal data, so with IDV_IDEMPOTENCY_KEY
// (32 random bytes, base64; a secret reference) they are sealed before they
// reach the store.
func (e *Env) Idempotency() (gateway.IdempotencyStore, error) {
	e.shared.idemOnce.Do(func() {
		var opts []idempotency.Option
		if raw := strings.TrimSpace(e.Getenv("IDV_IDEMPOTENCY_KEY")); raw != "" {
			key, err := idempotency.ParseKey(raw)
			if err != nil {
				e.shared.idemErr = errs.E(errs.Internal, "InvalidConfiguration", "IDV_IDEMPOTENCY_KEY: %s", errs.As(err).Message)
				return
			}
			opts = append(opts, idempotency.WithEncryptionKey(key))
		} else if e.Redis != nil {
			e.Log.Warn("IDV_IDEMPOTENCY_KEY is not set: stored answers (personal data) are kept in Redis unencrypted for 24h")
		}
		var s *idempotency.Store
		if e.Redis != nil {
			s = idempotency.NewRedis(e.Redis, "idv:idem:", opts...)
		} else {
			s = idempotency.NewMemory(opts...)
		}
		e.shared.idem = idemAdapter{s: s, log: e.Log}
	})
	return e.shared.idem, e.shared.idemErr
}

// idemAdapter adapts idempotency.Store to gateway.IdempotencyStore. The
// gateway keeps its own answer encoding, carried in Record.Body.
type idemAdapter struct {
	s   *idempotency.Store
	log *slog.Logger
}

func (a idemAdapter) Begin(ctx context.Context, scope, key, fingerprint string) (gateway.IdempotencyClaim, []byte, error) {
	claim, rec, err := a.s.Begin(ctx, scope, key, fingerprint)
	if err != nil {
		return nil, nil, err
	}
	if rec != nil {
		return nil, rec.Body, nil
	}
	return idemClaim{claim}, nil, nil
}

type idemClaim struct{ c *idempotency.Claim }

func (c idemClaim) Complete(ctx context.Context, answer []byte) error {
	return c.c.Complete(ctx, idempotency.Record{Status: 200, Body: answer})
}

func (c idemClaim) Release(ctx context.Context) error { return c.c.Release(ctx) }
