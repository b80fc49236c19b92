package validate

import (
	"bytes"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Base64MediaJSON is Base64Media for a value still in its JSON form: lit is
// a JSON string literal, quotes included, as it stands in a request body
// that was already checked to be valid JSON and UTF-8. It answers exactly
// what Base64Media answers for the decoded string, without making that
// string: a 6 MB image is checked where it lies, and escapes (PHP's "\/")
// are decoded on the fly, a few bytes at a time.
func Base64MediaJSON(lit []byte, maxEncodedBytes int) error {
	var m mediaScan
	for it := newChunks(lit); ; {
		c, ok := it.next()
		if !ok {
			break
		}
		if m.hn < len(m.head) {
			m.hn += copy(m.head[m.hn:], c)
		}
		m.n += len(c)
	}
	if err := m.start(maxEncodedBytes); err != nil {
		return err
	}
	for it := newChunks(lit); ; {
		c, ok := it.next()
		if !ok || !feed(&m, c) {
			break
		}
	}
	return m.finish()
}

// BlankJSON reports whether the JSON string literal lit (quotes included,
// valid) decodes to a string that strings.TrimSpace empties.
func BlankJSON(lit []byte) bool {
	for it := newChunks(lit); ; {
		c, ok := it.next()
		if !ok {
			return true
		}
		if len(bytes.TrimLeftFunc(c, unicode.IsSpace)) > 0 {
			return false
		}
	}
}

// chunks yields the decoded content of a JSON string literal, in order:
// each run without escapes as a slice of the literal, each escape decoded
// on its own (as encoding/json decodes it: a \u surrogate that is not half
// of a pair becomes U+FFFD). Every chunk holds whole characters. The
// literal must be valid; what is not is cut short.
type chunks struct {
	s   []byte
	buf [utf8.UTFMax]byte
}

func newChunks(lit []byte) chunks {
	if len(lit) < 2 {
		return chunks{}
	}
	return chunks{s: lit[1 : len(lit)-1]}
}

func (it *chunks) next() ([]byte, bool) {
	s := it.s
	if len(s) == 0 {
		return nil, false
	}
	if i := bytes.IndexByte(s, '\\'); i != 0 {
		if i < 0 {
			i = len(s)
		}
		it.s = s[i:]
		return s[:i], true
	}
	it.s = nil // unless the escape below is valid
	if len(s) < 2 {
		return nil, false
	}
	var r rune
	switch c := s[1]; c {
	case '"', '\\', '/':
		r, s = rune(c), s[2:]
	case 'b':
		r, s = '\b', s[2:]
	case 'f':
		r, s = '\f', s[2:]
	case 'n':
		r, s = '\n', s[2:]
	case 'r':
		r, s = '\r', s[2:]
	case 't':
		r, s = '\t', s[2:]
	case 'u':
		if r = getu4(s); r < 0 {
			return nil, false
		}
		s = s[6:]
		if utf16.IsSurrogate(r) {
			if r2 := getu4(s); r2 >= 0 {
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					r, s = d, s[6:]
					break
				}
			}
			r = unicode.ReplacementChar
		}
	default:
		return nil, false
	}
	it.s = s
	return utf8.AppendRune(it.buf[:0], r), true
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
