// Package sandbox is a deterministic emulator of every Tencent FaceID
// 2018-03-01 action. It implements provider.FaceID (Name "sandbox"), makes
// no outbound call, bills nothing and logs nothing. Every RequestId it
// returns starts with "sandbox-", so a sandbox answer cannot pass for a real
// one.
//
// # Happy path
//
// Any valid input passes every check, with complete, realistic responses:
// every documented response field is present, and filled wherever Tencent
// fills it for that request (null where Tencent documents null: a risk tag
// when there is no risk, Encryption when nothing was encrypted). The
// canonical values are HappyName 张三, HappyIDCard 110101199003074477,
// HappyMobile 13800138000 and HappyBankCard 6222020000000000000.
//
// # Magic values
//
// Like Stripe's test card numbers, a magic value in one request field
// selects one documented outcome. An action's outcomes are numbered from 1,
// in an order derived from the registry at start:
//
//   - element checks (numeric Result codes): the documented result codes
//     other than success, in registry order;
//   - face checks ("Success" / "FailedOperation.X": ImageRecognitionV2,
//     LivenessRecognition, LivenessCompare, CheckIdCardInformation, the
//     deprecated ImageRecognition and Liveness, and
//     DetectAIFakeFaces, which has no Result): the documented results other
//     than Success, then the action's other FailedOperation.* error codes in
//     registry order. InvalidParameter* and UnauthorizedOperation* codes are
//     about the request or the account and are not outcomes;
//   - then documented values within a code ("variants"): MobileStatus
//     StatusCode, MobileNetworkTimeVerification Range, MinorsVerification
//     AgeRange, DetectAIFakeFaces AttackRiskLevel, PhoneVerification
//     ResultDetail (VerifyMode 1);
//   - for the flows, the outcomes listed under Flows.
//
// Outcome NN (01-99) is selected by:
//
//   - IdCard, in every action that has one: "11010119900307" + "9" + NN +
//     the GB 11643 check character (MagicIDCard). EncryptedPhoneVerification
//     also accepts its MD5 or SHA-256 hex digest (EncryptionMode 1 or 2);
//   - Mobile/Phone, in actions without an IdCard (MobileStatus,
//     MobileNetworkTimeVerification, CheckPhoneAndName): "139000009" + NN
//     (MagicMobile); MinorsVerification also takes it in Mobile;
//   - BankCard, in actions without an IdCard (CheckBankCardInformation,
//     BankCard2EVerification): "62220200000009" + NN + the Luhn digit
//     (MagicBankCard);
//   - any base64 media field (ImageBase64, VideoBase64, FaceInput): the
//     base64 of the ASCII text "sandbox-outcome-NN" (MagicMedia). This is
//     how the photo-only actions (LivenessCompare, CheckIdCardInformation,
//     IdCardOCRVerification, DetectAIFakeFaces, Liveness) are steered; other media
//     succeeds;
//   - GetWxNFCResult NFCToken and ParseNfcData ReqId:
//     "sandbox-nfc-outcome-NN" (MagicNFCToken).
//
// Magic IDs and cards carry correct check digits, so they pass our own
// validation and reach the provider. A number beyond an action's outcomes,
// and any other valid value, takes the success outcome.
//
// # Encryption
//
// Fields or bodies sent encrypted (Encryption, EncryptedBody) to the
// sandbox's published test keys (keys.go) are decrypted before the outcome
// is picked, so magic values work encrypted; what does not decrypt is
// FailedOperation.DecryptSystemError, a field the action does not take
// encrypted InvalidParameter.UnsupportEncryptField (crypt.go). Under
// IsEncryptResponse the answer comes back encrypted with the request's key.
// eID's EidInfo carries the identity encrypted to Options.EidPublicKey, or
// to EidPrivateKey's public half.
//
// Face-check failures come back as a normal response with Result
// "FailedOperation.X" and Tencent's description of that code.
// DetectAIFakeFaces, which has no Result field, fails with an API error
// (*errs.Error of kind Provider, Code "FailedOperation.X").
//
// Invalid input (a bad check digit, a name with digits, a malformed date
// or phone number) gets the action's documented code for it (-2 非法身份证号
// and so on). Our precheck gives that answer before any provider call; the
// sandbox gives the same one when called directly.
//
// Scenarios lists every outcome with its magic value and a complete
// example request; Markdown renders the list for the documentation.
//
// # Flows
//
// The sandbox plays the end user: a flow is finished the moment its token
// is issued, with the outcome the issuing request's magic value chose.
//
//   - DetectAuth -> BizToken -> GetDetectInfo / GetDetectInfoEnhanced (same
//     RuleId). Outcomes: 0 成功, 1001, 1002, 2005, 2006, 2015, 2016, 2018
//     (Text.ErrCode; see saas.go), and "user never finished" (all results
//     null). Results can be pulled for 3 days. An unknown or expired
//     BizToken is InvalidParameterValue.BizTokenExpired, the only token code
//     these actions document; another RuleId is
//     InvalidParameterValue.RuleIdNotExist.
//   - GetEidToken -> EidToken -> CheckEidTokenStatus / GetEidResult.
//     Outcomes: finished (default), init, doing, timeout, the GetEidToken
//     error FailedOperation.UnregisteredEid, and finished with each flow
//     failure code. init and doing become timeout 600 s after issue (the
//     EidToken's documented validity). Results and status can be pulled for
//     3 days; then InvalidParameterValue.BizTokenExpired. An unknown
//     EidToken is InvalidParameterValue.BizTokenIllegal.
//   - GetFaceIdToken -> FaceIdToken -> GetFaceIdResult (Result: the flow
//     codes) and GetFaceIdRiskInfo; GetFaceidRiskInfoToken -> FaceIdToken ->
//     GetFaceIdRiskInfo. 3 days; unknown BizTokenIllegal, expired
//     BizTokenExpired.
//   - GetNFCToken -> Token -> GetWxNFCResult within 10 minutes; unknown or
//     expired is FailedOperation.InvalidTokenParameter.
//
// Lifetimes are measured against Options.Now, so tests can move a fake
// clock past them.
//
// Tokens describe themselves: kind, issuing call, outcome number, issue
// time, intention mode and a hash of the RuleId, plus a checksum. That is
// what makes flows work when DetectAuth and GetDetectInfo are separate
// functions in separate processes. The name, ID number and Extra a caller
// passed are never put in a token; they are kept in memory, per Provider
// instance, and echoed back only by the instance that issued the token
// (another instance reports the happy-path or magic identity instead).
// Memory is swept of flows older than three days and capped at 10,000
// flows.
//
// # Not emulated
//
// The older field-level answer encryption (GetDetectInfoEnhanced's
// Encryption without IsEncryptResponse, CheckIdCardInformation's IsEncrypt):
// those answers are plaintext, with Encryption and EncryptedBody null.
// PhoneVerification's KMS envelope is not decrypted. eID's EidSign is a
// placeholder. Account states (arrears, service not activated) and rate
// limits are not emulated.
package sandbox
