package sandbox

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// The happy-path identity. Every value passes our validation and every
// identity check in the sandbox; the number and the card carry correct
// check digits. They are placeholders, not anybody's data: 张三 is the
// Chinese "John Doe", the ID number is an invented 东城区 number (born
// 1990-03-07), the mobile number is the customary example number of Chinese
// documentation, and the card is an all-zero account under ICBC's 622202 BIN.
const (
	HappyName     = "张三"
	HappyIDCard   = "110101199003074477"
	HappyMobile   = "13800138000"
	HappyBankCard = "6222020000000000000"
)

// What the sandbox "reads" from an ID card photo or an NFC chip. The
// address, authority and dates are invented and marked 示例 (example) where
// a real value would be a place.
const (
	fixtureNation    = "汉"
	fixtureAddress   = "北京市东城区示例路1号"
	fixtureAuthority = "北京市公安局东城分局"
	fixtureValidFrom = "20150307"
	fixtureValidTo   = "20350307"
	fixtureEnName    = "ZHANG SAN"
)

// Media the sandbox returns wherever Tencent returns a photo, a video or
// audio. They are tiny, so that responses stay small, and genuine enough to
// pass a client's decoder: a real 16x16 JPEG, an MP4 "ftyp" box (a file
// header and nothing else) and an empty but well-formed WAV file.
var (
	jpegBase64  = tinyJPEGBase64
	videoBase64 = base64.StdEncoding.EncodeToString([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"))
	audioBase64 = base64.StdEncoding.EncodeToString(emptyWAV())
)

// tinyJPEGBase64 is a 16x16 grey gradient encoded by image/jpeg at quality
// 75, as a constant: encoding it at start linked image/jpeg into every
// function and ran the encoder on every cold start. fixtures_test.go
// encodes it again and compares.
const tinyJPEGBase64 = "/9j/2wCEAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx" +
	"NDQ0Hyc5PTgyPC4zNDIBCQkJDAsMGA0NGDIhHCEyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy" +
	"MjIyMjIyMjIyMjIyMjIyMjIyMjIyMv/AAAsIABAAEAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAA" +
	"AQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEV" +
	"UtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3" +
	"eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh" +
	"4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwCP/Vf6La/6zo7j+H2Hv/L69D/Vf6La/wCs6O4/" +
	"h9h7/wAvr0P9V/otr/rOjuP4fYe/8vr0P9V/otr/AKzo7j+H2Hv/AC+vT//Z"

// emptyWAV is a 44-byte RIFF/WAVE header for 16 kHz mono 16-bit PCM with no
// samples.
func emptyWAV() []byte {
	return []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
}

// chinaTime is the zone Tencent's dates are in (UTC+8, no DST).
var chinaTime = time.FixedZone("CST", 8*3600)

// person is an identity as a response reports it.
type person struct {
	Name   string
	IDCard string
}

// happyPerson is the identity reported when the request named none.
var happyPerson = person{Name: HappyName, IDCard: HappyIDCard}

// sex is 男 or 女 from the 17th digit of an ID number (odd for men).
func sex(id string) string {
	if len(id) == 18 && (id[16]-'0')%2 == 0 {
		return "女"
	}
	return "男"
}

// birth is the birth date in an ID number, as Tencent's OCR writes it
// ("1990/3/7"), or "" if the number has no readable date.
func birth(id string) string {
	t, ok := birthDate(id)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d/%d/%d", t.Year(), int(t.Month()), t.Day())
}

// birthCompact is the birth date as YYYYMMDD, as the NFC chip stores it.
func birthCompact(id string) string {
	t, ok := birthDate(id)
	if !ok {
		return ""
	}
	return t.Format("20060102")
}

func birthDate(id string) (time.Time, bool) {
	if len(id) != 18 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102", id[6:14])
	return t, err == nil
}

// mask hides an ID number the way Tencent's bill details do.
func maskID(id string) string {
	if len(id) < 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}

// maskName keeps the surname only.
func maskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// isp names the carrier of a mainland mobile number by its first three
// digits, as PhoneVerification reports it. The ranges are the published
// ones; an unknown range is "", which Tencent also allows.
func isp(mobile string) string {
	if len(mobile) < 3 {
		return ""
	}
	switch mobile[:3] {
	case "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198":
		return "移动"
	case "130", "131", "132", "145", "155", "156", "166", "167", "171", "175", "176", "185", "186", "196":
		return "联通"
	case "133", "149", "153", "173", "174", "177", "180", "181", "189", "190", "191", "193", "199":
		return "电信"
	}
	return ""
}

// bankOf names the issuer of a card by a few well-known BINs. Anything else
// is 示例银行 ("example bank"), which no real card would show.
func bankOf(card string) string {
	for _, b := range []struct{ bin, name string }{
		{"622202", "中国工商银行"}, {"621226", "中国工商银行"}, {"622848", "中国农业银行"},
		{"621700", "中国建设银行"}, {"621661", "中国银行"}, {"622588", "招商银行"},
	} {
		if strings.HasPrefix(card, b.bin) {
			return b.name
		}
	}
	return "示例银行"
}

// Pointer helpers: the models use pointers for every field.
func str(s string) *string   { return &s }
func i64(n int64) *int64     { return &n }
func f64(f float64) *float64 { return &f }
func boolp(b bool) *bool     { return &b }
func strs(s ...string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// deref is the value of an optional string field, "" when absent.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// frames returns n copies of the sample JPEG, for BestFrameList-style fields.
func frames(n int) []*string {
	out := make([]*string, n)
	for i := range out {
		out[i] = str(jpegBase64)
	}
	return out
}
