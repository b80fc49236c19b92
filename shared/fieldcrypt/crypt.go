// Package fieldcrypt is FaceID's sensitive-data encryption (the Encryption
// object and EncryptedBody of provider-apis.md §3) done on a caller's
// behalf, and the decryption of eID identities (§4). Every cipher comes
// from a library: AES and RSA from Go's crypto, SM2, SM3 and SM4 from
// github.com/emmansun/gmsm. This package only arranges them the way the
// official SDKs do, minus their pitfalls (§3): keys and IVs come from
// crypto/rand, a fresh key per request, and each GCM tag is paired with its
// own field.
package fieldcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/padding"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
)

// The two algorithms of the Encryption object.
const (
	AES256CBC = "AES-256-CBC" // RSA PKCS#1 v1.5 key wrap; Tencent's default
	SM4GCM    = "SM4-GCM"     // SM2 (C1C3C2) key wrap
)

// Sizes, per §3.
const (
	keyLenCBC = 32 // AES-256: 32 alphanumeric ASCII characters
	keyLenGCM = 16 // SM4: 16 alphanumeric ASCII characters
	ivLenCBC  = 16
	ivLenGCM  = 12
	tagLenGCM = 16
)

// ErrDecrypt is what every failed decryption wraps: a wrong key, a bad
// tag, bad padding. It never says which, nor carries any byte of the data.
var ErrDecrypt = errors.New("does not decrypt")

// Known reports whether alg is one of the two algorithms.
func Known(alg string) bool { return alg == AES256CBC || alg == SM4GCM }

// alnum is the alphabet of the SDKs' keys: Tencent's servers take the
// unwrapped key as text, so it is kept to these characters.
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewKey is a fresh symmetric key for alg from crypto/rand: 32 (AES-256)
// or 16 (SM4) alphanumeric characters, as the SDKs make them, drawn
// uniformly (bytes at or above 248 = 4*62 are rejected, so no character is
// likelier than another). 16 of 62 characters hold about 95 bits.
func NewKey(alg string) ([]byte, error) {
	n := keyLenCBC
	if alg == SM4GCM {
		n = keyLenGCM
	}
	return randomText(rand.Reader, n)
}

func randomText(r io.Reader, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, alnum[int(b)%len(alnum)])
			}
		}
	}
	return out, nil
}

// NewIV is a fresh IV for alg from crypto/rand: 16 bytes for CBC, a 12-byte
// nonce for GCM.
func NewIV(alg string) ([]byte, error) {
	n := ivLenCBC
	if alg == SM4GCM {
		n = ivLenGCM
	}
	iv := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, iv); err != nil {
		return nil, fmt.Errorf("random iv: %w", err)
	}
	return iv, nil
}

// Seal encrypts plain under key and iv: AES-256-CBC with PKCS#7 padding
// (no tag), or SM4-GCM with a 16-byte tag returned apart from the
// ciphertext, as TagList carries it.
func Seal(alg string, key, iv, plain []byte) (ct, tag []byte, err error) {
	switch alg {
	case AES256CBC:
		b, err := aes.NewCipher(key)
		if err != nil || len(key) != keyLenCBC || len(iv) != ivLenCBC {
			return nil, nil, fmt.Errorf("%s needs a 32-byte key and a 16-byte iv", alg)
		}
		ct = padding.NewPKCS7Padding(aes.BlockSize).Pad(plain)
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, ct)
		return ct, nil, nil
	case SM4GCM:
		return sealGCM(key, iv, plain, nil)
	}
	return nil, nil, fmt.Errorf("unknown algorithm")
}

// sealGCM is SM4-GCM with additional data (nil in FaceID; the vectors of
// RFC 8998 carry some).
func sealGCM(key, iv, plain, aad []byte) (ct, tag []byte, err error) {
	g, err := gcm(key, iv)
	if err != nil {
		return nil, nil, err
	}
	out := g.Seal(nil, iv, plain, aad)
	return out[:len(out)-tagLenGCM], out[len(out)-tagLenGCM:], nil
}

func gcm(key, iv []byte) (cipher.AEAD, error) {
	if len(key) != keyLenGCM || len(iv) != ivLenGCM {
		return nil, fmt.Errorf("%s needs a 16-byte key and a 12-byte iv", SM4GCM)
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(b, ivLenGCM)
}

// Open reverses Seal. A wrong key, tag or padding is ErrDecrypt.
func Open(alg string, key, iv, ct, tag []byte) ([]byte, error) {
	switch alg {
	case AES256CBC:
		b, err := aes.NewCipher(key)
		if err != nil || len(key) != keyLenCBC || len(iv) != ivLenCBC || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
			return nil, ErrDecrypt
		}
		plain := make([]byte, len(ct))
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(plain, ct)
		out, err := padding.NewPKCS7Padding(aes.BlockSize).Unpad(plain)
		if err != nil {
			return nil, ErrDecrypt
		}
		return out, nil
	case SM4GCM:
		return openGCM(key, iv, ct, tag, nil)
	}
	return nil, ErrDecrypt
}

func openGCM(key, iv, ct, tag, aad []byte) ([]byte, error) {
	g, err := gcm(key, iv)
	if err != nil || len(tag) != tagLenGCM {
		return nil, ErrDecrypt
	}
	sealed := make([]byte, 0, len(ct)+len(tag))
	sealed = append(append(sealed, ct...), tag...)
	out, err := g.Open(nil, iv, sealed, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// PublicKeys are Tencent's (or the sandbox's) keys that wrap a request's
// symmetric key.
type PublicKeys struct {
	RSA *rsa.PublicKey
	SM2 *ecdsa.PublicKey
}

// Wrap encrypts key to the public key of alg: RSA PKCS#1 v1.5 for CBC (what
// Tencent's servers unwrap; the SDKs' rsa.EncryptPKCS1v15 and Java's
// RSA/ECB/PKCS1Padding), SM2 as 04‖C1‖C3‖C2 for GCM.
func (k PublicKeys) Wrap(alg string, key []byte) ([]byte, error) {
	switch alg {
	case AES256CBC:
		if k.RSA == nil {
			return nil, errors.New("no RSA public key")
		}
		//lint:ignore SA1019 the wire format Tencent defines is PKCS#1 v1.5.
		return rsa.EncryptPKCS1v15(rand.Reader, k.RSA, key)
	case SM4GCM:
		if k.SM2 == nil {
			return nil, errors.New("no SM2 public key")
		}
		return sm2.Encrypt(rand.Reader, k.SM2, key, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	}
	return nil, errors.New("unknown algorithm")
}

// PrivateKeys unwrap what PublicKeys wrapped: the sandbox's side of the
// exchange (the part Tencent plays in production).
type PrivateKeys struct {
	RSA *rsa.PrivateKey
	SM2 *sm2.PrivateKey
}

// Unwrap recovers a wrapped key; anything that does not unwrap to a key of
// the algorithm's size is ErrDecrypt.
func (k PrivateKeys) Unwrap(alg string, blob []byte) ([]byte, error) {
	var key []byte
	var err error
	switch alg {
	case AES256CBC:
		if k.RSA == nil {
			return nil, ErrDecrypt
		}
		key, err = rsa.DecryptPKCS1v15(nil, k.RSA, blob) //lint:ignore SA1019 Tencent's wire format
		if len(key) != keyLenCBC {
			err = ErrDecrypt
		}
	case SM4GCM:
		if k.SM2 == nil {
			return nil, ErrDecrypt
		}
		key, err = k.SM2.Decrypt(nil, blob, sm2.NewPlainDecrypterOpts(sm2.C1C3C2))
		if len(key) != keyLenGCM {
			err = ErrDecrypt
		}
	default:
		err = ErrDecrypt
	}
	if err != nil {
		return nil, ErrDecrypt
	}
	return key, nil
}
