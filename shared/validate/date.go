package validate

import "time"

// minYear rejects years that cannot belong to a living person or a current
// document; it mostly catches a mistyped century (0990 for 1990).
const minYear = 1900

// LongTermValidity is what CheckIdNameDate expects in ValidityEnd for an ID
// card that never expires (长期).
const LongTermValidity = "00000000"

// Date8 checks a YYYYMMDD date such as CheckIdNameDate's ValidityBegin: eight
// ASCII digits forming a real Gregorian date in year 1900 or later. It knows
// nothing about the long-term marker; use ValidityEnd for the field that may
// carry it.
func Date8(s string) error {
	if len(s) != 8 {
		return broken("must be 8 digits in the form YYYYMMDD")
	}
	if !allDigits(s) {
		return broken("must contain only digits (YYYYMMDD)")
	}
	y, m, d := splitDate8(s)
	if y < minYear {
		return broken("year must be 1900 or later")
	}
	if !realDate(y, m, d) {
		return broken("is not a real calendar date")
	}
	return nil
}

// ValidityEnd is Date8 that also accepts LongTermValidity. It does not
// compare against ValidityBegin or today: an expired card is for the
// authority to judge, and Tencent reports it without charging.
func ValidityEnd(s string) error {
	if s == LongTermValidity {
		return nil
	}
	return Date8(s)
}

// splitDate8 expects eight ASCII digits.
func splitDate8(s string) (y, m, d int) {
	return atoi(s[0:4]), atoi(s[4:6]), atoi(s[6:8])
}

// realDate is done by hand rather than by time.Date round-tripping because
// time.Date silently normalises Feb 30 into March.
func realDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// chinaTime is fixed rather than loaded so the package needs no tzdata in
// a minimal function image; mainland China has had no DST since 1991.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// dateNumber orders dates as YYYYMMDD integers, which is all the future
// check needs.
func dateNumber(y, m, d int) int { return y*10000 + m*100 + d }

func todayNumber(now time.Time) int {
	y, m, d := now.In(chinaTime).Date()
	return dateNumber(y, int(m), d)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi expects a short run of ASCII digits; callers check that first.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
