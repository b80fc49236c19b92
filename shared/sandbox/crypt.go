package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"

	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/precheck"
)

// The sandbox's side of FaceID's sensitive-data encryption (provider-apis.md
// §3), the part Tencent plays: it unwraps the request's key with its test
// keys (keys.go), decrypts the listed fields or the whole body before the
// action sees them, refuses what does not decrypt
// (FailedOperation.DecryptSystemError) or names a field the action does not
// take encrypted (InvalidParameter.UnsupportEncryptField), and encrypts the
// answer when IsEncryptResponse asks for it.

// answerKey is what an encrypted answer is sealed with.
type answerKey struct {
	alg string
	key []byte
}

const bodyEntry = "EncryptionBody"

// openRequest returns params with every encrypted value in plain text, and
// the key to seal the answer with when one is asked for.
func (c *call) openRequest(params []byte) ([]byte, *answerKey, error) {
	if !bytes.Contains(params, []byte(`"Encryption"`)) {
		return params, nil, nil // the common case, without a parse
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(params, &m) != nil {
		return params, nil, nil // the handler answers a body that is not JSON
	}
	var enc struct {
		EncryptList    []string
		CiphertextBlob string
		Iv             string
		Algorithm      string
		TagList        []string
	}
	if raw, ok := m["Encryption"]; !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return params, nil, nil
	} else if json.Unmarshal(raw, &enc) != nil {
		return nil, nil, c.failCode("InvalidParameter", "Encryption is not an object")
	}
	if enc.Algorithm == "" {
		enc.Algorithm = fieldcrypt.AES256CBC
	}
	decryptErr := func(why string) error { return c.failCode("FailedOperation.DecryptSystemError", why) }
	if !fieldcrypt.Known(enc.Algorithm) {
		return nil, nil, c.failCode("InvalidParameter", "unknown Encryption.Algorithm")
	}
	blob, err1 := base64.StdEncoding.DecodeString(enc.CiphertextBlob)
	iv, err2 := base64.StdEncoding.DecodeString(enc.Iv)
	if err1 != nil || err2 != nil {
		return nil, nil, decryptErr("CiphertextBlob or Iv is not base64")
	}
	key, err := testKeyPairs().priv.Unwrap(enc.Algorithm, blob)
	if err != nil {
		return nil, nil, decryptErr("CiphertextBlob does not unwrap with the sandbox's key (sandbox.RSAPrivateKey / SM2PrivateKey)")
	}
	tag := func(i int) ([]byte, bool) {
		if enc.Algorithm != fieldcrypt.SM4GCM {
			return nil, true
		}
		if i >= len(enc.TagList) {
			return nil, false
		}
		t, err := base64.StdEncoding.DecodeString(enc.TagList[i])
		return t, err == nil
	}
	open := func(i int, value json.RawMessage) ([]byte, bool) {
		var s string
		if json.Unmarshal(value, &s) != nil {
			return nil, false
		}
		ct, err := base64.StdEncoding.DecodeString(s)
		t, ok := tag(i)
		if err != nil || !ok {
			return nil, false
		}
		plain, err := fieldcrypt.Open(enc.Algorithm, key, iv, ct, t)
		return plain, err == nil
	}
	var answer *answerKey
	for i, name := range enc.EncryptList {
		switch {
		case name == bodyEntry && m["EncryptedBody"] != nil:
			plain, ok := open(i, m["EncryptedBody"])
			var inner map[string]json.RawMessage
			if !ok || json.Unmarshal(plain, &inner) != nil {
				return nil, nil, decryptErr("EncryptedBody does not decrypt to a JSON object")
			}
			delete(m, "EncryptedBody")
			for k, v := range inner {
				m[k] = v
			}
		case name == bodyEntry:
			// Only the key for an encrypted answer.
		case !encryptable(c.action, name):
			return nil, nil, c.failCode("InvalidParameter.UnsupportEncryptField", "")
		default:
			v, present := m[name]
			if !present {
				continue
			}
			plain, ok := open(i, v)
			if !ok {
				return nil, nil, decryptErr("a listed field does not decrypt")
			}
			m[name], _ = json.Marshal(string(plain))
		}
	}
	var want bool
	if raw, ok := m["IsEncryptResponse"]; ok && json.Unmarshal(raw, &want) == nil && want {
		answer = &answerKey{alg: enc.Algorithm, key: key}
	}
	delete(m, "Encryption")
	out, err := json.Marshal(m)
	if err != nil {
		return nil, nil, decryptErr("re-encoding the request")
	}
	return out, answer, nil
}

func encryptable(action, field string) bool {
	for _, f := range precheck.Encryptable(action) {
		if f == field {
			return true
		}
	}
	return false
}

// sealAnswer is an answer encrypted as Tencent sends it under
// IsEncryptResponse: the response's members (RequestId aside) as JSON, in
// EncryptedBody, under the request's key and a fresh IV that the answer's
// Encryption carries with its tag.
func (c *call) sealAnswer(k *answerKey, out json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, err
	}
	rid := m["RequestId"]
	delete(m, "RequestId")
	delete(m, "Encryption")
	delete(m, "EncryptedBody")
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	iv, err := fieldcrypt.NewIV(k.alg)
	if err != nil {
		return nil, err
	}
	ct, tag, err := fieldcrypt.Seal(k.alg, k.key, iv, plain)
	if err != nil {
		return nil, c.failCode("InternalError.EncryptSystemError", "")
	}
	enc := map[string]any{"EncryptList": []string{bodyEntry}, "CiphertextBlob": "", "Algorithm": k.alg,
		"Iv": base64.StdEncoding.EncodeToString(iv), "TagList": []string{}}
	if tag != nil {
		enc["TagList"] = []string{base64.StdEncoding.EncodeToString(tag)}
	}
	return json.Marshal(map[string]any{"Encryption": enc, "EncryptedBody": base64.StdEncoding.EncodeToString(ct), "RequestId": rid})
}

// eidInfo is the eID identity encrypted to the merchant's key as
// GetEidResult returns it: EidInfo.DesKey and UserInfo (§4).
func (p *Provider) eidInfo(who person) (desKey, userInfo *string) {
	pub := p.eidKey
	if pub == nil {
		pub = &testKeyPairs().eid.PublicKey
	}
	d, u, err := fieldcrypt.SealEidInfo(pub, fieldcrypt.Identity{Name: who.Name, IDType: "01", IDNum: who.IDCard})
	if err != nil {
		return nil, nil
	}
	return &d, &u
}
