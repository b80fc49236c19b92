package idempotency

import (
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/seal"
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = seal.KeySize

// ParseKey reads an encryption key given as base64 or hex (see seal.ParseKey).
func ParseKey(s string) ([]byte, error) { return seal.ParseKey(s) }

func (s *Store) checkKeys() error {
	for _, k := range s.cfg.keys {
		if len(k) != KeySize {
			return errs.E(errs.Internal, "InvalidIdempotencyKeyConfig", "idempotency encryption key: must be %d bytes (got %d)", KeySize, len(k))
		}
	}
	return nil
}
