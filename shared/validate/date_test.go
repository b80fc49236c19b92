package validate

import "testing"

var date8Cases = []ruleCase{
	{"ordinary", "20210701", ""},
	{"leap day 2000", "20000229", ""},
	{"first allowed", "19000101", ""},
	{"far future is fine", "20991231", ""},
	{"empty", "", "must be 8 digits"},
	{"7 digits", "2021070", "must be 8 digits"},
	{"dashed", "2021-07-01", "must be 8 digits"},
	{"letter O", "2021O701", "must contain only digits"},
	{"Feb 30", "20210230", "is not a real calendar date"},
	{"Feb 29 2100", "21000229", "is not a real calendar date"},
	{"month 13", "20211301", "is not a real calendar date"},
	{"day 32", "20210132", "is not a real calendar date"},
	{"year 1899", "18991231", "year must be 1900 or later"},
	{"long-term marker is not a date", "00000000", "year must be 1900 or later"},
}

func TestDate8(t *testing.T) {
	for _, tc := range date8Cases {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, Date8(tc.in), tc.rule) })
	}
}

func TestValidityEnd(t *testing.T) {
	for _, tc := range []ruleCase{
		{"long-term", LongTermValidity, ""},
		{"date", "20410701", ""},
		{"Feb 30", "20410230", "is not a real calendar date"},
		{"almost long-term", "0000000", "must be 8 digits"},
		{"year 0", "00000101", "year must be 1900 or later"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, ValidityEnd(tc.in), tc.rule) })
	}
}

func TestDaysIn(t *testing.T) {
	want := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if got := daysIn(2023, m); got != want[m] {
			t.Errorf("daysIn(2023, %d) = %d, want %d", m, got, want[m])
		}
	}
	for y, leap := range map[int]bool{1900: false, 2000: true, 2024: true, 2100: false, 2023: false} {
		if got := daysIn(y, 2) == 29; got != leap {
			t.Errorf("leap(%d) = %v, want %v", y, got, leap)
		}
	}
}
