package fieldcrypt

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt) and F.2.6 (Decrypt): Seal
// adds one block of PKCS#7 padding after the four blocks of the vector.
func TestAES256CBCVector(t *testing.T) {
	key := unhex(t, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
	iv := unhex(t, "000102030405060708090a0b0c0d0e0f")
	plain := unhex(t, "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710")
	want := unhex(t, "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d 39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b")
	ct, tag, err := Seal(AES256CBC, key, iv, plain)
	if err != nil || tag != nil {
		t.Fatalf("seal: %v, tag %x", err, tag)
	}
	if len(ct) != len(want)+16 || !bytes.Equal(ct[:len(want)], want) {
		t.Fatalf("ciphertext %x, want %x + a padding block", ct, want)
	}
	got, err := Open(AES256CBC, key, iv, ct, nil)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %x %v", got, err)
	}
	ct[len(ct)-1] ^= 1 // the padding no longer checks
	if _, err := Open(AES256CBC, key, iv, ct, nil); err != ErrDecrypt {
		t.Fatalf("tampered padding: %v", err)
	}
}

// GB/T 32907-2016 appendix A, example 1: one block of SM4, through the
// ECB used for eID's UserInfo.
func TestSM4Vector(t *testing.T) {
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	want := unhex(t, "681edf34d206965e86b3e94f536e4246")
	ct, err := ecbEncrypt(key, key)
	if err != nil || !bytes.Equal(ct, want) {
		t.Fatalf("sm4 %x %v, want %x", ct, err, want)
	}
	pt, err := ecbDecrypt(key, append(want, want...))
	if err != nil || !bytes.Equal(pt, append(key, key...)) {
		t.Fatalf("sm4 decrypt %x %v", pt, err)
	}
}

// RFC 8998 appendix A.1: SM4-GCM (with additional data, which FaceID does
// not use; the tag is split off as TagList carries it).
func TestSM4GCMVector(t *testing.T) {
	key := unhex(t, "0123456789ABCDEFFEDCBA9876543210")
	iv := unhex(t, "00001234567800000000ABCD")
	aad := unhex(t, "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
	plain := unhex(t, "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
	want := unhex(t, "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D")
	wantTag := unhex(t, "83DE3541E4C2B58177E065A9BF7B62EC")
	ct, tag, err := sealGCM(key, iv, plain, aad)
	if err != nil || !bytes.Equal(ct, want) || !bytes.Equal(tag, wantTag) {
		t.Fatalf("sm4-gcm %x tag %x %v", ct, tag, err)
	}
	got, err := openGCM(key, iv, ct, tag, aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open %v", err)
	}
	tag[0] ^= 1
	if _, err := openGCM(key, iv, ct, tag, aad); err != ErrDecrypt {
		t.Fatalf("bad tag opened: %v", err)
	}
}

func TestNewKeyAndIV(t *testing.T) {
	for alg, n := range map[string]int{AES256CBC: 32, SM4GCM: 16} {
		a, _ := NewKey(alg)
		b, _ := NewKey(alg)
		if len(a) != n || bytes.Equal(a, b) {
			t.Fatalf("%s keys %q %q", alg, a, b)
		}
		for _, c := range a {
			if !strings.ContainsRune(alnum, rune(c)) {
				t.Fatalf("%s key has %q", alg, c)
			}
		}
		iv1, _ := NewIV(alg)
		iv2, _ := NewIV(alg)
		if bytes.Equal(iv1, iv2) {
			t.Fatal("the same iv twice")
		}
	}
	// Every character of the alphabet comes out (uniform sampling).
	seen := map[byte]bool{}
	for range 200 {
		k, _ := NewKey(AES256CBC)
		for _, c := range k {
			seen[c] = true
		}
	}
	if len(seen) != len(alnum) {
		t.Fatalf("%d of %d characters drawn", len(seen), len(alnum))
	}
}

// The key wraps are checked against the libraries directly: Go's RSA
// decryption and gmsm's SM2 with the C1C3C2 layout.
func TestWrapAgainstLibraries(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	sk, _ := sm2.GenerateKey(rand.Reader)
	pub := PublicKeys{RSA: &rk.PublicKey, SM2: &sk.PublicKey}
	key := []byte("0123456789abcdef0123456789abcdef")
	blob, err := pub.Wrap(AES256CBC, key)
	if err != nil || len(blob) != 128 {
		t.Fatalf("rsa wrap %d %v", len(blob), err)
	}
	if got, err := rsa.DecryptPKCS1v15(nil, rk, blob); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("rsa unwrap %v", err)
	}
	blob, err = pub.Wrap(SM4GCM, key[:16])
	if err != nil || len(blob) != 113 || blob[0] != 0x04 {
		t.Fatalf("sm2 wrap %d %v", len(blob), err)
	}
	if got, err := sk.Decrypt(nil, blob, sm2.NewPlainDecrypterOpts(sm2.C1C3C2)); err != nil || !bytes.Equal(got, key[:16]) {
		t.Fatalf("sm2 unwrap %v", err)
	}
	// And the other way round.
	priv := PrivateKeys{RSA: rk, SM2: sk}
	c3c2, _ := sm2.Encrypt(rand.Reader, &sk.PublicKey, key[:16], sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	if got, err := priv.Unwrap(SM4GCM, c3c2); err != nil || !bytes.Equal(got, key[:16]) {
		t.Fatalf("unwrap gmsm's C1C3C2: %v", err)
	}
	c2c3, _ := sm2.Encrypt(rand.Reader, &sk.PublicKey, key[:16], sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3))
	if _, err := priv.Unwrap(SM4GCM, c2c3); err != ErrDecrypt {
		t.Fatalf("C1C2C3 unwrapped as C1C3C2: %v", err)
	}
	rb, _ := rsa.EncryptPKCS1v15(rand.Reader, &rk.PublicKey, key)
	if got, err := priv.Unwrap(AES256CBC, rb); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap rsa: %v", err)
	}
	if _, err := priv.Unwrap(AES256CBC, rb[:100]); err != ErrDecrypt {
		t.Fatalf("short blob: %v", err)
	}
}

func TestTencentDefaultsParse(t *testing.T) {
	r, err := ParseRSAPublicKey(TencentRSAPublicKey)
	if err != nil || r.N.BitLen() != 1024 {
		t.Fatalf("rsa default: %v", err)
	}
	s, err := ParseSM2PublicKey(TencentSM2PublicKey)
	if err != nil || !sm2.IsSM2PublicKey(s) {
		t.Fatalf("sm2 default: %v", err)
	}
	// As the SDK embeds them (base64 of the PEM), and with \n escaped.
	if _, err := ParseRSAPublicKey(base64.StdEncoding.EncodeToString([]byte(TencentRSAPublicKey))); err != nil {
		t.Fatalf("base64 PEM: %v", err)
	}
	if _, err := ParseSM2PublicKey(strings.ReplaceAll(TencentSM2PublicKey, "\n", `\n`)); err != nil {
		t.Fatalf("escaped PEM: %v", err)
	}
	// Hex of the point.
	pt := "04" + hex.EncodeToString(s.X.FillBytes(make([]byte, 32))) + hex.EncodeToString(s.Y.FillBytes(make([]byte, 32)))
	if k, err := ParseSM2PublicKey(pt); err != nil || k.X.Cmp(s.X) != 0 {
		t.Fatalf("hex point: %v", err)
	}
}

func TestParseRefusesWithoutEcho(t *testing.T) {
	sk, _ := sm2.GenerateKey(rand.Reader)
	der, _ := smx509.MarshalSM2PrivateKey(sk)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	secret := "SECRETVALUE-not-a-key"
	cases := []struct {
		name string
		f    func(string) error
		in   string
	}{
		{"rsa garbage", func(s string) error { _, err := ParseRSAPublicKey(s); return err }, secret},
		{"rsa given an sm2 key", func(s string) error { _, err := ParseRSAPublicKey(s); return err }, TencentSM2PublicKey},
		{"rsa given a private key", func(s string) error { _, err := ParseRSAPublicKey(s); return err }, privPEM},
		{"sm2 given rsa", func(s string) error { _, err := ParseSM2PublicKey(s); return err }, TencentRSAPublicKey},
		{"sm2 off-curve point", func(s string) error { _, err := ParseSM2PublicKey(s); return err }, "04" + strings.Repeat("11", 64)},
		{"sm2 private garbage", func(s string) error { _, err := ParseSM2PrivateKey(s); return err }, secret},
		{"sm2 private zero", func(s string) error { _, err := ParseSM2PrivateKey(s); return err }, strings.Repeat("0", 64)},
		{"sm2 private given public", func(s string) error { _, err := ParseSM2PrivateKey(s); return err }, TencentSM2PublicKey},
	}
	for _, c := range cases {
		err := c.f(c.in)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "1111") {
			t.Errorf("%s: error repeats the value: %v", c.name, err)
		}
	}
	// The forms a customer has: gmssl's output (EC PARAMETERS first),
	// PKCS#8, hex of the scalar.
	params := "-----BEGIN EC PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END EC PARAMETERS-----\n"
	if k, err := ParseSM2PrivateKey(params + privPEM); err != nil || !k.Equal(sk) {
		t.Fatalf("gmssl form: %v", err)
	}
	p8, _ := smx509.MarshalPKCS8PrivateKey(sk)
	if k, err := ParseSM2PrivateKey(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))); err != nil || !k.Equal(sk) {
		t.Fatalf("pkcs8: %v", err)
	}
	if k, err := ParseSM2PrivateKey(hex.EncodeToString(sk.D.FillBytes(make([]byte, 32)))); err != nil || !k.Equal(sk) {
		t.Fatalf("hex scalar: %v", err)
	}
}

// eID: every layout and fill §4 leaves open decrypts, built with gmsm
// directly (not with SealEidInfo).
func TestOpenEidInfoLayouts(t *testing.T) {
	sk, _ := sm2.GenerateKey(rand.Reader)
	session := []byte("sessionkey123456")
	id := Identity{Name: "张三", IDType: "01", IDNum: "110101199003074477"}
	js, _ := json.Marshal(id)
	fill := func(kind string) []byte {
		p := bytes.Clone(js)
		r := 16 - len(p)%16
		switch kind {
		case "pkcs7":
			return append(p, bytes.Repeat([]byte{byte(r)}, r)...)
		case "zero":
			return append(p, make([]byte, r%16)...)
		default:
			return append(p, bytes.Repeat([]byte(" "), r%16)...)
		}
	}
	wrap := func(layout string) []byte {
		switch layout {
		case "C1C2C3":
			b, _ := sm2.Encrypt(rand.Reader, &sk.PublicKey, session, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3))
			return b
		case "ASN1":
			b, _ := sm2.EncryptASN1(rand.Reader, &sk.PublicKey, session)
			return b
		case "no04":
			b, _ := sm2.Encrypt(rand.Reader, &sk.PublicKey, session, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
			return b[1:]
		}
		b, _ := sm2.Encrypt(rand.Reader, &sk.PublicKey, session, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
		return b
	}
	for _, layout := range []string{"C1C3C2", "C1C2C3", "ASN1", "no04"} {
		for _, f := range []string{"pkcs7", "zero", "space"} {
			ct, err := ecbEncrypt(session, fill(f))
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenEidInfo(sk, base64.StdEncoding.EncodeToString(wrap(layout)), base64.StdEncoding.EncodeToString(ct))
			if err != nil || *got != id {
				t.Errorf("%s/%s: %+v %v", layout, f, got, err)
			}
		}
	}
	// The sandbox's own sealing (C1C3C2, zero fill) opens too, and a wrong
	// key does not.
	d, u, err := SealEidInfo(&sk.PublicKey, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenEidInfo(sk, d, u); err != nil || *got != id {
		t.Fatalf("sealed: %v", err)
	}
	other, _ := sm2.GenerateKey(rand.Reader)
	if _, err := OpenEidInfo(other, d, u); err != ErrDecrypt {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := OpenEidInfo(sk, "!!", u); err != ErrDecrypt {
		t.Fatalf("not base64: %v", err)
	}
}

// Only a request the caller encrypted itself is left alone:
// "IsEncryptResponse": false or a null Encryption is no encryption.
func TestCallerEncrypted(t *testing.T) {
	for in, want := range map[string]bool{
		`{"Name":"x"}`:                         false,
		`{"Encryption":null}`:                  false,
		`{"IsEncryptResponse":false}`:          false,
		`{"IsEncryptResponse":true}`:           true,
		`{"Encryption":{"EncryptList":["x"]}}`: true,
		`{"EncryptedBody":"QQ=="}`:             true,
		`{"EncryptList":["IdCard"],"Iv":"x"}`:  true,
	} {
		var m map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &m)
		if got := CallerEncrypted(m); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
	// An opened answer keeps its text as the provider wrote it.
	if b, _ := marshal(map[string]string{"Tag": "<a&b>"}); string(b) != `{"Tag":"<a&b>"}` {
		t.Errorf("%s", b)
	}
}
