package faceid

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"
)

// Sensitive-data encryption as Tencent's side does it (provider-apis.md
// §3), written apart from shared/fieldcrypt on purpose, straight on Go's
// crypto and gmsm, so the function's encryption is tested against an
// independent implementation. The fake holds its own test key pair (the
// function is pointed at the public halves with IDV_FACEID_RSA_PUBLIC_KEY
// and IDV_FACEID_SM2_PUBLIC_KEY), decrypts every Encryption object it
// receives, refuses what does not decrypt (FailedOperation.DecryptSystemError)
// or lists a field the action does not take encrypted
// (InvalidParameter.UnsupportEncryptField), and encrypts answers under
// IsEncryptResponse. With Options.EidPublicKey it encrypts GetEidResult's
// identity to the merchant's key (§4).

// The fake's test keys. EidPrivateKey is a merchant key for tests to give
// the function (IDV_EID_SM2_PRIVATE_KEY) while the fake gets its public half.
const (
	rsaPrivateKey = `-----BEGIN RSA PRIVATE KEY-----
MIICXQIBAAKBgQC2D4ZBYg4RWShufGTAQu1EQKvqtDns+bIjKsnVFFENUD50fVL0
UG2uKmQwDrxzMs0LPZcrqBuOO/nPm743IFtjZtn5VBNvnFdPm0GYlag+gWvUqPy7
L/gKNonm2+AWZLQspMG/U9ZjrSme7rxwJpE6pvYHXAHWJjGvxHCyPFOngQIDAQAB
AoGAFF8j1WyYqOHKV6SVLHtAq961re9JPQZKo8s9ptldYWk9d9DvJ5XZU//70nHP
re89CNk1MWYf4Tg+UXf6npYBC6vMsWZ5Cq8kh2magEiGCOx0Y5mOy4urkUMtPa9m
ZS5RkrKHPrLIjlT71Q5EXmHObuW1/0dWyba39uNbuuBNpzECQQDU6iL9mUiLofKs
QfEEe8Nax1l7IA1sN0d0Dry/KJkVjdx2iO0hI8T3c/Y0gAYCTUIjhlgSee1M0789
PLlB+oVJAkEA2ucGPI8TSpS4gVnY4DlSJDJXuvy/jWCjzczmsnDUccwUka5ctYwM
t4lgAe8aM5jjw3ARr3Ji0paaSB4RQZ1oeQJBAMS6rqgaWQDEG+F0cImO/bvEVPbC
cAScs0YWU+phTcmvsZRJAqpLTbTDjiuGW4cG8eS3PmucA1qokJy5ngfLvhkCQCsZ
BxJPPQYXB8h3zwo+Xty/iKRI9NG58CYprFX/fuQ0wOv5v0kDHNHZ2ywmTitQc69b
1i+LvsclXZTLTqxzeEkCQQDAUU72NMGeXZdrFKcCvBqk0Ip20hiEaMqPll4F7Lnp
7FdS833x13ldMU1+EaK3NP9vyc+L0NJmgKTDWRXeGSCz
-----END RSA PRIVATE KEY-----
`
	sm2PrivateKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBi1qIuugaFT192DGU85Esv6n4oNEKqMXkXPYdctYdlFoAoGCCqBHM9V
AYItoUQDQgAE31Uq7xukfI5wow/S0RWB0wP/q0og/h5Wc5uqLkCrZHRSA4Ex6KzS
frRnu6vU1cDvkGcHKSp65UVsWTDWfIzbRQ==
-----END EC PRIVATE KEY-----
`
	EidPrivateKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEILfkhIhcKepVhjTh5PBfQ8U+h0u+sqbGFPlwghAgaeMgoAoGCCqBHM9V
AYItoUQDQgAEMav5kIxv96JSsv4hydPzagmd74aG+ekFGUx8Wn9Qy9cmb4N96dVx
1oE9dNzGjTu6qWmFAVprP7L/KwtBiONyng==
-----END EC PRIVATE KEY-----
`
)

type fakeKeys struct {
	rsa       *rsa.PrivateKey
	sm2       *sm2.PrivateKey
	RSAPublic string // PEM, PKCS#1
	SM2Public string // PEM, PKIX
}

var keyPair = sync.OnceValue(func() fakeKeys {
	b, _ := pem.Decode([]byte(rsaPrivateKey))
	r, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	b, _ = pem.Decode([]byte(sm2PrivateKey))
	s, err := smx509.ParseSM2PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	spub, err := smx509.MarshalPKIXPublicKey(&s.PublicKey)
	if err != nil {
		panic(err)
	}
	return fakeKeys{rsa: r, sm2: s,
		RSAPublic: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&r.PublicKey)})),
		SM2Public: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spub}))}
})

// RSAPublicKey and SM2PublicKey are the fake's public keys, PEM.
func RSAPublicKey() string { return keyPair().RSAPublic }
func SM2PublicKey() string { return keyPair().SM2Public }

// EidPublicKey is the public half of EidPrivateKey.
func EidPublicKey() *ecdsa.PublicKey {
	b, _ := pem.Decode([]byte(EidPrivateKey))
	k, err := smx509.ParseSM2PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	return &k.PublicKey
}

// encryptableFields: what each action's Encryption description (the
// spec) says it takes encrypted.
var encryptableFields = map[string][]string{
	"BankCard2EVerification":        {"Name", "BankCard"},
	"BankCard4EVerification":        {"Name", "BankCard", "Phone", "IdCard"},
	"BankCardVerification":          {"IdCard", "Name", "BankCard"},
	"CheckBankCardInformation":      {"BankCard"},
	"CheckIdNameDate":               {"Name", "IdCard"},
	"CheckPhoneAndName":             {"Mobile", "Name"},
	"DetectAuth":                    {"IdCard", "Name"},
	"GetEidToken":                   {"IdCard", "Name"},
	"GetFaceIdToken":                {"IdCard", "Name", "ImageBase64"},
	"IdCardOCRVerification":         {"IdCard", "Name"},
	"IdCardVerification":            {"IdCard", "Name"},
	"ImageRecognition":              {"IdCard", "Name"},
	"ImageRecognitionV2":            {"IdCard", "Name"},
	"LivenessRecognition":           {"IdCard", "Name"},
	"MinorsVerification":            {"IdCard", "Name", "Mobile"},
	"MobileNetworkTimeVerification": {"Mobile"},
	"MobileStatus":                  {"Mobile"},
	"PhoneVerificationCMCC":         {"IdCard", "Name", "Phone"},
	"PhoneVerificationCTCC":         {"IdCard", "Name", "Phone"},
	"PhoneVerificationCUCC":         {"IdCard", "Name", "Phone"},
}

// session is one request's symmetric key, for its encrypted answer.
type session struct {
	alg string
	key []byte
}

type wireEncryption struct {
	EncryptList    []string
	CiphertextBlob string
	Iv             string
	Algorithm      string
	TagList        []string
}

// decrypt opens the request's Encryption, if any: the plaintext of every
// listed field (or of the body), and the session for the answer. A code is
// the error Tencent would answer.
func decrypt(action string, params map[string]json.RawMessage) (plain map[string]string, sess *session, code, msg string) {
	raw, ok := params["Encryption"]
	if !ok || string(raw) == "null" {
		return nil, nil, "", ""
	}
	var enc wireEncryption
	if json.Unmarshal(raw, &enc) != nil {
		return nil, nil, "InvalidParameter", "Encryption is not an object"
	}
	if enc.Algorithm == "" {
		enc.Algorithm = "AES-256-CBC"
	}
	fail := func(m string) (map[string]string, *session, string, string) {
		return nil, nil, "FailedOperation.DecryptSystemError", m
	}
	blob, err1 := base64.StdEncoding.DecodeString(enc.CiphertextBlob)
	iv, err2 := base64.StdEncoding.DecodeString(enc.Iv)
	if err1 != nil || err2 != nil {
		return fail("CiphertextBlob or Iv is not base64")
	}
	k := keyPair()
	var key []byte
	var err error
	switch enc.Algorithm {
	case "AES-256-CBC":
		key, err = rsa.DecryptPKCS1v15(nil, k.rsa, blob)
		if err == nil && len(key) != 32 {
			err = errBadKey
		}
	case "SM4-GCM":
		key, err = sm2.Decrypt(k.sm2, blob) // C1C3C2, gmsm's default
		if err == nil && len(key) != 16 {
			err = errBadKey
		}
	default:
		return nil, nil, "InvalidParameter", "unknown Algorithm"
	}
	if err != nil {
		return fail("the key does not unwrap")
	}
	open := func(i int, s string) ([]byte, bool) {
		ct, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, false
		}
		if enc.Algorithm == "AES-256-CBC" {
			b, _ := aes.NewCipher(key)
			if len(iv) != 16 || len(ct) == 0 || len(ct)%16 != 0 {
				return nil, false
			}
			out := make([]byte, len(ct))
			cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, ct)
			n := int(out[len(out)-1])
			if n < 1 || n > 16 || !bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
				return nil, false
			}
			return out[:len(out)-n], true
		}
		if i >= len(enc.TagList) || len(iv) != 12 {
			return nil, false
		}
		tag, err := base64.StdEncoding.DecodeString(enc.TagList[i])
		if err != nil {
			return nil, false
		}
		b, _ := sm4.NewCipher(key)
		g, _ := cipher.NewGCMWithNonceSize(b, 12)
		out, err := g.Open(nil, iv, append(ct, tag...), nil)
		return out, err == nil
	}
	plain = map[string]string{}
	for i, name := range enc.EncryptList {
		if name == "EncryptionBody" {
			var body string
			if raw, ok := params["EncryptedBody"]; ok && json.Unmarshal(raw, &body) == nil && body != "" {
				p, ok := open(i, body)
				if !ok || !json.Valid(p) {
					return fail("EncryptedBody does not decrypt")
				}
				plain["EncryptedBody"] = string(p)
			}
			continue
		}
		allowed := false
		for _, f := range encryptableFields[action] {
			allowed = allowed || f == name
		}
		if !allowed {
			return nil, nil, "InvalidParameter.UnsupportEncryptField", "存在不加密的字段"
		}
		var v string
		if json.Unmarshal(params[name], &v) != nil {
			return fail("a listed field is missing")
		}
		p, ok := open(i, v)
		if !ok {
			return fail("a listed field does not decrypt")
		}
		plain[name] = string(p)
	}
	var want bool
	if raw, ok := params["IsEncryptResponse"]; ok && json.Unmarshal(raw, &want) == nil && want {
		sess = &session{alg: enc.Algorithm, key: key}
	}
	return plain, sess, "", ""
}

type badKey struct{}

func (badKey) Error() string { return "key of the wrong size" }

var errBadKey error = badKey{}

// encryptAnswer is answer (a whole wire body) as Tencent sends it under
// IsEncryptResponse: Encryption{Iv, TagList, Algorithm}, EncryptedBody
// holding the JSON of the other members, RequestId.
func encryptAnswer(sess *session, answer []byte) []byte {
	var env struct{ Response map[string]json.RawMessage }
	if json.Unmarshal(answer, &env) != nil || env.Response["Error"] != nil {
		return answer
	}
	rid := env.Response["RequestId"]
	delete(env.Response, "RequestId")
	delete(env.Response, "Encryption")
	delete(env.Response, "EncryptedBody")
	plain, _ := json.Marshal(env.Response)
	enc := wireEncryption{EncryptList: []string{"EncryptionBody"}, Algorithm: sess.alg, TagList: []string{}}
	var ct []byte
	if sess.alg == "AES-256-CBC" {
		iv := make([]byte, 16)
		rand.Read(iv)
		n := 16 - len(plain)%16
		plain = append(plain, bytes.Repeat([]byte{byte(n)}, n)...)
		b, _ := aes.NewCipher(sess.key)
		ct = make([]byte, len(plain))
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(ct, plain)
		enc.Iv = base64.StdEncoding.EncodeToString(iv)
	} else {
		iv := make([]byte, 12)
		rand.Read(iv)
		b, _ := sm4.NewCipher(sess.key)
		g, _ := cipher.NewGCMWithNonceSize(b, 12)
		sealed := g.Seal(nil, iv, plain, nil)
		ct = sealed[:len(sealed)-16]
		enc.TagList = []string{base64.StdEncoding.EncodeToString(sealed[len(sealed)-16:])}
		enc.Iv = base64.StdEncoding.EncodeToString(iv)
	}
	out := map[string]any{"Encryption": enc, "EncryptedBody": base64.StdEncoding.EncodeToString(ct), "RequestId": rid}
	b, _ := json.Marshal(map[string]any{"Response": out})
	return b
}

// eidAnswer puts the identity, encrypted to pub, into GetEidResult's
// EidInfo: DesKey an SM2 (C1C3C2) wrapped session key, UserInfo the JSON
// in SM4-ECB, its last block filled with spaces (a fill the function must
// remove; the sandbox fills with zero bytes).
func eidAnswer(pub *ecdsa.PublicKey, name, idnum string, answer []byte) []byte {
	var env struct{ Response map[string]json.RawMessage }
	if json.Unmarshal(answer, &env) != nil || env.Response["EidInfo"] == nil || string(env.Response["EidInfo"]) == "null" {
		return answer
	}
	var info map[string]any
	_ = json.Unmarshal(env.Response["EidInfo"], &info)
	session := make([]byte, 16)
	rand.Read(session)
	plain, _ := json.Marshal(map[string]string{"name": name, "idtype": "01", "idnum": idnum})
	if r := len(plain) % 16; r != 0 {
		plain = append(plain, bytes.Repeat([]byte(" "), 16-r)...)
	}
	b, _ := sm4.NewCipher(session)
	ct := make([]byte, len(plain))
	for i := 0; i < len(plain); i += 16 {
		b.Encrypt(ct[i:i+16], plain[i:i+16])
	}
	wrapped, err := sm2.Encrypt(rand.Reader, pub, session, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	if err != nil {
		return answer
	}
	info["DesKey"] = base64.StdEncoding.EncodeToString(wrapped)
	info["UserInfo"] = base64.StdEncoding.EncodeToString(ct)
	env.Response["EidInfo"], _ = json.Marshal(info)
	out, _ := json.Marshal(env)
	return out
}
