package validate

import "time"

// idWeights are 2^(17-i) mod 11, the ISO 7064 MOD 11-2 weights for the
// first 17 digits of a GB 11643 number.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps (weighted sum mod 11) to the check character.
const idCheckChars = "10X98765432"

// provinces holds the GB/T 2260 province-level codes that can start a
// resident ID number (71, Taiwan, is listed there and so kept), plus 81, 82
// and 83, which start the numbers on the residence permits for Hong Kong,
// Macao and Taiwan residents (港澳台居民居住证); those follow the same GB
// 11643 layout. 91 is left out on purpose: the "91 国外" row copied around
// old validators is not a GB/T 2260 code, and the 2023 foreigners'
// permanent residence card starts with 9 followed by the issuing province
// and a nationality code, so it needs rules of its own.
var provinces = func() (p [100]bool) {
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}} {
		for c := r[0]; c <= r[1]; c++ {
			p[c] = true
		}
	}
	return p
}()

// IDNumber checks a mainland China resident ID number (GB 11643-1999) as
// FaceID expects it: 18 characters, 17 ASCII digits then a digit or an
// upper-case X, a known province code, a real birth date between 1900 and
// today (China time), and a matching ISO 7064 MOD 11-2 check character.
//
// A lower-case x is rejected rather than accepted: DetectAuth documents that
// "小写 x 将无法通过校验", and a validator that silently passed what Tencent
// rejects would let the caller pay for a doomed call. Callers that want to
// be forgiving should upper-case the value before validating and sending it.
func IDNumber(s string) error { return idNumberAt(s, time.Now()) }

// idNumberAt is IDNumber with an explicit clock so tests and fuzzing do not
// depend on the day they run.
func idNumberAt(s string, now time.Time) error {
	if len(s) != 18 {
		return broken("must be 18 characters")
	}
	if !allDigits(s[:17]) {
		return broken("first 17 characters must be digits")
	}
	switch last := s[17]; {
	case last == 'x':
		return broken("last character must be an upper-case X, not a lower-case x")
	case last != 'X' && (last < '0' || last > '9'):
		return broken("last character must be a digit or X")
	}
	if !provinces[atoi(s[:2])] {
		return broken("first two digits are not a known province code")
	}
	y, m, d := splitDate8(s[6:14])
	if y < minYear {
		return broken("birth year must be 1900 or later")
	}
	if !realDate(y, m, d) {
		return broken("birth date is not a real calendar date")
	}
	if dateNumber(y, m, d) > todayNumber(now) {
		return broken("birth date is in the future")
	}
	if want, _ := IDCheckDigit(s[:17]); s[17] != want {
		return broken("check digit does not match")
	}
	return nil
}

// IDCheckDigit returns the GB 11643 check character ('0'-'9' or 'X') for
// the first 17 digits of an ID number, so that test fixtures and the sandbox
// can build numbers that pass IDNumber. It checks only that first17 is 17
// ASCII digits, not the province or date.
func IDCheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 || !allDigits(first17) {
		return 0, broken("must be 17 digits")
	}
	sum := 0
	for i, w := range idWeights {
		sum += int(first17[i]-'0') * w
	}
	return idCheckChars[sum%11], nil
}
