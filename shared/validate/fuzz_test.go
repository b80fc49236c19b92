package validate

import (
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Seeds live in testdata/fuzz/<FuzzName>/; f.Add only adds the shapes that
// are easiest to read next to the invariants.

// ruleOf fails the fuzz run unless err is nil or a *RuleError carrying one
// of the fixed messages that the table tests produce, and returns the rule
// ("" for nil). A closed set is a stronger guard than searching the message
// for the input: any message built from the input would be new, and short
// inputs that happen to spell a word of a message ("12") are not flagged.
func ruleOf(t *testing.T, err error) string {
	t.Helper()
	rule := kindOf(t, err)
	if rule != "" && !knownRules()[rule] {
		t.Fatalf("message %q is not one of the fixed rule messages", rule)
	}
	return rule
}

// knownRules collects every message the personal-data validators give for
// the table inputs. It doubles as a coverage check: a rule that no table
// row reaches shows up here as an unknown message.
var knownRules = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	add := func(cases []ruleCase, fn func(string) error) {
		for _, tc := range cases {
			if err := fn(tc.in); err != nil {
				m[err.Error()] = true
			}
		}
	}
	add(idCases, func(s string) error { return idNumberAt(s, fixedNow) })
	add(mobileCases, Mobile)
	add(bankCardCases, BankCard)
	add(nameCases, Name)
	return m
})

// kindOf is ruleOf without the closed set, for media, whose size message
// carries the configured limit.
func kindOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var re *RuleError
	if !errors.As(err, &re) || re.Rule == "" {
		t.Fatalf("error %#v is not a non-empty *RuleError", err)
	}
	return re.Rule
}

func FuzzIDNumber(f *testing.F) {
	f.Add("110101199003074477")
	f.Add("11010119900307002x")
	f.Fuzz(func(t *testing.T, s string) {
		rule := ruleOf(t, idNumberAt(s, fixedNow))
		if rule == "" {
			if len(s) != 18 || !allDigits(s[:17]) || s[17] != iso7064(s[:17]) {
				t.Fatalf("accepted a number that fails the length, digit or check rule")
			}
		}
		if len(s) < 17 || !allDigits(s[:17]) {
			if _, err := IDCheckDigit(s[:min(len(s), 17)]); len(s) >= 17 && err == nil {
				t.Fatalf("IDCheckDigit accepted non-digits")
			}
			return
		}
		// A number completed by IDCheckDigit never fails on its check digit,
		// and if it is valid, every other final character is refused on
		// exactly that rule (or the lower-case x rule).
		c, err := IDCheckDigit(s[:17])
		if err != nil || c != iso7064(s[:17]) {
			t.Fatalf("IDCheckDigit = %q, %v; want %q", c, err, iso7064(s[:17]))
		}
		built := s[:17] + string(c)
		builtRule := ruleOf(t, idNumberAt(built, fixedNow))
		if strings.Contains(builtRule, "check digit") {
			t.Fatalf("number completed by IDCheckDigit failed the check digit rule")
		}
		if builtRule == "" && len(s) == 18 && s[17] != c {
			if !strings.Contains(rule, "check digit") && !strings.Contains(rule, "last character") {
				t.Fatalf("wrong final character reported as %q", rule)
			}
		}
	})
}

var mobileOracle = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

func FuzzMobile(f *testing.F) {
	f.Add("13800138000")
	f.Fuzz(func(t *testing.T, s string) {
		rule := ruleOf(t, Mobile(s))
		if want := mobileOracle.MatchString(s); (rule == "") != want {
			t.Fatalf("Mobile accepted=%v, regexp says %v", rule == "", want)
		}
	})
}

var cardOracle = regexp.MustCompile(`^[0-9]{12,19}$`)

func FuzzBankCard(f *testing.F) {
	f.Add("6222020000000000000")
	f.Fuzz(func(t *testing.T, s string) {
		rule := ruleOf(t, BankCard(s))
		want := cardOracle.MatchString(s) && luhnValid(s)
		if (rule == "") != want {
			t.Fatalf("BankCard accepted=%v, oracle says %v", rule == "", want)
		}
		if s != "" && allDigits(s) {
			c, err := LuhnDigit(s)
			if err != nil || !luhnValid(s+string(c)) {
				t.Fatalf("LuhnDigit = %q, %v does not complete a valid number", c, err)
			}
		}
	})
}

func FuzzName(f *testing.F) {
	f.Add("阿卜杜热西提·买买提")
	f.Add("John Smith")
	f.Fuzz(func(t *testing.T, s string) {
		if ruleOf(t, Name(s)) != "" {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8")
		}
		if n := utf8.RuneCountInString(s); n < MinNameRunes || n > MaxNameRunes {
			t.Fatalf("accepted %d runes", n)
		}
		if strings.TrimSpace(s) != s {
			t.Fatalf("accepted leading or trailing space")
		}
		var han, latin bool
		for _, r := range s {
			switch {
			case unicode.IsNumber(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.IsSymbol(r) && r != '•':
				t.Fatalf("accepted rune %U", r)
			case unicode.Is(unicode.Han, r):
				han = true
			case unicode.IsLetter(r):
				latin = true
			}
		}
		if han == latin {
			t.Fatalf("accepted a name with han=%v latin=%v", han, latin)
		}
	})
}

func FuzzBase64Media(f *testing.F) {
	f.Add("QUJD", 64)
	f.Add("data:image/png;base64,QUJD", 64)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		rule := kindOf(t, Base64Media(s, limit))
		// The standard library decoder is the oracle, except that it skips
		// CR and LF, which Tencent's raw base64 must not contain.
		_, decErr := base64.StdEncoding.DecodeString(s)
		want := s != "" && len(s) <= limit && !strings.ContainsAny(s, "\r\n") && decErr == nil
		if (rule == "") != want {
			t.Fatalf("Base64Media accepted=%v (rule %q), oracle says %v", rule == "", rule, want)
		}
	})
}

func FuzzDate8(f *testing.F) {
	f.Add("20210701")
	f.Add("20210230")
	f.Fuzz(func(t *testing.T, s string) {
		rule := kindOf(t, Date8(s))
		// time.Parse rejects Feb 30 and friends, so it is an independent
		// oracle once the shape (exactly eight ASCII digits) is fixed.
		_, perr := time.Parse("20060102", s)
		want := len(s) == 8 && allDigits(s) && perr == nil && s >= "1900"
		if (rule == "") != want {
			t.Fatalf("Date8 accepted=%v (rule %q), oracle says %v", rule == "", rule, want)
		}
		if (kindOf(t, ValidityEnd(s)) == "") != (want || s == LongTermValidity) {
			t.Fatalf("ValidityEnd disagrees with Date8")
		}
	})
}

func FuzzHTTPURL(f *testing.F) {
	f.Add("https://example.com/a.jpg", 1024)
	f.Add("https://user:pw@example.com:99999/", 1024)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if kindOf(t, HTTPURL(s, limit)) != "" {
			return
		}
		u, err := url.Parse(s)
		switch {
		case len(s) > limit:
			t.Fatalf("accepted a URL over the limit")
		case err != nil:
			t.Fatalf("accepted a URL that url.Parse rejects")
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil:
			t.Fatalf("accepted scheme %q, empty host or user info", u.Scheme)
		case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
			t.Fatalf("accepted a space, control or non-ASCII byte")
		}
	})
}
