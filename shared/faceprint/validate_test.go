package faceprint_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceprint"
)

// TestValidationNamesTheField: bad input is refused with Baidu's 216100
// and a message naming the field and the rule, before any provider call.
func TestValidationNamesTheField(t *testing.T) {
	vt := "2sF3nE5mXOHkx2aQwWG4n5WI"
	sub := func(kv ...any) map[string]any {
		m := map[string]any{"verify_token": vt, "id_name": "张三", "id_no": "110101199003074477"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	up := func(kv ...any) map[string]any {
		m := map[string]any{"verify_token": vt, "image": "/9j/4AAQSkZJRgABAQAAAQABAAD/"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	big := strings.Repeat("A", faceprint.MaxImageBase64+4)
	cases := []struct {
		endpoint string
		body     any
		want     string
	}{
		{"verifyToken/generate", map[string]any{}, "plan_id is required"},
		{"verifyToken/generate", map[string]any{"plan_id": ""}, "plan_id must not be empty"},
		{"verifyToken/generate", map[string]any{"plan_id": 1.5}, "plan_id must be a string or a non-negative integer"},
		{"verifyToken/generate", map[string]any{"plan_id": "a b"}, "plan_id must contain only"},
		{"verifyToken/generate", map[string]any{"plan_id": "1", "redirect_config": "x"}, "redirect_config must be an object"},
		{"verifyToken/generate", map[string]any{"plan_id": "1", "redirect_config": map[string]any{"success_url": "ftp://x"}}, "redirect_config.success_url must start with http"},
		{"verifyToken/generate", map[string]any{"plan_id": "1", "match_source": 3}, "match_source must be 0, 1 or 2"},
		{"idcard/submit", sub("verify_token", nil), "verify_token is required"},
		{"idcard/submit", sub("verify_token", 12), "verify_token must be a string"},
		{"idcard/submit", sub("verify_token", strings.Repeat("a", 65)), "verify_token must be at most 64"},
		{"idcard/submit", sub("id_name", nil), "id_name is required"},
		{"idcard/submit", sub("id_name", "张3"), "id_name "},
		{"idcard/submit", sub("id_no", nil), "id_no is required"},
		{"idcard/submit", sub("id_no", "110101199003074478"), "id_no check digit does not match"},
		{"idcard/submit", sub("id_no", "11010119900307447x"), "id_no last character must be an upper-case X"},
		{"idcard/submit", sub("certificate_type", 6), "certificate_type must be 0 to 5"},
		{"idcard/submit", sub("certificate_type", -1), "certificate_type must be 0 to 5"},
		{"idcard/submit", sub("certificate_type", "0"), "certificate_type must be an integer"},
		{"idcard/submit", sub("certificate_type", 4), "id_no of a Hong Kong, Macao or Taiwan residence permit"},
		{"idcard/submit", sub("certificate_type", 1, "id_no", "X1234567"), "id_no of a mainland travel permit"},
		{"idcard/submit", sub("certificate_type", 5, "id_no", "12345678"), "id_no of a Hong Kong or Macao permit must start with H or M"},
		{"idcard/submit", sub("certificate_type", 2, "id_no", "AB1234567890123"), "id_no of a foreign permanent residence card"},
		{"idcard/submit", sub("certificate_type", 3, "id_no", "e1234567"), "id_no of a passport must contain only"},
		{"uploadMatchImage", up("image", nil), "image is required"},
		{"uploadMatchImage", up("image", ""), "image must not be empty"},
		{"uploadMatchImage", up("image", "data:image/jpeg;base64,/9j/"), "image must be raw base64"},
		{"uploadMatchImage", up("image", "/9j/4AA"), "image length must be a multiple of 4"},
		{"uploadMatchImage", up("image", big), "image must be at most 10485760 bytes"},
		{"uploadMatchImage", up("quality_control", "MEDIUM"), "quality_control must be NONE, LOW, NORMAL or HIGH"},
		{"uploadMatchImage", up("liveness_control", "low"), "liveness_control must be NONE, LOW, NORMAL or HIGH"},
		{"result/getall", map[string]any{}, "verify_token is required"},
		{"result/media/query", map[string]any{"verify_token": "x/y"}, "verify_token must contain only"},
	}
	rec := &recorder{answer: []byte(`{"success":true,"result":null,"log_id":"1"}`)}
	h, err := faceprint.New(faceprint.Options{Live: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		r := post(t, h, c.endpoint, c.body)
		if r.code() != 216100 || !strings.HasPrefix(r.message(), "invalid param: ") || !strings.Contains(r.message(), c.want) {
			t.Errorf("%s: got %s, want 216100 with %q", c.endpoint, r.raw, c.want)
		}
		if r.body["error_code"] == nil || r.body["code"] == nil || r.body["success"] != false {
			t.Errorf("%s: both of Baidu's error shapes expected: %s", c.endpoint, r.raw)
		}
	}
	if rec.n() != 0 {
		t.Errorf("invalid input reached the provider %d times", rec.n())
	}

	good := []struct {
		endpoint string
		body     any
	}{
		{"verifyToken/generate", map[string]any{"plan_id": 1}},
		{"verifyToken/generate", map[string]any{"plan_id": "123", "redirect_config": map[string]any{"success_url": "https://example.com/ok", "failed_url": "https://example.com/no"}, "match_source": 0}},
		{"idcard/submit", sub()},
		{"idcard/submit", sub("certificate_type", 4, "id_no", "810000199408230021")},
		{"idcard/submit", sub("certificate_type", 1, "id_no", "H12345678")},
		{"idcard/submit", sub("certificate_type", 1, "id_no", "1234567801")},
		{"idcard/submit", sub("certificate_type", 5, "id_no", "M12345678")},
		{"idcard/submit", sub("certificate_type", 2, "id_no", "USA123456789012", "id_name", "John Smith")},
		{"idcard/submit", sub("certificate_type", 2, "id_no", "911234199001011234")},
		{"idcard/submit", sub("certificate_type", 3, "id_no", "E12345678")},
		{"uploadMatchImage", up("quality_control", "NORMAL", "liveness_control", "HIGH")},
		{"uploadMatchImage", up("image", base64.StdEncoding.EncodeToString(make([]byte, 3<<20)))},
		{"result/simple", map[string]any{"verify_token": vt}},
	}
	for i, c := range good {
		if r := post(t, h, c.endpoint, c.body); r.code() != 0 {
			t.Errorf("%s %d refused: %s", c.endpoint, i, r.raw)
		}
	}
}
