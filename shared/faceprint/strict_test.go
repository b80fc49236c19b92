package faceprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

func seedRequest(t *testing.T, ep Endpoint) []byte {
	t.Helper()
	name := strings.Replace(ep.Path, "/", "-", 1)
	if strings.HasPrefix(ep.Path, "result/") {
		name = strings.ReplaceAll(ep.Path, "/", "-")
	}
	b, err := os.ReadFile(filepath.Join("testdata", "seed", name+".request.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEndpoint(t *testing.T, path string) Endpoint {
	t.Helper()
	ep, ok := Lookup(path)
	if !ok {
		t.Fatalf("no endpoint %s", path)
	}
	return ep
}

// TestDecodeStrictSeedExamples: every endpoint has its member list, and
// Baidu's own example for it passes decodeStrict and its check, with or
// without the access_token a Baidu client appends (which is dropped).
func TestDecodeStrictSeedExamples(t *testing.T) {
	for _, ep := range Endpoints() {
		if bodyModels[ep.Path] == nil {
			t.Fatalf("%s has no member list", ep.Path)
		}
		body := seedRequest(t, ep)
		with := []byte(strings.Replace(string(body), "{", `{"access_token":"24.abc.2592000.1-1",`, 1))
		for _, b := range [][]byte{body, with} {
			m, err := decodeStrict(ep, b)
			if err != nil {
				t.Fatalf("%s: %s: %v", ep.Path, b, err)
			}
			if _, kept := m["access_token"]; kept {
				t.Errorf("%s: access_token kept", ep.Path)
			}
			if err := ep.check(m); err != nil {
				t.Errorf("%s: check: %v", ep.Path, err)
			}
		}
	}
}

func TestDecodeStrict(t *testing.T) {
	const vt = `"verify_token":"2sF3nE5mXOHkx2aQwWG4n5WI"`
	deep := strings.Repeat("[", 18) + strings.Repeat("]", 18) // levels 3 to 20 under redirect_config
	cases := []struct {
		endpoint, body string
		code           string // "" accepted
		msg            string
	}{
		{"verifyToken/generate", `{"plan_id":1,"redirect_config":{"success_url":"https://a.example/ok","failed_url":"https://a.example/no","extra":[1]},"match_source":0}`, "", ""},
		{"verifyToken/generate", `{"plan_id":"1","redirect_config":{"x":` + deep + `}}`, "", ""},
		{"result/getall", `{` + vt + `,"access_token":"t"}`, "", ""},
		// Unknown members: 216100 naming the member.
		{"verifyToken/generate", `{"plan_id":"1","plan":"2"}`, "216100", `invalid param: "plan" is not a parameter of verifyToken/generate (it takes plan_id, redirect_config, match_source)`},
		{"idcard/submit", `{` + vt + `,"id_name":"张三","id_no":"110101199003074477","certificate":0}`, "216100", `"certificate" is not a parameter of idcard/submit (it takes verify_token, id_name, id_no, certificate_type)`},
		{"uploadMatchImage", `{` + vt + `,"image":"QUJD","image_type":"BASE64"}`, "216100", `"image_type" is not a parameter of uploadMatchImage`},
		{"result/detail", `{` + vt + `,"plan_id":"1"}`, "216100", `"plan_id" is not a parameter of result/detail (it takes verify_token)`},
		{"result/stat", `{"verifyToken":"x"}`, "216100", `"verifyToken" is not a parameter`},
		// Case-only mismatches.
		{"verifyToken/generate", `{"Plan_ID":"1"}`, "216100", `invalid param: "Plan_ID" is not a parameter: names are case-sensitive, did you mean "plan_id"?`},
		{"result/simple", `{` + vt + `,"ACCESS_TOKEN":"t"}`, "216100", `did you mean "access_token"?`},
		// Duplicates, at the top and nested: 283513 naming the member.
		{"verifyToken/generate", `{"plan_id":"1","plan_id":"2"}`, "283513", `请求参数错误: "plan_id" appears more than once`},
		{"result/getall", `{` + vt + `,"verify_t\u006fken":"other"}`, "283513", `"verify_token" appears more than once`},
		{"result/getall", `{` + vt + `,"access_token":"a","access_token":"b"}`, "283513", `"access_token" appears more than once`},
		{"verifyToken/generate", `{"plan_id":"1","redirect_config":{"success_url":"https://a.example/","success_url":"https://evil.example/"}}`, "283513", `"redirect_config.success_url" appears more than once`},
		// The body itself.
		{"idcard/submit", "{" + vt + ",\"id_name\":\"\xe5\xbc\",\"id_no\":\"1\"}", "283513", "请求参数错误: the body must be UTF-8"},
		{"result/detail", `{` + vt + `}{}`, "283513", "the body must be a single JSON object"},
		{"result/detail", `{` + vt + `} x`, "283513", "single JSON object"},
		{"verifyToken/generate", `{"plan_id":"1","redirect_config":{"x":[` + deep + `]}}`, "283513", "more than 20 levels deep (at \"redirect_config.x[0][0]"},
		{"verifyToken/generate", `{"plan_id":"1","redirect_config":[` + strings.Repeat("0,", 1000) + `0]}`, "283513", "at most 1000 JSON values"},
		{"result/detail", `[{` + vt + `}]`, "283513", "请求参数错误: the body must be a JSON object"},
		{"result/detail", `null`, "283513", "the body must be a JSON object"},
		{"result/detail", ``, "283513", "the body must be a JSON object"},
		{"uploadMatchImage", `{` + vt + `,"image":"QUJD",}`, "283513", "invalid JSON at byte"},
		{"result/detail", `{"verify_token":"x"`, "283513", "truncated"},
	}
	for _, c := range cases {
		m, err := decodeStrict(mustEndpoint(t, c.endpoint), []byte(c.body))
		if c.code == "" {
			if err != nil || m == nil {
				t.Errorf("%s %s: refused: %v", c.endpoint, c.body, err)
			}
			continue
		}
		e := errs.As(err)
		if err == nil || e.Kind != errs.Invalid || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s %.80s: got %v (code %s), want %s containing %q", c.endpoint, c.body, err, e.Code, c.code, c.msg)
		}
	}
}

// TestDecodeStrictBoundsNames: a long member name is cut on a character
// boundary; no value reaches the message.
func TestDecodeStrictBoundsNames(t *testing.T) {
	name := strings.Repeat("号", 40)
	_, err := decodeStrict(mustEndpoint(t, "idcard/submit"), []byte(`{"`+name+`":"110101199003074477"}`))
	e := errs.As(err)
	if e.Code != "216100" || strings.Contains(e.Message, "110101") || !strings.Contains(e.Message, `"`+strings.Repeat("号", 21)+`..."`) {
		t.Fatalf("%v", err)
	}
}
