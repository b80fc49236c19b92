package validate

import "testing"

var mobileCases = []ruleCase{
	{"China Mobile", "13800138000", ""},
	{"19x range", "19912345678", ""},
	{"14x range", "14500000000", ""},
	{"empty", "", "must be 11 digits"},
	{"10 digits", "1380013800", "must be 11 digits"},
	{"12 digits", "138001380000", "must be 11 digits"},
	{"country code +86", "+8613800138000", "must not include a country code"},
	{"country code 86", "8613800138000", "must be 11 digits"},
	{"spaces", "138 0013 80", "must contain only digits"},
	{"letter", "1380013800a", "must contain only digits"},
	{"full-width digits", "１３８００１３８０００", "must be 11 digits"},
	{"starts with 2", "23800138000", "must start with 1"},
	{"second digit 2", "12800138000", "second digit must be 3 to 9"},
	{"second digit 0", "10800138000", "second digit must be 3 to 9"},
	{"second digit 1", "11800138000", "second digit must be 3 to 9"},
}

func TestMobile(t *testing.T) {
	for _, tc := range mobileCases {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, Mobile(tc.in), tc.rule) })
	}
}
