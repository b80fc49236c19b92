package webank

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"sort"
	"strings"
)

// Version is the API version every WeBank face call sends and signs.
const Version = "1.0.0"

// Sign is WeBank's signature: the values sorted lexicographically,
// concatenated without separator, SHA-1, upper-case hex. Which values are
// signed depends on the call (see provider-apis.md §5.2); WeBank compares
// case-insensitively.
func Sign(values ...string) string {
	v := append([]string(nil), values...)
	sort.Strings(v)
	sum := sha1.Sum([]byte(strings.Join(v, "")))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Nonce is a fresh 32-character alphanumeric random string.
func Nonce() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		// 256 % 62 leaves a small bias, irrelevant for a nonce.
		b[i] = nonceAlphabet[int(b[i])%len(nonceAlphabet)]
	}
	return string(b[:])
}
