package faceadv

import (
	"strings"
	"testing"
)

// FuzzRequest: no body makes decoding or validation panic, and every
// refusal names a field without echoing the ID number it was given.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"async":false,"userId":"user123","type":"match","sourcePhotoStr":{"origin":"fds","data":"x.jpg"}}`,
		`{"userId":"u1","type":"authmatch","name":"张三","idNo":"110101199003074477"}`,
		`{"orderNo":"o1","getFile":2}`, `{"traceNo":"123"}`, `[]`, `{"getFile":{}}`, `{"sourcePhotoStr":{"origin":"uri","data":"http://[::1]/"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decode(body)
		if err != nil {
			return
		}
		for _, err := range []error{r.validateAdv(true), r.validateResult()} {
			if err == nil {
				continue
			}
			fe, ok := err.(*fieldError)
			if !ok || fe.field == "" || fe.rule == "" {
				t.Fatalf("unnamed refusal %v", err)
			}
			if len(r.IDNo) >= 6 && strings.Trim(r.IDNo, "0123456789X") == "" && strings.Contains(fe.Error(), r.IDNo) {
				t.Fatalf("refusal echoes idNo: %v", err)
			}
		}
	})
}
