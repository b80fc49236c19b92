package event

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// decodeBody returns the request body bytes. Platforms set isBase64Encoded
// for binary or configured content types; some encoders drop the padding, so
// unpadded input is accepted too.
func decodeBody(body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		if body == "" {
			return nil, nil
		}
		return []byte(body), nil
	}
	body = strings.TrimSpace(body)
	if b, err := base64.StdEncoding.DecodeString(body); err == nil {
		return b, nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(body); err == nil {
		return b, nil
	}
	return nil, errors.New("body is not valid base64")
}

// encodeBody returns the response body as the JSON string every platform
// expects, base64-encoding it when it is not valid UTF-8: a JSON string
// cannot carry arbitrary bytes, and every shape has an isBase64Encoded flag
// that tells the platform to decode it before answering the client.
func encodeBody(b []byte) (body string, isBase64 bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}
