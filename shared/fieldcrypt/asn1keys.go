package fieldcrypt

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
)

// The key containers an SM2 key comes in (RFC 5480 SubjectPublicKeyInfo,
// RFC 5915 ECPrivateKey, RFC 5208 PKCS#8), read with encoding/asn1. These
// are only envelopes around a point and a scalar: the curve arithmetic
// stays gmsm's. gmsm's smx509 reads them too, but it links the whole of
// gmsm's X.509 and SM9 into every FaceID function (0.3 MB, and more
// memory at start) for three small structures.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	// sm2p256v1 (GM/T 0006); some tools write the SM2 algorithm OID
	// 1.2.156.10197.1.301.1 itself in the algorithm's place.
	oidSM2Curve = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	oidSM2Alg   = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

type pkcs8 struct {
	Version    int
	Algorithm  algorithmIdentifier
	PrivateKey []byte
}

// sm2Params says whether an algorithm identifier names SM2.
func sm2Params(a algorithmIdentifier) bool {
	if a.Algorithm.Equal(oidSM2Alg) {
		return true
	}
	if !a.Algorithm.Equal(oidECPublicKey) {
		return false
	}
	var curve asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(a.Parameters.FullBytes, &curve); err != nil || len(rest) > 0 {
		return false
	}
	return curve.Equal(oidSM2Curve) || curve.Equal(oidSM2Alg)
}

// sm2PublicFromPKIX reads a SubjectPublicKeyInfo holding an SM2 point.
func sm2PublicFromPKIX(der []byte) (*ecdsa.PublicKey, bool) {
	var spki subjectPublicKeyInfo
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) > 0 || !sm2Params(spki.Algorithm) {
		return nil, false
	}
	return sm2Point(spki.PublicKey.RightAlign())
}

// sm2Point reads an uncompressed point on the SM2 curve.
func sm2Point(raw []byte) (*ecdsa.PublicKey, bool) {
	if len(raw) != 65 || raw[0] != 4 {
		return nil, false
	}
	x, y := new(big.Int).SetBytes(raw[1:33]), new(big.Int).SetBytes(raw[33:])
	if !sm2.P256().IsOnCurve(x, y) {
		return nil, false
	}
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y}, true
}

// sm2ScalarFromSEC1 reads an ECPrivateKey's scalar (the curve, when named,
// must be SM2's).
func sm2ScalarFromSEC1(der []byte) ([]byte, bool) {
	var k ecPrivateKey
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) > 0 || k.Version != 1 {
		return nil, false
	}
	if len(k.Curve) > 0 && !k.Curve.Equal(oidSM2Curve) && !k.Curve.Equal(oidSM2Alg) {
		return nil, false
	}
	if len(k.PrivateKey) == 0 || len(k.PrivateKey) > 32 {
		return nil, false
	}
	d := make([]byte, 32)
	copy(d[32-len(k.PrivateKey):], k.PrivateKey)
	return d, true
}

// sm2ScalarFromPKCS8 reads a PKCS#8 PrivateKeyInfo wrapping an SM2
// ECPrivateKey.
func sm2ScalarFromPKCS8(der []byte) ([]byte, bool) {
	var p pkcs8
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 || p.Version != 0 || !sm2Params(p.Algorithm) {
		return nil, false
	}
	return sm2ScalarFromSEC1(p.PrivateKey)
}
