package tcfake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
)

// The fake keeps every secret encrypted for real: each CMK has a random
// 256-bit AES-GCM master key, a ciphertext blob names its key and is sealed
// with the encryption context as additional data. So a ciphertext is never
// the plaintext in disguise, a blob decrypts only under its own key, and a
// different context fails exactly as it does on Tencent KMS.

var blobMagic = []byte("TCFAKE01")

type kmsKey struct {
	id, region string
	material   []byte
	enabled    bool
}

func newKey(id, region string) *kmsKey {
	m := make([]byte, 32)
	if _, err := rand.Read(m); err != nil {
		panic(err)
	}
	return &kmsKey{id: id, region: region, material: m, enabled: true}
}

func (k *kmsKey) aead() cipher.AEAD {
	b, err := aes.NewCipher(k.material)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

// seal returns magic | len(id) | id | nonce | AES-GCM(plaintext).
func (k *kmsKey) seal(plaintext []byte, ctx map[string]string) []byte {
	g := k.aead()
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := append([]byte{}, blobMagic...)
	out = append(out, byte(len(k.id)))
	out = append(out, k.id...)
	out = append(out, nonce...)
	return g.Seal(out, nonce, plaintext, aad(k.id, ctx))
}

// blobKeyID reads the key id out of a blob.
func blobKeyID(blob []byte) (string, error) {
	if len(blob) < len(blobMagic)+1 || string(blob[:len(blobMagic)]) != string(blobMagic) {
		return "", errors.New("not a fake KMS blob")
	}
	n := int(blob[len(blobMagic)])
	if len(blob) < len(blobMagic)+1+n {
		return "", errors.New("truncated blob")
	}
	return string(blob[len(blobMagic)+1 : len(blobMagic)+1+n]), nil
}

func (k *kmsKey) open(blob []byte, ctx map[string]string) ([]byte, error) {
	g := k.aead()
	off := len(blobMagic) + 1 + len(k.id)
	if len(blob) < off+g.NonceSize()+g.Overhead() {
		return nil, errors.New("truncated blob")
	}
	nonce := blob[off : off+g.NonceSize()]
	return g.Open(nil, nonce, blob[off+g.NonceSize():], aad(k.id, ctx))
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
