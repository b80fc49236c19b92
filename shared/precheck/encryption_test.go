package precheck

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// b64 is base64 of n bytes, the first one first (0x04 for an SM2 blob).
func b64(n int, first byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	if n > 0 {
		b[0] = first
	}
	return base64.StdEncoding.EncodeToString(b)
}

var (
	rsaBlob = b64(128, 0x5a) // RSA-1024 PKCS#1 v1.5, the SDKs' key
	sm2Blob = b64(113, 0x04) // 04‖C1‖C3‖C2 around a 16-byte key
	ivCBC16 = b64(16, 1)
	ivGCM12 = b64(12, 1)
	tag16   = b64(16, 2)
	ct32    = b64(32, 3) // two AES blocks
)

// enc renders an Encryption object; fields left "" are left out, "null"
// and JSON arrays are written as they are.
func enc(alg, list, blob, iv, tags string) string {
	var parts []string
	add := func(k, v string, raw bool) {
		if v == "" {
			return
		}
		if !raw && v != "null" {
			v = `"` + v + `"`
		}
		parts = append(parts, `"`+k+`":`+v)
	}
	add("Algorithm", alg, false)
	add("EncryptList", list, true)
	add("CiphertextBlob", blob, false)
	add("Iv", iv, false)
	add("TagList", tags, true)
	return `"Encryption":{` + strings.Join(parts, ",") + `}`
}

func TestEncryption(t *testing.T) {
	idName := `{"IdCard":"` + ct32 + `","Name":"` + ct32 + `",`
	cbc := func(list string) string { return enc("", list, rsaBlob, ivCBC16, "") }
	gcm := func(list, tags string) string { return enc("SM4-GCM", list, sm2Blob, ivGCM12, tags) }
	two := `["IdCard","Name"]`
	tags2 := `["` + tag16 + `","` + tag16 + `"]`
	aiBody := `{"EncryptedBody":"` + b64(4096*3, 9) + `",`
	cases := []struct {
		name, action, body string
		code, msgHas       string // "" code: accepted
	}{
		// Accepted: what the official SDKs send.
		{"cbc default algorithm", "IdCardVerification", idName + cbc(two) + `}`, "", ""},
		{"cbc explicit, empty TagList (SDK Encrypt)", "IdCardVerification", idName + enc("AES-256-CBC", two, rsaBlob, ivCBC16, `[]`) + `}`, "", ""},
		{"cbc 2048-bit key", "IdCardVerification", idName + enc("", two, b64(256, 9), ivCBC16, "") + `}`, "", ""},
		{"cbc one field, other plain", "IdCardVerification", `{"IdCard":"` + ct32 + `","Name":"张三",` + cbc(`["IdCard"]`) + `}`, "", ""},
		{"gcm a tag per field", "IdCardVerification", idName + gcm(two, tags2) + `}`, "", ""},
		{"gcm any ciphertext length", "MobileStatus", `{"Mobile":"` + b64(11, 3) + `",` + gcm(`["Mobile"]`, `["`+tag16+`"]`) + `}`, "", ""},
		{"minors mobile", "MinorsVerification", `{"Type":"1","Mobile":"` + ct32 + `",` + cbc(`["Mobile"]`) + `}`, "", ""},
		{"body mode cbc", "DetectAIFakeFaces", aiBody + enc("", `["EncryptionBody"]`, rsaBlob, ivCBC16, "") + `}`, "", ""},
		{"body mode gcm", "DetectAIFakeFaces", `{"EncryptedBody":"` + b64(100, 9) + `",` + gcm(`["EncryptionBody"]`, `["`+tag16+`"]`) + `}`, "", ""},
		{"answer key only (BodyEncrypt with no body)", "GetDetectInfoEnhanced", `{"BizToken":"x","RuleId":"0","IsEncryptResponse":true,` + gcm(`["EncryptionBody"]`, `null`) + `}`, "", ""},
		{"answer fields key only (Encrypt with no fields)", "GetFaceIdResult", `{"FaceIdToken":"x",` + gcm(`[]`, `[]`) + `}`, "", ""},
		{"check id card answer key", "CheckIdCardInformation", `{"ImageUrl":"https://example.com/a.jpg","IsEncryptResponse":true,` + cbc(`["EncryptionBody"]`) + `}`, "", ""},
		{"encrypted photo", "GetFaceIdToken", `{"CompareLib":"BUSINESS","ImageBase64":"` + b64(4096, 5) + `",` + cbc(`["ImageBase64"]`) + `}`, "", ""},
		{"legacy kms", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"` + b64(184, 1) + `","Iv":"` + ivCBC16 + `"}`, "", ""},

		// The two examples.
		{"ciphertext blob abc", "IdCardVerification", idName + enc("", two, "abc", ivCBC16, "") + `}`, "InvalidParameterValue", "field Encryption.CiphertextBlob: must be base64 of the RSA-wrapped key"},
		{"missing iv", "IdCardVerification", idName + enc("", two, rsaBlob, "", "") + `}`, "MissingParameter", "Encryption.Iv"},

		{"missing blob", "IdCardVerification", idName + enc("", two, "", ivCBC16, "") + `}`, "MissingParameter", "Encryption.CiphertextBlob"},
		{"null blob", "IdCardVerification", idName + enc("", two, "null", ivCBC16, "") + `}`, "MissingParameter", "Encryption.CiphertextBlob"},
		{"unknown algorithm", "IdCardVerification", idName + enc("AES-128-CBC", two, rsaBlob, ivCBC16, "") + `}`, "InvalidParameterValue", "field Encryption.Algorithm: must be AES-256-CBC or SM4-GCM"},
		{"algorithm case", "IdCardVerification", idName + enc("sm4-gcm", two, sm2Blob, ivGCM12, tags2) + `}`, "InvalidParameterValue", "Encryption.Algorithm"},
		{"empty algorithm", "IdCardVerification", idName + `"Encryption":{"Algorithm":"","EncryptList":["IdCard","Name"],"CiphertextBlob":"` + rsaBlob + `","Iv":"` + ivCBC16 + `"}}`, "InvalidParameterValue", "Encryption.Algorithm"},
		{"cbc iv of 12", "IdCardVerification", idName + enc("", two, rsaBlob, ivGCM12, "") + `}`, "InvalidParameterValue", "field Encryption.Iv: must be 16 bytes of base64 for AES-256-CBC"},
		{"cbc iv literal 16 chars", "IdCardVerification", idName + enc("", two, rsaBlob, "0123456789abcdef", "") + `}`, "InvalidParameterValue", "field Encryption.Iv: must be 16 bytes"},
		{"gcm iv of 16", "IdCardVerification", idName + enc("SM4-GCM", two, sm2Blob, ivCBC16, tags2) + `}`, "InvalidParameterValue", "field Encryption.Iv: must be 12 bytes of base64 for SM4-GCM"},
		{"iv with a line break", "IdCardVerification", idName + enc("", two, rsaBlob, ivCBC16[:12]+`\n`+ivCBC16[12:], "") + `}`, "InvalidParameterValue", "Encryption.Iv"},
		{"iv url alphabet", "IdCardVerification", idName + enc("", two, rsaBlob, "_-__"+ivCBC16[4:], "") + `}`, "InvalidParameterValue", "Encryption.Iv"},
		{"iv unpadded", "IdCardVerification", idName + enc("", two, rsaBlob, strings.TrimRight(ivCBC16, "="), "") + `}`, "InvalidParameterValue", "Encryption.Iv"},
		{"iv stray padding bits", "IdCardVerification", idName + enc("", two, rsaBlob, "AAAAAAAAAAAAAAAAAAAAAB==", "") + `}`, "InvalidParameterValue", "Encryption.Iv"},
		{"cbc blob of sm2 size", "IdCardVerification", idName + enc("", two, sm2Blob, ivCBC16, "") + `}`, "InvalidParameterValue", "Encryption.CiphertextBlob"},
		{"gcm blob of rsa size", "IdCardVerification", idName + enc("SM4-GCM", two, rsaBlob, ivGCM12, tags2) + `}`, "InvalidParameterValue", "field Encryption.CiphertextBlob: must be base64 of the SM2-wrapped key (113 bytes"},
		{"gcm blob without 04", "IdCardVerification", idName + enc("SM4-GCM", two, b64(113, 0x30), ivGCM12, tags2) + `}`, "InvalidParameterValue", "Encryption.CiphertextBlob"},
		{"cbc with tags", "IdCardVerification", idName + enc("", two, rsaBlob, ivCBC16, tags2) + `}`, "InvalidParameterValue", "field Encryption.TagList: must be empty for AES-256-CBC"},
		{"gcm without tags", "IdCardVerification", idName + gcm(two, "") + `}`, "InvalidParameterValue", "field Encryption.TagList: must hold one tag per encrypted value (2 here)"},
		{"gcm one tag for two", "IdCardVerification", idName + gcm(two, `["`+tag16+`"]`) + `}`, "InvalidParameterValue", "Encryption.TagList"},
		{"gcm short tag", "IdCardVerification", idName + gcm(two, `["`+tag16+`","`+b64(12, 2)+`"]`) + `}`, "InvalidParameterValue", "field Encryption.TagList[1]: must be 16 bytes of base64 for SM4-GCM"},
		{"gcm null tag", "IdCardVerification", idName + gcm(two, `["`+tag16+`",null]`) + `}`, "InvalidParameterValue", "Encryption.TagList[1]"},
		{"gcm body without tag", "DetectAIFakeFaces", aiBody + gcm(`["EncryptionBody"]`, "") + `}`, "InvalidParameterValue", "Encryption.TagList"},
		{"null list entry", "IdCardVerification", idName + cbc(`["IdCard",null]`) + `}`, "InvalidParameterValue", "Encryption.EncryptList[1]: must be a field name"},
		{"duplicate list entry", "IdCardVerification", idName + cbc(`["IdCard","IdCard"]`) + `}`, "InvalidParameterValue", "lists IdCard twice"},
		{"not a field", "IdCardVerification", idName + cbc(`["Foo"]`) + `}`, "InvalidParameterValue", "field Encryption.EncryptList[0]: names no field of IdCardVerification; it takes Name, IdCard encrypted"},
		{"lower-case field", "IdCardVerification", idName + cbc(`["idcard"]`) + `}`, "InvalidParameterValue", "names no field"},
		{"field of another action", "IdCardVerification", idName + cbc(`["BankCard"]`) + `}`, "InvalidParameterValue", "names no field"},
		{"field not encryptable", "ImageRecognitionV2", `{"IdCard":"` + ct32 + `","Name":"` + ct32 + `","ImageBase64":"QUJD",` + cbc(`["ImageBase64"]`) + `}`, "InvalidParameter.UnsupportEncryptField", "ImageRecognitionV2 does not take ImageBase64 encrypted"},
		{"encryption itself", "IdCardVerification", idName + cbc(`["Encryption"]`) + `}`, "InvalidParameter.UnsupportEncryptField", "does not take Encryption encrypted"},
		{"body mode not offered", "IdCardVerification", idName + cbc(`["EncryptionBody"]`) + `}`, "InvalidParameter.UnsupportEncryptField", "IdCardVerification takes no EncryptionBody"},
		{"body mode not alone", "DetectAIFakeFaces", aiBody + cbc(`["EncryptionBody","FaceInput"]`) + `}`, "InvalidParameterValue", "EncryptionBody must be the only entry"},
		{"body mode without body", "DetectAIFakeFaces", `{` + cbc(`["EncryptionBody"]`) + `}`, "MissingParameter", "EncryptedBody"},
		{"body without encryption", "DetectAIFakeFaces", `{"EncryptedBody":"` + ct32 + `"}`, "MissingParameter", "Encryption"},
		{"body with a field list", "DetectAIFakeFaces", aiBody + cbc(`[]`) + `}`, "InvalidParameterValue", `must be ["EncryptionBody"] when EncryptedBody is sent`},
		{"body not base64", "DetectAIFakeFaces", `{"EncryptedBody":"not base64!",` + cbc(`["EncryptionBody"]`) + `}`, "InvalidParameterValue", "field EncryptedBody: is named in Encryption.EncryptList, so it must be base64 ciphertext"},
		{"body padding mid-way", "DetectAIFakeFaces", `{"EncryptedBody":"` + strings.Repeat("QQ==", 1100) + `",` + cbc(`["EncryptionBody"]`) + `}`, "InvalidParameterValue", "EncryptedBody"},
		{"body not whole blocks", "DetectAIFakeFaces", `{"EncryptedBody":"` + b64(4097, 1) + `",` + cbc(`["EncryptionBody"]`) + `}`, "InvalidParameterValue", "whole 16-byte blocks"},
		{"listed field not sent", "DetectAuth", `{"RuleId":"0",` + cbc(`["IdCard"]`) + `}`, "MissingParameter", "IdCard: Encryption.EncryptList names it"},
		{"listed field plaintext", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三",` + cbc(two) + `}`, "InvalidParameterValue", "field IdCard: is named in Encryption.EncryptList, so it must be base64 ciphertext"},
		{"listed name chinese", "IdCardVerification", `{"IdCard":"` + ct32 + `","Name":"张三",` + cbc(two) + `}`, "InvalidParameterValue", "field Name"},
		{"cbc field not whole blocks", "IdCardVerification", `{"IdCard":"` + b64(15, 3) + `","Name":"` + ct32 + `",` + cbc(two) + `}`, "InvalidParameterValue", "field IdCard: is named in Encryption.EncryptList, so it must be base64 of whole 16-byte blocks for AES-256-CBC"},
		{"encrypted photo not base64", "GetFaceIdToken", `{"CompareLib":"BUSINESS","ImageBase64":"QU\u0000D",` + cbc(`["ImageBase64"]`) + `}`, "InvalidParameterValue", "field ImageBase64"},
		{"encrypted photo escaped slash is fine", "GetFaceIdToken", `{"CompareLib":"BUSINESS","ImageBase64":"` + strings.Repeat(`A\/`, 16) + strings.Repeat("A", 32) + `",` + cbc(`["ImageBase64"]`) + `}`, "", ""},
		{"checked before the local answer", "IdCardVerification", `{"IdCard":"` + badCheck + `","Name":"张三",` + enc("", `["Name"]`, "abc", ivCBC16, "") + `}`, "InvalidParameterValue", "Encryption.CiphertextBlob"},
		{"legacy not a field", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["VerifyMode"],"CiphertextBlob":"` + rsaBlob + `","Iv":"` + ivCBC16 + `"}`, "InvalidParameter.UnsupportEncryptField", "field EncryptList[0]: PhoneVerification does not take VerifyMode encrypted"},
		{"legacy missing blob", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"Iv":"` + ivCBC16 + `"}`, "MissingParameter", "CiphertextBlob"},
		{"legacy missing iv", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"` + rsaBlob + `"}`, "MissingParameter", "Iv"},
		{"legacy blob abc", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"abc","Iv":"` + ivCBC16 + `"}`, "InvalidParameterValue", "field CiphertextBlob"},
		{"legacy field plaintext", "PhoneVerification", `{"IdCard":"` + goodID + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"` + rsaBlob + `","Iv":"` + ivCBC16 + `"}`, "InvalidParameterValue", "field IdCard: is named in EncryptList"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !json.Valid([]byte(c.body)) {
				t.Fatalf("test body is not JSON: %.300s", c.body)
			}
			req, local, err := Check(mustAction(t, c.action), []byte(c.body))
			if c.code == "" {
				if err != nil || local != nil || req == nil {
					t.Fatalf("want accepted, got local=%+v err=%v", local, err)
				}
				return
			}
			if local != nil {
				t.Fatalf("want %s, got local answer %+v", c.code, local)
			}
			wantCode(t, err, c.code, c.msgHas)
			// Never a value in the message: ciphertext, blobs, IVs, identity.
			msg := errs.As(err).Message
			for _, v := range []string{ct32, rsaBlob, sm2Blob, ivCBC16, ivGCM12, tag16, goodID, badCheck, "张三"} {
				if strings.Contains(msg, v) {
					t.Errorf("message %q leaks a value", msg)
				}
			}
		})
	}
}

// TestEncryptListEchoesNoValue: an EncryptList entry that is not a field
// name (a caller who put the ID number there) is not echoed back.
func TestEncryptListEchoesNoValue(t *testing.T) {
	for _, entry := range []string{goodID, "IdCard " + goodID, "a\"b", strings.Repeat("X", 5000)} {
		lit, _ := json.Marshal(entry)
		body := `{"IdCard":"` + ct32 + `","Name":"` + ct32 + `",` + enc("", `[`+string(lit)+`]`, rsaBlob, ivCBC16, "") + `}`
		_, _, err := Check(mustAction(t, "IdCardVerification"), []byte(body))
		wantCode(t, err, "InvalidParameterValue", "names no field")
		if msg := errs.As(err).Message; strings.Contains(msg, goodID) || len(msg) > 300 {
			t.Errorf("message echoes the entry: %q", msg)
		}
	}
}

// TestEncryptableFromSpec derives, from the spec's description of each
// action's Encryption parameter ("对传入信息（姓名、身份证号）有加密需求"), the
// fields a caller may send encrypted, and checks the table precheck uses.
func TestEncryptableFromSpec(t *testing.T) {
	words := map[string]string{"姓名": "Name", "身份证号": "IdCard", "银行卡号": "BankCard", "自传照片": "ImageBase64"}
	paren := regexp.MustCompile(`对传入信息（([^）]*)）`)
	type field struct{ Name, Description string }
	type action struct {
		Action  string
		Request []field
	}
	derived := map[string][]string{}
	withEncryption := map[string]bool{}
	for _, f := range []string{"../faceid/spec/faceid-2018-03-01.json", "../faceid/spec/faceid-2018-03-01.supplement.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var spec struct{ Actions []action }
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatal(err)
		}
		for _, a := range spec.Actions {
			names := map[string]bool{}
			for _, fl := range a.Request {
				names[fl.Name] = true
			}
			for _, fl := range a.Request {
				switch {
				case fl.Name == "Encryption":
					withEncryption[a.Action] = true
					m := paren.FindStringSubmatch(fl.Description)
					if m == nil {
						continue // answer or whole-body encryption only
					}
					for _, w := range strings.Split(m[1], "、") {
						name, ok := words[w]
						if w == "手机号" {
							name, ok = "Phone", true
							if names["Mobile"] {
								name = "Mobile"
							}
						}
						if !ok || !names[name] {
							t.Fatalf("%s: cannot map %q to a field", a.Action, w)
						}
						derived[a.Action] = append(derived[a.Action], name)
					}
				case fl.Name == "EncryptList" && a.Action == "PhoneVerification":
					for _, n := range regexp.MustCompile(`[A-Z][A-Za-z]+`).FindAllString(fl.Description, -1) {
						if names[n] {
							derived[a.Action] = append(derived[a.Action], n)
						}
					}
				}
			}
		}
	}
	sorted := func(m map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range m {
			out[k] = append([]string(nil), v...)
			sort.Strings(out[k])
		}
		return out
	}
	if got, want := sorted(encryptable), sorted(derived); !reflect.DeepEqual(got, want) {
		t.Errorf("encryptable table differs from the spec:\n got %v\nwant %v", got, want)
	}
	// Every action with an Encryption parameter is known to the registry
	// (the check reaches it through the model), and no table entry is stale.
	for name := range withEncryption {
		if _, ok := faceid.Lookup(name); !ok {
			t.Errorf("%s: in the spec, not in the registry", name)
		}
	}
}
