// Package seal encrypts the personal data idverify keeps in a shared store
// (idempotency answers, async faceAdv jobs): AES-256-GCM with the record's
// store key as additional data, so a sealed record copied to another slot
// does not open. Keys rotate: the first seals, every one of them opens.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/idverify/idverify/shared/errs"
)

// Record formats: the first byte of a stored record says which.
const (
	FormatPlain byte = 1 // the plain bytes follow
	FormatGCM   byte = 2 // nonce || AES-256-GCM(plain), slot as additional data
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// ErrOpen is returned when no key opens a record, or a sealed record meets a
// store without keys (and the other way round).
var ErrOpen = errors.New("seal: the record does not open with the configured keys")

// Keys seal and open records. The nil *Keys stores records in the clear
// (still framed, so turning sealing on later is detected, not misread).
type Keys struct{ keys [][]byte }

// New makes Keys from the current key and older ones still able to open.
func New(current []byte, previous ...[]byte) (*Keys, error) {
	all := append([][]byte{current}, previous...)
	for _, k := range all {
		if len(k) != KeySize {
			return nil, errs.E(errs.Internal, "InvalidStoreKey", "store encryption key: must be %d bytes (got %d)", KeySize, len(k))
		}
	}
	return &Keys{keys: all}, nil
}

// ParseKey reads a key given as base64 (standard or URL, padded or not) or
// hex, as kept in an environment variable or secret. It never echoes the
// value.
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
	return nil, errs.E(errs.Internal, "InvalidStoreKey",
		"store encryption key: must be %d bytes in base64 or hex (e.g. openssl rand -base64 32)", KeySize)
}

// On reports whether records are sealed.
func (k *Keys) On() bool { return k != nil && len(k.keys) > 0 }

// Seal frames plain for slot: sealed with the current key, or in the clear
// when k is nil.
func (k *Keys) Seal(slot string, plain []byte) ([]byte, error) {
	if !k.On() {
		return append([]byte{FormatPlain}, plain...), nil
	}
	aead, err := newGCM(k.keys[0])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = FormatGCM
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "seal: nonce")
	}
	return aead.Seal(out, out[1:], plain, []byte(slot)), nil
}

// Open returns the plain bytes of a record Seal framed for slot.
func (k *Keys) Open(slot string, blob []byte) ([]byte, error) {
	switch {
	case len(blob) > 0 && blob[0] == FormatPlain && !k.On():
		return blob[1:], nil
	case len(blob) > 0 && blob[0] == FormatGCM && k.On():
		for _, key := range k.keys {
			aead, err := newGCM(key)
			if err != nil || len(blob) < 1+aead.NonceSize() {
				continue
			}
			nonce, ct := blob[1:1+aead.NonceSize()], blob[1+aead.NonceSize():]
			if plain, err := aead.Open(nil, nonce, ct, []byte(slot)); err == nil {
				return plain, nil
			}
		}
	}
	return nil, ErrOpen
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "InvalidStoreKey", "store encryption key")
	}
	return cipher.NewGCM(block)
}
