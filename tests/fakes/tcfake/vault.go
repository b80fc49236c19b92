package tcfake

import "github.com/idverify/idverify/tests/fakes/kmsvault"

// Secrets are kept encrypted for real under fake KMS keys: see kmsvault.
const blobMagic = "TCFAKE01"

type kmsKey struct {
	*kmsvault.Key
	region string
}

func newKey(id, region string) *kmsKey {
	return &kmsKey{Key: kmsvault.NewKey(blobMagic, id), region: region}
}

func (k *kmsKey) seal(plaintext []byte, ctx map[string]string) []byte { return k.Seal(plaintext, ctx) }

func (k *kmsKey) open(blob []byte, ctx map[string]string) ([]byte, error) { return k.Open(blob, ctx) }

func blobKeyID(blob []byte) (string, error) { return kmsvault.BlobKeyID(blobMagic, blob) }
