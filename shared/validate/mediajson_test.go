package validate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// literals are the ways a client may write s in JSON: as encoding/json
// does, with every '/' escaped (PHP), and with every character a \u escape
// (surrogate pairs beyond the BMP).
func literals(s string) []string {
	b, _ := json.Marshal(s)
	std := string(b)
	var u strings.Builder
	u.WriteByte('"')
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&u, `\u%04x\u%04X`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&u, `\u%04x`, r)
	}
	u.WriteByte('"')
	return []string{std, strings.ReplaceAll(std, "/", `\/`), u.String()}
}

func checkSameAsDecoded(t *testing.T, lit string, limit int) {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil || !utf8.ValidString(lit) {
		return // not valid JSON and UTF-8: never given to Base64MediaJSON
	}
	want, got := fmt.Sprint(Base64Media(s, limit)), fmt.Sprint(Base64MediaJSON([]byte(lit), limit))
	if got != want {
		t.Fatalf("%s (limit %d): Base64MediaJSON says %s, Base64Media of the decoded string %s", lit, limit, got, want)
	}
	if BlankJSON([]byte(lit)) != (strings.TrimSpace(s) == "") {
		t.Fatalf("%s: BlankJSON = %v", lit, BlankJSON([]byte(lit)))
	}
}

func TestBase64MediaJSON(t *testing.T) {
	long := strings.Repeat("QUJD", 3000) // more than one 4 KiB block
	for _, s := range []string{
		"", "QUJD", "QUI=", "QQ==", "Q===", "QU=D", "QUJ", "data:image/png;base64,QUJD", "DATA:QUJD",
		"QU-D", "QU_D", "QU D", "QU\nD", "QUJD\t", "  ", "\u00a0\u2028", "QUJ\u00e9", "a/b+", long, long + "QUI=",
		long + "Q=D=", long + "QUJ!", "😀AAA", "/+/+",
	} {
		for _, lit := range literals(s) {
			for _, limit := range []int{0, 4, 8, 64, 1 << 20} {
				checkSameAsDecoded(t, lit, limit)
			}
		}
	}
	// A lone surrogate decodes to U+FFFD, as encoding/json does.
	for _, lit := range []string{`"\ud800AAA"`, `"\udc00\ud800"`, `"\ud83d\ude00"`, `"AA\u003d\u003D"`} {
		checkSameAsDecoded(t, lit, 64)
	}
	// The value is read in place.
	lit := []byte(`"` + long + `"`)
	if n := testing.AllocsPerRun(5, func() { _ = Base64MediaJSON(lit, len(long)) }); n != 0 {
		t.Fatalf("%v allocations per call, want 0", n)
	}
}

func FuzzBase64MediaJSON(f *testing.F) {
	f.Add("QUJD", 64)
	f.Add("QU/D", 64)
	f.Add(`data:\/QUJD`, 64)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		for _, lit := range literals(s) {
			checkSameAsDecoded(t, lit, limit)
		}
		// s itself as the inside of a literal, when it is one.
		checkSameAsDecoded(t, `"`+s+`"`, limit)
	})
}
