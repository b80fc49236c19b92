package billing

import (
	"testing"
	"time"
)

// A day is Beijing's: 16:30 UTC is already the next day there.
func TestDayStart(t *testing.T) {
	for _, c := range []struct{ at, want string }{
		{"2026-12-02T16:30:00Z", "2026-12-03T00:00:00+08:00"},
		{"2026-12-02T15:59:59Z", "2026-12-02T00:00:00+08:00"},
		{"2026-12-31T16:00:00Z", "2027-01-01T00:00:00+08:00"},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := DayStart(at).Format(time.RFC3339); got != c.want {
			t.Errorf("DayStart(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}
