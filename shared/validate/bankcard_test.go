package validate

import "testing"

var bankCardCases = []ruleCase{
	{"ICBC 19 digits", "6222020000000000000", ""},
	{"Visa test 16 digits", "4111111111111111", ""},
	{"12 digits", "123456789015", ""},
	{"empty", "", "must be 12 to 19 digits"},
	{"11 digits", "12345678903", "must be 12 to 19 digits"},
	{"20 digits", "62220200000000000007", "must be 12 to 19 digits"},
	{"grouped with spaces", "6222 0200 0000 0000", "must contain only digits"},
	{"dashes", "4111-1111-1111-111", "must contain only digits"},
	{"letter", "622202000000000000A", "must contain only digits"},
	{"Luhn failure", "6222020000000000001", "check digit does not match"},
	{"transposed digits", "4111111111111121", "check digit does not match"},
}

func TestBankCard(t *testing.T) {
	for _, tc := range bankCardCases {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, BankCard(tc.in), tc.rule) })
	}
}

func TestLuhnDigit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byte
		rule string
	}{
		{"7992739871", '3', ""},
		{"622202000000000000", '0', ""},
		{"0", '0', ""},
		{"", 0, "must be one or more digits"},
		{"12a", 0, "must be one or more digits"},
	} {
		got, err := LuhnDigit(tc.in)
		checkRule(t, err, tc.rule)
		if got != tc.want {
			t.Errorf("LuhnDigit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Every length BankCard accepts, built from LuhnDigit, passes and agrees
	// with the independent whole-number check.
	prefix := "622202123456789012"
	for n := 11; n <= 18; n++ {
		card := mustCard(t, prefix[:n])
		checkRule(t, BankCard(card), "")
		if !luhnValid(card) {
			t.Errorf("LuhnDigit disagrees with luhnValid for length %d", n+1)
		}
	}
}
