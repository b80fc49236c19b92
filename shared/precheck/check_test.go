package precheck

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

const (
	goodID   = "110101199003074477"
	badCheck = "110101199003074478"
)

func mustAction(t *testing.T, name string) *faceid.Action {
	t.Helper()
	a, ok := faceid.Lookup(name)
	if !ok {
		t.Fatalf("no action %s", name)
	}
	return a
}

// TestLocalResultCodes pins, for every element-check action, which free
// result code precheck answers for each malformed field. The mapping is
// derived from the registry's descriptions; this table is the contract.
func TestLocalResultCodes(t *testing.T) {
	want := map[string]map[class]string{
		"IdCardVerification":            {classID: "-2", className: "-3"},
		"IdCardOCRVerification":         {classID: "-2", className: "-3"},
		"CheckIdNameDate":               {classID: "-2", className: "-3", classValidity: "-4"},
		"CheckPhoneAndName":             {className: "-4", classMobile: "-5"},
		"PhoneVerification":             {classID: "-7", className: "-8", classMobile: "-6"},
		"PhoneVerificationCMCC":         {classID: "-7", className: "-8", classMobile: "-6"},
		"PhoneVerificationCTCC":         {classID: "-7", className: "-8", classMobile: "-6"},
		"PhoneVerificationCUCC":         {classID: "-7", className: "-8", classMobile: "-6"},
		"EncryptedPhoneVerification":    {classID: "-7", classParam: "-8"},
		"MinorsVerification":            {classID: "-4", className: "-5"},
		"MobileStatus":                  {classMobile: "-2"},
		"MobileNetworkTimeVerification": {classMobile: "-1"},
		"BankCard2EVerification":        {className: "-2", classBankCard: "-3"},
		"BankCardVerification":          {classID: "-3", className: "-2", classBankCard: "-4"},
		"BankCard4EVerification":        {classID: "-3", className: "-2", classBankCard: "-4", classMobile: "-5"},
	}
	for action, classes := range want {
		a := mustAction(t, action)
		for _, c := range []class{classID, className, classMobile, classBankCard, classValidity, classParam} {
			got, ok := localCode(a, c)
			if w, expect := classes[c]; expect {
				if !ok || got.Code != w {
					t.Errorf("%s class %d: got %q (found %v), want %q", action, c, got.Code, ok, w)
				}
			} else if ok {
				t.Errorf("%s class %d: unexpected local code %q (%s)", action, c, got.Code, got.Description)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	// 4 characters over ImageRecognitionV2's 3M field limit, well under its body cap.
	big := base64.StdEncoding.EncodeToString(make([]byte, (3<<20)/4*3+3))
	img := base64.StdEncoding.EncodeToString([]byte("jpeg bytes"))
	cases := []struct {
		name, action, body string
		local              string // expected local result code
		code               string // expected error code
		msgHas             string
	}{
		{"happy", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三"}`, "", "", ""},
		{"bad check digit is -2", "IdCardVerification", `{"IdCard":"` + badCheck + `","Name":"张三"}`, "-2", "", ""},
		{"bad name is -3", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张3"}`, "-3", "", ""},
		{"id checked before name", "IdCardVerification", `{"IdCard":"123","Name":"3"}`, "-2", "", ""},
		{"missing field", "IdCardVerification", `{"Name":"张三"}`, "", "MissingParameter", "IdCard"},
		{"empty required", "IdCardVerification", `{"IdCard":"","Name":"张三"}`, "", "InvalidParameterValue", "IdCard"},
		{"unknown field", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三","Nme":"x"}`, "", "UnknownParameter", `"Nme"`},
		{"unknown nested field", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三","Encryption":{"Ivv":"x"}}`, "", "UnknownParameter", `"Encryption.Ivv"`},
		{"unknown field in array element", "DetectAuth", `{"RuleId":"0","IntentionQuestions":[{"Question":"q"},{"Answer":["a"]}]}`, "", "UnknownParameter", `"IntentionQuestions[1].Answer"`},
		{"case-insensitive match is unknown", "IdCardVerification", `{"idcard":"` + goodID + `","Name":"张三"}`, "", "UnknownParameter", `did you mean "IdCard"`},
		{"duplicate key", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三","IdCard":"1"}`, "", "InvalidParameter", `"IdCard" appears more than once`},
		{"duplicate nested key", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三","Encryption":{"Iv":"a","Iv":"b"}}`, "", "InvalidParameter", `"Encryption.Iv" appears more than once`},
		{"escaped duplicate key", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三","Id\u0043ard":"1"}`, "", "InvalidParameter", "more than once"},
		{"number out of range", "GetWeChatBillDetails", `{"Date":"2026-11-01","Cursor":1e999}`, "", "InvalidParameterValue", "Cursor"},
		{"wrong type", "IdCardVerification", `{"IdCard":18,"Name":"张三"}`, "", "InvalidParameterValue", "IdCard must be a string"},
		{"not json", "IdCardVerification", `{"IdCard":`, "", "InvalidParameter", "truncated"},
		{"syntax", "IdCardVerification", `{"IdCard" "x"}`, "", "InvalidParameter", "not valid JSON"},
		{"array body", "IdCardVerification", `[1]`, "", "InvalidParameter", "JSON object"},
		{"trailing data", "IdCardVerification", `{"IdCard":"` + goodID + `","Name":"张三"} {}`, "", "InvalidParameter", "after the JSON object"},
		{"invalid utf8", "IdCardVerification", "{\"IdCard\":\"\xff\"}", "", "InvalidParameter", "UTF-8"},
		{"phone -6", "PhoneVerification", `{"IdCard":"` + goodID + `","Name":"张三","Phone":"12345"}`, "-6", "", ""},
		{"phone bad id -7", "PhoneVerificationCMCC", `{"IdCard":"` + badCheck + `","Name":"张三","Phone":"13800138000"}`, "-7", "", ""},
		{"bank card luhn -4", "BankCard4EVerification", `{"Name":"张三","BankCard":"6222020000000000001","Phone":"13800138000","IdCard":"` + goodID + `"}`, "-4", "", ""},
		{"bank card no code is error", "CheckBankCardInformation", `{"BankCard":"6222020000000000001"}`, "", "InvalidParameterValue", "BankCard"},
		{"validity -4", "CheckIdNameDate", `{"Name":"张三","IdCard":"` + goodID + `","ValidityBegin":"20200230","ValidityEnd":"00000000"}`, "-4", "", ""},
		{"optional id without code is error", "DetectAuth", `{"RuleId":"0","IdCard":"` + badCheck + `"}`, "", "InvalidParameterValue", "IdCard"},
		{"media too large", "ImageRecognitionV2", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"` + big + `"}`, "", "InvalidParameterValue", "ImageBase64"},
		{"media ok", "ImageRecognitionV2", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"` + img + `"}`, "", "", ""},
		{"media not base64", "ImageRecognitionV2", `{"IdCard":"` + goodID + `","Name":"张三","ImageBase64":"not base64!"}`, "", "InvalidParameterValue", "ImageBase64"},
		{"encrypted fields skip format", "IdCardVerification", `{"IdCard":"` + ct32 + `","Name":"` + ct32 + `",` + enc("", `["IdCard","Name"]`, rsaBlob, ivCBC16, "") + `}`, "", "", ""},
		{"legacy encrypt list", "PhoneVerification", `{"IdCard":"` + ct32 + `","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"` + rsaBlob + `","Iv":"` + ivCBC16 + `"}`, "", "", ""},
		{"hash mode ok", "EncryptedPhoneVerification", `{"IdCard":"` + strings.Repeat("a", 32) + `","Name":"` + strings.Repeat("b", 32) + `","Phone":"` + strings.Repeat("c", 32) + `","EncryptionMode":"1"}`, "", "", ""},
		{"hash mode wrong length is -8", "EncryptedPhoneVerification", `{"IdCard":"abc","Name":"` + strings.Repeat("b", 32) + `","Phone":"` + strings.Repeat("c", 32) + `","EncryptionMode":"1"}`, "-8", "", ""},
		{"hash mode unknown is -8", "EncryptedPhoneVerification", `{"IdCard":"a","Name":"b","Phone":"c","EncryptionMode":"9"}`, "-8", "", ""},
		{"face action bad id", "ImageRecognitionV2", `{"IdCard":"` + badCheck + `","Name":"张三","ImageBase64":"` + img + `"}`, "FailedOperation.IdFormatError", "", ""},
		{"face action bad name", "LivenessRecognition", `{"IdCard":"` + goodID + `","Name":"张3","LivenessType":"SILENT"}`, "FailedOperation.NameFormatError", "", ""},
		{"plain mode validates id", "EncryptedPhoneVerification", `{"IdCard":"` + badCheck + `","Name":"张三","Phone":"13800138000","EncryptionMode":"0"}`, "-7", "", ""},
		{"empty request action", "GetLiveCode", ``, "", "", ""},
		{"empty request rejects fields", "GetLiveCode", `{"X":1}`, "", "UnknownParameter", `"X"`},
		{"redirect url", "DetectAuth", `{"RuleId":"0","RedirectUrl":"javascript:alert(1)"}`, "", "InvalidParameterValue", "RedirectUrl"},
		{"integer field", "GetWeChatBillDetails", `{"Date":"2026-11-01","Cursor":1.5}`, "", "InvalidParameterValue", "Cursor must be an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustAction(t, c.action)
			req, local, err := Check(a, []byte(c.body))
			switch {
			case c.local != "":
				if err != nil || local == nil || local.Code.Code != c.local {
					t.Fatalf("want local %s, got local=%+v err=%v", c.local, local, err)
				}
				if local.Code.Charged {
					t.Errorf("a local answer must be a free code")
				}
				if strings.Contains(local.Rule, "110101") {
					t.Errorf("rule leaks the value: %q", local.Rule)
				}
			case c.code != "":
				e := errs.As(err)
				if err == nil || e.Code != c.code || e.Kind != errs.Invalid {
					t.Fatalf("want error %s, got %v (local %+v)", c.code, err, local)
				}
				if !strings.Contains(e.Message, c.msgHas) {
					t.Errorf("message %q should mention %q", e.Message, c.msgHas)
				}
				if strings.Contains(e.Message, goodID) || strings.Contains(e.Message, badCheck) {
					t.Errorf("message leaks the ID number: %q", e.Message)
				}
			default:
				if err != nil || local != nil || req == nil {
					t.Fatalf("want pass, got local=%+v err=%v", local, err)
				}
			}
		})
	}
}

// FuzzCheck runs arbitrary bodies against any action (the byte picks one
// from the registry). Properties beyond "no panic":
//   - every refusal is an Invalid *errs.Error with a code, and a local
//     answer is a free result code naming a field;
//   - the size refusal happens exactly when the body is over MaxBody;
//   - an accepted body is valid UTF-8 JSON within the size, depth and value
//     limits, and every field with a format rule holds a value of that
//     format;
//   - decoding is a fixed point: the accepted model re-encoded is accepted
//     again and re-encodes to the same JSON.
func FuzzCheck(f *testing.F) {
	f.Add(uint8(0), `{"IdCard":"110101199003074477","Name":"张三"}`)
	f.Add(uint8(1), `{"IdCard":"a","Name":"b","Phone":"c","EncryptionMode":"2"}`)
	f.Add(uint8(2), `{"RuleId":"0","IntentionQuestions":[{"Question":"q","Answers":["a"]}]}`)
	f.Add(uint8(3), `{"BizToken":"x","RuleId":"0","BestFramesCount":3}`)
	f.Add(uint8(4), `{"IdCard":"110101199003074477","Name":"张三","ImageBase64":"QUJD"}`)
	f.Add(uint8(5), `{"Encryption":{"EncryptList":["IdCard"],"CiphertextBlob":"x","Iv":"y"},"IdCard":"q83v","Name":"张三"}`)
	// Encryption objects, well-formed and hostile (picks by registry order:
	// see faceid.All; any pick is fine, the properties hold for all).
	for i, a := range faceid.All() {
		switch a.Name {
		case "IdCardVerification":
			idName := `{"IdCard":"` + ct32 + `","Name":"` + ct32 + `",`
			for _, e := range []string{
				enc("", `["IdCard","Name"]`, rsaBlob, ivCBC16, ""),
				enc("AES-256-CBC", `["IdCard","Name"]`, rsaBlob, ivCBC16, `[]`),
				enc("SM4-GCM", `["IdCard","Name"]`, sm2Blob, ivGCM12, `["`+tag16+`","`+tag16+`"]`),
				enc("SM4-GCM", `["IdCard","Name"]`, sm2Blob, ivGCM12, `["`+tag16+`",null]`),
				enc("", `["IdCard","IdCard"]`, rsaBlob, ivCBC16, ""),
				enc("", `["IdCard",null]`, rsaBlob, ivCBC16, ""),
				enc("", `["EncryptionBody"]`, rsaBlob, ivCBC16, ""),
				enc("", `["IdCard"]`, "abc", "", ""),
				enc("", `["Name"]`, rsaBlob, "AAAAAAAAAAAAAAAAAAAAAB==", ""),
				enc("sm4-gcm", `[]`, sm2Blob, ivGCM12, `null`),
				enc("", `[]`, rsaBlob, ivCBC16, ""),
			} {
				f.Add(uint8(i), idName+e+`}`)
			}
		case "DetectAIFakeFaces":
			f.Add(uint8(i), `{"EncryptedBody":"`+ct32+`",`+enc("SM4-GCM", `["EncryptionBody"]`, sm2Blob, ivGCM12, `["`+tag16+`"]`)+`}`)
			f.Add(uint8(i), `{"EncryptedBody":"`+ct32+`",`+enc("", `["EncryptionBody","FaceInput"]`, rsaBlob, ivCBC16, "")+`}`)
			f.Add(uint8(i), `{"EncryptedBody":"QQ==QQ==",`+enc("", `["EncryptionBody"]`, rsaBlob, ivCBC16, "")+`}`)
		case "GetDetectInfoEnhanced":
			f.Add(uint8(i), `{"BizToken":"x","RuleId":"0","IsEncryptResponse":true,`+enc("SM4-GCM", `["EncryptionBody"]`, sm2Blob, ivGCM12, `null`)+`}`)
		case "GetFaceIdToken":
			f.Add(uint8(i), `{"CompareLib":"BUSINESS","ImageBase64":"`+ct32+`",`+enc("", `["ImageBase64"]`, rsaBlob, ivCBC16, "")+`}`)
		case "PhoneVerification":
			f.Add(uint8(i), `{"IdCard":"`+ct32+`","Name":"张三","Phone":"13800138000","EncryptList":["IdCard"],"CiphertextBlob":"`+rsaBlob+`","Iv":"`+ivCBC16+`"}`)
		}
	}
	all := faceid.All()
	f.Fuzz(func(t *testing.T, pick uint8, body string) {
		a := all[int(pick)%len(all)]
		req, local, err := Check(a, []byte(body))
		over := int64(len(body)) > MaxBody(a.Name)
		if err != nil {
			e := errs.As(err)
			if e.Kind != errs.Invalid || e.Code == "" {
				t.Fatalf("refusal %v is not an Invalid error with a code", err)
			}
			if (e.Code == RequestSizeLimitExceeded) != over {
				t.Fatalf("size refusal %v for a %d-byte body (cap %d)", err, len(body), MaxBody(a.Name))
			}
			return
		}
		if over {
			t.Fatalf("accepted a %d-byte body over the cap %d", len(body), MaxBody(a.Name))
		}
		if local != nil {
			if local.Code.Charged || local.Field == "" || local.Rule == "" {
				t.Fatalf("local answer %+v", local)
			}
			return
		}
		if strings.TrimSpace(body) != "" && !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !utf8.ValidString(body) {
			t.Fatalf("accepted invalid UTF-8")
		}
		v := reflect.ValueOf(req).Elem()
		if e := v.FieldByName("Encryption"); e.IsValid() && !e.IsNil() {
			enc := e.Interface().(*faceid.Encryption)
			_, okBlob := base64Len(deref(enc.CiphertextBlob))
			_, okIv := base64Len(deref(enc.Iv))
			if !okBlob || !okIv || enc.CiphertextBlob == nil || enc.Iv == nil {
				t.Fatalf("accepted an Encryption without a well-formed CiphertextBlob and Iv")
			}
		}
		skip := encryptedFields(v)
		for name, r := range fieldRules {
			s, ok := stringField(v.FieldByName(name))
			if ok && !skip[name] && r.check(s) != nil {
				t.Fatalf("accepted %s that breaks its rule: %v", name, r.check(s))
			}
		}
		// Media fields come back as a stand-in ("A", or "" for a blank
		// value), never a copy of the media: the fixed point is checked
		// with the values the body held, put back from a plain decode.
		full := reflect.ValueOf(a.NewRequest())
		if err := json.Unmarshal([]byte(body), full.Interface()); err != nil && strings.TrimSpace(body) != "" {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		for i := 0; i < v.NumField(); i++ {
			name := v.Type().Field(i).Name
			if _, isMedia := a.MediaLimit(name); !isMedia {
				continue
			}
			if s, ok := stringField(v.Field(i)); ok && s != "A" && s != "" {
				t.Fatalf("media field %s came back as a %d-byte value, not a stand-in", name, len(s))
			}
			v.Field(i).Set(full.Elem().Field(i))
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		// Compared encoded: omitempty turns an empty list into an absent one.
		req2, local2, err := Check(a, again)
		if err != nil || local2 != nil {
			t.Fatalf("re-encoded request %s: local=%+v err=%v", again, local2, err)
		}
		v2 := reflect.ValueOf(req2).Elem()
		for i := 0; i < v2.NumField(); i++ {
			if _, isMedia := a.MediaLimit(v2.Type().Field(i).Name); isMedia {
				v2.Field(i).Set(v.Field(i))
			}
		}
		if third, _ := json.Marshal(req2); string(third) != string(again) {
			t.Fatalf("not a fixed point:\n%s\n%s", again, third)
		}
	})
}
