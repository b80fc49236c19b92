package idempotency

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/idverify/idverify/shared/errs"
)

// Stored record formats: the first byte says which.
const (
	formatPlain byte = 1 // JSON
	formatGCM   byte = 2 // nonce || AES-256-GCM(JSON), store key as additional data
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// ParseKey reads an encryption key given as base64 (standard or URL, padded
// or not) or hex, as kept in an environment variable or secret. It never
// echoes the value.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if k, err := dec(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, errs.E(errs.Internal, "InvalidIdempotencyKeyConfig",
		"idempotency encryption key: must be %d bytes in base64 or hex (e.g. openssl rand -base64 32)", KeySize)
}

func (s *Store) checkKeys() error {
	for _, k := range s.cfg.keys {
		if len(k) != KeySize {
			return errs.E(errs.Internal, "InvalidIdempotencyKeyConfig", "idempotency encryption key: must be %d bytes (got %d)", KeySize, len(k))
		}
	}
	return nil
}

func sealGCM(key []byte, storeKey string, plain []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = formatGCM
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "idempotency: nonce")
	}
	// The store key as additional data binds a record to its slot: a sealed
	// answer copied under another caller's key does not open.
	return aead.Seal(out, out[1:], plain, []byte(storeKey)), nil
}

// openGCM returns nil when no key opens the record.
func openGCM(keys [][]byte, storeKey string, blob []byte) []byte {
	for _, key := range keys {
		aead, err := newGCM(key)
		if err != nil || len(blob) < 1+aead.NonceSize() {
			continue
		}
		nonce, ct := blob[1:1+aead.NonceSize()], blob[1+aead.NonceSize():]
		if plain, err := aead.Open(nil, nonce, ct, []byte(storeKey)); err == nil {
			return plain
		}
	}
	return nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "InvalidIdempotencyKeyConfig", "idempotency encryption key")
	}
	return cipher.NewGCM(block)
}
