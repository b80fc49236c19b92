package validate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fixedNow is 2026-05-02 00:30 in China but still 2026-05-01 in UTC, so the
// future-date tests also pin down that "today" is taken in China time.
var fixedNow = time.Date(2026, 5, 1, 16, 30, 0, 0, time.UTC)

// ruleCase is one table row. rule is "" for valid input, otherwise a
// fragment that the error message must contain.
type ruleCase struct {
	name string
	in   string
	rule string
}

// checkRule asserts err against want: nil when want is "", otherwise a
// *RuleError whose message contains want.
func checkRule(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got error %q, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got nil, want rule %q", want)
	}
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("got %T, want *RuleError", err)
	}
	if !strings.Contains(re.Rule, want) {
		t.Fatalf("got rule %q, want it to contain %q", re.Rule, want)
	}
}

// mustID completes a 17-digit prefix with its check character.
func mustID(t testing.TB, first17 string) string {
	t.Helper()
	c, err := IDCheckDigit(first17)
	if err != nil {
		t.Fatalf("IDCheckDigit: %v", err)
	}
	return first17 + string(c)
}

// mustCard completes a digit prefix with its Luhn digit.
func mustCard(t testing.TB, prefix string) string {
	t.Helper()
	c, err := LuhnDigit(prefix)
	if err != nil {
		t.Fatalf("LuhnDigit: %v", err)
	}
	return prefix + string(c)
}

// iso7064 is the textbook recursive form of MOD 11-2, written differently
// from the weight table in IDCheckDigit so each checks the other.
func iso7064(first17 string) byte {
	p := 0
	for i := 0; i < len(first17); i++ {
		p = (p + int(first17[i]-'0')) * 2 % 11
	}
	c := (12 - p) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// luhnValid is the textbook Luhn check over a whole number, written
// differently from LuhnDigit so each checks the other.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d = d*2/10 + d*2%10
		}
		sum += d
	}
	return sum%10 == 0
}

func assertNoLeak(t testing.TB, input string, err error) {
	t.Helper()
	if err == nil || len(input) < 3 {
		return
	}
	msg := err.Error()
	w := min(len(input), 6)
	for i := 0; i+w <= len(input); i++ {
		if strings.Contains(msg, input[i:i+w]) {
			t.Fatalf("error message %q contains part of the input", msg)
		}
	}
}
