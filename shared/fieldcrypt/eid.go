package fieldcrypt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
)

// Identity is what eID's EidInfo.UserInfo holds once decrypted (§4):
// {"name":"姓名","idtype":"01","idnum":"身份证号"}.
type Identity struct {
	Name   string `json:"name"`
	IDType string `json:"idtype"`
	IDNum  string `json:"idnum"`
}

// sm2Layouts are the SM2 ciphertext layouts DesKey may come in, in the
// order they are tried: §4 leaves the layout unconfirmed (a third-party
// account uses C1C3C2, the layout Tencent's FaceID SDKs use), so C1C3C2
// first, then the older C1C2C3, then ASN.1 (GM/T 0009).
var sm2Layouts = []*sm2.DecrypterOpts{
	sm2.NewPlainDecrypterOpts(sm2.C1C3C2),
	sm2.NewPlainDecrypterOpts(sm2.C1C2C3),
	{CiphertextEncoding: sm2.ENCODING_ASN1},
}

// OpenEidInfo decrypts eID's DesKey (SM2, the customer's key) and UserInfo
// (SM4-ECB with that session key). SM3 inside SM2 checks the key, so only
// the right layout decrypts; the UserInfo plaintext may end in PKCS#7
// padding, zero bytes or spaces ("无填充": how Tencent fills the last block
// is not documented), all of which are removed before the JSON is read.
func OpenEidInfo(priv *sm2.PrivateKey, desKey, userInfo string) (*Identity, error) {
	wrapped, err1 := base64.StdEncoding.DecodeString(desKey)
	ct, err2 := base64.StdEncoding.DecodeString(userInfo)
	if err1 != nil || err2 != nil || priv == nil {
		return nil, ErrDecrypt
	}
	candidates := [][]byte{wrapped}
	if len(wrapped) > 0 && wrapped[0] != 0x04 && wrapped[0] != 0x30 {
		// Some SM2 libraries (BouncyCastle's older modes) leave out the
		// point's 04 prefix.
		candidates = append(candidates, append([]byte{0x04}, wrapped...))
	}
	var session []byte
	for _, c := range candidates {
		for _, opts := range sm2Layouts {
			if k, err := priv.Decrypt(nil, c, opts); err == nil && session == nil {
				session = k
			}
		}
	}
	if len(session) != 16 {
		return nil, ErrDecrypt
	}
	plain, err := ecbDecrypt(session, ct)
	if err != nil {
		return nil, err
	}
	plain = unfill(plain)
	var id Identity
	d := json.NewDecoder(bytes.NewReader(plain))
	if err := d.Decode(&id); err != nil || d.More() {
		return nil, ErrDecrypt
	}
	return &id, nil
}

// ecbDecrypt runs SM4's block decryption over each 16-byte block: ECB is
// no more than that, and neither Go nor gmsm offers it as a mode.
func ecbDecrypt(key, ct []byte) ([]byte, error) {
	b, err := sm4.NewCipher(key)
	if err != nil || len(ct) == 0 || len(ct)%sm4.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	out := make([]byte, len(ct))
	for i := 0; i < len(ct); i += sm4.BlockSize {
		b.Decrypt(out[i:i+sm4.BlockSize], ct[i:i+sm4.BlockSize])
	}
	return out, nil
}

func ecbEncrypt(key, plain []byte) ([]byte, error) {
	b, err := sm4.NewCipher(key)
	if err != nil || len(plain)%sm4.BlockSize != 0 {
		return nil, errors.New("sm4-ecb: whole blocks only")
	}
	out := make([]byte, len(plain))
	for i := 0; i < len(plain); i += sm4.BlockSize {
		b.Encrypt(out[i:i+sm4.BlockSize], plain[i:i+sm4.BlockSize])
	}
	return out, nil
}

// unfill removes what fills the last block: valid PKCS#7 padding, else
// trailing zero bytes and white space. A JSON object ends in '}', so
// neither can eat into it.
func unfill(p []byte) []byte {
	if n := len(p); n > 0 {
		pad := int(p[n-1])
		if pad >= 1 && pad <= sm4.BlockSize && pad <= n && bytes.Equal(p[n-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
			return p[:n-pad]
		}
	}
	return bytes.TrimRight(p, "\x00 \t\r\n")
}

// SealEidInfo is the eID side of OpenEidInfo, for the sandbox: a fresh
// 16-byte session key wrapped to pub as 04‖C1‖C3‖C2, and the identity's
// JSON filled to whole blocks with zero bytes and encrypted SM4-ECB.
func SealEidInfo(pub *ecdsa.PublicKey, id Identity) (desKey, userInfo string, err error) {
	session := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, session); err != nil {
		return "", "", err
	}
	plain, err := json.Marshal(id)
	if err != nil {
		return "", "", err
	}
	if r := len(plain) % sm4.BlockSize; r != 0 {
		plain = append(plain, make([]byte, sm4.BlockSize-r)...)
	}
	ct, err := ecbEncrypt(session, plain)
	if err != nil {
		return "", "", err
	}
	wrapped, err := sm2.Encrypt(rand.Reader, pub, session, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(wrapped), base64.StdEncoding.EncodeToString(ct), nil
}
