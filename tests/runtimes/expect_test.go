package runtimes

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

const sampleBody = `{"IdCard":"110101199003074477","Name":"张三"}`

// eventExpect is what the function must have seen for one events/ file and
// the keys of the platform response shape it must answer with.
type eventExpect struct {
	direct    bool
	invoked   string // a direct sample's payload when it is not the file (an SCF timer's argument)
	rawQuery  string
	sourceIP  string
	requestID string // "" means: the invocation's id (shapes without one)
	header    [2]string
	keys      []string // top-level keys of the response document
}

var eventExpects = map[string]eventExpect{
	"lambda-rest-v1.json": {rawQuery: "lang=zh-CN", sourceIP: "203.0.113.24", requestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
		header: [2]string{"Accept-Language", "zh-CN"}, keys: []string{"body", "headers", "multiValueHeaders", "statusCode"}},
	"lambda-http-v2.json": {rawQuery: "lang=zh-CN", sourceIP: "203.0.113.25", requestID: "JKJaXmPLvHcESHA=",
		header: [2]string{"Cookie", "idv_consent=1; theme=dark"}, keys: []string{"body", "cookies", "headers", "multiValueHeaders", "statusCode"}},
	"lambda-alb.json": {rawQuery: "lang=zh-CN", sourceIP: "203.0.113.26",
		header: [2]string{"X-Forwarded-Proto", "https"}, keys: []string{"body", "headers", "isBase64Encoded", "multiValueHeaders", "statusCode", "statusDescription"}},
	"lambda-function-url.json": {rawQuery: "lang=zh-CN", sourceIP: "203.0.113.27", requestID: "8f3c1a2b-4d5e-4f60-9a7b-0c1d2e3f4a5b",
		header: [2]string{"X-Amzn-Tls-Version", "TLSv1.3"}, keys: []string{"body", "cookies", "headers", "isBase64Encoded", "statusCode"}},
	"scf-function-url.json": {rawQuery: "lang=zh-CN", sourceIP: "111.206.96.145",
		header: [2]string{"X-Scf-Remote-Addr", "111.206.96.145"}, keys: []string{"body", "headers", "isBase64Encoded", "statusCode"}},
	"scf-apigw-legacy.json": {rawQuery: "lang=zh-CN&tag=a&tag=b&verbose", sourceIP: "10.0.2.14", requestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
		header: [2]string{"X-Qualifier", "$LATEST"}, keys: []string{"body", "headers", "isBase64Encoded", "statusCode"}},
	"lambda-direct.json": {direct: true},
	"scf-direct.json":    {direct: true},
	"scf-timer.json":     {direct: true, invoked: `{"Action":"flows/sweep"}`},
}

// echoed mirrors testdata/echofn's Echo.
type echoed struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	RawQuery   string              `json:"rawQuery"`
	Header     map[string][]string `json:"header"`
	Body       string              `json:"body"`
	SourceIP   string              `json:"sourceIP"`
	RequestID  string              `json:"requestID"`
	Platform   string              `json:"platform"`
	DeadlineMs int64               `json:"deadlineMs"`
}

// echoInfo mirrors testdata/echofn's Info.
type echoInfo struct {
	DeadlineMs    int64  `json:"deadlineMs"`
	RequestID     string `json:"requestID"`
	Platform      string `json:"platform"`
	MemoryLimitMB int    `json:"memoryLimitMB"`
}

func eventFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
		if _, ok := eventExpects[files[i]]; !ok {
			t.Errorf("events/%s has no expectation in eventExpects", files[i])
		}
	}
	return files
}

// checkAnswer asserts the answer to one events/ file: the platform shape,
// and every field the function saw. invocationID is the platform's id for
// the invocation, expected where the event has none of its own; when it is
// empty too, a generated UUID is expected.
func checkAnswer(t *testing.T, file string, payload []byte, out []byte, invocationID, platform string) {
	t.Helper()
	exp := eventExpects[file]
	if exp.direct {
		var got struct{ Invoked json.RawMessage }
		want := payload
		if exp.invoked != "" {
			want = []byte(exp.invoked)
		}
		if err := json.Unmarshal(out, &got); err != nil || !jsonEqual(got.Invoked, want) {
			t.Errorf("%s: direct answer %s", file, out)
		}
		return
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%s: answer is not a JSON object: %s", file, out)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, exp.keys) {
		t.Errorf("%s: response keys %v, want %v", file, keys, exp.keys)
	}
	var shape struct {
		StatusCode        int
		StatusDescription string
		Body              string
		IsBase64Encoded   bool
	}
	_ = json.Unmarshal(out, &shape)
	if shape.StatusCode != 200 || shape.IsBase64Encoded {
		t.Errorf("%s: status %d base64 %v", file, shape.StatusCode, shape.IsBase64Encoded)
	}
	if _, ok := doc["statusDescription"]; ok && shape.StatusDescription != "200 OK" {
		t.Errorf("%s: statusDescription %q", file, shape.StatusDescription)
	}
	var e echoed
	if err := json.Unmarshal([]byte(shape.Body), &e); err != nil {
		t.Fatalf("%s: body is not the echo: %q", file, shape.Body)
	}
	wantID := exp.requestID
	if wantID == "" {
		wantID = invocationID
	}
	if wantID == "" && len(e.RequestID) == 36 {
		wantID = e.RequestID // no platform id at all: a generated UUID will do
	}
	got := [...]string{e.Method, e.Path, e.RawQuery, e.Body, e.SourceIP, e.RequestID, e.Platform, first(e.Header[exp.header[0]])}
	want := [...]string{"POST", "/v1/faceid/IdCardVerification", exp.rawQuery, sampleBody, exp.sourceIP, wantID, platform, exp.header[1]}
	if got != want {
		t.Errorf("%s: function saw\n  %q\nwant\n  %q", file, got, want)
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
