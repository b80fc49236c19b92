package jsonshape

import (
	"strconv"
	"unicode/utf8"
)

// QuotePath quotes a caller-chosen member path for an error message,
// bounded to 64 bytes on a character boundary.
func QuotePath(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}
