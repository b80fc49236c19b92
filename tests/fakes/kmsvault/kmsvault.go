// Package kmsvault is the key store both cloud fakes keep their secrets in.
// It encrypts for real: each key has a random 256-bit AES-GCM master key, a
// ciphertext blob names its key and is sealed with the encryption context as
// additional data. So a ciphertext is never the plaintext in disguise, a blob
// decrypts only under its own key, and a different context fails exactly as
// it does on AWS KMS and Tencent KMS.
package kmsvault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
)

// Key is one KMS key. Enabled is for the fakes' disable/enable calls.
type Key struct {
	ID       string
	Material []byte
	Enabled  bool
	magic    []byte // names the fake that sealed a blob ("AWSFAKE1", "TCFAKE01")
}

// NewKey makes an enabled key with fresh material.
func NewKey(magic, id string) *Key {
	m := make([]byte, 32)
	if _, err := rand.Read(m); err != nil {
		panic(err)
	}
	return &Key{ID: id, Material: m, Enabled: true, magic: []byte(magic)}
}

func (k *Key) aead() cipher.AEAD {
	b, err := aes.NewCipher(k.Material)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

// Seal returns magic | len(id) | id | nonce | AES-GCM(plaintext).
func (k *Key) Seal(plaintext []byte, ctx map[string]string) []byte {
	g := k.aead()
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := append([]byte{}, k.magic...)
	out = append(out, byte(len(k.ID)))
	out = append(out, k.ID...)
	out = append(out, nonce...)
	return g.Seal(out, nonce, plaintext, aad(k.ID, ctx))
}

// BlobKeyID reads the key id out of a blob sealed under magic.
func BlobKeyID(magic string, blob []byte) (string, error) {
	m := []byte(magic)
	if len(blob) < len(m)+1 || string(blob[:len(m)]) != string(m) {
		return "", errors.New("not a fake KMS blob")
	}
	n := int(blob[len(m)])
	if len(blob) < len(m)+1+n {
		return "", errors.New("truncated blob")
	}
	return string(blob[len(m)+1 : len(m)+1+n]), nil
}

func (k *Key) Open(blob []byte, ctx map[string]string) ([]byte, error) {
	g := k.aead()
	off := len(k.magic) + 1 + len(k.ID)
	if len(blob) < off+g.NonceSize()+g.Overhead() {
		return nil, errors.New("truncated blob")
	}
	nonce := blob[off : off+g.NonceSize()]
	return g.Open(nil, nonce, blob[off+g.NonceSize():], aad(k.ID, ctx))
}

// aad binds the key id and the encryption context (sorted, length-prefixed
// so {"a":"bc"} and {"ab":"c"} differ).
func aad(id string, ctx map[string]string) []byte {
	var b []byte
	put := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	put(id)
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		put(k)
		put(ctx[k])
	}
	return b
}
