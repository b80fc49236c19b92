package awsfake

import "github.com/idverify/idverify/tests/fakes/kmsvault"

// Secrets are kept encrypted for real under fake KMS keys: see kmsvault.
const blobMagic = "AWSFAKE1"

type kmsKey struct {
	*kmsvault.Key
	arn string
}

func newKey(id, arn string) *kmsKey {
	return &kmsKey{Key: kmsvault.NewKey(blobMagic, id), arn: arn}
}

func (k *kmsKey) seal(plaintext []byte, ctx map[string]string) []byte { return k.Seal(plaintext, ctx) }

func (k *kmsKey) open(blob []byte, ctx map[string]string) ([]byte, error) { return k.Open(blob, ctx) }

func blobKeyID(blob []byte) (string, error) { return kmsvault.BlobKeyID(blobMagic, blob) }
