package validate

// BankCard checks a bank card number: 12 to 19 ASCII digits ending in a
// valid Luhn check digit (ISO/IEC 7812). Mainland cards are 16 to 19 digits;
// the lower bound of 12 leaves room for older issuers while still refusing
// short fragments. Spaces and dashes, as printed on cards, are rejected; the
// caller may strip them first.
func BankCard(s string) error {
	if len(s) < 12 || len(s) > 19 {
		return broken("must be 12 to 19 digits")
	}
	if !allDigits(s) {
		return broken("must contain only digits")
	}
	if want, _ := LuhnDigit(s[:len(s)-1]); s[len(s)-1] != want {
		return broken("check digit does not match")
	}
	return nil
}

// LuhnDigit returns the Luhn check digit ('0'-'9') to append to prefix, so
// that fixtures and the sandbox can build card numbers that pass BankCard.
// prefix must be a non-empty run of ASCII digits; its length is not checked.
func LuhnDigit(prefix string) (byte, error) {
	if prefix == "" || !allDigits(prefix) {
		return 0, broken("must be one or more digits")
	}
	sum := 0
	// Walking right to left, the digit next to the check digit is doubled.
	double := true
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10), nil
}
