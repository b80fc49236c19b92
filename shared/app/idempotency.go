package app

import "github.com/idverify/idverify/shared/gateway"

// Idempotency is the process's Idempotency-Key store.
func (e *Env) Idempotency() gateway.IdempotencyStore { return nil }
