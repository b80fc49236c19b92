package validate

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// Base64Media checks an ImageBase64/VideoBase64 field: raw standard base64
// (RFC 4648 section 4, '=' padding, no line breaks) no longer than
// maxEncodedBytes, which is the per-action limit Tencent states for the
// encoded form (3M, 7M, 8M...; the caller picks the byte count). A
// maxEncodedBytes of zero or less rejects everything, so a missing limit
// fails closed.
//
// The length is checked before the content is read, and decoding goes
// through a fixed buffer, so an oversized or hostile input costs no
// allocation proportional to its size. The decoded bytes are not inspected: whether they are a JPEG or an
// MP4 is Tencent's call, and it does not charge for an undecodable image.
func Base64Media(s string, maxEncodedBytes int) error {
	m := mediaScan{n: len(s)}
	m.hn = copy(m.head[:], s)
	if err := m.start(maxEncodedBytes); err != nil {
		return err
	}
	feed(&m, s)
	return m.finish()
}

// mediaScan is Base64Media's check over a string given in pieces (so that
// a value still in its JSON form is checked where it lies): the length and
// the first bytes are known before the pieces are fed in order.
type mediaScan struct {
	n    int     // length of the whole string
	head [5]byte // its first bytes
	hn   int     // how many of them there are (at most 5)
	i    int     // bytes fed so far
	pad  bool    // the byte at n-2 was '=': the last one must be too
	err  error
	k    int // bytes waiting in src
	src  [4 * 1024]byte
	dst  [3 * 1024]byte
}

// start runs the checks that need only the length and the first bytes.
func (m *mediaScan) start(maxEncodedBytes int) error {
	switch {
	case m.n == 0:
		return broken("must not be empty")
	case m.hn == 5 && strings.EqualFold(string(m.head[:]), "data:"):
		return broken("must be raw base64, not a data: URI")
	case m.n > maxEncodedBytes:
		return broken("must be at most " + strconv.Itoa(max(maxEncodedBytes, 0)) + " bytes of base64")
	case m.n%4 != 0:
		return broken("length must be a multiple of 4 (standard base64 with = padding)")
	}
	return nil
}

// feed checks the next piece, stopping at the first broken rule. The
// characters are checked as they come; decoding (which the character rules
// already imply succeeds, but is done anyway so that the promise does not
// rest on that reasoning) goes through a fixed 4 KiB buffer.
func feed[T ~string | ~[]byte](m *mediaScan, s T) bool {
	if m.err != nil {
		return false
	}
	for j := 0; j < len(s); j++ {
		c := s[j]
		i := m.i + j
		if m.pad && c != '=' {
			m.err = broken("may have = padding only at the end")
			return false
		}
		switch {
		case isBase64Char(c):
		case c == '=':
			// Padding is one or two '=' that end the string.
			if i < m.n-2 {
				m.err = broken("may have = padding only at the end")
				return false
			}
			m.pad = i == m.n-2
		case c == '-' || c == '_':
			m.err = broken("must use the standard base64 alphabet, not the URL-safe one")
			return false
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			m.err = broken("must not contain spaces or line breaks")
			return false
		default:
			m.err = broken("must contain only base64 characters")
			return false
		}
	}
	m.i += len(s)
	for len(s) > 0 {
		n := copy(m.src[m.k:], s)
		s, m.k = s[n:], m.k+n
		if m.k == len(m.src) && !m.decode() {
			return false
		}
	}
	return true
}

func (m *mediaScan) decode() bool {
	if _, err := base64.StdEncoding.Decode(m.dst[:], m.src[:m.k]); err != nil {
		m.err = broken("is not valid base64")
		return false
	}
	m.k = 0
	return true
}

func (m *mediaScan) finish() error {
	if m.err == nil && m.k > 0 {
		m.decode()
	}
	return m.err
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// HTTPURL checks an ImageUrl, VideoUrl or RedirectUrl field: an absolute
// http or https URL with a host, at most maxLen bytes (DetectAuth documents
// 1024 for RedirectUrl), printable ASCII only, and no user:password part.
// Non-ASCII must be percent-encoded so that Tencent's length limit and the
// URL it fetches are unambiguous. A maxLen of zero or less rejects
// everything. Whether the host is public or reachable is not checked.
func HTTPURL(s string, maxLen int) error {
	if s == "" {
		return broken("must not be empty")
	}
	if len(s) > maxLen {
		return broken("must be at most " + strconv.Itoa(max(maxLen, 0)) + " characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			if c == ' ' {
				return broken("must not contain spaces")
			}
			if c < ' ' || c == 0x7f {
				return broken("must not contain control characters")
			}
			return broken("must contain only ASCII characters (percent-encode the rest)")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		// err quotes the input, so only its absence is used.
		return broken("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return broken("must start with http:// or https://")
	}
	if u.User != nil {
		return broken("must not contain a user name or password")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return broken("must include a host")
	}
	// url.Parse checks only that a port is digits.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return broken("port must be 1 to 65535")
		}
	}
	return nil
}
