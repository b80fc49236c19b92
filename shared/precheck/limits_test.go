package precheck

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

func wantCode(t *testing.T, err error, code string, msgHas ...string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Kind != errs.Invalid || e.Code != code {
		t.Fatalf("want Invalid %s, got %v", code, err)
	}
	for _, m := range msgHas {
		if !strings.Contains(e.Message, m) {
			t.Errorf("message %q should mention %q", e.Message, m)
		}
	}
}

// validFields are well-formed values for the required fields of any action,
// so that a body built from them fails on size or nothing.
var validFields = map[string]string{
	"IdCard": goodID, "Name": "张三", "Phone": "13800138000", "Mobile": "13800138000",
	"BankCard": "6222020000000000000", "ValidityBegin": "20200101", "ValidityEnd": "20400101",
	"ImageUrl": "https://example.com/a.jpg", "VideoUrl": "https://example.com/a.mp4", "RedirectUrl": "https://example.com/",
}

// fullBody is a request of a with every required field set and every media
// field filled to exactly its limit.
func fullBody(t *testing.T, a *faceid.Action, media func(n int) string) []byte {
	t.Helper()
	body := map[string]any{}
	for _, f := range a.Required {
		v, ok := validFields[f]
		if !ok {
			v = "x"
		}
		body[f] = v
	}
	for _, m := range a.Media {
		body[m.Field] = media(m.MaxBytes)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMaxBodyAdmitsLargestMedia: for every action, a body whose media fields
// are all at their limit is not refused on size, and a body one byte over
// MaxBody is, with a message naming the action and each media field.
func TestMaxBodyAdmitsLargestMedia(t *testing.T) {
	for _, a := range faceid.All() {
		limit := MaxBody(a.Name)
		if len(a.Media) == 0 && limit != 64<<10 {
			t.Errorf("%s without media: MaxBody %d, want 64 KiB", a.Name, limit)
		}
		full := fullBody(t, a, func(n int) string { return strings.Repeat("A", n) })
		if int64(len(full)) > limit {
			t.Errorf("%s: a body with media at its limits is %d bytes, over MaxBody %d", a.Name, len(full), limit)
		}
		if _, _, err := Check(a, full); err != nil && errs.As(err).Code == RequestSizeLimitExceeded {
			t.Errorf("%s: refused a body at the media limits: %v", a.Name, err)
		}
		over := make([]byte, limit+1)
		_, _, err := Check(a, over)
		want := []string{a.Name, "at most"}
		for _, m := range a.Media {
			want = append(want, m.Field)
		}
		wantCode(t, err, RequestSizeLimitExceeded, want...)
	}
	if MaxBody("NoSuchAction") != 64<<10 {
		t.Errorf("unknown action: MaxBody %d", MaxBody("NoSuchAction"))
	}
}

// TestMaxBodyAdmitsEscapedSlashes: encoders such as PHP's json_encode write
// '/' as "\/"; a real (random) image at the field limit still fits.
func TestMaxBodyAdmitsEscapedSlashes(t *testing.T) {
	a := mustAction(t, "ImageRecognitionV2")
	body := fullBody(t, a, func(n int) string {
		raw := make([]byte, n/4*3)
		_, _ = rand.Read(raw)
		return base64.StdEncoding.EncodeToString(raw)
	})
	escaped := strings.ReplaceAll(string(body), "/", `\/`)
	if len(escaped) == len(body) {
		t.Fatal("no slash to escape")
	}
	req, local, err := Check(a, []byte(escaped))
	if err != nil || local != nil || req == nil {
		t.Fatalf("escaped body of %d bytes (cap %d): local=%v err=%v", len(escaped), MaxBody(a.Name), local, err)
	}
}

func TestSizeMessage(t *testing.T) {
	a := mustAction(t, "LivenessCompare")
	_, _, err := Check(a, make([]byte, 12<<20))
	wantCode(t, err, RequestSizeLimitExceeded,
		"request body is 12.0 MiB; LivenessCompare accepts at most 11.4 MiB",
		"ImageBase64 up to 3.0 MiB of base64", "VideoBase64 up to 8.0 MiB of base64")
	// Just over: the rounded sizes would read the same, so bytes are shown.
	plain := mustAction(t, "IdCardVerification")
	_, _, err = Check(plain, make([]byte, 64<<10+1))
	wantCode(t, err, RequestSizeLimitExceeded, "request body is 65537 bytes; IdCardVerification accepts at most 65536 bytes", "no media fields")
}

func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// TestDepthLimit: the request object itself is level 1, so MaxDepth-2
// arrays inside Encryption.EncryptList (levels 2 and 3) are the deepest
// accepted shape; the failure is the type error of the full decode. One more
// level is refused by the shape pass.
func TestDepthLimit(t *testing.T) {
	a := mustAction(t, "IdCardVerification")
	body := func(d int) []byte {
		return []byte(`{"IdCard":"` + goodID + `","Name":"张三","Encryption":{"EncryptList":` + nested(d) + `}}`)
	}
	_, _, err := Check(a, body(MaxDepth-2))
	wantCode(t, err, "InvalidParameterValue", "EncryptList")
	_, _, err = Check(a, body(MaxDepth-1))
	wantCode(t, err, "InvalidParameter", "more than 20 levels deep", "Encryption.EncryptList")
	// A depth that encoding/json itself would spend a stack on is refused
	// just the same, at the first level over.
	_, _, err = Check(a, body(30000))
	wantCode(t, err, "InvalidParameter", "more than 20 levels deep")
}

func TestValueLimit(t *testing.T) {
	// A list of free strings (an EncryptList would be refused for its
	// repeated entries before the limit mattered).
	a := mustAction(t, "DetectAuth")
	list := func(n int) []byte {
		items := strings.TrimSuffix(strings.Repeat(`"a",`, n), ",")
		return []byte(`{"RuleId":"0","IntentionQuestions":[{"Question":"q","Answers":[` + items + `]}]}`)
	}
	// 1 (request) + 1 (RuleId) + 1 (IntentionQuestions) + 1 (its object)
	// + 1 (Question) + 1 (Answers) = 6 values around the items.
	if _, _, err := Check(a, list(MaxValues-6)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, _, err := Check(a, list(MaxValues-5))
	wantCode(t, err, "InvalidParameter", "more than 1000 JSON values")
	// Small values in a large media action's body are refused just the same.
	img := mustAction(t, "DetectAIFakeFaces")
	_, _, err = Check(img, []byte(`{"FaceInputType":1,"Encryption":{"EncryptList":[`+strings.Repeat(`0,`, 1<<20)+`0]}}`))
	wantCode(t, err, "InvalidParameter", "more than 1000 JSON values")
}

// TestShapeErrorsNameNoValue: messages from the shape pass may name keys
// (the caller chose them, and they are bounded) but never values.
func TestShapeErrorsNameNoValue(t *testing.T) {
	a := mustAction(t, "IdCardVerification")
	long := strings.Repeat("k", 10000)
	_, _, err := Check(a, []byte(`{"`+long+`":"`+goodID+`"}`))
	e := errs.As(err)
	wantCode(t, err, "UnknownParameter")
	if len(e.Message) > 200 || strings.Contains(e.Message, goodID) {
		t.Fatalf("message not bounded or leaks the value: %d bytes", len(e.Message))
	}
}

// BenchmarkCheckLargeMedia measures the cost of the shape pass plus the full
// decode on a body at ImageRecognitionV2's limits (about 3 MiB).
func BenchmarkCheckLargeMedia(b *testing.B) {
	a, _ := faceid.Lookup("ImageRecognitionV2")
	raw := make([]byte, (3<<20)/4*3)
	_, _ = rand.Read(raw)
	body, _ := json.Marshal(map[string]string{"IdCard": goodID, "Name": "张三", "ImageBase64": base64.StdEncoding.EncodeToString(raw)})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Check(a, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckHostileValues: a body of many tiny values inside a media
// action's large cap is refused after MaxValues tokens.
func BenchmarkCheckHostileValues(b *testing.B) {
	a, _ := faceid.Lookup("DetectAIFakeFaces")
	body := []byte(`{"Encryption":{"EncryptList":[` + strings.Repeat(`0,`, 4<<20) + `0]}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Check(a, body); err == nil {
			b.Fatal("accepted")
		}
	}
}
