package validate

import "testing"

// TestErrorsDoNotLeakInput runs every failing row of the personal-data
// tables again and checks that no six-byte window of the input (the whole
// input when shorter) shows up in the message. For ID numbers that also
// covers the embedded birth date.
func TestErrorsDoNotLeakInput(t *testing.T) {
	tables := map[string]struct {
		cases []ruleCase
		fn    func(string) error
	}{
		"IDNumber": {idCases, func(s string) error { return idNumberAt(s, fixedNow) }},
		"Mobile":   {mobileCases, Mobile},
		"BankCard": {bankCardCases, BankCard},
		"Name":     {nameCases, Name},
		"Date8":    {date8Cases, Date8},
	}
	for name, tab := range tables {
		t.Run(name, func(t *testing.T) {
			for _, tc := range tab.cases {
				if tc.rule == "" {
					continue
				}
				assertNoLeak(t, tc.in, tab.fn(tc.in))
			}
		})
	}
}
