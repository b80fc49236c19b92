// Package validate holds the checks that run on caller input before any
// paid FaceID call. Tencent answers most malformed input with a free result
// code, but only after a network round trip, a rate-limit slot and, for some
// actions, a charge; catching it here is cheaper and gives the caller a
// clearer reason.
//
// Every function is pure and uses only the standard library. Each returns
// nil or a *RuleError whose message names the broken rule in plain English,
// meant to follow a field name ("IdCard check digit does not match").
// Messages never contain the input, not even part of it (a birth date is
// part of an ID number), because most fields are personal data. No input,
// including invalid UTF-8 or a string of many megabytes, makes a function
// panic or do work beyond a single linear scan.
//
// Where the rules come from:
//
//   - IDNumber: GB 11643-1999 (citizen identity number: six-digit area code
//     whose first two digits are a GB/T 2260 province, eight-digit birth
//     date, three-digit sequence, ISO 7064 MOD 11-2 check character). The
//     upper-case-X rule is from the FaceID DetectAuth documentation.
//   - Mobile: the mainland numbering plan (11 digits, 13x-19x ranges).
//   - BankCard: ISO/IEC 7812 card numbers (12-19 digits, Luhn check digit).
//   - Name: what the FaceID element checks accept, with the 32-character
//     maximum documented for DetectAuth and GetEidToken as an upper bound.
//   - Base64Media, HTTPURL: the FaceID field comments, which ask for
//     standard RFC 4648 base64 with padding, give size limits for the
//     encoded form, and give a 1024-character limit for RedirectUrl.
//   - Date8, ValidityEnd: CheckIdNameDate's YYYYMMDD format, where
//     "00000000" means a long-term ID card.
//   - LivenessType, ValidateData: the liveness actions' field comments
//     (LIP/ACTION/SILENT; the GetLiveCode digits "1234" or the
//     GetActionSequence order "2,1 or 1,2"; nothing for SILENT).
//
// Where Tencent documents a rule, the check matches it (a lower-case x in
// an ID number is rejected because Tencent rejects it). Elsewhere a check
// rejects only what cannot be a real value: a birth date in the future, a
// name with digits. Nothing here says that an identity exists; that is what
// the paid call is for.
package validate
