package validate

import (
	"strings"
	"testing"
)

var idCases = []ruleCase{
	{"happy path", "110101199003074477", ""},
	{"check X", "11010119900307002X", ""},
	{"Hong Kong permit 81", "81000019940823003X", ""},
	{"Macao permit 82", "820000199408230015", ""},
	{"Taiwan permit 83", "830000199408230025", ""},
	{"Taiwan 71", "710000199408230028", ""},
	{"leap day 2000", "44030520000229007X", ""},
	{"born today in China time", "110101202605020008", ""},
	{"born 1900-01-01", "110101190001010006", ""},

	{"empty", "", "must be 18 characters"},
	{"17 chars", "11010119900307447", "must be 18 characters"},
	{"19 chars", "1101011990030744770", "must be 18 characters"},
	{"full-width digits", "１１０１０１１９９００３０７４４７７", "must be 18 characters"},
	{"letter in body", "1101011990030744A7", "first 17 characters must be digits"},
	{"space in body", "110101 99003074477", "first 17 characters must be digits"},
	{"lower-case x", "11010119900307002x", "upper-case X, not a lower-case x"},
	{"last Y", "11010119900307002Y", "last character must be a digit or X"},
	{"invalid UTF-8 last byte", "11010119900307002\xff", "last character must be a digit or X"},
	{"province 00", "000101199003074477", "province code"},
	{"province 10", "100101199003074477", "province code"},
	{"province 16", "160101199003074477", "province code"},
	{"province 39", "390101199003074477", "province code"},
	{"province 72", "720101199003074477", "province code"},
	{"province 84", "840101199003074477", "province code"},
	{"province 91", "910101199003074477", "province code"},
	{"year 1899", "110101189912310000", "birth year must be 1900 or later"},
	{"Feb 30", "110101199002300000", "birth date is not a real calendar date"},
	{"Feb 29 1900", "110101190002290000", "birth date is not a real calendar date"},
	{"Feb 29 2023", "110101202302290000", "birth date is not a real calendar date"},
	{"month 13", "110101199013010000", "birth date is not a real calendar date"},
	{"month 00", "110101199000010000", "birth date is not a real calendar date"},
	{"day 00", "110101199001000000", "birth date is not a real calendar date"},
	{"April 31", "110101199004310000", "birth date is not a real calendar date"},
	{"tomorrow", "110101202605030000", "birth date is in the future"},
	{"far future", "110101299001010000", "birth date is in the future"},
	{"wrong check digit", "110101199003074478", "check digit does not match"},
	{"X where digit due", "11010119900307447X", "check digit does not match"},
}

func TestIDNumber(t *testing.T) {
	for _, tc := range idCases {
		t.Run(tc.name, func(t *testing.T) {
			checkRule(t, idNumberAt(tc.in, fixedNow), tc.rule)
		})
	}
}

// TestIDNumberFixturesReachTheirRule guards the table: a failing row must
// fail for its stated reason only, so every row other than the check-digit
// rows gets a correct check character and length rows are left alone.
func TestIDNumberFixturesReachTheirRule(t *testing.T) {
	for _, tc := range idCases {
		if tc.rule == "" || len(tc.in) != 18 || !allDigits(tc.in[:17]) || strings.Contains(tc.rule, "check digit") || strings.Contains(tc.rule, "last character") || strings.Contains(tc.rule, "lower-case x") {
			continue
		}
		fixed := mustID(t, tc.in[:17])
		checkRule(t, idNumberAt(fixed, fixedNow), tc.rule)
	}
}

func TestIDNumberUsesClock(t *testing.T) {
	// IDNumber reads the real clock; a number born in 1990 passes on any
	// day this test could run.
	checkRule(t, IDNumber("110101199003074477"), "")
	checkRule(t, IDNumber(mustID(t, "11010199990101000")), "birth date is in the future")
}

func TestIDNumberEveryProvince(t *testing.T) {
	valid := map[int]bool{}
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}} {
		for c := r[0]; c <= r[1]; c++ {
			valid[c] = true
		}
	}
	for p := 0; p < 100; p++ {
		id := mustID(t, string([]byte{byte('0' + p/10), byte('0' + p%10)})+"010119900307447")
		want := ""
		if !valid[p] {
			want = "province code"
		}
		checkRule(t, idNumberAt(id, fixedNow), want)
	}
}

func TestIDCheckDigit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byte
		rule string
	}{
		{"11010119900307447", '7', ""},
		{"11010119900307002", 'X', ""},
		{"81000019940823000", '5', ""},
		{"", 0, "must be 17 digits"},
		{"1101011990030744", 0, "must be 17 digits"},
		{"110101199003074477", 0, "must be 17 digits"},
		{"1101011990030744a", 0, "must be 17 digits"},
	} {
		got, err := IDCheckDigit(tc.in)
		checkRule(t, err, tc.rule)
		if got != tc.want {
			t.Errorf("IDCheckDigit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The weight table must agree with the recursive definition everywhere;
	// walk one digit position at a time through every value.
	base := []byte("11010119900307447")
	for pos := range base {
		for d := byte('0'); d <= '9'; d++ {
			b := append([]byte(nil), base...)
			b[pos] = d
			got, _ := IDCheckDigit(string(b))
			if want := iso7064(string(b)); got != want {
				t.Fatalf("IDCheckDigit(%s) = %c, want %c", b, got, want)
			}
		}
	}
}
