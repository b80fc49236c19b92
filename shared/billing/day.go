package billing

import "time"

// ChinaTime is Beijing time, whose midnight ends a day for every count kept
// here: Tencent bills by it, and its per-person limits reset at 0:00 Beijing
// time ("请第二天0点后重试"). Budgets, per-person limits and usage share it,
// so a day of one is a day of the others.
var ChinaTime = time.FixedZone("UTC+8", 8*3600)

// DayStart is the Beijing midnight that began t's day, in ChinaTime.
func DayStart(t time.Time) time.Time {
	d := t.In(ChinaTime)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, ChinaTime)
}
