package precheck

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// Caller-side encryption (FaceID's Encryption object): the caller encrypted
// some fields itself, or its whole body, and sends the wrapped key. Nothing
// here decrypts; checkEncryption refuses, before any paid call, what Tencent
// could not decrypt anyway. The wire format is provider-apis.md §3 and
// TencentCloud/faceid-api-crypto-golang, which it was taken from.

const (
	algCBC = "AES-256-CBC" // the default when Algorithm is absent
	algGCM = "SM4-GCM"

	// bodyEntry is the EncryptList entry of whole-body mode: the request's
	// EncryptedBody (DetectAIFakeFaces), or, alone and with no body, the key
	// for an encrypted answer (IsEncryptResponse; the SDK's BodyEncrypt(alg,
	// key, "")).
	bodyEntry = "EncryptionBody"

	unsupportEncryptField = "InvalidParameter.UnsupportEncryptField"
)

// encryptable lists, per action, the request fields a caller may send
// encrypted: the spec's Encryption description names them ("对传入信息（姓名、
// 身份证号）有加密需求..."), and TestEncryptableFromSpec derives this table
// from it. PhoneVerification's are its legacy top-level EncryptList ("可填入
// 加密后的IdCard，Name，Phone中的一个或多个"). Actions whose Encryption only
// asks for an encrypted answer (CheckIdCardInformation, GetDetectInfoEnhanced,
// GetFaceIdResult) or a whole encrypted body (DetectAIFakeFaces) take none.
var encryptable = map[string][]string{
	"BankCard2EVerification":        {"Name", "BankCard"},
	"BankCard4EVerification":        {"Name", "IdCard", "Phone", "BankCard"},
	"BankCardVerification":          {"Name", "IdCard", "BankCard"},
	"CheckBankCardInformation":      {"BankCard"},
	"CheckIdNameDate":               {"Name", "IdCard"},
	"CheckPhoneAndName":             {"Name", "Mobile"},
	"DetectAuth":                    {"Name", "IdCard"},
	"GetEidToken":                   {"Name", "IdCard"},
	"GetFaceIdToken":                {"Name", "IdCard", "ImageBase64"},
	"IdCardOCRVerification":         {"Name", "IdCard"},
	"IdCardVerification":            {"Name", "IdCard"},
	"ImageRecognition":              {"Name", "IdCard"},
	"ImageRecognitionV2":            {"Name", "IdCard"},
	"LivenessRecognition":           {"Name", "IdCard"},
	"MinorsVerification":            {"Name", "IdCard", "Mobile"},
	"MobileNetworkTimeVerification": {"Mobile"},
	"MobileStatus":                  {"Mobile"},
	"PhoneVerification":             {"IdCard", "Name", "Phone"},
	"PhoneVerificationCMCC":         {"Name", "IdCard", "Phone"},
	"PhoneVerificationCTCC":         {"Name", "IdCard", "Phone"},
	"PhoneVerificationCUCC":         {"Name", "IdCard", "Phone"},
}

// Sizes, decoded, per provider-apis.md §3.
const (
	ivCBC  = 16 // "IV: 16 random bytes"
	ivGCM  = 12 // "IV/nonce: 12 random bytes"
	tagGCM = 16 // "Tag: 128-bit"
	// SM2 C1C3C2 with the 04 prefix around a 16-byte key:
	// 1 + 64 (C1 = X‖Y) + 32 (C3 = SM3) + 16 (C2).
	sm2Wrapped = 1 + 64 + 32 + 16
	blockCBC   = 16
)

// rsaWrapped are the accepted sizes of an RSA PKCS#1 v1.5 ciphertext: the
// size of the modulus. The SDKs' embedded key is 1024-bit (128 bytes); a key
// from the console may be larger, so the usual modulus sizes are accepted.
var rsaWrapped = []int{128, 256, 384, 512}

// checkEncryption validates the Encryption object (and PhoneVerification's
// legacy top-level EncryptList, CiphertextBlob, Iv) and the fields it names.
// It returns nil when the request carries no encryption.
func checkEncryption(a *faceid.Action, v reflect.Value, m media) error {
	if err := checkLegacyEncryption(a, v, m); err != nil {
		return err
	}
	body, hasBody := stringField(v.FieldByName("EncryptedBody"))
	encField := v.FieldByName("Encryption")
	if !encField.IsValid() || encField.IsNil() {
		if hasBody {
			return errs.E(errs.Invalid, "MissingParameter", "missing required field Encryption: EncryptedBody needs it, with EncryptList [%q]", bodyEntry)
		}
		return nil
	}
	enc := encField.Interface().(*faceid.Encryption)

	alg := algCBC
	if enc.Algorithm != nil {
		alg = *enc.Algorithm
		if alg != algCBC && alg != algGCM {
			return invalid("Encryption.Algorithm", "must be %s or %s (absent means %s)", algCBC, algGCM, algCBC)
		}
	}

	// EncryptList: names of this action's encryptable fields, each once, or
	// EncryptionBody alone.
	list := make([]string, 0, len(enc.EncryptList))
	seen := map[string]bool{}
	for i, p := range enc.EncryptList {
		at := fmt.Sprintf("Encryption.EncryptList[%d]", i)
		if p == nil {
			return invalid(at, "must be a field name, not null")
		}
		name := *p
		if name == bodyEntry {
			if !v.FieldByName("EncryptedBody").IsValid() && !v.FieldByName("IsEncryptResponse").IsValid() {
				return errs.E(errs.Invalid, unsupportCode(a), "field %s: %s takes no %s (whole-body mode)%s", at, a.Name, bodyEntry, takesText(a))
			}
			if len(enc.EncryptList) != 1 {
				return invalid(at, "%s must be the only entry", bodyEntry)
			}
		} else if err := checkListedName(a, v, at, name); err != nil {
			return err
		}
		if seen[name] {
			return invalid(at, "lists %s twice", name)
		}
		seen[name] = true
		list = append(list, name)
	}
	bodyMode := seen[bodyEntry]
	if hasBody && !bodyMode {
		return invalid("Encryption.EncryptList", "must be [%q] when EncryptedBody is sent", bodyEntry)
	}
	if bodyMode && !hasBody && !v.FieldByName("IsEncryptResponse").IsValid() {
		return errs.E(errs.Invalid, "MissingParameter", "missing required field EncryptedBody: Encryption.EncryptList names %s", bodyEntry)
	}

	// The wrapped key and the IV.
	if enc.CiphertextBlob == nil {
		return errs.E(errs.Invalid, "MissingParameter", "missing required field Encryption.CiphertextBlob")
	}
	if n, ok := base64Len(*enc.CiphertextBlob); alg == algCBC && (!ok || !oneOf(n, rsaWrapped)) {
		return invalid("Encryption.CiphertextBlob", "must be base64 of the RSA-wrapped key (128, 256, 384 or 512 bytes: the RSA modulus size) for %s", algCBC)
	} else if alg == algGCM && (!ok || n != sm2Wrapped || firstByte(*enc.CiphertextBlob) != 0x04) {
		return invalid("Encryption.CiphertextBlob", "must be base64 of the SM2-wrapped key (%d bytes, 04‖C1‖C3‖C2) for %s", sm2Wrapped, algGCM)
	}
	if enc.Iv == nil {
		return errs.E(errs.Invalid, "MissingParameter", "missing required field Encryption.Iv")
	}
	ivLen := ivCBC
	if alg == algGCM {
		ivLen = ivGCM
	}
	if n, ok := base64Len(*enc.Iv); !ok || n != ivLen {
		return invalid("Encryption.Iv", "must be %d bytes of base64 for %s", ivLen, alg)
	}

	// Tags: none for CBC; for GCM one per encrypted value, in EncryptList
	// order (none when EncryptionBody only carries the key for the answer).
	values := len(list)
	if bodyMode && !hasBody {
		values = 0
	}
	switch {
	case alg == algCBC && len(enc.TagList) > 0:
		return invalid("Encryption.TagList", "must be empty for %s", algCBC)
	case alg == algGCM && len(enc.TagList) != values:
		return invalid("Encryption.TagList", "must hold one tag per encrypted value (%d here) for %s", values, algGCM)
	}
	for i, t := range enc.TagList {
		if n, ok := base64Len(deref(t)); t == nil || !ok || n != tagGCM {
			return invalid(fmt.Sprintf("Encryption.TagList[%d]", i), "must be %d bytes of base64 for %s", tagGCM, algGCM)
		}
	}

	// The encrypted values themselves.
	if hasBody {
		return checkCiphertext("EncryptedBody", body, alg, "Encryption.EncryptList")
	}
	for _, name := range list {
		if name == bodyEntry {
			continue
		}
		s, err := listedValue(v, m, name, "Encryption.EncryptList")
		if err != nil {
			return err
		}
		if err := checkCiphertext(name, s, alg, "Encryption.EncryptList"); err != nil {
			return err
		}
	}
	return nil
}

// checkLegacyEncryption: PhoneVerification's top-level EncryptList,
// CiphertextBlob and Iv (the older KMS envelope, §3: AES-256-CBC with a KMS
// data key; the KMS blob's size and the Iv's encoding are not documented, so
// only their presence and the fields are checked).
func checkLegacyEncryption(a *faceid.Action, v reflect.Value, m media) error {
	f := v.FieldByName("EncryptList")
	if !f.IsValid() || f.Len() == 0 {
		return nil
	}
	list := f.Interface().([]*string)
	seen := map[string]bool{}
	for i, p := range list {
		at := fmt.Sprintf("EncryptList[%d]", i)
		if p == nil {
			return invalid(at, "must be a field name, not null")
		}
		if err := checkListedName(a, v, at, *p); err != nil {
			return err
		}
		if seen[*p] {
			return invalid(at, "lists %s twice", *p)
		}
		seen[*p] = true
	}
	for _, name := range []string{"CiphertextBlob", "Iv"} {
		if s, ok := stringField(v.FieldByName(name)); !ok || strings.TrimSpace(s) == "" {
			return errs.E(errs.Invalid, "MissingParameter", "missing required field %s: EncryptList is not empty", name)
		}
	}
	if _, ok := base64Len(deref(v.FieldByName("CiphertextBlob").Interface().(*string))); !ok {
		return invalid("CiphertextBlob", "must be base64 (the KMS CiphertextBlob)")
	}
	for _, p := range list {
		s, err := listedValue(v, m, *p, "EncryptList")
		if err != nil {
			return err
		}
		if err := checkCiphertext(*p, s, algCBC, "EncryptList"); err != nil {
			return err
		}
	}
	return nil
}

// checkListedName: an EncryptList entry must be a field of the action that
// the action takes encrypted. The entry is named only once it is known to be
// a field name: a caller who put a value there must not see it echoed.
func checkListedName(a *faceid.Action, v reflect.Value, at, name string) error {
	if _, ok := v.Type().FieldByName(name); !ok || name == "" || name[0] < 'A' || name[0] > 'Z' {
		return invalid(at, "names no field of %s%s", a.Name, takesText(a))
	}
	for _, f := range encryptable[a.Name] {
		if f == name {
			return nil
		}
	}
	return errs.E(errs.Invalid, unsupportCode(a), "field %s: %s does not take %s encrypted%s", at, a.Name, name, takesText(a))
}

// listedValue is the value of a field named in an EncryptList: a media
// field's is read from its literal in the body (the request holds a
// stand-in).
func listedValue(v reflect.Value, m media, name, list string) (string, error) {
	s, ok := stringField(v.FieldByName(name))
	if !ok {
		return "", errs.E(errs.Invalid, "MissingParameter", "missing required field %s: %s names it", name, list)
	}
	if lit, isMedia := m[name]; isMedia {
		if err := json.Unmarshal(lit, &s); err != nil {
			return "", invalid(name, "must be a string")
		}
	}
	return s, nil
}

// checkCiphertext: an encrypted value is standard base64; under
// AES-256-CBC (PKCS#7 padding) it decodes to whole 16-byte blocks.
func checkCiphertext(name, s, alg, list string) error {
	n, ok := base64Len(s)
	if !ok || n == 0 {
		return invalid(name, "is named in %s, so it must be base64 ciphertext", list)
	}
	if alg == algCBC && n%blockCBC != 0 {
		return invalid(name, "is named in %s, so it must be base64 of whole %d-byte blocks for %s", list, blockCBC, algCBC)
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return errs.E(errs.Invalid, "InvalidParameterValue", "field %s: %s", field, fmt.Sprintf(format, args...))
}

// unsupportCode is Tencent's code for a field the action does not take
// encrypted, where the action documents it.
func unsupportCode(a *faceid.Action) string {
	if hasErrorCode(a, unsupportEncryptField) {
		return unsupportEncryptField
	}
	return "InvalidParameterValue"
}

func takesText(a *faceid.Action) string {
	if f := encryptable[a.Name]; len(f) > 0 {
		return "; it takes " + strings.Join(f, ", ") + " encrypted"
	}
	return ""
}

var strictBase64 = base64.StdEncoding.Strict()

// base64Len is the decoded length of s if s is canonical standard base64
// (padded, no line breaks or spaces, zero padding bits). Long values are
// decoded a chunk at a time, so checking an encrypted body allocates nothing
// in proportion to it.
func base64Len(s string) (int, bool) {
	if len(s)%4 != 0 || strings.ContainsAny(s, "\r\n") {
		return 0, false
	}
	const chunk = 4096
	var src [chunk]byte
	var dst [chunk / 4 * 3]byte
	n := 0
	for i := 0; i < len(s); i += chunk {
		part := s[i:min(i+chunk, len(s))]
		k := copy(src[:], part)
		got, err := strictBase64.Decode(dst[:], src[:k])
		if err != nil {
			return 0, false
		}
		if i+chunk < len(s) && got != k/4*3 {
			return 0, false // padding before the end
		}
		n += got
	}
	return n, true
}

func oneOf(n int, set []int) bool {
	for _, x := range set {
		if n == x {
			return true
		}
	}
	return false
}

// firstByte is the first decoded byte of base64 s (s already checked).
func firstByte(s string) byte {
	var b [3]byte
	if len(s) < 4 {
		return 0
	}
	if _, err := strictBase64.Decode(b[:], []byte(s[:4])); err != nil {
		return 0
	}
	return b[0]
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
