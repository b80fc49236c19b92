package faceadv

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDecodeStrict: the seed lists each endpoint's members and says
// nothing of ignoring others, so decode refuses what is not in Request
// (40003, naming the member) and what is not one well-formed JSON object
// (40001); extData takes any JSON.
func TestDecodeStrict(t *testing.T) {
	// extData is level 2: 19 arrays in it reach level 20.
	deep := strings.Repeat("[", 19) + strings.Repeat("]", 19)
	for _, c := range []struct {
		name, body string
		code       int    // 0: accepted
		msg        string // in errmsg
	}{
		{"seed faceAdv example", `{"async":false,"userId":"user123","type":"match","sourcePhotoStr":{"origin":"fds","data":"xxxxxxxxxxxxxx.jpg"}}`, 0, ""},
		{"seed faceAdvResult example", `{"async":false,"orderNo":"o1","getFile":"2"}`, 0, ""},
		{"every member", `{"async":true,"extData":{"a":1},"userId":"u","type":"authmatch","name":"n","idNo":"i","orderNo":"o","getFile":2,"traceNo":"1"}`, 0, ""},
		{"extData takes any JSON", `{"orderNo":"o1","extData":{"Anything":[1,{"x":null,"Y":"z"}],"userId":{"nested":true}}}`, 0, ""},
		{"extData scalar", `{"orderNo":"o1","extData":"free text"}`, 0, ""},
		{"extData at the depth limit", `{"orderNo":"o1","extData":` + deep + `}`, 0, ""},
		{"unknown member", `{"userId":"u1","type":"match","usrId":"x"}`, CodeInvalid, `"usrId" is not a member of this request`},
		{"member of another API", `{"orderNo":"o1","appId":"IDA0001"}`, CodeInvalid, `"appId" is not a member`},
		{"case-only mismatch", `{"userid":"u1","type":"authmatch"}`, CodeInvalid, `"userid" is not a member of this request: member names are case-sensitive, did you mean "userId"?`},
		{"case-only mismatch of extData", `{"orderNo":"o1","extdata":{}}`, CodeInvalid, `did you mean "extData"`},
		{"unknown nested member", `{"userId":"u1","type":"match","sourcePhotoStr":{"origin":"self","data":"QUJD","format":"jpg"}}`, CodeInvalid, `"sourcePhotoStr.format" is not a member of sourcePhotoStr (origin, data)`},
		{"case-only nested", `{"userId":"u1","type":"match","sourcePhotoStr":{"Origin":"self","data":"QUJD"}}`, CodeInvalid, `"sourcePhotoStr.Origin" is not a member of this request: member names are case-sensitive, did you mean "sourcePhotoStr.origin"?`},
		{"escaped name is the member it spells", `{"orderNo":"o1","get\u0046ile":"2"}`, 0, ""},
		{"duplicate member", `{"userId":"u1","type":"match","userId":"u2"}`, CodeBadJSON, `"userId" appears more than once`},
		{"duplicate escaped", `{"orderNo":"o1","order\u004eo":"o2"}`, CodeBadJSON, `"orderNo" appears more than once`},
		{"duplicate nested", `{"userId":"u1","type":"match","sourcePhotoStr":{"data":"a","data":"b"}}`, CodeBadJSON, `"sourcePhotoStr.data" appears more than once`},
		{"duplicate inside extData", `{"orderNo":"o1","extData":{"k":[{"a":1,"a":2}]}}`, CodeBadJSON, `"extData.k[0].a" appears more than once`},
		{"invalid UTF-8 in a value", "{\"orderNo\":\"o1\",\"extData\":\"\xff\"}", CodeBadJSON, "body must be UTF-8"},
		{"invalid UTF-8 in a name", "{\"order\xc0No\":\"o1\"}", CodeBadJSON, "body must be UTF-8"},
		{"trailing object", `{"orderNo":"o1"}{"orderNo":"o2"}`, CodeBadJSON, "body must hold a single JSON object"},
		{"trailing garbage", `{"orderNo":"o1"} x`, CodeBadJSON, "single"},
		{"too deep", `{"orderNo":"o1","extData":[` + deep + `]}`, CodeBadJSON, "more than 20 levels deep (at \"extData" + strings.Repeat("[0]", 19) + "\")"},
		{"very deep", `{"extData":` + strings.Repeat("[", 100000) + `}`, CodeBadJSON, "levels deep"},
		{"too many values", `{"extData":[` + strings.Repeat("0,", 1000) + `0]}`, CodeBadJSON, "at most 1000 JSON values"},
		{"array", `[{"orderNo":"o1"}]`, CodeBadJSON, "body must be a JSON object"},
		{"null", `null`, CodeBadJSON, "body must be a JSON object"},
		{"empty", ``, CodeBadJSON, "body must be a JSON object"},
		{"truncated", `{"orderNo":"o1"`, CodeBadJSON, "truncated"},
		{"syntax", `{"orderNo":"o1",}`, CodeBadJSON, "invalid JSON at byte 17"},
		{"wrong type", `{"userId":12}`, CodeBadJSON, "userId has the wrong JSON type"},
		{"wrong type nested", `{"sourcePhotoStr":{"data":1}}`, CodeBadJSON, "sourcePhotoStr.data has the wrong JSON type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := decode([]byte(c.body))
			if c.code == 0 {
				if err != nil || r == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *fieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want errcode %d, got %v", c.code, err)
			}
			env := failure("", err)
			if env.Errcode != c.code || !strings.Contains(env.Errmsg, c.msg) {
				t.Fatalf("got %d %q, want %d containing %q", env.Errcode, env.Errmsg, c.code, c.msg)
			}
		})
	}
}

// TestDecodeSeedExamples: the seed's own request examples pass the strict
// decode (trailing commas of the examples removed).
func TestDecodeSeedExamples(t *testing.T) {
	trailing := regexp.MustCompile(`,(\s*})`)
	for _, f := range []string{"adv-request.json", "result-request.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "seed002", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decode(trailing.ReplaceAll(raw, []byte("$1"))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestMemberNameBounded: a long or odd member name is quoted and cut, on a
// character boundary, and no value reaches the message.
func TestMemberNameBounded(t *testing.T) {
	name := strings.Repeat("名", 40) // 120 bytes
	_, err := decode([]byte(`{"` + name + `":"110101199003074477"}`))
	env := failure("", err)
	if env.Errcode != CodeInvalid || len(env.Errmsg) > 400 || strings.Contains(env.Errmsg, "110101") {
		t.Fatalf("%d %q", env.Errcode, env.Errmsg)
	}
	if !strings.Contains(env.Errmsg, `"`+strings.Repeat("名", 21)+`..."`) {
		t.Fatalf("not cut on a character boundary: %q", env.Errmsg)
	}
	_, err = decode([]byte(`{"a\"b\n":1}`))
	if env := failure("", err); !strings.Contains(env.Errmsg, `"a\"b\n" is not a member`) {
		t.Fatalf("%q", env.Errmsg)
	}
}

// TestResultRefusesAdvMembers: faceAdv's members are not in
// faceAdvResult's table, so sending them there is refused, as getFile and
// traceNo are on faceAdv.
func TestResultRefusesAdvMembers(t *testing.T) {
	for _, body := range []string{
		`{"orderNo":"o1","userId":"u1"}`, `{"orderNo":"o1","type":"match"}`,
		`{"orderNo":"o1","sourcePhotoStr":{"data":"x"}}`, `{"orderNo":"o1","name":"张三"}`, `{"orderNo":"o1","idNo":"1"}`,
	} {
		r, err := decode([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		err = r.validateResult()
		var fe *fieldError
		if !errors.As(err, &fe) || fe.code != CodeInvalid || !strings.Contains(fe.rule, "belongs to faceAdv") {
			t.Errorf("%s: %v", body, err)
		}
	}
	r, _ := decode([]byte(`{"async":false,"extData":{"k":"v"},"orderNo":"o1","getFile":"2"}`))
	if err := r.validateResult(); err != nil {
		t.Fatalf("seed members: %v", err)
	}
}
