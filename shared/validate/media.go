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
	if s == "" {
		return broken("must not be empty")
	}
	if hasPrefixFold(s, "data:") {
		return broken("must be raw base64, not a data: URI")
	}
	if len(s) > maxEncodedBytes {
		return broken("must be at most " + strconv.Itoa(max(maxEncodedBytes, 0)) + " bytes of base64")
	}
	if len(s)%4 != 0 {
		return broken("length must be a multiple of 4 (standard base64 with = padding)")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isBase64Char(c):
		case c == '=':
			// Padding is one or two '=' that end the string.
			if i < len(s)-2 || (i == len(s)-2 && s[i+1] != '=') {
				return broken("may have = padding only at the end")
			}
		case c == '-' || c == '_':
			return broken("must use the standard base64 alphabet, not the URL-safe one")
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			return broken("must not contain spaces or line breaks")
		default:
			return broken("must contain only base64 characters")
		}
	}
	// The scan above already implies the string decodes; decoding anyway
	// keeps the promise independent of that reasoning, in 4 KiB steps.
	var src [4 * 1024]byte
	var dst [3 * 1024]byte
	for rest := s; rest != ""; {
		n := copy(src[:], rest)
		rest = rest[n:]
		if _, err := base64.StdEncoding.Decode(dst[:], src[:n]); err != nil {
			return broken("is not valid base64")
		}
	}
	return nil
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
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
