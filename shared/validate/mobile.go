package validate

// Mobile checks a mainland China mobile number as FaceID's phone actions
// take it: 11 ASCII digits, no country code, starting with 1 and a second
// digit of 3 to 9 (no mobile range has ever started 10, 11 or 12). The
// narrower per-carrier ranges are not checked: they change every few years
// and Tencent answers an unsupported range with a free result code.
func Mobile(s string) error {
	if len(s) > 0 && s[0] == '+' {
		return broken("must not include a country code")
	}
	if len(s) != 11 {
		return broken("must be 11 digits")
	}
	if !allDigits(s) {
		return broken("must contain only digits")
	}
	if s[0] != '1' {
		return broken("must start with 1")
	}
	if s[1] < '3' {
		return broken("second digit must be 3 to 9")
	}
	return nil
}
