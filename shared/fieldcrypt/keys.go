package fieldcrypt

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"

	"github.com/emmansun/gmsm/sm2"
)

// Tencent's published public keys: the defaults embedded in the official
// crypto SDK (TencentCloud/faceid-api-crypto-golang, faceid/crypto/crypto.go,
// rsaKey and sm2Key, there base64 of this PEM). The console shows the keys
// of an account ("登陆人脸核身控制台获取公钥"); configure those when they
// differ (IDV_FACEID_RSA_PUBLIC_KEY, IDV_FACEID_SM2_PUBLIC_KEY).
const (
	TencentRSAPublicKey = `-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBAMRJoaUkZN1d5Mp8F5V6itXmSLNM5Z771afayoI49SndkFtsspHS402Z
EUUPQfqbuZk/VuSh59LtA/fBKzb4BP5bV8aqogVhG4e/q+NDkwlaq0i31HwLyBla
EojE/EEHpXBsuEkVTbKEy5elRq9toL7IZ80i+H2mtfU5CPsar+R3AgMBAAE=
-----END RSA PUBLIC KEY-----
`
	TencentSM2PublicKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEy2QjbKC4L6LJpw51mjX90X41NYGa
Mp+OGX7eJBfs8K98MOtKN8wPjj1iqHUlW6qyPGggNPI5RGEoAXaojOVycg==
-----END PUBLIC KEY-----
`
)

// Key parse errors say what was expected, never what was found: a private
// key pasted into the wrong variable must not reach a log.
var (
	errRSAPublic  = errors.New("is not an RSA public key: want PEM (BEGIN RSA PUBLIC KEY or BEGIN PUBLIC KEY), or base64 of that PEM, of at least 1024 bits")
	errSM2Public  = errors.New("is not an SM2 public key: want PEM (BEGIN PUBLIC KEY) or base64 of it, or hex of 04‖X‖Y (130 hex digits)")
	errSM2Private = errors.New("is not an SM2 private key: want PEM (BEGIN EC PRIVATE KEY, as gmssl ecparam -genkey -name sm2p256v1 writes it, or BEGIN PRIVATE KEY), base64 of that PEM, or 64 hex digits")
)

// pemBlock finds a PEM block of one of the types in s, which may be the
// PEM itself (newlines may have become literal \n in an environment
// variable) or base64 of it (how the SDKs embed theirs).
func pemBlock(s string, types ...string) *pem.Block {
	s = strings.TrimSpace(strings.ReplaceAll(s, `\n`, "\n"))
	if !strings.HasPrefix(s, "-----BEGIN") {
		dec, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil
		}
		s = strings.TrimSpace(string(dec))
	}
	// gmssl ecparam -genkey writes an EC PARAMETERS block first: skip
	// blocks of other types.
	rest := []byte(s)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		for _, t := range types {
			if b.Type == t {
				return b
			}
		}
	}
}

// ParseRSAPublicKey reads Tencent's RSA public key (PKCS#1 or PKIX PEM).
func ParseRSAPublicKey(s string) (*rsa.PublicKey, error) {
	b := pemBlock(s, "RSA PUBLIC KEY", "PUBLIC KEY")
	if b == nil {
		return nil, errRSAPublic
	}
	var k *rsa.PublicKey
	if b.Type == "RSA PUBLIC KEY" {
		k, _ = x509.ParsePKCS1PublicKey(b.Bytes)
	} else if pk, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		k, _ = pk.(*rsa.PublicKey)
	}
	if k == nil || k.N.BitLen() < 1024 {
		return nil, errRSAPublic
	}
	return k, nil
}

// ParseSM2PublicKey reads an SM2 public key: PKIX PEM (either OID the
// tools write) or the uncompressed point in hex.
func ParseSM2PublicKey(s string) (*ecdsa.PublicKey, error) {
	if h := strings.TrimSpace(s); len(h) == 130 && strings.HasPrefix(h, "04") {
		raw, err := hex.DecodeString(h)
		if err != nil {
			return nil, errSM2Public
		}
		k, ok := sm2Point(raw)
		if !ok {
			return nil, errSM2Public
		}
		return k, nil
	}
	b := pemBlock(s, "PUBLIC KEY")
	if b == nil {
		return nil, errSM2Public
	}
	k, ok := sm2PublicFromPKIX(b.Bytes)
	if !ok {
		return nil, errSM2Public
	}
	return k, nil
}

// ParseSM2PrivateKey reads the customer's eID key: SEC1 PEM as `gmssl
// ecparam -genkey -name sm2p256v1` writes it, PKCS#8 PEM, or the scalar in
// hex.
func ParseSM2PrivateKey(s string) (*sm2.PrivateKey, error) {
	if h := strings.TrimSpace(s); len(h) == 64 {
		raw, err := hex.DecodeString(h)
		if err != nil {
			return nil, errSM2Private
		}
		return sm2FromScalar(raw)
	}
	b := pemBlock(s, "EC PRIVATE KEY", "PRIVATE KEY")
	if b == nil {
		return nil, errSM2Private
	}
	d, ok := sm2ScalarFromPKCS8(b.Bytes)
	if b.Type == "EC PRIVATE KEY" {
		d, ok = sm2ScalarFromSEC1(b.Bytes)
	}
	if !ok {
		return nil, errSM2Private
	}
	return sm2FromScalar(d)
}

// sm2FromScalar builds the key of scalar d, which must lie in [1, n-1].
func sm2FromScalar(raw []byte) (*sm2.PrivateKey, error) {
	c := sm2.P256()
	d := new(big.Int).SetBytes(raw)
	if d.Sign() <= 0 || d.Cmp(c.Params().N) >= 0 {
		return nil, errSM2Private
	}
	x, y := c.ScalarBaseMult(raw)
	k, err := new(sm2.PrivateKey).FromECPrivateKey(&ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: c, X: x, Y: y}, D: d})
	if err != nil {
		return nil, errSM2Private
	}
	return k, nil
}
