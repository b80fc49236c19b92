package personlimit

import (
	"encoding/json"
	"strings"

	"github.com/idverify/idverify/shared/jsonshape"
)

// Kinds of identity a request carries.
const (
	KindIDNumber = "id"    // a resident ID number
	KindPhone    = "phone" // a mobile number
	KindBankCard = "card"  // a bank card number
	KindToken    = "token" // a flow token (BizToken, verify_token...)
)

// field is a top-level request member that carries an identity.
type field struct {
	Member string
	Kind   string
}

var (
	idCard   = field{"IdCard", KindIDNumber}
	idNum    = field{"IdNum", KindIDNumber}
	mobile   = field{"Mobile", KindPhone}
	phone    = field{"Phone", KindPhone}
	bankCard = field{"BankCard", KindBankCard}
)

// identities lists, per action, the members that identify the person it
// checks, the first present one counting: the ID number before a bank card
// before a phone number, since Tencent's own per-person limits count ID
// numbers. The FaceID names follow shared/faceid's request models; the
// faceAdv and Baidu ones their contracts (seed 002, seed 004).
var identities = map[string][]field{
	"IdCardVerification":            {idCard},
	"IdCardOCRVerification":         {idCard},
	"CheckIdNameDate":               {idCard},
	"ImageRecognition":              {idCard},
	"ImageRecognitionV2":            {idCard},
	"LivenessRecognition":           {idCard},
	"Liveness":                      {idCard},
	"DetectAuth":                    {idCard},
	"GetEidToken":                   {idCard},
	"GetFaceIdToken":                {idCard},
	"MinorsVerification":            {idCard, mobile},
	"ParseNfcData":                  {idNum},
	"PhoneVerification":             {idCard, phone},
	"PhoneVerificationCMCC":         {idCard, phone},
	"PhoneVerificationCTCC":         {idCard, phone},
	"PhoneVerificationCUCC":         {idCard, phone},
	"EncryptedPhoneVerification":    {idCard, phone},
	"CheckPhoneAndName":             {mobile},
	"MobileStatus":                  {mobile},
	"MobileNetworkTimeVerification": {mobile},
	"BankCardVerification":          {idCard, bankCard},
	"BankCard4EVerification":        {idCard, bankCard, phone},
	"BankCard2EVerification":        {bankCard},
	"CheckBankCardInformation":      {bankCard},
	"GetDetectInfo":                 {{"BizToken", KindToken}},
	"GetDetectInfoEnhanced":         {{"BizToken", KindToken}},
	"GetEidResult":                  {{"EidToken", KindToken}},
	"CheckEidTokenStatus":           {{"EidToken", KindToken}},
	"GetFaceIdResult":               {{"FaceIdToken", KindToken}},
	"GetFaceIdRiskInfo":             {{"FaceIdToken", KindToken}},
	"GetWxNFCResult":                {{"NFCToken", KindToken}},

	"faceAdv":       {{"idNo", KindIDNumber}},
	"faceAdvResult": {{"orderNo", KindToken}},

	"faceprint/idcard/submit":      {{"id_no", KindIDNumber}, {"verify_token", KindToken}},
	"faceprint/uploadMatchImage":   {{"verify_token", KindToken}},
	"faceprint/result/simple":      {{"verify_token", KindToken}},
	"faceprint/result/detail":      {{"verify_token", KindToken}},
	"faceprint/result/stat":        {{"verify_token", KindToken}},
	"faceprint/result/media/query": {{"verify_token", KindToken}},
	"faceprint/result/getall":      {{"verify_token", KindToken}},
}

// Identity is the person a request is about: its kind and its value,
// normalised so the same person is counted once however it is written.
// The value is hashed before it is used anywhere.
type Identity struct {
	Kind  string
	Value string
}

// IdentityOf finds the identity a request of action carries in its JSON
// body; ok is false when it carries none this package knows (or the body
// is not a JSON object: the contract refuses that itself). A member the
// caller encrypted itself (FaceID's Encryption.EncryptList) is passed
// over: its ciphertext differs on every call and names nobody.
//
// The body is read in one pass without copying it: it may be a 6 MB
// video beside the ID number.
func IdentityOf(action string, body []byte) (Identity, bool) {
	fields := identities[action]
	if len(fields) == 0 {
		return Identity{}, false
	}
	raws := make([][]byte, len(fields))
	var enc []byte
	if !jsonshape.Members(body, func(name, value []byte) bool {
		// The last of repeated members counts, as encoding/json has it.
		for i, f := range fields {
			if string(name) == f.Member {
				raws[i] = value
			}
		}
		if string(name) == "Encryption" {
			enc = value
		}
		return true
	}) {
		return Identity{}, false
	}
	encrypted := encryptedMembers(enc)
	for i, f := range fields {
		if raws[i] == nil || encrypted[f.Member] {
			continue
		}
		var s string
		if json.Unmarshal(raws[i], &s) != nil {
			// A number where a string belongs (Baidu's id_no): counted as
			// written; a wrong type is refused by the contract anyway.
			s = string(raws[i])
		}
		if v := normalise(f.Kind, s); v != "" {
			return Identity{Kind: f.Kind, Value: v}, true
		}
	}
	return Identity{}, false
}

// encryptedMembers is the set EncryptList names in a FaceID Encryption
// object (nil when there is none, or it does not parse: the contract
// refuses a malformed one before anything is sent).
func encryptedMembers(enc []byte) map[string]bool {
	if enc == nil {
		return nil
	}
	var e struct{ EncryptList []string }
	if json.Unmarshal(enc, &e) != nil || len(e.EncryptList) == 0 {
		return nil
	}
	m := make(map[string]bool, len(e.EncryptList))
	for _, f := range e.EncryptList {
		m[f] = true
	}
	return m
}

// normalise trims the value and, for an ID number, upper-cases the check
// letter X, so "x" and "X" are one person.
func normalise(kind, v string) string {
	v = strings.TrimSpace(v)
	switch kind {
	case KindIDNumber:
		return strings.ToUpper(v)
	case KindPhone, KindBankCard:
		return strings.NewReplacer(" ", "", "-", "").Replace(v)
	}
	return v
}
