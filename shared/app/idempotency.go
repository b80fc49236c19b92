package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/idempotency"
	"github.com/idverify/idverify/shared/seal"
)

func init() { SecretVars = append(SecretVars, StoreKeyVar) }

// StoreKeyVar holds the key that seals personal data kept in the shared
// store: 32 random bytes, base64 or hex, as a secret reference.
const StoreKeyVar = "IDV_STORE_KEY"

// storeKey reads IDV_STORE_KEY once: nil when unset.
func (e *Env) storeKey() ([]byte, error) {
	e.shared.keyOnce.Do(func() {
		raw := strings.TrimSpace(e.Getenv(StoreKeyVar))
		if raw == "" {
			if e.Redis != nil {
				e.Log.Warn(StoreKeyVar + " is not set: personal data kept in Redis (idempotent answers, async jobs) is not encrypted")
			}
			return
		}
		key, err := seal.ParseKey(raw)
		if err != nil {
			e.shared.keyErr = errs.Configf(StoreKeyVar, "%s: %s", StoreKeyVar, errs.As(err).Message)
			return
		}
		e.shared.key = key
	})
	return e.shared.key, e.shared.keyErr
}

// StoreKeys seal records that hold personal data in the shared store; nil
// (in the clear) without IDV_STORE_KEY.
func (e *Env) StoreKeys() (*seal.Keys, error) {
	key, err := e.storeKey()
	if err != nil || key == nil {
		return nil, err
	}
	return seal.New(key)
}

// Idempotency is the process's Idempotency-Key store: Redis when
// IDV_REDIS_URL is set (a retry reaching another instance still replays),
// memory otherwise. Answers hold personal data, so with IDV_STORE_KEY they
// are sealed before they reach the store.
func (e *Env) Idempotency() (gateway.IdempotencyStore, error) {
	e.shared.idemOnce.Do(func() {
		var opts []idempotency.Option
		key, err := e.storeKey()
		if err != nil {
			e.shared.idemErr = err
			return
		}
		if key != nil {
			opts = append(opts, idempotency.WithEncryptionKey(key))
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

func (c idemClaim) Sending(ctx context.Context) error { return c.c.Sending(ctx) }

func (c idemClaim) Release(ctx context.Context) error { return c.c.Release(ctx) }
