package fieldcrypt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/precheck"
)

// bodyEntry is the EncryptList entry of whole-body mode, and of a request
// that only carries the key for an encrypted answer.
const bodyEntry = "EncryptionBody"

// Mode is how an action takes encryption on the caller's behalf.
type Mode int

const (
	// None: the action carries no Encryption object (or only the legacy
	// KMS envelope of PhoneVerification, which needs the customer's KMS).
	None Mode = iota
	// Fields: each sensitive field the action lists is encrypted.
	Fields
	// Body: the whole request is encrypted into EncryptedBody
	// (DetectAIFakeFaces).
	Body
	// Answer: the request carries the key and IsEncryptResponse, and the
	// answer comes back encrypted (GetDetectInfoEnhanced, GetFaceIdResult,
	// CheckIdCardInformation).
	Answer
)

// ModeOf reads the action's mode from its request model: EncryptedBody
// means Body, IsEncryptResponse means Answer, an Encryption object with
// fields precheck knows as encryptable means Fields.
func ModeOf(action string) Mode {
	a, ok := faceid.Lookup(action)
	if !ok {
		return None
	}
	t := reflect.TypeOf(a.NewRequest()).Elem()
	if _, ok := t.FieldByName("Encryption"); !ok {
		return None
	}
	if _, ok := t.FieldByName("EncryptedBody"); ok {
		return Body
	}
	if _, ok := t.FieldByName("IsEncryptResponse"); ok {
		return Answer
	}
	if len(precheck.Encryptable(action)) > 0 {
		return Fields
	}
	return None
}

// encryption is the wire form of the Encryption object.
type encryption struct {
	EncryptList    []string `json:"EncryptList"`
	CiphertextBlob string   `json:"CiphertextBlob"`
	Iv             string   `json:"Iv"`
	Algorithm      string   `json:"Algorithm"`
	TagList        []string `json:"TagList,omitempty"`
}

// Sealed is one request encrypted on the caller's behalf: what to send,
// and the key that opens the answer.
type Sealed struct {
	Params json.RawMessage
	alg    string
	key    []byte
	mode   Mode
}

// CallerEncrypted reports whether params already carry encryption the
// caller did itself: it is then passed through untouched, and so is the
// answer.
func CallerEncrypted(params map[string]json.RawMessage) bool {
	for _, k := range []string{"Encryption", "EncryptedBody", "EncryptList", "IsEncryptResponse"} {
		v := string(bytes.TrimSpace(params[k]))
		if v != "" && v != "null" && v != "false" {
			return true
		}
	}
	return false
}

// marshal is json.Marshal without HTML escaping: an answer's "<" stays
// "<", as the provider sent it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Encrypt seals params (a request precheck already passed, in plain text)
// for action with a fresh key and IV, wrapped to keys. It returns nil when
// there is nothing to do: the action takes no encryption, the caller
// encrypted already, or none of the listed fields is present.
func Encrypt(keys PublicKeys, alg, action string, params []byte) (*Sealed, error) {
	mode := ModeOf(action)
	if mode == None || !Known(alg) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(params)) > 0 {
		if err := json.Unmarshal(params, &m); err != nil {
			return nil, errs.E(errs.Invalid, "InvalidParameter", "request body is not a JSON object")
		}
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	if CallerEncrypted(m) {
		return nil, nil
	}
	key, err := NewKey(alg)
	if err != nil {
		return nil, internal(err)
	}
	iv, err := NewIV(alg)
	if err != nil {
		return nil, internal(err)
	}
	enc := encryption{Algorithm: alg, Iv: base64.StdEncoding.EncodeToString(iv)}
	switch mode {
	case Body:
		// The JSON of the business parameters, as the SDK's BodyEncrypt
		// sends it; nothing else stays in the clear.
		plain, err := marshal(m)
		if err != nil {
			return nil, internal(err)
		}
		ct, tag, err := Seal(alg, key, iv, plain)
		if err != nil {
			return nil, internal(err)
		}
		clear(m)
		m["EncryptedBody"] = quote(base64.StdEncoding.EncodeToString(ct))
		enc.EncryptList = []string{bodyEntry}
		if tag != nil {
			enc.TagList = []string{base64.StdEncoding.EncodeToString(tag)}
		}
	case Answer:
		enc.EncryptList = []string{bodyEntry}
		m["IsEncryptResponse"] = json.RawMessage("true")
	case Fields:
		for _, name := range precheck.Encryptable(action) {
			raw, ok := m[name]
			var s string
			if !ok || json.Unmarshal(raw, &s) != nil || s == "" {
				continue // absent, null or empty: nothing to hide
			}
			ct, tag, err := Seal(alg, key, iv, []byte(s))
			if err != nil {
				return nil, internal(err)
			}
			m[name] = quote(base64.StdEncoding.EncodeToString(ct))
			enc.EncryptList = append(enc.EncryptList, name)
			if tag != nil {
				enc.TagList = append(enc.TagList, base64.StdEncoding.EncodeToString(tag))
			}
		}
		if len(enc.EncryptList) == 0 {
			return nil, nil
		}
	}
	blob, err := keys.Wrap(alg, key)
	if err != nil {
		return nil, internal(err)
	}
	enc.CiphertextBlob = base64.StdEncoding.EncodeToString(blob)
	if m["Encryption"], err = json.Marshal(enc); err != nil {
		return nil, internal(err)
	}
	out, err := marshal(m)
	if err != nil {
		return nil, internal(err)
	}
	return &Sealed{Params: out, alg: alg, key: key, mode: mode}, nil
}

// Decrypt opens an encrypted answer (Encryption and EncryptedBody beside
// RequestId) with the request's key and the answer's Iv and first tag
// (§3), and returns the answer in plain JSON: the decrypted members, the
// other members of the envelope that were not encrypted, RequestId. An
// answer that carries no EncryptedBody is returned as it is.
func (s *Sealed) Decrypt(body json.RawMessage) (json.RawMessage, error) {
	if s.mode != Answer {
		return body, nil
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(body, &outer); err != nil {
		return body, nil // not ours to judge: the provider layer passed it
	}
	var ct string
	if raw, ok := outer["EncryptedBody"]; !ok || json.Unmarshal(raw, &ct) != nil || ct == "" {
		return body, nil
	}
	var enc struct {
		Iv      string
		TagList []string
	}
	if err := json.Unmarshal(outer["Encryption"], &enc); err != nil {
		return nil, undecryptable("Encryption is not an object")
	}
	iv, err1 := base64.StdEncoding.DecodeString(enc.Iv)
	ctb, err2 := base64.StdEncoding.DecodeString(ct)
	var tag []byte
	if s.alg == SM4GCM {
		if len(enc.TagList) != 1 {
			return nil, undecryptable("want one tag in Encryption.TagList")
		}
		tag, _ = base64.StdEncoding.DecodeString(enc.TagList[0])
	}
	if err1 != nil || err2 != nil {
		return nil, undecryptable("Iv or EncryptedBody is not base64")
	}
	plain, err := Open(s.alg, s.key, iv, ctb, tag)
	if err != nil {
		return nil, undecryptable("EncryptedBody does not decrypt with the request's key")
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(plain, &inner); err != nil {
		return nil, undecryptable("the decrypted answer is not a JSON object")
	}
	rid := outer["RequestId"]
	delete(outer, "EncryptedBody")
	delete(outer, "Encryption")
	for k, v := range inner {
		outer[k] = v
	}
	// The answer is plain now: no encryption to describe.
	delete(outer, "EncryptedBody")
	delete(outer, "Encryption")
	if rid != nil {
		outer["RequestId"] = rid
	}
	out, err := marshal(outer)
	if err != nil {
		return nil, internal(err)
	}
	return out, nil
}

// undecryptable: the provider answered (and may have billed) but its
// answer does not open. The reason names the part, never a value. Its kind
// is Provider, not Unavailable: a retry would be billed again.
func undecryptable(why string) error {
	return errs.E(errs.Provider, "FailedOperation.DecryptSystemError", "the provider's encrypted answer could not be decrypted: %s", why)
}

func internal(err error) error {
	return errs.Wrap(err, errs.Internal, "", "encrypting the request")
}

func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
